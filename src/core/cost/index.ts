// The cost and carbon models' entry points: a node's unit prices and power model, and the money
// and CO2e of an amount held on it for some hours. Pure: callers bring the node facts and overrides.
import { DEFAULT_DUTY } from './carbon/coefficients.ts';
import { powerModelFor } from './carbon/power.ts';
import type { PriceOverrides } from './overrides.ts';
import { HOURS_PER_MONTH } from './price.ts';
import { nodeContext, unitPricesFor } from './pricing.ts';
import type { Amount, Duty, Figure, NodeFacts, PowerModel, UnitPrices } from './types.ts';

export type * from './types.ts';
export { HOURS_PER_MONTH } from './price.ts';
export type { PriceOverrides } from './overrides.ts';
export { PRICES_CONFIGMAP, parsePriceOverrides } from './overrides.ts';
export { gpuKindOf, gpuShare } from './gpus.ts';
export { capacityTypeOf, cloudOf, instanceTypeOf, regionOf } from './cloud.ts';
export { physicalGpus } from './pricing.ts';
export { DISK_SHEETS, storageMonthly, storagePriceFor } from './storage.ts';
export type { StorageClassFacts, StoragePrice } from './storage.ts';
export { HDD_WATTS_PER_TIB, SSD_WATTS_PER_TIB } from './carbon/coefficients.ts';

const GiB = 2 ** 30;
const TiB = 2 ** 40;

/**
 * The unit prices and power model of one node: the built-in sheet for its cloud, instance type and
 * region (split into core, GiB and GPU prices as OpenCost does), OpenCost's defaults where the
 * sheet has nothing, then the user's overrides; the power model by CCF's method for its cloud,
 * region, GPU model and host.
 */
export function pricingFor(
  node: NodeFacts,
  overrides: PriceOverrides = {},
): { prices: UnitPrices; power: PowerModel } {
  const ctx = nodeContext(node);
  return { prices: unitPricesFor(node, overrides, ctx), power: powerModelFor(ctx, overrides) };
}

/** Money of `amount` held for `hours` at `prices`. */
export function costOf(amount: Amount, hours: number, prices: UnitPrices): number {
  const perHour =
    amount.cpuCores * prices.cpuCoreHour +
    (amount.memoryBytes / GiB) * prices.memoryGiBHour +
    amount.gpus * prices.gpuHour +
    ((amount.storageBytes ?? 0) / GiB) * (prices.storageGiBMonth / HOURS_PER_MONTH);
  return perHour * hours;
}

/** A utilisation in 0..1; absent or not a number: CCF's 50% default. */
function dutyOf(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) ? DEFAULT_DUTY : Math.min(1, Math.max(0, v));
}

/**
 * kg CO2e of `amount` held for `hours` (CCF's method): watts of CPU (idle to max by CPU
 * utilisation), memory, GPU (idle to max by duty cycle, DCGM_FI_DEV_GPU_UTIL / 100 where known)
 * and storage, times PUE, hours and the grid's kg per kWh; plus the embodied emissions of the
 * cores' share of their server.
 */
export function co2eOf(amount: Amount, hours: number, power: PowerModel, duty: Duty = {}): number {
  const cpuDuty = dutyOf(duty.cpu);
  const gpuDuty = dutyOf(duty.gpu);
  const watts =
    amount.cpuCores *
      (power.cpuIdleWattsPerCore + cpuDuty * (power.cpuMaxWattsPerCore - power.cpuIdleWattsPerCore)) +
    (amount.memoryBytes / GiB) * power.memoryWattsPerGiB +
    amount.gpus * (power.gpuIdleWatts + gpuDuty * (power.gpuMaxWatts - power.gpuIdleWatts)) +
    ((amount.storageBytes ?? 0) / TiB) * power.storageWattsPerTiB;
  const operational = ((watts * power.pue * hours) / 1000) * power.gridKgPerKWh;
  return operational + amount.cpuCores * hours * power.embodiedKgPerCoreHour;
}

/** Money and CO2e of `amount` held for `hours` on a node priced by `pricing`. */
export function figureOf(
  amount: Amount,
  hours: number,
  pricing: { prices: UnitPrices; power: PowerModel },
  duty?: Duty,
): Figure {
  return {
    cost: costOf(amount, hours, pricing.prices),
    currency: pricing.prices.currency,
    co2eKg: co2eOf(amount, hours, pricing.power, duty),
  };
}
