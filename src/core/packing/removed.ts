// The realised side of the packing what-if: nodes a scale-down removed over the report's range,
// priced per month as the what-if prices the nodes it would free (same sheets, same CO2e model).
import { figureOf, HOURS_PER_MONTH, physicalGpus, pricingFor, type PriceOverrides } from '../cost/index.ts';
import type { Figure, NodeFacts } from '../cost/types.ts';

/** A node removed by a scale-down, as its removal Event recorded it. */
export interface RemovedNodeRecord {
  readonly pool: string;
  /** Epoch seconds. */
  readonly at: number;
  /** The node's capacity and labels when it left (for its price and power). */
  readonly facts: NodeFacts;
}

export interface PoolRemoved {
  readonly pool: string;
  readonly nodes: number;
  /** Whole GPUs (MIG devices summed back). */
  readonly gpus: number;
  /** What the removed nodes cost and emitted per month. */
  readonly monthly: Figure;
}

export interface NodesRemoved {
  readonly pools: readonly PoolRemoved[];
  readonly total: { readonly nodes: number; readonly gpus: number; readonly monthly: Figure };
}

/** The records within [since, until], per pool; a node removed twice (same name, re-created) counts each time. */
export function nodesRemoved(
  records: readonly RemovedNodeRecord[],
  since: number,
  until: number,
  overrides: PriceOverrides = {},
): NodesRemoved {
  const inRange = records.filter((r) => r.at >= since && r.at <= until);
  const priced = inRange.map((r) => {
    const gpus = physicalGpus(r.facts);
    return {
      pool: r.pool,
      gpus,
      monthly: figureOf(
        { cpuCores: r.facts.cpuCores, memoryBytes: r.facts.memoryBytes, gpus },
        HOURS_PER_MONTH,
        pricingFor(r.facts, overrides),
      ),
    };
  });
  const currency = priced[0]?.monthly.currency ?? overrides.currency ?? 'USD';
  const pools = [...new Set(priced.map((p) => p.pool))].sort().map((pool): PoolRemoved => {
    const mine = priced.filter((p) => p.pool === pool);
    return {
      pool,
      nodes: mine.length,
      gpus: mine.reduce((a, p) => a + p.gpus, 0),
      monthly: sum(
        mine.map((p) => p.monthly),
        currency,
      ),
    };
  });
  return {
    pools,
    total: {
      nodes: pools.reduce((a, p) => a + p.nodes, 0),
      gpus: pools.reduce((a, p) => a + p.gpus, 0),
      monthly: sum(
        pools.map((p) => p.monthly),
        currency,
      ),
    },
  };
}

/** Whole cents and milligrams, as the report rounds: the pools add up to the total. */
function sum(figures: readonly Figure[], currency: string): Figure {
  return {
    cost: Math.round(figures.reduce((a, f) => a + f.cost, 0) * 100) / 100,
    currency,
    co2eKg: Math.round(figures.reduce((a, f) => a + f.co2eKg, 0) * 1e6) / 1e6,
  };
}

/**
 * The annotation on a scale-down's removal Event (reason ScaleDown, on the Node) that keeps what the
 * node was, since the Node itself is gone: JSON of a RemovedNodeRecord.
 */
export const REMOVED_NODE_ANNOTATION = 'tailor.dev/removed-node';

/** The record from an annotation value; undefined when it is not one (another tool's Event, a hand edit). */
export function decodeRemovedNode(text: string | undefined): RemovedNodeRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<RemovedNodeRecord>;
    const f = r.facts;
    if (
      typeof r.pool !== 'string' ||
      typeof r.at !== 'number' ||
      !f ||
      typeof f.name !== 'string' ||
      typeof f.cpuCores !== 'number' ||
      typeof f.memoryBytes !== 'number' ||
      typeof f.gpus !== 'number'
    )
      return undefined;
    return { pool: r.pool, at: r.at, facts: { ...f, labels: f.labels ?? {} } };
  } catch {
    return undefined;
  }
}
