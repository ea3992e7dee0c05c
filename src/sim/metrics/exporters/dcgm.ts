// NVIDIA dcgm-exporter's series, one set per physical GPU (or per MIG GPU instance) of every GPU
// node, idle ones included, with the pod attribution its Kubernetes mapping adds to the devices a
// pod holds. Follows dcgm-exporter 4.5.3-4.8.2: internal/pkg/rendermetrics/render_metrics.go (label
// order; `Hostname`, renamed `hostname` after that release), internal/pkg/transformation/
// kubernetes.go (toDeviceToPod: pod/namespace/container only on mapped devices; MIG devices mapped
// by `<gpu>-<GPU_I_ID>`), internal/pkg/devicemonitoring (flex mode: a MIG-enabled GPU is watched per
// GPU instance, not as a whole) and etc/default-counters.csv (the fields and their help).
import { DRIVER_VERSION, boardOf, devicesOf, type GpuDevice } from '../../gpus.ts';
import type { ContainerState, PodState } from '../../kubelet/state.ts';
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

const Mi = 2 ** 20;

/** What one device shows: framebuffer used (MiB) and how busy it is, 0..1. */
export interface DeviceReading {
  usedMiB: number;
  busy: number;
}

export function dcgm(e: Exposition, view: UsageView): void {
  const holders = new Map<string, { pod: PodState; c: ContainerState }>();
  for (const pod of view.pods())
    for (const c of pod.containers.values()) for (const id of c.devices ?? []) holders.set(id, { pod, c });
  for (const node of view.nodes()) {
    if (node.gpus <= 0) continue;
    const modelName = boardOf(node.gpuModel)?.name ?? node.gpuModel ?? '';
    for (const d of devicesOf(node)) {
      const h = holders.get(d.id);
      const labels: Labels = {
        gpu: d.gpu,
        UUID: d.gpuUuid,
        pci_bus_id: `00000000:${(d.gpu + 1).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
        device: `nvidia${d.gpu}`,
        modelName,
        ...(d.mig ? { GPU_I_PROFILE: d.mig.profile, GPU_I_ID: d.mig.instance } : {}),
        Hostname: node.name,
        DCGM_FI_DRIVER_VERSION: DRIVER_VERSION,
        ...(h ? { container: h.c.name, namespace: h.pod.namespace, pod: h.pod.name } : {}),
      };
      series(e, d, labels, h ? reading(d, h.c) : { usedMiB: 0, busy: 0 });
    }
  }
}

/** A container's usage spread evenly over the devices it holds, bounded by what one device has. */
export function reading(d: GpuDevice, c: ContainerState): DeviceReading {
  const n = Math.max(1, c.devices?.length ?? 1);
  const usedMiB = Math.round(c.usage.gpuMemoryBytes / n / Mi);
  return {
    usedMiB: Math.max(0, Math.min(usedMiB, d.memoryMiB - d.reservedMiB)),
    busy: Math.max(0, Math.min(1, c.usage.gpuUtilPercent / 100)),
  };
}

function series(e: Exposition, d: GpuDevice, labels: Labels, r: DeviceReading): void {
  e.add('DCGM_FI_DEV_FB_FREE', 'gauge', 'Framebuffer memory free (in MiB).', labels, fbFree(d, r.usedMiB));
  e.add('DCGM_FI_DEV_FB_USED', 'gauge', 'Framebuffer memory used (in MiB).', labels, r.usedMiB);
  e.add('DCGM_FI_DEV_FB_RESERVED', 'gauge', 'Framebuffer memory reserved (in MiB).', labels, d.reservedMiB);
  // NVML has no utilization for a MIG instance: DCGM leaves the field blank and the exporter skips it.
  if (!d.mig)
    e.add('DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization (in %).', labels, Math.round(r.busy * 100));
  e.add(
    'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    'gauge',
    'Ratio of time the graphics engine is active.',
    labels,
    Math.round(r.busy * 1e4) / 1e4,
  );
}

/** DCGM_FI_DEV_FB_FREE: total - used - reserved (DCGM's field reference; dcgm-exporter#83). */
export function fbFree(d: Pick<GpuDevice, 'memoryMiB' | 'reservedMiB'>, usedMiB: number): number {
  return Math.max(0, d.memoryMiB - usedMiB - d.reservedMiB);
}
