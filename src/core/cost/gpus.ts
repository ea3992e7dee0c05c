// What GPU a node or a resource name stands for: the model behind a product label or an
// instance's accelerator, and the share of one GPU a whole-GPU or MIG resource request holds.
import type { GpuKind } from './types.ts';

export const GPU_KINDS: readonly GpuKind[] = [
  't4',
  'l4',
  'a10g',
  'v100',
  'a100-40gb',
  'a100-80gb',
  'a100-80gb-pcie',
  'h100-80gb',
];

/**
 * The GPU model a name stands for: a kind id ("a100-40gb"), GPU feature discovery's
 * nvidia.com/gpu.product ("NVIDIA-A100-SXM4-40GB", "Tesla-T4"), GKE's accelerator label
 * ("nvidia-tesla-a100", "nvidia-l4", "nvidia-h100-80gb") or Karpenter's instance-gpu-name ("a10g").
 * Undefined when the name is none of the known models (an L40S, an AMD card): never a guess.
 */
export function gpuKindOf(name: string): GpuKind | undefined {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
  if ((GPU_KINDS as readonly string[]).includes(n)) return n as GpuKind;
  const token = (t: string) => new RegExp(`(^|[^a-z0-9])${t}($|[^a-z0-9])`).test(n);
  if (n.includes('h100')) return 'h100-80gb';
  if (n.includes('a100')) {
    if (!/80-?gb?/.test(n)) return 'a100-40gb'; // GKE's nvidia-tesla-a100 and a2-highgpu are 40GB
    return n.includes('pcie') ? 'a100-80gb-pcie' : 'a100-80gb';
  }
  if (token('a10g')) return 'a10g';
  if (token('v100')) return 'v100';
  if (token('l4')) return 'l4';
  if (token('t4')) return 't4';
  return undefined;
}

const MIG_RESOURCE = /^nvidia\.com\/mig-([1-7])g\.(\d+)gb(?:\.me)?$/;

/**
 * A30 MIG profiles: four compute slices per GPU rather than seven (NVIDIA MIG user guide,
 * "Supported MIG Profiles", A30 24GB: 1g.6gb, 2g.12gb, 4g.24gb).
 */
const A30_PROFILES = new Set(['1g.6', '2g.12', '4g.24']);

/**
 * GPUs that `quantity` of the extended resource `resourceName` holds: nvidia.com/gpu counts whole
 * GPUs; a MIG slice (nvidia.com/mig-3g.20gb) holds its compute slices over the GPU's seven (A100,
 * H100; four on an A30), as NVIDIA's MIG user guide defines the profiles. A GPU under MIG's
 * "single" strategy is advertised as nvidia.com/gpu and counts as a whole GPU (nothing on the
 * resource says otherwise). Anything else holds no GPU.
 */
export function gpuShare(resourceName: string, quantity: number): number {
  const q = Number.isFinite(quantity) && quantity > 0 ? quantity : 0;
  if (resourceName === 'nvidia.com/gpu') return q;
  const m = MIG_RESOURCE.exec(resourceName);
  if (!m) return 0;
  const slices = Number(m[1]);
  const perGpu = A30_PROFILES.has(`${m[1]}g.${m[2]}`) ? 4 : 7;
  return (q * slices) / perGpu;
}
