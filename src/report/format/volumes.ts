// The report's volumes section as text rows, shared by the table and Markdown formats: each wasted
// claim (capacity, peak used, suggested size, monthly cost) and the totals per namespace (tenant).
import type { VolumesReport } from '../../core/report/model.ts';
import { bytes, money } from './numbers.ts';

export const WASTED_HEADER = [
  'NAMESPACE',
  'CLAIM',
  'CLASS',
  'CAPACITY',
  'PEAK USED',
  'SUGGESTED',
  'COST/MO',
  'WASTE/MO',
] as const;

export function wastedRows(v: VolumesReport): string[][] {
  return v.wasted.map((w) => [
    w.namespace,
    w.claim,
    w.storageClass ?? '-',
    bytes(w.capacityBytes),
    bytes(w.peakUsedBytes),
    bytes(w.suggestedBytes),
    money(w.monthlyCost, w.currency),
    money(w.wasteMonthlyCost, w.currency),
  ]);
}

export const TENANT_HEADER = ['NAMESPACE', 'VOLUMES', 'CAPACITY', 'WASTE', 'COST/MO', 'WASTE/MO'] as const;

export function tenantRows(v: VolumesReport, currency: string): string[][] {
  const row = (name: string, t: VolumesReport['total']) => [
    name,
    String(t.volumes),
    bytes(t.capacityBytes),
    bytes(t.wasteBytes),
    money(t.monthlyCost, currency),
    money(t.wasteMonthlyCost, currency),
  ];
  return [...v.namespaces.map((n) => row(n.namespace, n)), row('(all)', v.total)];
}

/** The section's opening line: what was read and what was found. */
export function volumesSummary(v: VolumesReport): string {
  const n = v.wasted.length;
  return (
    `${v.claims} volume${v.claims === 1 ? '' : 's'} with stats from ${v.source}; ` +
    `${n} never half full over the range${n > 0 ? ` (SUGGESTED: peak used and a month of its growth with 10% free, whole GiB; WASTE: capacity beyond it)` : ''}`
  );
}
