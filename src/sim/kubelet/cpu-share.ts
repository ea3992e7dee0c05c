// How a node's cores are shared among its containers in one tick, as the kernel's CFS does with the
// cgroup settings the kubelet writes: a weight from the CPU request, a quota from the CPU limit.
//
// Follows pkg/kubelet/cm/helpers_linux.go (MilliCPUToShares: 1024 shares per core, at least 2, and
// 2 for BestEffort; MilliCPUToQuota: limit x 100 ms period, at least 1 ms) and, for cgroup v2,
// pkg/kubelet/cm/cgroup_manager_linux.go (CpuSharesToCpuWeight). Throttling is counted as the
// kernel's cpu.stat does (kernel/sched/fair.c, Documentation/scheduler/sched-bwc.rst): nr_periods
// counts the 100 ms periods in which the cgroup ran, nr_throttled those in which it used up its quota.

export const CFS_PERIOD_SECONDS = 0.1;
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
const MIN_QUOTA_SECONDS = 0.001;

export type CgroupVersion = 'v1' | 'v2';

/** cpu.shares for a CPU request in cores (MilliCPUToShares). */
export function milliCpuToShares(cores: number): number {
  const milli = Math.round(cores * 1000);
  if (milli === 0) return MIN_SHARES;
  return Math.max(MIN_SHARES, Math.floor((milli * SHARES_PER_CPU) / 1000));
}

/** cgroup v2 cpu.weight for cpu.shares (CpuSharesToCpuWeight: [2, 262144] -> [1, 10000]). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** The cores a CPU limit allows: cpu.max quota / period (MilliCPUToQuota, at least 1 ms per period). */
export function quotaCores(limitCores: number): number {
  const quotaSeconds = Math.max(
    MIN_QUOTA_SECONDS,
    Math.floor(limitCores * 1000) * (CFS_PERIOD_SECONDS / 1000),
  );
  return quotaSeconds / CFS_PERIOD_SECONDS;
}

/** One container's claim on the node's cores this tick. */
export interface CpuClaim {
  /** Cores the container would use if nothing held it back. */
  demandCores: number;
  /** Its CPU request (0 for BestEffort): sets its weight. */
  requestCores: number;
  /** Its CPU limit: sets its quota; undefined, none. */
  limitCores?: number;
}

export interface CpuGrant {
  /** Cores the container got. */
  cores: number;
  /** What held it below its demand: nothing, its own quota, or the other containers (contention). */
  heldBy: 'Nothing' | 'Quota' | 'Contention';
}

/**
 * Shares `nodeCores` among the claims. When everything wanted fits, each gets min(demand, quota);
 * otherwise the cores are divided in proportion to CFS weight, water-filling: a container never
 * gets more than it wants or than its quota, and what it leaves goes to the others by weight.
 * Flattened: the kubepods / QoS / pod cgroup levels are not modelled apart (their weights are sums
 * of the same requests, so a flat split by request is what they give as long as every level is busy).
 */
export function shareCpu(
  nodeCores: number,
  claims: readonly CpuClaim[],
  cgroup: CgroupVersion = 'v2',
): CpuGrant[] {
  const cap = claims.map((c) => {
    const want = Math.max(0, c.demandCores);
    return c.limitCores === undefined ? want : Math.min(want, quotaCores(c.limitCores));
  });
  const grants = claims.map((c, i): CpuGrant => ({
    cores: cap[i]!,
    heldBy: cap[i]! < c.demandCores - 1e-12 ? 'Quota' : 'Nothing',
  }));
  const total = cap.reduce((a, b) => a + b, 0);
  if (total <= nodeCores + 1e-12) return grants;

  const weight = claims.map((c) => {
    const shares = milliCpuToShares(c.requestCores);
    return cgroup === 'v2' ? sharesToWeight(shares) : shares;
  });
  let open = claims.map((_, i) => i).filter((i) => cap[i]! > 0);
  let left = nodeCores;
  // Each round settles every container whose fair share covers its cap; the rest split what is left.
  for (;;) {
    const weights = open.reduce((a, i) => a + weight[i]!, 0);
    const settled = open.filter((i) => cap[i]! <= (left * weight[i]!) / weights + 1e-12);
    if (settled.length === 0) {
      for (const i of open) grants[i] = { cores: (left * weight[i]!) / weights, heldBy: 'Contention' };
      return grants;
    }
    for (const i of settled) left -= cap[i]!;
    open = open.filter((i) => !settled.includes(i));
    if (open.length === 0) return grants;
  }
}

/**
 * cpu.stat's nr_periods and nr_throttled over `seconds` for a container granted `grant`: periods
 * only while it runs; throttled only when its quota, not the other containers, held it back.
 */
export function cfsPeriods(
  grant: CpuGrant,
  hasQuota: boolean,
  seconds: number,
): { periods: number; throttled: number } {
  if (!hasQuota || grant.cores <= 0) return { periods: 0, throttled: 0 };
  const periods = seconds / CFS_PERIOD_SECONDS;
  return { periods, throttled: grant.heldBy === 'Quota' ? periods : 0 };
}
