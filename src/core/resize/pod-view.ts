// A Kubernetes Pod object read down to what the resize planner needs: numbers instead of quantity
// strings, and the kubelet's resize conditions as one closed state.
import type {
  V1Container,
  V1ContainerStateTerminated,
  V1ContainerStatus,
  V1Pod,
  V1PodCondition,
  V1ResourceRequirements,
} from '@kubernetes/client-node';
import { parseQuantity } from '../quantity.ts';
import type {
  Amounts,
  ContainerView,
  PodView,
  QosClass,
  ResizeState,
  ResourceSpec,
  RestartPolicy,
} from './types.ts';
import { RESOURCES } from './types.ts';

export function podView(pod: V1Pod): PodView {
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  const conditions = pod.status?.conditions ?? [];
  const qos = pod.status?.qosClass;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(pod.metadata?.generation !== undefined ? { generation: pod.metadata.generation } : {}),
    ...(pod.status?.observedGeneration !== undefined
      ? { observedGeneration: pod.status.observedGeneration }
      : {}),
    ...(isQos(qos) ? { qosClass: qos } : {}),
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
    resize: resizeState(conditions),
    containers: (pod.spec?.containers ?? []).map((c) => containerView(c, statuses.get(c.name))),
  };
}

/** PodResizePending / PodResizeInProgress (KEP-1287) folded into one state; Pending wins, as the kubelet reports it first. */
export function resizeState(conditions: readonly V1PodCondition[]): ResizeState {
  const find = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const pending = find('PodResizePending');
  if (pending) {
    const since = seconds(pending.lastTransitionTime);
    const message = pending.message ?? '';
    // An unknown reason is treated as Deferred: waiting is the safe reading.
    return pending.reason === 'Infeasible'
      ? { kind: 'Infeasible', since, message }
      : { kind: 'Deferred', since, message };
  }
  const progress = find('PodResizeInProgress');
  if (progress) {
    const since = seconds(progress.lastTransitionTime);
    const message = progress.message ?? '';
    return progress.reason === 'Error'
      ? { kind: 'InProgressError', since, message }
      : { kind: 'InProgress', since, message };
  }
  return { kind: 'None' };
}

/**
 * A container's latest exit: its state while it is down (the kubelet writes an exit there first,
 * restart count not yet raised), else its last state once it runs or waits again.
 */
export function latestExit(s: V1ContainerStatus | undefined): V1ContainerStateTerminated | undefined {
  return s?.state?.terminated ?? s?.lastState?.terminated;
}

function containerView(c: V1Container, s: V1ContainerStatus | undefined): ContainerView {
  const policy = (r: string): RestartPolicy =>
    c.resizePolicy?.find((p) => p.resourceName === r)?.restartPolicy === 'RestartContainer'
      ? 'RestartContainer'
      : 'NotRequired';
  const term = latestExit(s);
  return {
    name: c.name,
    spec: resourceSpec(c.resources),
    resizePolicy: { cpu: policy('cpu'), memory: policy('memory') },
    ...(s?.resources ? { actual: resourceSpec(s.resources) } : {}),
    ...(s?.allocatedResources ? { allocated: amounts(s.allocatedResources) } : {}),
    restartCount: s?.restartCount ?? 0,
    ...(term ? { lastTermination: { reason: term.reason ?? '', finishedAt: seconds(term.finishedAt) } } : {}),
  };
}

function resourceSpec(r: V1ResourceRequirements | undefined): ResourceSpec {
  const limits = amounts(r?.limits);
  // The apiserver defaults a missing request to the limit; a spec read from a file may not have it yet.
  const requests = { ...limits, ...amounts(r?.requests) };
  return { requests, limits };
}

function amounts(list: Record<string, string> | undefined): Amounts {
  const out: Amounts = {};
  for (const r of RESOURCES) {
    const v = parseQuantity(list?.[r]);
    if (v !== undefined) out[r] = v;
  }
  return out;
}

/** client-node turns API timestamps into Dates; objects built by hand (or the simulator) may carry strings. */
function seconds(t: Date | string | undefined | null): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

function isQos(q: string | undefined): q is QosClass {
  return q === 'Guaranteed' || q === 'Burstable' || q === 'BestEffort';
}

/**
 * When the pod was last resized by anyone: the newest managedFields entry written through the
 * resize subresource. A stateless caller (the CLI) uses it as "the last change" for cooldowns and
 * for telling an OOM kill since then from an old one.
 */
export function lastResizeTime(pod: V1Pod): number | undefined {
  let last: number | undefined;
  for (const f of pod.metadata?.managedFields ?? []) {
    if (f.subresource !== 'resize') continue;
    const t = seconds(f.time);
    if (t !== undefined && (last === undefined || t > last)) last = t;
  }
  return last;
}
