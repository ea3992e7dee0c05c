// The packing what-if as Prometheus gauges: per pool the nodes and per pool and GPU model the GPUs
// the recommendations would free, the nodes kept only by a caveat (PDB, local storage, affinity, a
// pod without controller), and the pods that fit nowhere when there is no packing at all.
import { Gauge, type Registry } from 'prom-client';
import type { PackingResult } from '../core/packing/types.ts';

export interface PackingGauges {
  readonly nodesFreeable: Gauge<'pool'>;
  readonly gpusFreeable: Gauge<'pool' | 'model'>;
  readonly nodesKeptByCaveats: Gauge<'pool'>;
  readonly unschedulablePods: Gauge;
}

export function packingGauges(registers: Registry[]): PackingGauges {
  return {
    nodesFreeable: new Gauge({
      name: 'tailor_nodes_freeable',
      help: "Nodes of a pool that would empty with the current recommendations applied (the report's packing what-if: first-fit decreasing over today's nodes, PDBs, local storage and affinity respected). No series while a pod fits nowhere (tailor_packing_unschedulable_pods).",
      labelNames: ['pool'],
      registers,
    }),
    gpusFreeable: new Gauge({
      name: 'tailor_gpus_freeable',
      help: 'GPUs (MIG devices summed back to whole GPUs) on the nodes of a pool that would empty, by GPU model.',
      labelNames: ['pool', 'model'],
      registers,
    }),
    nodesKeptByCaveats: new Gauge({
      name: 'tailor_nodes_kept_by_caveats',
      help: 'Nodes of a pool the packing keeps only because a pod on them is pinned (a PodDisruptionBudget that cannot spare it, local storage, required pod affinity, no controller): the caveat of tailor_nodes_freeable.',
      labelNames: ['pool'],
      registers,
    }),
    unschedulablePods: new Gauge({
      name: 'tailor_packing_unschedulable_pods',
      help: 'Pods that fit on no node with the recommendations applied (the report names them and why); while above 0 there is no packing figure.',
      registers,
    }),
  };
}

/** Reset and set in one synchronous step, as the rest of the report's gauges. */
export function exportPacking(g: PackingGauges, p: PackingResult | undefined): void {
  g.nodesFreeable.reset();
  g.gpusFreeable.reset();
  g.nodesKeptByCaveats.reset();
  g.unschedulablePods.reset();
  if (!p) return;
  switch (p.kind) {
    case 'Packed':
      g.unschedulablePods.set(0);
      for (const pool of p.pools) {
        g.nodesFreeable.set({ pool: pool.pool }, pool.nodesFreed);
        g.nodesKeptByCaveats.set({ pool: pool.pool }, pool.heldByPins);
        for (const x of pool.gpusFreed) g.gpusFreeable.set({ pool: pool.pool, model: x.model }, x.gpus);
      }
      return;
    case 'Unschedulable':
      g.unschedulablePods.set(p.pods.length);
      return;
  }
}
