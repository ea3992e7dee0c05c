// One node's unit prices: its hourly price from the built-in sheet (or the user's instance
// override) split into core, GiB and GPU prices, OpenCost's defaults where the sheet has nothing,
// the user's unit overrides on top, and the spot discount on a spot node.
import { capacityTypeOf, cloudOf, gpuKindOfLabels, instanceTypeOf, regionOf } from './cloud.ts';
import { gpuShare } from './gpus.ts';
import type { PriceOverrides } from './overrides.ts';
import { OPENCOST_DEFAULT_PRICES } from './price.ts';
import { gpuListHour, lookupInstance, regionMultiplier, sheetKey, type SheetEntry } from './sheets/index.ts';
import { OPENCOST_DEFAULT_GPU_HOUR, splitNodePrice, type NodeShape } from './split.ts';
import type { Cloud, GpuKind, NodeFacts, PriceSource, UnitPrices } from './types.ts';

/** OpenCost's default storage price: configs/default.json "storage" $0.00005479452 per GiB-hour = $0.04 per GiB-month. */
export const OPENCOST_DEFAULT_STORAGE_GIB_MONTH = 0.04;

/**
 * Spot price as a fraction of on-demand when the user gives no spotDiscount: OpenCost's default
 * spot prices over its on-demand ones (configs/default.json spotCPU 0.006655 / CPU 0.031611 =
 * spotRAM 0.000892 / RAM 0.004237 = 0.21, i.e. 79% off). Real spot prices move by the hour.
 */
export const DEFAULT_SPOT_FRACTION = 0.006655 / 0.031611;

/** What the pricing read off the node, for the power model and the description. */
export interface NodeContext {
  readonly cloud: Cloud;
  readonly instanceType?: string;
  readonly region?: string;
  readonly gpuKind?: GpuKind;
  readonly entry?: SheetEntry;
}

export function nodeContext(node: NodeFacts): NodeContext {
  const cloud = cloudOf(node.labels, node.providerID);
  const instanceType = instanceTypeOf(node.labels);
  const entry = instanceType === undefined ? undefined : lookupInstance(cloud, instanceType);
  const region = regionOf(node.labels);
  const gpuKind = entry?.spec.gpuKind ?? gpuKindOfLabels(node.labels);
  return {
    cloud: entry?.sheet.cloud ?? cloud,
    ...(instanceType !== undefined ? { instanceType } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(gpuKind !== undefined ? { gpuKind } : {}),
    ...(entry !== undefined ? { entry } : {}),
  };
}

/** Whole GPUs on a node: nvidia.com/gpu plus its MIG devices summed back to the GPUs they come from. */
export function physicalGpus(node: NodeFacts): number {
  let gpus = node.gpus;
  for (const [name, count] of Object.entries(node.migDevices ?? {})) gpus += gpuShare(name, count);
  return gpus;
}

function instanceOverride(o: PriceOverrides, instanceType: string | undefined): number | undefined {
  if (instanceType === undefined || o.instanceHour === undefined) return undefined;
  const key = sheetKey(instanceType);
  for (const [type, hour] of Object.entries(o.instanceHour)) if (sheetKey(type) === key) return hour;
  return undefined;
}

const money = (v: number, currency: string) =>
  currency === 'USD' ? `$${Number(v.toPrecision(6))}` : `${Number(v.toPrecision(6))} ${currency}`;

export function unitPricesFor(
  node: NodeFacts,
  o: PriceOverrides,
  ctx: NodeContext = nodeContext(node),
): UnitPrices {
  const capacityType = capacityTypeOf(node.labels);
  const currency = o.currency ?? OPENCOST_DEFAULT_PRICES.currency;
  // A currency other than USD: the USD sheets and defaults cannot be mixed in (parsePriceOverrides
  // made sure the unit prices are all given in it).
  const usd = currency === 'USD';
  const entry = usd ? ctx.entry : undefined;
  let overridden = false;

  // 1. The node's on-demand price per hour: the user's for its type, else the sheet's.
  const byUser = instanceOverride(o, ctx.instanceType);
  const multiplier = entry ? regionMultiplier(entry.sheet, ctx.region) : undefined;
  const nodeHour = byUser ?? (entry ? entry.spec.onDemandHour * (multiplier ?? 1) : undefined);
  if (byUser !== undefined) overridden = true;

  // 2. The GPU's price: the user's for the model, the user's for all GPUs, the cloud's list price.
  const userGpu = (ctx.gpuKind && o.gpuHourByModel?.[ctx.gpuKind]) ?? o.gpuHour;
  const listGpu = ctx.gpuKind && usd ? gpuListHour(ctx.cloud, ctx.gpuKind) : undefined;
  const gpuEach = userGpu ?? (listGpu === undefined ? undefined : listGpu * (multiplier ?? 1));

  // 3. Split the node's price (the sheet's shape where the sheet knows the type), or the defaults.
  const shape: NodeShape = entry
    ? entry.spec
    : { vcpus: node.cpuCores, memoryGiB: node.memoryBytes / 2 ** 30, gpus: physicalGpus(node) };
  let cpu: number;
  let ram: number;
  let gpu: number;
  if (nodeHour !== undefined) {
    const split = splitNodePrice(nodeHour, shape, gpuEach);
    ({ cpuCoreHour: cpu, memoryGiBHour: ram, gpuHour: gpu } = split);
    if (userGpu !== undefined && shape.gpus > 0) overridden = true;
  } else {
    cpu = OPENCOST_DEFAULT_PRICES.cpuCoreHour;
    ram = OPENCOST_DEFAULT_PRICES.memoryGiBHour;
    gpu = userGpu ?? OPENCOST_DEFAULT_GPU_HOUR;
    if (userGpu !== undefined) overridden = true;
  }

  // 4. Unit prices the user set replace the split's (the parts then no longer add up to the node's price).
  if (o.cpuCoreHour !== undefined) [cpu, overridden] = [o.cpuCoreHour, true];
  if (o.memoryGiBHour !== undefined) [ram, overridden] = [o.memoryGiBHour, true];
  const storageGiBMonth = o.storageGiBMonth ?? OPENCOST_DEFAULT_STORAGE_GIB_MONTH;
  if (o.storageGiBMonth !== undefined) overridden = true;

  // 5. Spot: every hourly price at the spot fraction of on-demand.
  let spot = 1;
  if (capacityType === 'Spot') {
    spot = o.spotDiscount !== undefined ? 1 - o.spotDiscount : DEFAULT_SPOT_FRACTION;
    if (o.spotDiscount !== undefined) overridden = true;
  }

  const source: PriceSource = overridden ? 'Override' : nodeHour !== undefined ? 'Sheet' : 'Default';
  return {
    currency,
    cpuCoreHour: cpu * spot,
    memoryGiBHour: ram * spot,
    gpuHour: gpu * spot,
    storageGiBMonth,
    capacityType,
    source,
    description: describe(ctx, capacityType, nodeHour === undefined ? undefined : nodeHour * spot, {
      byUser: byUser !== undefined,
      multiplier,
      overridden,
      usd,
      currency,
    }),
  };
}

function describe(
  ctx: NodeContext,
  capacityType: UnitPrices['capacityType'],
  nodeHour: number | undefined,
  how: {
    byUser: boolean;
    multiplier: number | undefined;
    overridden: boolean;
    usd: boolean;
    currency: string;
  },
): string {
  const capacity = capacityType === 'Spot' ? 'spot' : 'on-demand';
  const type = ctx.instanceType ?? 'no instance type';
  const tail = how.overridden ? ', with tailor-prices overrides' : '';
  if (nodeHour !== undefined && how.byUser)
    return `${ctx.cloud.toLowerCase()} ${type} ${capacity} ${money(nodeHour, how.currency)}/h (tailor-prices instance.${type})${tail}`;
  if (nodeHour !== undefined && ctx.entry) {
    const sheet = ctx.entry.sheet;
    const where =
      how.multiplier !== undefined
        ? (ctx.region ?? sheet.baseRegion)
        : `region ${ctx.region ?? '(none)'} not in the sheet: ${sheet.baseRegion} price`;
    return `${sheet.cloud.toLowerCase()} ${type} ${where} ${capacity} ${money(nodeHour, how.currency)}/h (${sheet.source})${tail}`;
  }
  if (!how.usd) return `tailor-prices unit prices (${capacity})`;
  return `OpenCost default (${type} not in the price sheets), ${capacity}${tail}`;
}
