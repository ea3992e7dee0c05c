// The contract between the cost and carbon models and what uses them (the report, the metrics):
// what a node's resources cost per hour and what they draw, and the amounts priced against them.

/** What is known of a node from its object: labels (instance type, region, capacity type) and capacity. */
export interface NodeFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly cpuCores: number;
  readonly memoryBytes: number;
  /** Whole GPUs (nvidia.com/gpu capacity). */
  readonly gpus: number;
  /** MIG devices by resource name (nvidia.com/mig-1g.5gb: 7): each a fraction of a GPU. */
  readonly migDevices?: Readonly<Record<string, number>>;
  /** node.spec.providerID (aws:///..., gce://..., azure:///...): a hint of the cloud when labels say nothing. */
  readonly providerID?: string;
}

/** The cloud a node runs on, recognised from its labels, instance type and provider ID. */
export type Cloud = 'AWS' | 'GCP' | 'Azure' | 'Unknown';

/**
 * The GPU models the price sheets and power model know, by the ids of src/core/gpu's catalogue
 * (plus V100 and the PCIe A100 80GB, which the clouds still sell).
 */
export type GpuKind =
  't4' | 'l4' | 'a10g' | 'v100' | 'a100-40gb' | 'a100-80gb' | 'a100-80gb-pcie' | 'h100-80gb';

export type CapacityType = 'OnDemand' | 'Spot';

/** Where a node's prices came from, so a report can say it (most specific first). */
export type PriceSource =
  /** A ConfigMap override for this instance type (or the whole sheet). */
  | 'Override'
  /** The built-in sheet for the node's cloud, instance type and region. */
  | 'Sheet'
  /** OpenCost's defaults: the instance type or region is not in the sheet. */
  | 'Default';

/** What one unit of each resource costs per hour on one node (the node's price split as OpenCost does). */
export interface UnitPrices {
  /** ISO 4217. */
  readonly currency: string;
  readonly cpuCoreHour: number;
  readonly memoryGiBHour: number;
  /** One whole GPU of this node; a MIG slice costs its fraction. */
  readonly gpuHour: number;
  readonly storageGiBMonth: number;
  readonly capacityType: CapacityType;
  readonly source: PriceSource;
  /** Human-readable: "aws m6i.2xlarge us-east-1 on-demand", "OpenCost default". */
  readonly description: string;
}

/** What one unit of each resource draws and emits on one node (Cloud Carbon Footprint's method). */
export interface PowerModel {
  readonly cpuIdleWattsPerCore: number;
  readonly cpuMaxWattsPerCore: number;
  readonly memoryWattsPerGiB: number;
  readonly gpuIdleWatts: number;
  readonly gpuMaxWatts: number;
  readonly storageWattsPerTiB: number;
  readonly pue: number;
  /** kg CO2e per kWh of the node's grid. */
  readonly gridKgPerKWh: number;
  /** Embodied emissions of the node's manufacture, per core-hour of its share (kg CO2e). */
  readonly embodiedKgPerCoreHour: number;
  readonly description: string;
}

/** An amount of resources held (requested, recommended) or used, on average over the period. */
export interface Amount {
  readonly cpuCores: number;
  readonly memoryBytes: number;
  /** GPUs, fractional for MIG slices. */
  readonly gpus: number;
  readonly storageBytes?: number;
}

/** Utilisation that drives power between idle and max (0..1); absent: the model's default estimate. */
export interface Duty {
  readonly cpu?: number;
  readonly gpu?: number;
}

/** Money and CO2e of one amount over one period. */
export interface Figure {
  readonly cost: number;
  readonly currency: string;
  readonly co2eKg: number;
}
