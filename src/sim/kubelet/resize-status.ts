// The kubelet status manager's two resize conditions (pkg/kubelet/status/status_manager.go, 1.37):
// PodResizePending and PodResizeInProgress, each with its own lastTransitionTime (changed only when
// the reason changes, never for a new message) and observedGeneration.

export type PendingReason = 'Deferred' | 'Infeasible';
export type InProgressReason = '' | 'Error';

export interface ResizeCondition<R extends string> {
  reason: R;
  message: string;
  observedGeneration: number;
  /** Simulated seconds: the condition's lastTransitionTime. */
  since: number;
}

export interface ResizeConditions {
  pending?: ResizeCondition<PendingReason>;
  inProgress?: ResizeCondition<InProgressReason>;
}

/** updatedPodResizeCondition: a new lastTransitionTime only for a new condition or a new reason. */
function updated<R extends string>(
  old: ResizeCondition<R> | undefined,
  reason: R,
  message: string,
  observedGeneration: number,
  now: number,
): ResizeCondition<R> {
  const since = old === undefined || old.reason !== reason ? now : old.since;
  return { reason, message, observedGeneration, since };
}

/** SetPodResizePendingCondition: the generation is always the pod's current one. */
export function setPending(
  c: ResizeConditions,
  reason: PendingReason,
  message: string,
  generation: number,
  now: number,
): ResizeConditions {
  return { ...c, pending: updated(c.pending, reason, message, generation, now) };
}

/**
 * SetPodResizeInProgressCondition: an existing condition keeps its observedGeneration (to move it
 * the caller clears the condition first, as a new allocation does) and, when no reason is given,
 * its reason and message.
 */
export function setInProgress(
  c: ResizeConditions,
  reason: InProgressReason,
  message: string,
  generation: number,
  now: number,
): ResizeConditions {
  const old = c.inProgress;
  const keep = old !== undefined && reason === '' && message === '';
  return {
    ...c,
    inProgress: updated(
      old,
      keep ? old.reason : reason,
      keep ? old.message : message,
      old?.observedGeneration ?? generation,
      now,
    ),
  };
}

export function clearPending(c: ResizeConditions): ResizeConditions {
  return c.inProgress ? { inProgress: c.inProgress } : {};
}

export function clearInProgress(c: ResizeConditions): ResizeConditions {
  return c.pending ? { pending: c.pending } : {};
}

export function sameConditions(a: ResizeConditions, b: ResizeConditions): boolean {
  const same = <R extends string>(x?: ResizeCondition<R>, y?: ResizeCondition<R>) =>
    x === y ||
    (x !== undefined &&
      y !== undefined &&
      x.reason === y.reason &&
      x.message === y.message &&
      x.observedGeneration === y.observedGeneration &&
      x.since === y.since);
  return same(a.pending, b.pending) && same(a.inProgress, b.inProgress);
}
