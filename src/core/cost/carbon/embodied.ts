// Embodied emissions of the servers a node's cores run on, per core-hour: Cloud Carbon Footprint's
// method (the SCI formula M = TE x TR/EL x RR/TR) with Teads' per-component manufacturing figures.
import type { HostShape } from '../sheets/types.ts';
import { SERVER_LIFESPAN_HOURS } from './coefficients.ts';

/**
 * Manufacturing emissions, kg CO2e (CCF cloud-carbon-coefficients coefficients.ipynb, May 2023,
 * after Teads' "Building an AWS EC2 Carbon Emissions Dataset", from Dell's PowerEdge R740 LCA):
 * a one-socket server with 16 GB and no drives 1000 kg; each further CPU 100 kg; memory beyond
 * 16 GB at 533 kg per 384 GB; each SSD 100 kg, HDD 50 kg; each GPU card 150 kg.
 */
export const EMBODIED = {
  baseKg: 1000,
  baseMemoryGB: 16,
  perCpuKg: 100,
  perGBKg: 533 / 384,
  perSsdKg: 100,
  perHddKg: 50,
  perGpuKg: 150,
} as const;

/** A host of unknown shape: m5.metal's (2 sockets, 96 vCPUs, 384 GB; CCF's 1610.79 kg). */
export const DEFAULT_HOST: HostShape = { vcpus: 96, sockets: 2, memoryGB: 384, gpus: 0, ssds: 0, hdds: 0 };

export function hostEmbodiedKg(h: HostShape): number {
  return (
    EMBODIED.baseKg +
    EMBODIED.perCpuKg * Math.max(0, h.sockets - 1) +
    EMBODIED.perGBKg * Math.max(0, h.memoryGB - EMBODIED.baseMemoryGB) +
    EMBODIED.perSsdKg * h.ssds +
    EMBODIED.perHddKg * h.hdds +
    EMBODIED.perGpuKg * h.gpus
  );
}

/** kg CO2e per vCPU-hour: the host's embodied emissions over its 4-year life, shared by its vCPUs. */
export function embodiedKgPerCoreHour(h: HostShape): number {
  return hostEmbodiedKg(h) / SERVER_LIFESPAN_HOURS / h.vcpus;
}
