// The order in which the kubelet retries pending (Deferred) resizes: allocation_manager.go
// sortPendingResizes (1.37). Non-increasing resizes first (they always fit), then higher
// PriorityClass, then Guaranteed before other QoS classes, then the longest pending first.

export interface PendingResize {
  uid: string;
  /** Does the resize raise the pod's cpu or memory request (isResizeIncreasingRequests)? */
  increasing: boolean;
  /** spec.priority (0 when unset). */
  priority: number;
  qos: 'Guaranteed' | 'Burstable' | 'BestEffort';
  /** lastTransitionTime of the PodResizePending condition; none sorts last. */
  pendingSince?: number;
}

/**
 * A total order over the kubelet's keys. Where the kubelet's comparator says nothing useful (it
 * answers "first" for any non-increasing resize, so two of them compare either way), the later keys
 * decide here; equal keys keep their earlier order (the sort is stable).
 */
export function comparePending(a: PendingResize, b: PendingResize): number {
  if (a.increasing !== b.increasing) return a.increasing ? 1 : -1;
  if (a.priority !== b.priority) return b.priority - a.priority;
  const ga = a.qos === 'Guaranteed';
  const gb = b.qos === 'Guaranteed';
  if (ga !== gb) return ga ? -1 : 1;
  if (a.pendingSince === undefined || b.pendingSince === undefined) {
    if (a.pendingSince === b.pendingSince) return 0;
    return a.pendingSince === undefined ? 1 : -1;
  }
  return a.pendingSince - b.pendingSince;
}

export function orderPending(list: readonly PendingResize[]): PendingResize[] {
  return [...list].sort(comparePending);
}

/** allocation_manager.go: the periodic retry fires 30 s after start, then every 3 minutes after a retry. */
export const INITIAL_RETRY_S = 30;
export const RETRY_S = 180;
