// A container's resources as the report counts them: cores, bytes and GPUs, a MIG slice being its
// fraction of a GPU (compute slices of 7, as NVIDIA's A100/H100 profiles `mig-<slices>g.<memory>gb`).
import { parseQuantity } from '../quantity.ts';
import type { Amount } from '../cost/types.ts';

const MIG = /^nvidia\.com\/mig-(\d+)g\./;
const GPU_SLICES = 7;

/** GPUs a resource list holds: whole `nvidia.com/gpu` plus MIG devices as fractions. */
export function gpusOf(resources: Readonly<Record<string, string | number | undefined>> | undefined): number {
  let gpus = 0;
  for (const [name, q] of Object.entries(resources ?? {})) {
    const n = parseQuantity(q) ?? 0;
    if (name === 'nvidia.com/gpu') gpus += n;
    else {
      const m = MIG.exec(name);
      if (m) gpus += (n * Math.min(GPU_SLICES, Number(m[1]))) / GPU_SLICES;
    }
  }
  return gpus;
}

/** The requests of a container spec (a resource without a request takes its limit, as the apiserver defaults it). */
export function requestsOf(
  resources:
    | {
        readonly requests?: Readonly<Record<string, string | number | undefined>>;
        readonly limits?: Readonly<Record<string, string | number | undefined>>;
      }
    | undefined,
): Amount {
  const r = { ...resources?.limits, ...resources?.requests };
  return {
    cpuCores: parseQuantity(r.cpu) ?? 0,
    memoryBytes: parseQuantity(r.memory) ?? 0,
    gpus: gpusOf(r),
  };
}
