// What the fault suite counts as harm, as pure functions: a memory change read against the
// simulator's ground-truth usage at that moment, an eviction read against what made it necessary,
// and when the operator has converged again after a fault.

/** A container's memory, bytes, as the pod spec says (undefined: not set). */
export interface MemorySpec {
  readonly request?: number | undefined;
  readonly limit?: number | undefined;
}

export type MemoryChange =
  /** Neither request nor limit moved. */
  | 'NoChange'
  /** Only raises. */
  | 'Raise'
  /** A decrease that stays at or above what the container uses now. */
  | 'Shrink'
  /** A decrease of the request or the limit to below what the container uses now: harm. */
  | 'ShrinkBelowUsage'
  /** A decrease while the simulator does not run the container (not started, gone): not judged. */
  | 'ShrinkUsageUnknown';

/**
 * One spec change of one container. Memory only: CPU is compressible (a CPU request below use
 * throttles, it does not kill), while a memory request below the working set makes the pod the
 * first to go under node pressure and a limit below it is an OOM kill.
 */
export function classifyMemoryChange(
  before: MemorySpec,
  after: MemorySpec,
  usageBytes: number | undefined,
): MemoryChange {
  const moved = (k: keyof MemorySpec) => (before[k] ?? 0) !== (after[k] ?? 0);
  if (!moved('request') && !moved('limit')) return 'NoChange';
  const lowered = (k: keyof MemorySpec) =>
    after[k] !== undefined && (before[k] === undefined || after[k] < before[k]);
  if (!lowered('request') && !lowered('limit')) return 'Raise';
  if (usageBytes === undefined) return 'ShrinkUsageUnknown';
  const below = (v: number | undefined) => v !== undefined && v < usageBytes;
  return below(after.request) || below(after.limit) ? 'ShrinkBelowUsage' : 'Shrink';
}

export type EvictionVerdict =
  /** Under an Auto policy, after the pod's resize was seen Deferred or Infeasible (the node cannot fit it). */
  | 'WithCause'
  /** Anything else the operator (not the benchmark) deleted: harm. */
  | 'WithoutCause'
  /** The benchmark itself deleted it (filler pods, clean-up). */
  | 'NotAnEviction';

export interface EvictionFacts {
  readonly deletedByBenchmark: boolean;
  readonly mode: 'InPlace' | 'Auto' | 'None';
  /** A PodResizePending condition (Deferred or Infeasible) or a ResizeInfeasible Event was seen for the pod. */
  readonly resizeBlockedSeen: boolean;
}

export function classifyEviction(f: EvictionFacts): EvictionVerdict {
  if (f.deletedByBenchmark) return 'NotAnEviction';
  switch (f.mode) {
    case 'Auto':
      return f.resizeBlockedSeen ? 'WithCause' : 'WithoutCause';
    case 'InPlace':
    case 'None':
      return 'WithoutCause';
  }
}

/** One look at the operator after a fault ended. */
export interface ConvergenceProbe {
  /** Milliseconds since the epoch. */
  readonly t: number;
  /** The operator's /readyz answered 200. */
  readonly operatorReady: boolean;
  /** Policies whose Ready condition is True. */
  readonly policiesReady: number;
  /** A pod spec change (a resize) was seen at or before t and after the fault ended. */
  readonly resizedSinceEnd: boolean;
}

/**
 * Seconds from the fault's end to the first probe at which the operator is ready, at least as many
 * policies are Ready as before the fault, and resizes have resumed; undefined if none did.
 */
export function secondsToConverge(
  endedAt: number,
  readyBefore: number,
  probes: readonly ConvergenceProbe[],
): number | undefined {
  const p = probes.find(
    (x) => x.t >= endedAt && x.operatorReady && x.policiesReady >= readyBefore && x.resizedSinceEnd,
  );
  return p ? Math.round((p.t - endedAt) / 100) / 10 : undefined;
}
