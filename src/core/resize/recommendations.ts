// Reading the recommendations file (`tailor recommend -o json`, types.ts RecommendationRecord):
// checked entry by entry with every problem listed, then turned into numbers per container.
import { TailorError } from '../../errors.ts';
import { parseQuantity } from '../quantity.ts';
import type {
  Bounds,
  ContainerRecommendation,
  QuantityPair,
  RecommendationRecord,
  ResourceName,
} from './types.ts';
import { RESOURCES } from './types.ts';

/**
 * The records in a parsed JSON document; a TailorError('InvalidInput') naming every bad entry
 * otherwise. Also takes the report object `tailor recommend -o json` prints today (kind
 * RecommendationReport, items with cpu/memory recommendations in cores and bytes).
 */
export function parseRecommendations(doc: unknown, source: string): RecommendationRecord[] {
  const report = doc as { kind?: unknown; items?: unknown } | null;
  if (
    report &&
    typeof report === 'object' &&
    report.kind === 'RecommendationReport' &&
    Array.isArray(report.items)
  ) {
    return parseRecommendations(fromReport(report.items), source);
  }
  if (!Array.isArray(doc)) {
    throw new TailorError('InvalidInput', `${source}: expected a JSON array of recommendations`, {
      hint: 'write it with `tailor recommend -o json > FILE`',
    });
  }
  const problems: string[] = [];
  const out: RecommendationRecord[] = [];
  doc.forEach((entry: unknown, i) => {
    const where = `[${i}]`;
    const before = problems.length;
    const e = (entry ?? {}) as Record<string, unknown>;
    const text = (v: unknown, field: string) => {
      if (typeof v !== 'string' || v === '') problems.push(`${where}.${field}: expected a non-empty string`);
    };
    text(e.namespace, 'namespace');
    text(e.container, 'container');
    const w = (e.workload ?? {}) as Record<string, unknown>;
    text(w.kind, 'workload.kind');
    text(w.name, 'workload.name');
    const rec = (e.recommendation ?? {}) as Record<string, unknown>;
    if (typeof rec.target !== 'object' || rec.target === null)
      problems.push(`${where}.recommendation.target: expected {cpu, memory}`);
    for (const part of ['target', 'lowerBound', 'upperBound'] as const) {
      const pair = rec[part];
      if ((pair === undefined || pair === null) && part !== 'target') continue;
      if (typeof pair !== 'object' || pair === null) continue;
      for (const r of RESOURCES) {
        const v = (pair as Record<string, unknown>)[r];
        if (v === undefined) continue;
        const n = typeof v === 'string' || typeof v === 'number' ? parseQuantity(v) : undefined;
        if (n === undefined || n < 0)
          problems.push(`${where}.recommendation.${part}.${r}: ${JSON.stringify(v)} is not a quantity`);
      }
    }
    if (problems.length === before) out.push(entry as RecommendationRecord);
  });
  if (problems.length > 0) {
    throw new TailorError('InvalidInput', `${source} has bad entries:\n  - ${problems.join('\n  - ')}`, {
      hint: 'each entry is {namespace, workload: {kind, name}, container, recommendation: {target: {cpu, memory}, lowerBound, upperBound}}',
    });
  }
  return out;
}

/**
 * A record's recommendation in numbers. A bound left out is open (lower 0, upper infinite), so
 * only the change threshold decides; a resource without a target has no recommendation.
 */
export function toContainerRecommendation(
  rec: RecommendationRecord['recommendation'],
): ContainerRecommendation {
  const out: ContainerRecommendation = {};
  for (const r of RESOURCES) {
    const target = value(rec.target, r);
    if (target === undefined) continue;
    const bounds: Bounds = {
      target,
      lowerBound: value(rec.lowerBound, r) ?? 0,
      upperBound: value(rec.upperBound, r) ?? Number.POSITIVE_INFINITY,
    };
    out[r] = bounds;
  }
  return out;
}

function value(pair: QuantityPair | undefined, r: ResourceName): number | undefined {
  return parseQuantity(pair?.[r]);
}

interface ReportResource {
  recommendation?: { target?: number; lowerBound?: number; upperBound?: number | null } | null;
}

/** RecommendationReport items to records; a resource with no recommendation (no data) is left out. */
function fromReport(items: unknown[]): unknown[] {
  return items.flatMap((raw) => {
    const item = (raw ?? {}) as Record<string, unknown>;
    const target: Record<string, number> = {};
    const lowerBound: Record<string, number> = {};
    const upperBound: Record<string, number> = {};
    for (const r of RESOURCES) {
      const rec = (item[r] as ReportResource | undefined)?.recommendation;
      if (!rec || typeof rec.target !== 'number') continue;
      target[r] = rec.target;
      if (typeof rec.lowerBound === 'number') lowerBound[r] = rec.lowerBound;
      if (typeof rec.upperBound === 'number') upperBound[r] = rec.upperBound;
    }
    if (Object.keys(target).length === 0) return [];
    return [
      {
        namespace: item.namespace,
        workload: item.workload,
        container: item.container,
        recommendation: { target, lowerBound, upperBound },
      },
    ];
  });
}
