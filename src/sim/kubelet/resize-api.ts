// How the simulated kubelet writes resize state into the pod's status: the two resize conditions,
// sidecars' initContainerStatuses with their resources, and containers' resource lists.
import type * as k8s from '@kubernetes/client-node';
import { formatBytes, formatCpu } from '../../core/quantity.ts';
import type { Resources } from './resize.ts';
import type { ResizeBook } from './resizer.ts';
import type { ResizeConditions } from './resize-status.ts';

type Stamp = (simSeconds: number) => string;

/** PodResizePending before PodResizeInProgress, as the status manager lists them (podResizeConditions.List). */
export function resizeConditionsOf(c: ResizeConditions, t: Stamp): k8s.V1PodCondition[] {
  const out: k8s.V1PodCondition[] = [];
  const add = (
    type: string,
    x: { reason: string; message: string; observedGeneration: number; since: number },
  ) =>
    out.push({
      type,
      status: 'True',
      lastTransitionTime: t(x.since) as unknown as Date,
      observedGeneration: x.observedGeneration,
      ...(x.reason ? { reason: x.reason } : {}),
      ...(x.message ? { message: x.message } : {}),
    });
  if (c.pending) add('PodResizePending', c.pending);
  if (c.inProgress) add('PodResizeInProgress', c.inProgress);
  return out;
}

/**
 * initContainerStatuses in spec order: the ordinary init containers' statuses as given, and each
 * sidecar running (simplified: started with the pod, never restarted) with `resources` (in force)
 * and `allocatedResources`, as the kubelet reports them for a restartable init container.
 */
export function sidecarStatusesOf(
  pod: { uid: string; startTime: number; resizing: ResizeBook },
  ordinary: k8s.V1ContainerStatus[] | undefined,
  t: Stamp,
): k8s.V1ContainerStatus[] | undefined {
  const book = pod.resizing;
  if (book.sidecars.size === 0) return ordinary;
  const byName = new Map((ordinary ?? []).map((s) => [s.name, s]));
  for (const s of book.sidecars.values()) {
    byName.set(s.name, {
      name: s.name,
      image: s.image,
      imageID: `sim://${s.image}`,
      containerID: `sim://${pod.uid}/${s.name}/0`,
      restartCount: 0,
      ready: true,
      started: true,
      state: { running: { startedAt: t(pod.startTime) as unknown as Date } },
      allocatedResources: requestsOf(s.allocated, 0),
      resources: {
        requests: requestsOf(s.actual, 0),
        ...(hasLimits(s.actual, 0) ? { limits: limitsOf(s.actual, 0) } : {}),
      },
    });
  }
  return book.initOrder.flatMap((n) => {
    const s = byName.get(n);
    return s ? [s] : [];
  });
}

export function requestsOf(r: Resources, gpus: number): Record<string, string> {
  return {
    cpu: formatCpu(r.cpuRequest),
    memory: formatBytes(r.memoryRequest),
    ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {}),
  };
}

export function hasLimits(r: Resources, gpus: number): boolean {
  return r.cpuLimit !== undefined || r.memoryLimit !== undefined || gpus > 0;
}

export function limitsOf(r: Resources, gpus: number): Record<string, string> {
  return {
    ...(r.cpuLimit !== undefined ? { cpu: formatCpu(r.cpuLimit) } : {}),
    ...(r.memoryLimit !== undefined ? { memory: formatBytes(r.memoryLimit) } : {}),
    ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {}),
  };
}
