// What the text formats share: money and CO2e as printed (the model is already in whole cents), the
// amounts in Kubernetes units, and the rows of the report (per workload, per namespace, the cluster).
import { formatBytes, formatCpu } from '../../core/quantity.ts';
import type { Amount, Figure } from '../../core/cost/types.ts';
import type { Figures, Report, WorkloadReport } from '../../core/report/model.ts';

export function money(f: Figure): string {
  return f.cost.toFixed(2);
}

export function co2e(f: Figure): string {
  return f.co2eKg.toFixed(3);
}

export function amount(a: Amount): string {
  const parts = [`cpu ${formatCpu(a.cpuCores)}`, `mem ${formatBytes(a.memoryBytes)}`];
  if (a.gpus > 0) parts.push(`gpu ${Number(a.gpus.toFixed(3))}`);
  return parts.join(', ');
}

/** A workload without Tailor's records in the range: its used and realised figures are not known. */
export function known(w: WorkloadReport): boolean {
  return (w.historyHours ?? 1) > 0;
}

export const FIGURE_KEYS = [
  'requested',
  'used',
  'recommended',
  'available',
  'realised',
] as const satisfies readonly (keyof Figures)[];

export function period(r: Report): string {
  return `${r.since} .. ${r.until}`;
}

/** Fixed-width columns, two spaces apart. */
export function columns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}
