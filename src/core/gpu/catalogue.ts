// The GPU catalogue: usable memory, typical on-demand price, board power, the Kubernetes resource
// that requests it and the node label that selects it, for whole GPUs and common MIG slices.
import { GiB } from '../llm/types.ts';

export interface GpuModel {
  /** Stable id used in ModelDeployment specs and status, e.g. "l4", "a100-80gb-mig-3g.40gb". */
  id: string;
  name: string;
  /** Size on the label; GPU memory comes in binary units, so a "24 GB" card has 24 GiB on the board. */
  memoryBytes: number;
  /**
   * What CUDA reports as the device's total memory (cudaMemGetInfo): the figure vLLM's
   * gpu_memory_utilization multiplies. ECC and the driver take the rest: a "24 GB" L4 shows
   * 23034 MiB in nvidia-smi and about 22 GiB to CUDA.
   */
  usableBytes: number;
  /** Typical on-demand USD per hour for this GPU (or slice), as the big clouds list it. */
  hourlyPrice: number;
  /** Board power in watts (TDP), for carbon accounting; a MIG slice gets its share. */
  watts: number;
  /** Extended resource a pod requests. */
  resourceName: string;
  /** Value of the node label nvidia.com/gpu.product (GPU feature discovery) on nodes with this GPU. */
  productLabel: string;
  computeCapability: number;
  /** GPUs of this type one node offers at most (the largest common instance). */
  maxPerNode: number;
  mig?: { parent: string; profile: string; computeSlices: number };
}

const gib = (n: number): number => n * GiB;

/**
 * Prices are approximate 2025 on-demand list prices per GPU (a single-GPU instance, or the
 * 8-GPU instance divided by 8) in a US region; real prices vary by cloud, region and discount,
 * so callers can pass their own catalogue. Usable memory is the total CUDA reports as seen in
 * runtime logs (PyTorch "total capacity", vLLM "total_gpu_memory"), approximately nvidia-smi's
 * total less 0.4-0.5 GiB.
 */
const WHOLE: GpuModel[] = [
  {
    id: 't4',
    name: 'NVIDIA T4 16GB',
    memoryBytes: gib(16),
    usableBytes: gib(14.75),
    hourlyPrice: 0.53,
    watts: 70,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'Tesla-T4',
    computeCapability: 7.5,
    maxPerNode: 8,
  },
  {
    id: 'l4',
    name: 'NVIDIA L4 24GB',
    memoryBytes: gib(24),
    usableBytes: gib(22.05),
    hourlyPrice: 0.8,
    watts: 72,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-L4',
    computeCapability: 8.9,
    maxPerNode: 8,
  },
  {
    id: 'a10g',
    name: 'NVIDIA A10G 24GB',
    memoryBytes: gib(24),
    usableBytes: gib(22.05),
    hourlyPrice: 1.01,
    watts: 150,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-A10G',
    computeCapability: 8.6,
    maxPerNode: 8,
  },
  {
    id: 'l40s',
    name: 'NVIDIA L40S 48GB',
    memoryBytes: gib(48),
    usableBytes: gib(44.53),
    hourlyPrice: 1.86,
    watts: 350,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-L40S',
    computeCapability: 8.9,
    maxPerNode: 8,
  },
  {
    id: 'a100-40gb',
    name: 'NVIDIA A100 40GB SXM',
    memoryBytes: gib(40),
    usableBytes: gib(39.39),
    hourlyPrice: 4.1,
    watts: 400,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-A100-SXM4-40GB',
    computeCapability: 8.0,
    maxPerNode: 8,
  },
  {
    id: 'a100-80gb',
    name: 'NVIDIA A100 80GB SXM',
    memoryBytes: gib(80),
    usableBytes: gib(79.15),
    hourlyPrice: 5.12,
    watts: 400,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-A100-SXM4-80GB',
    computeCapability: 8.0,
    maxPerNode: 8,
  },
  {
    id: 'h100-80gb',
    name: 'NVIDIA H100 80GB SXM',
    memoryBytes: gib(80),
    usableBytes: gib(79.22),
    hourlyPrice: 6.88,
    watts: 700,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-H100-80GB-HBM3',
    computeCapability: 9.0,
    maxPerNode: 8,
  },
  {
    id: 'h200',
    name: 'NVIDIA H200 141GB SXM',
    memoryBytes: gib(141),
    usableBytes: gib(139.8),
    hourlyPrice: 10.6,
    watts: 700,
    resourceName: 'nvidia.com/gpu',
    productLabel: 'NVIDIA-H200',
    computeCapability: 9.0,
    maxPerNode: 8,
  },
];

/** MIG profiles: memory as `nvidia-smi mig -lgip` lists it (approximate); price and power pro rata by compute slices of 7. */
const MIG: Array<{ parent: string; profile: string; slices: number; usableGiB: number; memoryGB: number }> = [
  { parent: 'a100-40gb', profile: '1g.5gb', slices: 1, usableGiB: 4.75, memoryGB: 5 },
  { parent: 'a100-40gb', profile: '2g.10gb', slices: 2, usableGiB: 9.75, memoryGB: 10 },
  { parent: 'a100-40gb', profile: '3g.20gb', slices: 3, usableGiB: 19.62, memoryGB: 20 },
  { parent: 'a100-80gb', profile: '1g.10gb', slices: 1, usableGiB: 9.5, memoryGB: 10 },
  { parent: 'a100-80gb', profile: '2g.20gb', slices: 2, usableGiB: 19.5, memoryGB: 20 },
  { parent: 'a100-80gb', profile: '3g.40gb', slices: 3, usableGiB: 39.25, memoryGB: 40 },
  { parent: 'h100-80gb', profile: '1g.10gb', slices: 1, usableGiB: 9.75, memoryGB: 10 },
  { parent: 'h100-80gb', profile: '2g.20gb', slices: 2, usableGiB: 19.62, memoryGB: 20 },
  { parent: 'h100-80gb', profile: '3g.40gb', slices: 3, usableGiB: 39.5, memoryGB: 40 },
];

function migModel(m: (typeof MIG)[number]): GpuModel {
  const parent = WHOLE.find((g) => g.id === m.parent);
  if (parent === undefined) throw new Error(`MIG profile ${m.profile} names unknown parent ${m.parent}`);
  const share = m.slices / 7;
  return {
    id: `${parent.id}-mig-${m.profile}`,
    name: `${parent.name} MIG ${m.profile}`,
    memoryBytes: gib(m.memoryGB),
    usableBytes: gib(m.usableGiB),
    hourlyPrice: Math.round(parent.hourlyPrice * share * 1000) / 1000,
    watts: Math.round(parent.watts * share),
    resourceName: `nvidia.com/mig-${m.profile}`,
    productLabel: parent.productLabel,
    computeCapability: parent.computeCapability,
    maxPerNode: 7,
    mig: { parent: parent.id, profile: m.profile, computeSlices: m.slices },
  };
}

export const GPU_CATALOGUE: readonly GpuModel[] = [...WHOLE, ...MIG.map(migModel)];

/** Finds a GPU by id, product label or name, case-insensitively. */
export function findGpu(key: string, catalogue: readonly GpuModel[] = GPU_CATALOGUE): GpuModel | undefined {
  const k = key.trim().toLowerCase();
  return (
    catalogue.find((g) => g.id === k) ??
    catalogue.find((g) => g.mig === undefined && g.productLabel.toLowerCase() === k) ??
    catalogue.find((g) => g.name.toLowerCase() === k)
  );
}
