// One node's power model: CPU watts by cloud, memory and storage energy, the GPU model's watts,
// PUE, the region's grid intensity and the embodied emissions of its host, with user overrides.
import type { PriceOverrides } from '../overrides.ts';
import type { NodeContext } from '../pricing.ts';
import type { PowerModel } from '../types.ts';
import { CLOUD_POWER, MEMORY_WATTS_PER_GIB, SSD_WATTS_PER_TIB } from './coefficients.ts';
import { DEFAULT_HOST, embodiedKgPerCoreHour } from './embodied.ts';
import { GPU_POWER, UNKNOWN_GPU_POWER } from './gpus.ts';
import { WORLD_GRID_KG_PER_KWH, gridFor } from './grid.ts';

export function powerModelFor(ctx: NodeContext, o: PriceOverrides): PowerModel {
  const cloud = CLOUD_POWER[ctx.cloud];
  const gpu = ctx.gpuKind ? GPU_POWER[ctx.gpuKind] : UNKNOWN_GPU_POWER;
  const host = ctx.entry ? (ctx.entry.sheet.hosts[ctx.entry.spec.family] ?? DEFAULT_HOST) : DEFAULT_HOST;

  // Grid: the user's for the region, the user's for all, the table's for the region, the world's.
  const region = ctx.region?.toLowerCase();
  const userRegion = region === undefined ? undefined : o.gridKgPerKWhByRegion?.[region];
  const table = gridFor(ctx.cloud, ctx.region);
  let gridKgPerKWh: number;
  let grid: string;
  if (userRegion !== undefined) [gridKgPerKWh, grid] = [userRegion, `tailor-prices gridKgPerKWh.${region}`];
  else if (o.gridKgPerKWh !== undefined)
    [gridKgPerKWh, grid] = [o.gridKgPerKWh, 'tailor-prices gridKgPerKWh'];
  else if (table) [gridKgPerKWh, grid] = [table.kgPerKWh, `${ctx.region} (CCF ${table.cloud} table)`];
  else
    [gridKgPerKWh, grid] = [
      WORLD_GRID_KG_PER_KWH,
      `region ${ctx.region ?? '(none)'} not in the tables: IEA 2019 world average`,
    ];

  const pue = o.pue ?? cloud.pue;
  return {
    cpuIdleWattsPerCore: cloud.cpuIdleWattsPerVcpu,
    cpuMaxWattsPerCore: cloud.cpuMaxWattsPerVcpu,
    memoryWattsPerGiB: MEMORY_WATTS_PER_GIB,
    gpuIdleWatts: gpu.idleWatts,
    gpuMaxWatts: gpu.maxWatts,
    storageWattsPerTiB: SSD_WATTS_PER_TIB,
    pue,
    gridKgPerKWh,
    embodiedKgPerCoreHour: embodiedKgPerCoreHour(host),
    description:
      `${cloud.source} ${cloud.cpuIdleWattsPerVcpu}-${cloud.cpuMaxWattsPerVcpu} W/vCPU, ` +
      `PUE ${pue}${o.pue !== undefined ? ' (tailor-prices)' : ''}, grid ${Number(gridKgPerKWh.toPrecision(4))} kg/kWh ${grid}` +
      (ctx.gpuKind ? `, ${ctx.gpuKind} ${Number(gpu.idleWatts.toFixed(1))}-${gpu.maxWatts} W` : ''),
  };
}
