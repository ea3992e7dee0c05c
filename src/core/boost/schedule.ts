// The start-up boost schedule: from a model's estimate, what a serving container gets while it
// loads (CPU to load faster, memory for the page-cache peak), what it keeps once serving, and how
// long loading should take (so a pod that never gets Ready is still shrunk after a deadline).
import type { Estimate } from '../llm/estimate.ts';

/** CPU in cores, memory in bytes. */
export interface Sizes {
  readonly requests: { readonly cpu: number; readonly memory: number };
  /** Memory only: a CPU limit would throttle loading and tokenisation for no saving. */
  readonly limits: { readonly memory: number };
}

export type BoostKind =
  /** Loading needs more than serving: start boosted, shrink in place once Ready. */
  | 'Boost'
  /** Loading needs no more than serving (a CPU model keeps its weights resident): start at steady. */
  | 'None'
  /** The ModelDeployment turned the boost off: start at the loading peak's memory, never shrink. */
  | 'Off';

export interface BoostSchedule {
  readonly kind: BoostKind;
  /** What the pod template asks for: the boosted sizes, or the steady ones when there is no boost. */
  readonly loading: Sizes;
  /** What the container is shrunk to once Ready. */
  readonly steady: Sizes;
  /** Expected seconds from container start to Ready (weights read + warm-up), at the loading CPU. */
  readonly expectedLoadSeconds: number;
  /** Shrink anyway after this long: a pod that never gets Ready should not keep the boost for ever. */
  readonly deadlineSeconds: number;
  readonly why: string;
}

export interface BoostOptions {
  /** Turned off in the ModelDeployment (spec.sizing.startupBoost: false). */
  readonly enabled?: boolean;
  /** Serving memory headroom over the estimate, for the request (default 10%). */
  readonly memoryRequestHeadroom?: number;
  /** Serving memory limit over the estimate (default 50%): KV cache on CPU, tokenizer buffers, bursts. */
  readonly memoryLimitHeadroom?: number;
  /** At most this many cores while loading (default 16): more does not read a disk faster. */
  readonly maxBoostCpu?: number;
  /**
   * The largest requests a node that could run the pod has room for (CPU in cores, memory in
   * bytes). CPU requests, loading and serving, are lowered to it: without a CPU limit the server
   * still uses idle cores, and usage-based sizing corrects the request later. The loading memory
   * request is lowered to it, never below serving; the limit keeps the loading peak, so a lowered
   * request only reserves less. Serving memory is never lowered: that is what the model needs.
   */
  readonly nodeCap?: { readonly cpu: number; readonly memory: number };
}

const MiB = 2 ** 20;
const roundMemory = (bytes: number): number => Math.ceil(bytes / (64 * MiB)) * 64 * MiB;
const roundCpu = (cores: number): number => Math.ceil(cores * 20 - 1e-9) / 20; // 50m steps
const floorCpu = (cores: number): number => Math.floor(cores * 20 + 1e-9) / 20;
const floorMemory = (bytes: number): number => Math.floor(bytes / (64 * MiB)) * 64 * MiB;

export function boostSchedule(e: Estimate, opts: BoostOptions = {}): BoostSchedule {
  const reqHead = 1 + (opts.memoryRequestHeadroom ?? 0.1);
  const limHead = 1 + (opts.memoryLimitHeadroom ?? 0.5);
  const steadyMem = e.cpuMemoryBytes.steady.value;
  const loadMem = Math.max(steadyMem, e.cpuMemoryBytes.load.value);
  const cap = opts.nodeCap;
  const cpuCap = cap ? Math.max(0.05, floorCpu(cap.cpu)) : Infinity;
  const steady: Sizes = {
    requests: {
      cpu: Math.min(roundCpu(e.cpuCores.steady.value), cpuCap),
      memory: roundMemory(steadyMem * reqHead),
    },
    limits: { memory: roundMemory(steadyMem * limHead) },
  };
  const wantedCpu = roundCpu(
    Math.min(opts.maxBoostCpu ?? 16, Math.max(e.cpuCores.steady.value, e.cpuCores.load.value)),
  );
  const capNote =
    wantedCpu > cpuCap
      ? `; CPU requests at most ${cpuCap} cores, the room on the nodes that can run the pod (no CPU limit: idle cores are still used)`
      : '';
  const boostCpu = Math.min(
    roundCpu(Math.min(opts.maxBoostCpu ?? 16, Math.max(e.cpuCores.steady.value, e.cpuCores.load.value))),
    cpuCap,
  );
  const loadRequest = Math.min(roundMemory(loadMem * reqHead), cap ? floorMemory(cap.memory) : Infinity);
  // The page cache of the checkpoint being read counts against the container's memory cgroup: the
  // limit must hold it or reads thrash; the request holds it so the scheduler places the peak.
  const boosted: Sizes = {
    requests: {
      cpu: Math.max(steady.requests.cpu, boostCpu),
      memory: Math.max(steady.requests.memory, loadRequest),
    },
    limits: { memory: Math.max(steady.limits.memory, roundMemory(loadMem * 1.25)) },
  };
  const expectedLoadSeconds = Math.ceil(e.loadSeconds.warm.value);
  // Three times the estimate plus two minutes: slow disks and cold compile caches, not a hung pod.
  const deadlineSeconds = expectedLoadSeconds * 3 + 120;
  const same =
    boosted.requests.cpu === steady.requests.cpu &&
    boosted.requests.memory === steady.requests.memory &&
    boosted.limits.memory === steady.limits.memory;
  if (opts.enabled === false) {
    // Without a shrink the pod must be able to load at its one size: the peak's memory, serving CPU.
    const fixed: Sizes = {
      requests: { cpu: steady.requests.cpu, memory: boosted.requests.memory },
      limits: { memory: boosted.limits.memory },
    };
    return {
      kind: 'Off',
      loading: fixed,
      steady: fixed,
      expectedLoadSeconds,
      deadlineSeconds,
      why: `start-up boost off: one size for loading and serving (the loading peak’s memory)${capNote}`,
    };
  }
  if (same) {
    return {
      kind: 'None',
      loading: steady,
      steady,
      expectedLoadSeconds,
      deadlineSeconds,
      why: `loading needs no more than serving (weights stay resident), so there is nothing to boost${capNote}`,
    };
  }
  return {
    kind: 'Boost',
    loading: boosted,
    steady,
    expectedLoadSeconds,
    deadlineSeconds,
    why:
      `${boosted.requests.cpu} cores while loading (${e.cpuCores.load.why}), ${steady.requests.cpu} once serving; ` +
      `memory for the loading peak (${e.cpuMemoryBytes.load.why}), then the serving estimate + ${Math.round((reqHead - 1) * 100)}%` +
      capNote,
  };
}

/**
 * Seconds to load `weightsBytes` with `cores` CPUs: reading runs at `bytesPerSecondPerCore` per
 * core up to the disk or network bound, and warm-up (compilation, graph capture) takes longer on
 * fewer cores than the runtime parallelises over. The rule the simulator's llm profile plays.
 */
export function loadSeconds(input: {
  weightsBytes: number;
  cores: number;
  boundBytesPerSecond: number;
  bytesPerSecondPerCore: number;
  warmupSeconds: number;
  warmupCores: number;
}): { read: number; warmup: number; total: number } {
  const cores = Math.max(0.001, input.cores);
  const rate =
    input.bytesPerSecondPerCore > 0
      ? Math.min(input.boundBytesPerSecond, input.bytesPerSecondPerCore * cores)
      : input.boundBytesPerSecond;
  const read = input.weightsBytes / rate;
  const warmup =
    input.bytesPerSecondPerCore > 0
      ? input.warmupSeconds * Math.max(1, input.warmupCores / cores)
      : input.warmupSeconds;
  return { read, warmup, total: read + warmup };
}
