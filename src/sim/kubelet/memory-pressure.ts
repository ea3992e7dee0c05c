// Memory on a node as the kernel and the kubelet's eviction manager see it, as pure decisions:
// which container the OOM killer takes when the pods' cgroup is full, whether the node is under
// MemoryPressure, which pod the kubelet evicts first, and the message it writes.
//
// Follows pkg/kubelet/qos/policy.go (oom_score_adj by QoS), the kernel's oom_badness()
// (mm/oom_kill.c: usage plus oom_score_adj x memory / 1000), pkg/kubelet/eviction/helpers.go
// (rankMemoryPressure, evictionMessage, thresholdsMet) and eviction_manager.go (the
// pressure-transition period, one eviction per pass).
import type { Resources } from './resize.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The pod's QoS class from its containers' resources (pkg/apis/core/helper/qos GetPodQOS). */
export function qosOf(containers: readonly Resources[]): QosClass {
  const any = containers.some(
    (r) => r.cpuRequest > 0 || r.memoryRequest > 0 || r.cpuLimit !== undefined || r.memoryLimit !== undefined,
  );
  if (!any) return 'BestEffort';
  const guaranteed = containers.every(
    (r) =>
      r.cpuLimit !== undefined &&
      r.memoryLimit !== undefined &&
      r.cpuLimit === r.cpuRequest &&
      r.memoryLimit === r.memoryRequest,
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const GUARANTEED_OOM_SCORE_ADJ = -997;
const BESTEFFORT_OOM_SCORE_ADJ = 1000;

/** A container's oom_score_adj (GetContainerOOMScoreAdjust). */
export function oomScoreAdj(qos: QosClass, memoryRequestBytes: number, memoryCapacityBytes: number): number {
  switch (qos) {
    case 'Guaranteed':
      return GUARANTEED_OOM_SCORE_ADJ;
    case 'BestEffort':
      return BESTEFFORT_OOM_SCORE_ADJ;
    case 'Burstable': {
      const adj = 1000 - Math.floor((1000 * memoryRequestBytes) / memoryCapacityBytes);
      // Burstable stays above Guaranteed and below BestEffort.
      if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
      if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
      return adj;
    }
  }
}

export interface OomCandidate<K> {
  key: K;
  workingSetBytes: number;
  oomScoreAdj: number;
}

/**
 * The containers the kernel's OOM killer takes, in order, until the rest fit in `limitBytes` (the
 * `kubepods` cgroup's memory.max). Badness is usage plus oom_score_adj thousandths of the limit;
 * the largest goes first; oom_score_adj -1000 is never killed.
 */
export function oomVictims<K>(candidates: readonly OomCandidate<K>[], limitBytes: number): K[] {
  let used = candidates.reduce((a, c) => a + c.workingSetBytes, 0);
  const alive = candidates.filter((c) => c.oomScoreAdj > -1000 && c.workingSetBytes > 0);
  const killed: K[] = [];
  while (used > limitBytes && alive.length > 0) {
    let worst = 0;
    const badness = (c: OomCandidate<K>) => c.workingSetBytes + (c.oomScoreAdj * limitBytes) / 1000;
    for (let i = 1; i < alive.length; i++) if (badness(alive[i]!) > badness(alive[worst]!)) worst = i;
    const [victim] = alive.splice(worst, 1);
    used -= victim!.workingSetBytes;
    killed.push(victim!.key);
  }
  return killed;
}

export interface EvictionCandidate<K> {
  key: K;
  workingSetBytes: number;
  memoryRequestBytes: number;
  priority: number;
}

/**
 * rankMemoryPressure: pods whose usage exceeds their memory request first, then lower priority
 * first, then the largest usage above the request first.
 */
export function rankForEviction<K>(pods: readonly EvictionCandidate<K>[]): EvictionCandidate<K>[] {
  const exceeds = (p: EvictionCandidate<K>) => p.workingSetBytes > p.memoryRequestBytes;
  return [...pods].sort(
    (a, b) =>
      Number(exceeds(b)) - Number(exceeds(a)) ||
      a.priority - b.priority ||
      b.workingSetBytes - b.memoryRequestBytes - (a.workingSetBytes - a.memoryRequestBytes),
  );
}

/** A byte count as resource.NewQuantity(n, BinarySI).String() prints it: the largest exact unit. */
export function binaryQuantity(bytes: number): string {
  const b = Math.round(bytes);
  for (const [unit, size] of [
    ['Ei', 2 ** 60],
    ['Pi', 2 ** 50],
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (b !== 0 && b % size === 0) return `${b / size}${unit}`;
  }
  return String(b);
}

/**
 * The kubelet's eviction message for memory (helpers.go evictionMessage): the node-low sentence,
 * the threshold and what was available, and one sentence per container using more than it requested.
 */
export function evictionMessage(
  thresholdBytes: number,
  availableBytes: number,
  containers: readonly { name: string; workingSetBytes: number; memoryRequestBytes: number }[],
): string {
  let message = `The node was low on resource: memory. Threshold quantity: ${binaryQuantity(thresholdBytes)}, available: ${binaryQuantity(availableBytes)}. `;
  for (const c of containers) {
    if (c.workingSetBytes > c.memoryRequestBytes)
      message += `Container ${c.name} was using ${binaryQuantity(c.workingSetBytes)}, request is ${binaryQuantity(c.memoryRequestBytes)}, has larger consumption of memory. `;
  }
  return message;
}

/** The kernel reports memory in pages: usage readings are whole 4 KiB pages. */
export function pages(bytes: number): number {
  return Math.ceil(bytes / 4096) * 4096;
}

export interface PressureMemory {
  /** Last time a threshold was met (simulated seconds); undefined: never. */
  lastMetAt?: number;
  /** Whether the node reports MemoryPressure. */
  pressure: boolean;
}

/**
 * The MemoryPressure condition: on as soon as the threshold is met, off only once it has not been
 * met for the pressure-transition period (evictionPressureTransitionPeriod), so the node does not
 * flap between pressure and none.
 */
export function nextPressure(
  prev: PressureMemory,
  thresholdMet: boolean,
  now: number,
  transitionSeconds: number,
): PressureMemory {
  const lastMetAt = thresholdMet ? now : prev.lastMetAt;
  return {
    lastMetAt,
    pressure: thresholdMet || (lastMetAt !== undefined && now - lastMetAt < transitionSeconds),
  };
}
