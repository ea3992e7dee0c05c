// The cost and carbon models' entry points: a node's unit prices and power model, and the money
// and CO2e of an amount held on it for some hours. Pure: callers bring the node facts and overrides.
import { DEFAULT_CARBON, HOURS_PER_MONTH, OPENCOST_DEFAULT_PRICES } from './price.ts';
import type { Amount, Duty, Figure, NodeFacts, PowerModel, UnitPrices } from './types.ts';

export type * from './types.ts';
export { HOURS_PER_MONTH } from './price.ts';

/** User overrides from the prices ConfigMap (parsed and checked by parsePriceOverrides). */
export interface PriceOverrides {
  readonly currency?: string;
  readonly cpuCoreHour?: number;
  readonly memoryGiBHour?: number;
  readonly gpuHour?: number;
  readonly storageGiBMonth?: number;
  readonly gridKgPerKWh?: number;
  readonly pue?: number;
}

const GiB = 2 ** 30;

/** OpenCost's default GPU price per hour ($0.95) and default storage price ($0.04 per GiB-month). */
const DEFAULT_GPU_HOUR = 0.95;
const DEFAULT_STORAGE_GIB_MONTH = 0.04;

/** The unit prices and power model of one node: the built-in sheet, then the user's overrides. */
export function pricingFor(
  _node: NodeFacts,
  overrides: PriceOverrides = {},
): { prices: UnitPrices; power: PowerModel } {
  const prices: UnitPrices = {
    currency: overrides.currency ?? OPENCOST_DEFAULT_PRICES.currency,
    cpuCoreHour: overrides.cpuCoreHour ?? OPENCOST_DEFAULT_PRICES.cpuCoreHour,
    memoryGiBHour: overrides.memoryGiBHour ?? OPENCOST_DEFAULT_PRICES.memoryGiBHour,
    gpuHour: overrides.gpuHour ?? DEFAULT_GPU_HOUR,
    storageGiBMonth: overrides.storageGiBMonth ?? DEFAULT_STORAGE_GIB_MONTH,
    capacityType: 'OnDemand',
    source: Object.keys(overrides).length > 0 ? 'Override' : 'Default',
    description: 'OpenCost default',
  };
  const power: PowerModel = {
    cpuIdleWattsPerCore: 0.74,
    cpuMaxWattsPerCore: 3.5,
    memoryWattsPerGiB: DEFAULT_CARBON.memoryWattsPerGiB,
    gpuIdleWatts: 0,
    gpuMaxWatts: 0,
    storageWattsPerTiB: 0,
    pue: overrides.pue ?? DEFAULT_CARBON.pue,
    gridKgPerKWh: overrides.gridKgPerKWh ?? DEFAULT_CARBON.gridKgPerKWh,
    embodiedKgPerCoreHour: 0,
    description: 'world average grid',
  };
  return { prices, power };
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

/** kg CO2e of `amount` held for `hours`: power between idle and max by duty, PUE, grid, embodied. */
export function co2eOf(amount: Amount, hours: number, power: PowerModel, duty: Duty = {}): number {
  const cpuDuty = duty.cpu ?? 0.5;
  const gpuDuty = duty.gpu ?? 0.5;
  const watts =
    amount.cpuCores *
      (power.cpuIdleWattsPerCore + cpuDuty * (power.cpuMaxWattsPerCore - power.cpuIdleWattsPerCore)) +
    (amount.memoryBytes / GiB) * power.memoryWattsPerGiB +
    amount.gpus * (power.gpuIdleWatts + gpuDuty * (power.gpuMaxWatts - power.gpuIdleWatts)) +
    ((amount.storageBytes ?? 0) / 2 ** 40) * power.storageWattsPerTiB;
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
