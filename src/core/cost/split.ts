// Splits a node's hourly price into per-GPU, per-core and per-GiB prices the way OpenCost's cost
// model does, so the parts held by the pods on a node add up to what the node costs.
import { OPENCOST_DEFAULT_PRICES } from './price.ts';

/** OpenCost's default GPU price (configs/default.json "GPU": $0.95 per GPU-hour). */
export const OPENCOST_DEFAULT_GPU_HOUR = 0.95;

/**
 * OpenCost's CPU:RAM price ratio (configs/default.json, $0.031611 per core-hour to $0.004237 per
 * GiB-hour, about 7.46): pkg/costmodel/costmodel.go divides a node's price between cores and GiB
 * by this ratio when the cloud's API gives only the node's total (opencost 5f65333, October 2024).
 */
export const CPU_TO_RAM_RATIO = OPENCOST_DEFAULT_PRICES.cpuCoreHour / OPENCOST_DEFAULT_PRICES.memoryGiBHour;
const GPU_TO_RAM_RATIO = OPENCOST_DEFAULT_GPU_HOUR / OPENCOST_DEFAULT_PRICES.memoryGiBHour;

export interface NodeShape {
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** Whole GPUs (MIG slices summed to the GPUs they come from). */
  readonly gpus: number;
}

/**
 * How the price was divided: GPUs first at their list price and the rest by CPU:RAM ratio (OpenCost's
 * branch for a node whose GPU price is known), or all three by OpenCost's default ratios (its branch
 * for "GPU without cost": no list price, or a list price the node's own price does not cover).
 */
export type SplitMethod = 'GpuFirst' | 'Ratio';

export interface SplitPrices {
  readonly cpuCoreHour: number;
  readonly memoryGiBHour: number;
  readonly gpuHour: number;
  readonly method: SplitMethod;
}

/** `nodeHour` = vcpus x cpuCoreHour + memoryGiB x memoryGiBHour + gpus x gpuHour, always. */
export function splitNodePrice(nodeHour: number, shape: NodeShape, gpuListHour?: number): SplitPrices {
  const cpuRamUnits = shape.vcpus * CPU_TO_RAM_RATIO + shape.memoryGiB;
  if (shape.gpus > 0 && gpuListHour !== undefined && shape.gpus * gpuListHour < nodeHour && cpuRamUnits > 0) {
    const ram = (nodeHour - shape.gpus * gpuListHour) / cpuRamUnits;
    return {
      cpuCoreHour: ram * CPU_TO_RAM_RATIO,
      memoryGiBHour: ram,
      gpuHour: gpuListHour,
      method: 'GpuFirst',
    };
  }
  const units = shape.gpus * GPU_TO_RAM_RATIO + cpuRamUnits;
  const ram = units > 0 ? nodeHour / units : 0;
  return {
    cpuCoreHour: ram * CPU_TO_RAM_RATIO,
    memoryGiBHour: ram,
    // A node without GPUs charges none; the figure only prices a GPU that shows up unannounced.
    gpuHour: shape.gpus > 0 ? ram * GPU_TO_RAM_RATIO : (gpuListHour ?? OPENCOST_DEFAULT_GPU_HOUR),
    method: 'Ratio',
  };
}
