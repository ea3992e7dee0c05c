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
  /**
   * Under an Auto policy, after the pod's resize was refused by the apiserver for node capacity (403
   * NodeCapacity: the node's allocatable cannot hold it) or seen Deferred or Infeasible.
   */
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
  /**
   * The apiserver answered a pods/resize PATCH of this pod 403 with cause NodeCapacity, as the fault
   * proxy saw it on the wire (Kubernetes 1.35+ refuses such a resize at admission: the kubelet never
   * sees it, so no PodResizePending condition follows).
   */
  readonly resizeRefusedForNodeCapacity: boolean;
}

export function classifyEviction(f: EvictionFacts): EvictionVerdict {
  if (f.deletedByBenchmark) return 'NotAnEviction';
  switch (f.mode) {
    case 'Auto':
      return f.resizeBlockedSeen || f.resizeRefusedForNodeCapacity ? 'WithCause' : 'WithoutCause';
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

const RESIZE_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)\/resize(?:\?|$)/;

/**
 * The pod whose pods/resize PATCH the apiserver refused for node capacity (403, a NodeCapacity cause
 * or the apiserver's "node didn't have enough allocatable resources" message), read from one request
 * and its answer as they pass the fault proxy; undefined for anything else (another 403 is RBAC or
 * an admission policy, not a reason to evict).
 */
export function nodeCapacityRefusal(
  method: string | undefined,
  url: string | undefined,
  status: number | undefined,
  body: string,
): { namespace: string; name: string } | undefined {
  if (method !== 'PATCH' || status !== 403) return undefined;
  const m = RESIZE_PATH.exec(url ?? '');
  if (!m) return undefined;
  let parsed: { message?: unknown; details?: { causes?: { reason?: unknown }[] } };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return undefined;
  }
  const byCause = (parsed.details?.causes ?? []).some((c) => c.reason === 'NodeCapacity');
  const byMessage =
    typeof parsed.message === 'string' &&
    /node didn't have enough allocatable resources/i.test(parsed.message);
  return byCause || byMessage
    ? { namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) }
    : undefined;
}
