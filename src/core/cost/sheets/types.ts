// The shape of a cloud's price sheet: each instance type's size and hourly list price in the
// cloud's base region, a regional multiplier table, and each family's host (for embodied carbon).
import type { Cloud, GpuKind } from '../types.ts';

/** The physical server a family runs on, as Cloud Carbon Footprint sizes it for embodied emissions. */
export interface HostShape {
  /** vCPUs of the family's largest instance (CCF's "total resources"). */
  readonly vcpus: number;
  readonly sockets: number;
  /** Memory of that instance in GB, as CCF counts it. */
  readonly memoryGB: number;
  readonly gpus: number;
  /** Local SSDs and HDDs (drives, not bytes), as CCF counts them. */
  readonly ssds: number;
  readonly hdds: number;
}

export interface InstanceSpec {
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  readonly gpuKind?: GpuKind;
  /** USD per hour, on demand, Linux, in the sheet's base region. */
  readonly onDemandHour: number;
  /** Key into the sheet's hosts. */
  readonly family: string;
}

export interface CloudSheet {
  readonly cloud: Exclude<Cloud, 'Unknown'>;
  readonly baseRegion: string;
  /** Where the prices come from (page, month and year). */
  readonly source: string;
  /** A region's price relative to the base region's; absent: the base region's price is used. */
  readonly regionMultiplier: Readonly<Record<string, number>>;
  /** Keyed by the instance type in lower case, as the node label carries it (Azure without "Standard_"). */
  readonly instances: Readonly<Record<string, InstanceSpec>>;
  readonly hosts: Readonly<Record<string, HostShape>>;
}

/** Rows of a family whose price and memory grow linearly with vCPUs (AWS m6i, GCP n2, Azure Dsv5). */
export function linearFamily(
  family: string,
  sizes: ReadonlyArray<readonly [name: string, vcpus: number]>,
  perVcpuHour: number,
  memoryGiBPerVcpu: number,
  perGiBHour = 0,
): Record<string, InstanceSpec> {
  const out: Record<string, InstanceSpec> = {};
  for (const [name, vcpus] of sizes) {
    const memoryGiB = vcpus * memoryGiBPerVcpu;
    out[name] = {
      vcpus,
      memoryGiB,
      gpus: 0,
      onDemandHour: round6(vcpus * perVcpuHour + memoryGiB * perGiBHour),
      family,
    };
  }
  return out;
}

/** GPU rows: [name, vcpus, memory GiB, gpus, USD per hour]. */
export function gpuFamily(
  family: string,
  gpuKind: GpuKind,
  rows: ReadonlyArray<readonly [name: string, vcpus: number, memoryGiB: number, gpus: number, hour: number]>,
): Record<string, InstanceSpec> {
  const out: Record<string, InstanceSpec> = {};
  for (const [name, vcpus, memoryGiB, gpus, onDemandHour] of rows)
    out[name] = { vcpus, memoryGiB, gpus, gpuKind, onDemandHour, family };
  return out;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
