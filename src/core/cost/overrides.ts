// The user's price and carbon overrides, read from the data of the `tailor-prices` ConfigMap:
// every key checked (a number, not negative, a known currency) and refused with its name if wrong.
import { TailorError } from '../../errors.ts';
import { ISO_4217 } from './currencies.ts';
import { GPU_KINDS, gpuKindOf } from './gpus.ts';
import type { GpuKind } from './types.ts';

/** User overrides from the prices ConfigMap (parsed and checked by parsePriceOverrides). */
export interface PriceOverrides {
  readonly currency?: string;
  readonly cpuCoreHour?: number;
  readonly memoryGiBHour?: number;
  readonly gpuHour?: number;
  readonly storageGiBMonth?: number;
  readonly gridKgPerKWh?: number;
  readonly pue?: number;
  /** `gpuHour.<gpu model>`: one model's price per GPU-hour, before `gpuHour`. */
  readonly gpuHourByModel?: Readonly<Partial<Record<GpuKind, number>>>;
  /** `instance.<type>`: a node's on-demand (or negotiated) price per hour, by instance type as labelled. */
  readonly instanceHour?: Readonly<Record<string, number>>;
  /** `spotDiscount`: fraction off the on-demand price on a spot node, 0 to below 1. */
  readonly spotDiscount?: number;
  /** `gridKgPerKWh.<region>`: one region's grid intensity, before `gridKgPerKWh`. */
  readonly gridKgPerKWhByRegion?: Readonly<Record<string, number>>;
  /** `storageGiBMonth.<storage class>`: one StorageClass's volumes per GiB-month, before `storageGiBMonth`. */
  readonly storageGiBMonthByClass?: Readonly<Record<string, number>>;
}

/** The ConfigMap Tailor reads overrides from, in the operator's namespace. */
export const PRICES_CONFIGMAP = 'tailor-prices';

const UNIT: Readonly<Record<string, string>> = {
  cpuCoreHour: 'per core-hour, e.g. 0.031611',
  memoryGiBHour: 'per GiB-hour, e.g. 0.004237',
  gpuHour: 'per GPU-hour, e.g. 0.95',
  storageGiBMonth: 'per GiB-month, e.g. 0.04',
  gridKgPerKWh: 'kg CO2e per kWh, e.g. 0.379',
  pue: 'a power usage effectiveness of 1 or more, e.g. 1.135',
  spotDiscount: 'a fraction off the on-demand price from 0 to below 1, e.g. 0.7 for 70% off',
  instance: 'the node price per hour, e.g. 0.384',
};

const PLAIN_NUMBER = /^[0-9]+(\.[0-9]+)?$/;

function bad(key: string, message: string, fix: string): TailorError {
  return new TailorError('InvalidInput', `${PRICES_CONFIGMAP} key "${key}": ${message}`, { hint: fix });
}

function numberAt(key: string, raw: string, unit: string): number {
  const v = raw.trim();
  if (v.startsWith('-') && PLAIN_NUMBER.test(v.slice(1)))
    throw bad(
      key,
      `${JSON.stringify(raw)} is negative`,
      `write a price or coefficient of 0 or more: ${unit}`,
    );
  if (!PLAIN_NUMBER.test(v))
    throw bad(key, `${JSON.stringify(raw)} is not a number`, `write a plain decimal number: ${unit}`);
  return Number(v);
}

/** Keys of the ConfigMap that name a price without a suffix. */
const SCALARS = [
  'cpuCoreHour',
  'memoryGiBHour',
  'gpuHour',
  'storageGiBMonth',
  'gridKgPerKWh',
  'pue',
  'spotDiscount',
] as const;
type Scalar = (typeof SCALARS)[number];

/**
 * Reads the ConfigMap's data. Keys: currency, cpuCoreHour, memoryGiBHour, gpuHour,
 * gpuHour.<gpu model>, storageGiBMonth, storageGiBMonth.<storage class>, instance.<type>, spotDiscount, gridKgPerKWh,
 * gridKgPerKWh.<region>, pue. Throws InvalidInput naming the key for a value that is not a plain
 * non-negative number, a PUE below 1, a spot discount of 1 or more, an unknown currency, GPU model
 * or key, or a currency other than USD without the unit prices in it (the built-in sheets are USD).
 */
export function parsePriceOverrides(data: Readonly<Record<string, string>>): PriceOverrides {
  const scalars: Partial<Record<Scalar, number>> = {};
  const gpuHourByModel: Partial<Record<GpuKind, number>> = {};
  const instanceHour: Record<string, number> = {};
  const gridKgPerKWhByRegion: Record<string, number> = {};
  const storageGiBMonthByClass: Record<string, number> = {};
  let currency: string | undefined;

  for (const [key, raw] of Object.entries(data)) {
    if (key === 'currency') {
      const code = raw.trim();
      if (!ISO_4217.has(code))
        throw bad(
          key,
          `${JSON.stringify(raw)} is not an ISO 4217 currency code`,
          'write a code such as USD, EUR or GBP',
        );
      currency = code;
      continue;
    }
    if ((SCALARS as readonly string[]).includes(key)) {
      const k = key as Scalar;
      const v = numberAt(key, raw, UNIT[k]!);
      if (k === 'pue' && v < 1) throw bad(key, `${v} is below 1`, `write ${UNIT.pue}`);
      if (k === 'spotDiscount' && v >= 1) throw bad(key, `${v} is not below 1`, `write ${UNIT.spotDiscount}`);
      scalars[k] = v;
      continue;
    }
    const dot = key.indexOf('.');
    const head = dot < 0 ? key : key.slice(0, dot);
    const tail = dot < 0 ? '' : key.slice(dot + 1).trim();
    if (dot > 0 && tail !== '' && head === 'gpuHour') {
      const kind = gpuKindOf(tail);
      if (kind === undefined)
        throw bad(
          key,
          `no GPU model called ${JSON.stringify(tail)}`,
          `name one of ${GPU_KINDS.join(', ')} or its nvidia.com/gpu.product label`,
        );
      gpuHourByModel[kind] = numberAt(key, raw, UNIT.gpuHour!);
      continue;
    }
    if (dot > 0 && tail !== '' && head === 'instance') {
      instanceHour[tail] = numberAt(key, raw, UNIT.instance!);
      continue;
    }
    if (dot > 0 && tail !== '' && head === 'gridKgPerKWh') {
      gridKgPerKWhByRegion[tail.toLowerCase()] = numberAt(key, raw, UNIT.gridKgPerKWh!);
      continue;
    }
    if (dot > 0 && tail !== '' && head === 'storageGiBMonth') {
      storageGiBMonthByClass[tail] = numberAt(key, raw, UNIT.storageGiBMonth!);
      continue;
    }
    throw bad(
      key,
      'not a known key',
      'use currency, cpuCoreHour, memoryGiBHour, gpuHour, gpuHour.<gpu model>, storageGiBMonth, storageGiBMonth.<storage class>, instance.<type>, spotDiscount, gridKgPerKWh, gridKgPerKWh.<region> or pue',
    );
  }

  if (currency !== undefined && currency !== 'USD') {
    const missing = (['cpuCoreHour', 'memoryGiBHour', 'gpuHour', 'storageGiBMonth'] as const).filter(
      (k) => scalars[k] === undefined,
    );
    if (missing.length > 0)
      throw bad(
        'currency',
        `${currency} needs ${missing.join(', ')} in ${currency} too`,
        `the built-in price sheets are in USD; give cpuCoreHour, memoryGiBHour, gpuHour and storageGiBMonth in ${currency} (and instance.<type> for node prices), or leave currency out`,
      );
  }

  return {
    ...(currency !== undefined ? { currency } : {}),
    ...scalars,
    ...(Object.keys(gpuHourByModel).length > 0 ? { gpuHourByModel } : {}),
    ...(Object.keys(instanceHour).length > 0 ? { instanceHour } : {}),
    ...(Object.keys(gridKgPerKWhByRegion).length > 0 ? { gridKgPerKWhByRegion } : {}),
    ...(Object.keys(storageGiBMonthByClass).length > 0 ? { storageGiBMonthByClass } : {}),
  };
}
