// How the simulated kubelet writes resize state into the pod's status: the two resize conditions,
// sidecars' initContainerStatuses with their resources, and containers' resource lists.
import type * as k8s from '@kubernetes/client-node';
import { formatBytes, formatCpu } from '../../core/quantity.ts';
import type { Resources } from './resize.ts';
import type { ResizeBook } from './resizer.ts';
import type { ResizeConditions } from './resize-status.ts';

type Stamp = (simSeconds: number) => string;

/** Sidecars hold no GPUs here. */
const NO_GPU = { gpus: 0 } as const;

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
      allocatedResources: requestsOf(s.allocated, NO_GPU),
      resources: {
        requests: requestsOf(s.actual, NO_GPU),
        ...(hasLimits(s.actual, NO_GPU) ? { limits: limitsOf(s.actual, NO_GPU) } : {}),
      },
    });
  }
  return book.initOrder.flatMap((n) => {
    const s = byName.get(n);
    return s ? [s] : [];
  });
}

/** What a container holds of GPUs: how many, and of which resource (a MIG device's own name). */
export type GpuHolder = { gpus: number; gpuResource?: string };

function gpuQuantity(c: GpuHolder): Record<string, string> {
  return c.gpus ? { [c.gpuResource ?? 'nvidia.com/gpu']: String(c.gpus) } : {};
}

export function requestsOf(r: Resources, c: GpuHolder): Record<string, string> {
  return { cpu: formatCpu(r.cpuRequest), memory: formatBytes(r.memoryRequest), ...gpuQuantity(c) };
}

export function hasLimits(r: Resources, c: GpuHolder): boolean {
  return r.cpuLimit !== undefined || r.memoryLimit !== undefined || c.gpus > 0;
}

export function limitsOf(r: Resources, c: GpuHolder): Record<string, string> {
  return {
    ...(r.cpuLimit !== undefined ? { cpu: formatCpu(r.cpuLimit) } : {}),
    ...(r.memoryLimit !== undefined ? { memory: formatBytes(r.memoryLimit) } : {}),
    ...gpuQuantity(c),
  };
}
