// What became of a resize: the apiserver's answer to the pods/resize patch, or the kubelet's
// conditions on the pod afterwards, as one closed union the controller switches on.
import type { Amounts, ContainerView, ResizeState } from './types.ts';
import { RESOURCES } from './types.ts';

export type RejectReason =
  /** 422 "Pod QOS Class may not change as a result of resizing". */
  | 'QosClassChange'
  /** 422/400: another validation rule (e.g. a request above its limit). */
  | 'Invalid'
  /** 403 for any reason but node capacity: RBAC, or an admission policy. */
  | 'Forbidden'
  /** 404: the pod is gone (or, on a cluster before 1.33, there is no resize subresource). */
  | 'NotFound';

export type ResizeOutcome =
  /** The apiserver accepted the patch; or, read from the pod, the kubelet has applied it. */
  | { readonly kind: 'Applied'; readonly message: string }
  /** Accepted and being applied by the kubelet. */
  | { readonly kind: 'InProgress'; readonly message: string }
  /** The node has room in principle but not now: the kubelet retries by itself. */
  | { readonly kind: 'Deferred'; readonly message: string }
  /** The node can never fit it: 403 NodeCapacity at admission, or PodResizePending Infeasible. */
  | { readonly kind: 'Infeasible'; readonly message: string }
  /** Refused for good: sending the same patch again gets the same answer. */
  | { readonly kind: 'Rejected'; readonly reason: RejectReason; readonly message: string }
  /** Something failed on the way; `retryable` says whether the same patch may succeed later. */
  | { readonly kind: 'Error'; readonly retryable: boolean; readonly message: string };

export type OutcomeKind = ResizeOutcome['kind'];

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

// The apiserver (1.35+) checks a resize against the node's allocatable at admission.
const NODE_CAPACITY = /node didn't have enough allocatable resources/i;
const QOS_CHANGE = /Pod QOS Class may not change as a result of resizing/i;

/** The apiserver's answer to a failed pods/resize patch (a client-node ApiException, or a network error). */
export function outcomeOfPatchError(err: unknown): ResizeOutcome {
  const e = (err ?? {}) as { code?: unknown; body?: unknown; message?: unknown };
  // Only an HTTP status counts: a DOMException (a timeout) carries a numeric `code` of its own.
  const status = typeof e.code === 'number' && e.code >= 100 && e.code < 600 ? e.code : 0;
  const body = statusBody(e.body);
  const message = body.message ?? (typeof e.message === 'string' ? e.message : String(err));
  const causes = body.details?.causes ?? [];
  if (status === 403 && (causes.some((c) => c.reason === 'NodeCapacity') || NODE_CAPACITY.test(message))) {
    return { kind: 'Infeasible', message };
  }
  if (status === 403 || status === 401) return { kind: 'Rejected', reason: 'Forbidden', message };
  if (status === 422 && QOS_CHANGE.test(message))
    return { kind: 'Rejected', reason: 'QosClassChange', message };
  if (status === 422 || status === 400) return { kind: 'Rejected', reason: 'Invalid', message };
  if (status === 404) return { kind: 'Rejected', reason: 'NotFound', message };
  // 409 is a write race (re-read and plan again); 0 is no answer at all (refused, reset, timed out).
  if (status === 409 || status === 429 || status === 0 || status >= 500)
    return { kind: 'Error', retryable: true, message };
  return { kind: 'Error', retryable: false, message: `HTTP ${status}: ${message}` };
}

/**
 * The kubelet's progress, read from the pod after an accepted patch. `generation` is the one the
 * patch produced: until the kubelet has observed it, the resize is still on its way. Applied means
 * the kubelet reports the new resources: a container whose status.resources still differ from its
 * spec (the kubelet between allocation and actuation, or one that never acts on that part of the
 * pod) is not Applied, whatever the conditions say.
 */
export function outcomeOfPod(
  pod: {
    readonly resize: ResizeState;
    readonly observedGeneration?: number;
    readonly containers?: readonly Pick<ContainerView, 'name' | 'spec' | 'actual'>[];
  },
  generation?: number,
): ResizeOutcome {
  switch (pod.resize.kind) {
    case 'Deferred':
      return { kind: 'Deferred', message: pod.resize.message };
    case 'Infeasible':
      return { kind: 'Infeasible', message: pod.resize.message };
    case 'InProgressError':
      // The kubelet keeps trying (e.g. until usage drops below a new memory limit): not final, but not progress.
      return { kind: 'Error', retryable: true, message: pod.resize.message };
    case 'InProgress':
      return { kind: 'InProgress', message: pod.resize.message };
    case 'None':
      if (generation !== undefined && (pod.observedGeneration ?? 0) < generation) {
        return { kind: 'InProgress', message: `the kubelet has not yet observed generation ${generation}` };
      }
      {
        const behind = (pod.containers ?? []).filter(
          (c) =>
            c.actual !== undefined &&
            (!sameAmounts(c.spec.requests, c.actual.requests) ||
              !sameAmounts(c.spec.limits, c.actual.limits)),
        );
        if (behind.length > 0)
          return {
            kind: 'InProgress',
            message: `the kubelet does not report the new resources of ${behind.map((c) => c.name).join(', ')} yet`,
          };
      }
      return { kind: 'Applied', message: 'the kubelet reports the new resources' };
  }
}

/** cpu and memory equal where the spec sets them (the status may list more, e.g. a GPU). */
function sameAmounts(spec: Amounts, actual: Amounts): boolean {
  return RESOURCES.every((r) => spec[r] === undefined || spec[r] === actual[r]);
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      // not JSON (a proxy's error page): the message is all there is
      return { message: body.slice(0, 500) };
    }
  }
  return body && typeof body === 'object' ? body : {};
}
