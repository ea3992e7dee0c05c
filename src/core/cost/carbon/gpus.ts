// GPU power between idle and full load, per GPU model: the vendor's board power (TDP) as the
// maximum and Cloud Carbon Footprint's idle figures (or its idle:max ratio) as the minimum.
import type { GpuKind } from '../types.ts';

export interface GpuPower {
  readonly idleWatts: number;
  readonly maxWatts: number;
}

/**
 * CCF's idle:max ratio for GPUs (methodology Appendix III, from Teads' AWS dataset, which applies
 * measured CPU idle:max ratios to TechPowerUp board powers): A100 46 W / 407 W.
 */
const CCF_IDLE_RATIO = 46 / 407;

/**
 * Max: NVIDIA datasheet board power: T4 70 W, L4 72 W, A10 150 W (the A10G is AWS's A10 variant;
 * NVIDIA publishes no separate figure), V100 SXM2 300 W, A100 SXM4 40GB and 80GB 400 W, A100 80GB
 * PCIe 300 W, H100 SXM5 700 W. Idle: CCF Appendix III where CCF lists the GPU (T4 8 W, A10G 18 W,
 * V100 35 W, A100 46 W), else CCF's idle:max ratio times the board power (L4, A100 PCIe, H100).
 */
export const GPU_POWER: Readonly<Record<GpuKind, GpuPower>> = {
  t4: { idleWatts: 8, maxWatts: 70 },
  l4: { idleWatts: 72 * CCF_IDLE_RATIO, maxWatts: 72 },
  a10g: { idleWatts: 18, maxWatts: 150 },
  v100: { idleWatts: 35, maxWatts: 300 },
  'a100-40gb': { idleWatts: 46, maxWatts: 400 },
  'a100-80gb': { idleWatts: 46, maxWatts: 400 },
  'a100-80gb-pcie': { idleWatts: 300 * CCF_IDLE_RATIO, maxWatts: 300 },
  'h100-80gb': { idleWatts: 700 * CCF_IDLE_RATIO, maxWatts: 700 },
};

/** A GPU of unknown model: CCF's Tesla V100 row (35 W idle, 306 W at 100%), mid-range among its data-centre GPUs. */
export const UNKNOWN_GPU_POWER: GpuPower = { idleWatts: 35, maxWatts: 306 };
