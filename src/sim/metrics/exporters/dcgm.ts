// NVIDIA dcgm-exporter's GPU series, with the pod attribution the exporter adds on Kubernetes.
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

export function dcgm(e: Exposition, view: UsageView): void {
  for (const p of view.pods()) {
    for (const c of p.containers.values()) {
      for (let g = 0; g < c.gpus; g++) {
        const labels: Labels = {
          gpu: g,
          UUID: `GPU-sim-${p.uid.slice(0, 8)}-${g}`,
          device: `nvidia${g}`,
          modelName: nodeGpuModel(view, p.node),
          Hostname: p.node,
          namespace: p.namespace,
          pod: p.name,
          container: c.name,
        };
        // DCGM reports framebuffer in MiB; a pod's usage is spread evenly over its GPUs.
        e.add(
          'DCGM_FI_DEV_FB_USED',
          'gauge',
          'Framebuffer memory used (in MiB).',
          labels,
          Math.round(c.usage.gpuMemoryBytes / c.gpus / 2 ** 20),
        );
        e.add(
          'DCGM_FI_DEV_GPU_UTIL',
          'gauge',
          'GPU utilization (in %).',
          labels,
          Math.round(c.usage.gpuUtilPercent),
        );
      }
    }
  }
}

function nodeGpuModel(view: UsageView, node: string): string {
  for (const n of view.nodes()) if (n.name === node) return n.gpuModel ?? '';
  return '';
}
