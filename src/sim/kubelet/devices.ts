// The kubelet's device manager for NVIDIA devices: what a container asks for (whole GPUs or one MIG
// profile), the bytes one such device holds, and the devices a pod gets when it starts on the node.
import type * as k8s from '@kubernetes/client-node';
import { allocate, deviceBytes, gpuRequestOf, type GpuNode } from '../gpus.ts';
import type { PodState } from './state.ts';

/** The container's NVIDIA devices: how many, of which resource, and the framebuffer of one. */
export function gpuOf(
  c: k8s.V1Container,
  node: GpuNode,
): { gpus: number; gpuResource: string; bytesPerGpu: number } {
  // Extended resources have requests equal to limits; either may be the one written.
  const want = gpuRequestOf({ ...c.resources?.requests, ...c.resources?.limits });
  return { gpus: want.count, gpuResource: want.resource, bytesPerGpu: deviceBytes(node, want.resource) };
}

/**
 * Gives the pod's containers their devices, from those no pod still on the node holds (a pod gone
 * from the kubelet frees its devices, as the device manager frees those of pods no longer active).
 * Returns why it cannot (the kubelet's UnexpectedAdmissionError message), or undefined.
 */
export function admitDevices(node: GpuNode, pod: PodState, onNode: readonly PodState[]): string | undefined {
  const wants = [...pod.containers.values()].map((c) => ({
    container: c.name,
    resource: c.gpuResource ?? 'nvidia.com/gpu',
    count: c.gpus,
  }));
  if (wants.every((w) => w.count === 0)) return undefined;
  const held = new Set<string>();
  for (const p of onNode)
    if (p.uid !== pod.uid)
      for (const c of p.containers.values()) for (const d of c.devices ?? []) held.add(d);
  const result = allocate(node, wants, held);
  switch (result.outcome) {
    case 'Insufficient':
      return result.message;
    case 'Allocated':
      for (const [name, ids] of result.devices) {
        const c = pod.containers.get(name);
        if (c) c.devices = ids;
      }
      return undefined;
  }
}
