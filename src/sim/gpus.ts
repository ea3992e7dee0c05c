// The simulated GPUs as a node's driver shows them: one table of boards (framebuffer as nvidia-smi
// reports it, MIG profiles as the MIG user guide lists them), stable device UUIDs, and the devices
// the NVIDIA device plugin advertises under the mixed MIG strategy (whole GPUs, MIG devices).
import { createHash } from 'node:crypto';

/** One MIG profile of a board: `nvidia-smi mig -lgip` memory in MiB, and its compute slices (of 7, or 4 on an A30). */
export interface MigProfile {
  readonly memoryMiB: number;
  readonly slices: number;
}

export interface GpuBoard {
  /** The device name NVML reports (dcgm-exporter's modelName label). */
  readonly name: string;
  /** Framebuffer total in MiB, as nvidia-smi and DCGM_FI_DEV_FB_TOTAL report it. */
  readonly memoryMiB: number;
  /**
   * Framebuffer the driver and firmware keep (DCGM_FI_DEV_FB_RESERVED, nvidia-smi -q "Reserved");
   * approximate: it varies with the driver and ECC.
   */
  readonly reservedMiB: number;
  readonly mig?: Readonly<Record<string, MigProfile>>;
}

/**
 * Keyed by the product label GPU feature discovery writes (nvidia.com/gpu.product: the NVML name
 * with spaces as dashes). Totals as nvidia-smi reports them: modal-labs/modal-client#2797 (H100
 * 81559, A100 80GB 81920, A100 40GB 40960, A10 23028, L40S 46068, L4 23034, T4 15360 MiB), also
 * NVIDIA/nccl#1264 (H100 80GB HBM3), NVIDIA/mig-parted#31 (A100-SXM4-80GB), NVIDIA/DCGM#232 (A10G).
 * MIG profiles: docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html, memory
 * as `nvidia-smi mig -lgip` lists it (GiB to 1/8) in MiB.
 */
export const GPU_BOARDS = {
  'Tesla-T4': { name: 'Tesla T4', memoryMiB: 15360, reservedMiB: 250 },
  'NVIDIA-A10G': { name: 'NVIDIA A10G', memoryMiB: 23028, reservedMiB: 450 },
  'NVIDIA-L4': { name: 'NVIDIA L4', memoryMiB: 23034, reservedMiB: 450 },
  'NVIDIA-L40S': { name: 'NVIDIA L40S', memoryMiB: 46068, reservedMiB: 500 },
  // A 24 GB HBM2 board (no nvidia-smi figure at hand: the total is the nominal 24 GiB); MIG memory as
  // `mig -lgip` lists it (5.81, 11.88, 23.75 GiB). Tailor's GPU catalogue does not offer it.
  'NVIDIA-A30': {
    name: 'NVIDIA A30',
    memoryMiB: 24576,
    reservedMiB: 450,
    mig: {
      '1g.6gb': { memoryMiB: 5952, slices: 1 },
      '2g.12gb': { memoryMiB: 12160, slices: 2 },
      '4g.24gb': { memoryMiB: 24320, slices: 4 },
    },
  },
  'NVIDIA-A100-SXM4-40GB': {
    name: 'NVIDIA A100-SXM4-40GB',
    memoryMiB: 40960,
    reservedMiB: 450,
    mig: {
      '1g.5gb': { memoryMiB: 4864, slices: 1 },
      '2g.10gb': { memoryMiB: 9984, slices: 2 },
      '3g.20gb': { memoryMiB: 19968, slices: 3 },
      '7g.40gb': { memoryMiB: 40320, slices: 7 },
    },
  },
  'NVIDIA-A100-SXM4-80GB': {
    name: 'NVIDIA A100-SXM4-80GB',
    memoryMiB: 81920,
    reservedMiB: 550,
    mig: {
      '1g.10gb': { memoryMiB: 9728, slices: 1 },
      '2g.20gb': { memoryMiB: 19968, slices: 2 },
      '3g.40gb': { memoryMiB: 40192, slices: 3 },
      '7g.80gb': { memoryMiB: 81152, slices: 7 },
    },
  },
  'NVIDIA-H100-80GB-HBM3': {
    name: 'NVIDIA H100 80GB HBM3',
    memoryMiB: 81559,
    reservedMiB: 550,
    mig: {
      '1g.10gb': { memoryMiB: 9984, slices: 1 },
      '2g.20gb': { memoryMiB: 20096, slices: 2 },
      '3g.40gb': { memoryMiB: 40448, slices: 3 },
      '7g.80gb': { memoryMiB: 81152, slices: 7 },
    },
  },
  'NVIDIA-H200': { name: 'NVIDIA H200', memoryMiB: 143771, reservedMiB: 600 },
} as const satisfies Record<string, GpuBoard>;

export type GpuProduct = keyof typeof GPU_BOARDS;
export type MigResource = `nvidia.com/mig-${string}`;
/** Every MIG device resource some board offers, e.g. nvidia.com/mig-1g.10gb. */
export const MIG_RESOURCES: readonly MigResource[] = [
  ...new Set(
    Object.values(GPU_BOARDS as Record<string, GpuBoard>).flatMap((b) =>
      Object.keys(b.mig ?? {}).map((p): MigResource => `nvidia.com/mig-${p}`),
    ),
  ),
];
export const GPU_PRODUCTS = Object.keys(GPU_BOARDS) as GpuProduct[];
/** The driver the simulated nodes run (dcgm-exporter's DCGM_FI_DRIVER_VERSION label). */
export const DRIVER_VERSION = '550.90.07';

const Mi = 2 ** 20;

export function boardOf(product: string | undefined): GpuBoard | undefined {
  return product !== undefined && product in GPU_BOARDS ? GPU_BOARDS[product as GpuProduct] : undefined;
}

/** What the GPU side of a node needs: its boards, and how each is cut into MIG devices. */
export interface GpuNode {
  readonly name: string;
  readonly gpus: number;
  readonly gpuModel?: string;
  readonly gpuMemoryBytes?: number;
  /**
   * MIG layout, one entry per GPU index: the profiles that GPU is cut into (mixed strategy). A GPU
   * with no entry, or an empty one, is whole.
   */
  readonly migLayout?: readonly (readonly string[])[];
}

/** A device as the device plugin advertises it: a whole GPU, or one MIG device of a GPU. */
export interface GpuDevice {
  /** The device plugin's device ID: the GPU's UUID, or the MIG device's `MIG-<uuid>`. */
  readonly id: string;
  /** The extended resource it counts under: nvidia.com/gpu or nvidia.com/mig-<profile>. */
  readonly resource: string;
  /** Index of the physical GPU (dcgm-exporter's gpu label, /dev/nvidia<index>). */
  readonly gpu: number;
  /** UUID of the physical GPU. */
  readonly gpuUuid: string;
  readonly memoryMiB: number;
  readonly reservedMiB: number;
  /** For a MIG device: its profile and GPU instance id (dcgm-exporter's GPU_I_PROFILE, GPU_I_ID). */
  readonly mig?: { readonly profile: string; readonly instance: number };
}

/** A UUID in NVML's `GPU-8-4-4-4-12` form, the same for the same node and index on every run. */
export function gpuUuid(node: string, index: number): string {
  return `GPU-${uuidOf(`${node}/gpu/${index}`)}`;
}

function uuidOf(key: string): string {
  const h = createHash('sha1').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** MiB of one whole GPU of the node: its spec's figure (a scenario may say), else the board's. */
function wholeMiB(n: GpuNode): number {
  return n.gpuMemoryBytes !== undefined
    ? Math.round(n.gpuMemoryBytes / Mi)
    : (boardOf(n.gpuModel)?.memoryMiB ?? 0);
}

/**
 * Every device of the node, by GPU index. GPU instance ids are numbered from 1 per GPU in layout
 * order (the driver picks them by placement; the numbering is simplified).
 */
export function devicesOf(n: GpuNode): GpuDevice[] {
  const board = boardOf(n.gpuModel);
  const reservedMiB = board?.reservedMiB ?? 0;
  const out: GpuDevice[] = [];
  for (let g = 0; g < n.gpus; g++) {
    const uuid = gpuUuid(n.name, g);
    const layout = n.migLayout?.[g] ?? [];
    if (layout.length === 0) {
      out.push({
        id: uuid,
        resource: 'nvidia.com/gpu',
        gpu: g,
        gpuUuid: uuid,
        memoryMiB: wholeMiB(n),
        reservedMiB,
      });
      continue;
    }
    layout.forEach((profile, i) => {
      const p = migProfileOf(n.gpuModel, profile);
      out.push({
        id: `MIG-${uuidOf(`${n.name}/gpu/${g}/gi/${i + 1}`)}`,
        resource: `nvidia.com/mig-${profile}`,
        gpu: g,
        gpuUuid: uuid,
        memoryMiB: p?.memoryMiB ?? 0,
        reservedMiB: 0,
        mig: { profile, instance: i + 1 },
      });
    });
  }
  return out;
}

function migProfileOf(product: string | undefined, profile: string): MigProfile | undefined {
  return boardOf(product)?.mig?.[profile];
}

/** Why a MIG layout cannot be (an unknown profile, more slices than the GPU has), or undefined. */
export function checkMigLayout(n: GpuNode): string | undefined {
  const layout = n.migLayout ?? [];
  if (layout.length === 0) return undefined;
  const board = boardOf(n.gpuModel);
  if (!board?.mig) return `${n.gpuModel ?? 'a node without a GPU model'} has no MIG profiles`;
  if (layout.length > n.gpus) return `a MIG layout for ${layout.length} GPUs on a node with ${n.gpus}`;
  const known = Object.keys(board.mig);
  for (const [g, profiles] of layout.entries()) {
    let slices = 0;
    for (const p of profiles) {
      const m = migProfileOf(n.gpuModel, p);
      if (!m) return `GPU ${g}: MIG profile "${p}" is not one of ${n.gpuModel}'s (${known.join(', ')})`;
      slices += m.slices;
    }
    const of = Math.max(...Object.values(board.mig).map((m) => m.slices));
    if (slices > of) return `GPU ${g}: ${profiles.join(' + ')} take ${slices} compute slices of ${of}`;
  }
  return undefined;
}

/** Capacity the device plugin advertises (mixed strategy): whole GPUs, and MIG devices per profile. */
export function gpuCapacity(n: GpuNode): Record<string, string> {
  const counts = new Map<string, number>();
  for (const d of devicesOf(n)) counts.set(d.resource, (counts.get(d.resource) ?? 0) + 1);
  return Object.fromEntries([...counts].map(([r, c]) => [r, String(c)]));
}

/**
 * GPU feature discovery's labels: the board (product, count of physical GPUs, memory in MiB) and,
 * with MIG devices, mig.strategy=mixed and per profile its product, count, memory and slices
 * (k8s-device-plugin internal/lm/resource.go, mig-strategy.go).
 */
export function gpuLabels(n: GpuNode): Record<string, string> {
  if (n.gpus <= 0 || !n.gpuModel) return {};
  const labels: Record<string, string> = {
    'nvidia.com/gpu.product': n.gpuModel,
    'nvidia.com/gpu.count': String(n.gpus),
  };
  const whole = wholeMiB(n);
  if (whole > 0) labels['nvidia.com/gpu.memory'] = String(whole);
  const migs = devicesOf(n).filter((d) => d.mig !== undefined);
  if (migs.length === 0) return labels;
  labels['nvidia.com/mig.strategy'] = 'mixed';
  for (const d of migs) {
    const key = d.resource;
    const p = migProfileOf(n.gpuModel, d.mig!.profile)!;
    labels[`${key}.count`] = String(Number(labels[`${key}.count`] ?? 0) + 1);
    labels[`${key}.product`] = `${n.gpuModel}-MIG-${d.mig!.profile}`;
    labels[`${key}.memory`] = String(p.memoryMiB);
    labels[`${key}.replicas`] = '1';
    labels[`${key}.slices.gi`] = String(p.slices);
    labels[`${key}.slices.ci`] = String(p.slices);
  }
  return labels;
}

/** The NVIDIA device a container asks for (extended resources have requests equal to limits). */
export function gpuRequestOf(limits: Readonly<Record<string, string>> | undefined): {
  resource: string;
  count: number;
} {
  for (const [resource, v] of Object.entries(limits ?? {})) {
    if (resource !== 'nvidia.com/gpu' && !resource.startsWith('nvidia.com/mig-')) continue;
    const count = Number(v);
    if (Number.isInteger(count) && count > 0) return { resource, count };
  }
  return { resource: 'nvidia.com/gpu', count: 0 };
}

/** Bytes of one device of `resource` on the node: what a container's usage profile may fill. */
export function deviceBytes(n: GpuNode, resource: string): number {
  const d = devicesOf(n).find((x) => x.resource === resource);
  return d ? d.memoryMiB * Mi : (n.gpuMemoryBytes ?? 0);
}

export type Allocation =
  { outcome: 'Allocated'; devices: Map<string, string[]> } | { outcome: 'Insufficient'; message: string };

/**
 * The device plugin's allocation for a pod starting on the node: each container gets free devices
 * of the resource it asks for, lowest GPU index first (the plugin's preferred allocation also
 * weighs NVLink topology; not simulated). Devices held by pods no longer running are free again,
 * as the kubelet's device manager frees them (pkg/kubelet/cm/devicemanager/manager.go).
 */
export function allocate(
  node: GpuNode,
  wants: readonly { container: string; resource: string; count: number }[],
  held: ReadonlySet<string>,
): Allocation {
  const taken = new Set(held);
  const devices = new Map<string, string[]>();
  for (const w of wants) {
    if (w.count <= 0) continue;
    const free = devicesOf(node).filter((d) => d.resource === w.resource && !taken.has(d.id));
    if (free.length < w.count)
      return {
        outcome: 'Insufficient',
        message: `Allocate failed due to requested number of devices unavailable for ${w.resource}. Requested: ${w.count}, Available: ${free.length}, which is unexpected`,
      };
    const ids = free.slice(0, w.count).map((d) => d.id);
    for (const id of ids) taken.add(id);
    devices.set(w.container, ids);
  }
  return { outcome: 'Allocated', devices };
}
