// The built-in price sheets, looked up by cloud, instance type and region, and each GPU model's
// list price on each cloud (what its cheapest instance costs beyond its vCPUs and memory).
import { splitNodePrice } from '../split.ts';
import type { Cloud, GpuKind } from '../types.ts';
import { AWS_SHEET } from './aws.ts';
import { AZURE_SHEET } from './azure.ts';
import { GCP_SHEET } from './gcp.ts';
import type { CloudSheet, InstanceSpec } from './types.ts';

export type { CloudSheet, HostShape, InstanceSpec } from './types.ts';

export const SHEETS: readonly CloudSheet[] = [AWS_SHEET, GCP_SHEET, AZURE_SHEET];

/** The sheet key of an instance type: lower case, and Azure's "Standard_" tier dropped. */
export function sheetKey(instanceType: string): string {
  return instanceType
    .trim()
    .toLowerCase()
    .replace(/^standard_/, '');
}

export interface SheetEntry {
  readonly sheet: CloudSheet;
  readonly spec: InstanceSpec;
}

/** The instance type in its cloud's sheet; an unrecognised cloud is looked up in every sheet (names do not collide). */
export function lookupInstance(cloud: Cloud, instanceType: string): SheetEntry | undefined {
  const key = sheetKey(instanceType);
  for (const sheet of SHEETS) {
    if (cloud !== 'Unknown' && sheet.cloud !== cloud) continue;
    const spec = sheet.instances[key];
    if (spec) return { sheet, spec };
  }
  return undefined;
}

/**
 * The general-purpose type whose price sets a cloud's CPU and memory rates in a GPU's list price:
 * AWS m6i.xlarge, GCP n2-standard-8 and Azure D4s_v5, the families the sheets' multipliers follow.
 */
const REFERENCE: Readonly<Record<CloudSheet['cloud'], string>> = {
  AWS: 'm6i.xlarge',
  GCP: 'n2-standard-8',
  Azure: 'd4s_v5',
};

const listCache = new Map<string, number | undefined>();

/**
 * A GPU model's list price per GPU-hour on a cloud, in its base region: what the instance with the
 * fewest vCPUs per GPU (g4dn.xlarge, g2-standard-4, NC4as_T4_v3: the GPU's own price dominates)
 * costs beyond its vCPUs and memory priced at the cloud's general-purpose rates (the reference
 * type split by OpenCost's CPU:RAM ratio), per GPU. For a2-highgpu this gives $2.933908 per A100,
 * the A100 price GCP's GPU pricing page lists. Unknown cloud: the lowest of the clouds' list
 * prices. Undefined: no sheet sells that GPU.
 */
export function gpuListHour(cloud: Cloud, kind: GpuKind): number | undefined {
  const key = `${cloud}/${kind}`;
  if (listCache.has(key)) return listCache.get(key);
  let best: number | undefined;
  for (const sheet of SHEETS) {
    if (cloud !== 'Unknown' && sheet.cloud !== cloud) continue;
    const list = sheetGpuList(sheet, kind);
    if (list !== undefined && (best === undefined || list < best)) best = list;
  }
  listCache.set(key, best);
  return best;
}

function sheetGpuList(sheet: CloudSheet, kind: GpuKind): number | undefined {
  const ref = sheet.instances[REFERENCE[sheet.cloud]];
  if (!ref) return undefined;
  const rates = splitNodePrice(ref.onDemandHour, ref);
  let chosen: { vcpusPerGpu: number; each: number } | undefined;
  for (const spec of Object.values(sheet.instances)) {
    if (spec.gpuKind !== kind || spec.gpus <= 0) continue;
    const rest = spec.onDemandHour - spec.vcpus * rates.cpuCoreHour - spec.memoryGiB * rates.memoryGiBHour;
    const candidate = { vcpusPerGpu: spec.vcpus / spec.gpus, each: rest / spec.gpus };
    if (
      candidate.each > 0 &&
      (chosen === undefined ||
        candidate.vcpusPerGpu < chosen.vcpusPerGpu ||
        (candidate.vcpusPerGpu === chosen.vcpusPerGpu && candidate.each < chosen.each))
    )
      chosen = candidate;
  }
  return chosen?.each;
}

/** A region's price multiplier in a sheet, undefined when the sheet does not list the region. */
export function regionMultiplier(sheet: CloudSheet, region: string | undefined): number | undefined {
  return region === undefined ? undefined : sheet.regionMultiplier[region.toLowerCase()];
}
