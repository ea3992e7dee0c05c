// `tailor report -o csv`'s packing rows: one `packing-pool` row per pool (nodes today, needed and
// freed, GPUs freed, the freed nodes' monthly cost and CO2e, nodes kept by caveats), or one
// `packing-unschedulable` row per pod that fits nowhere; its columns are blank on the other rows.
import type { PackingResult } from '../../core/packing/types.ts';
import { cell } from './csv.ts';

const PACKING_COLUMNS = [
  'pool',
  'nodesToday',
  'nodesNeeded',
  'nodesFreed',
  'gpusFreed',
  'freedMonthlyCost',
  'freedCo2eKgPerMonth',
  'nodesKeptByCaveats',
  'unschedulablePod',
  'reason',
  'detail',
] as const;

export function appendPacking(lines: string[], p: PackingResult): void {
  const all = [...lines[0]!.split(','), ...PACKING_COLUMNS];
  lines[0] = all.join(',');
  for (let i = 1; i < lines.length; i++) lines[i] += ','.repeat(PACKING_COLUMNS.length);
  const line = (cells: Record<string, string | number | undefined>) =>
    all.map((h) => cell(cells[h])).join(',');
  switch (p.kind) {
    case 'Packed':
      for (const x of p.pools)
        lines.push(
          line({
            level: 'packing-pool',
            currency: x.saving.currency,
            pool: x.pool,
            nodesToday: x.nodesToday,
            nodesNeeded: x.nodesNeeded,
            nodesFreed: x.nodesFreed,
            gpusFreed: x.gpusFreed.reduce((a, g) => a + g.gpus, 0),
            freedMonthlyCost: x.saving.cost,
            freedCo2eKgPerMonth: x.saving.co2eKg,
            nodesKeptByCaveats: x.heldByPins,
          }),
        );
      return;
    case 'Unschedulable':
      for (const x of p.pods)
        lines.push(
          line({
            level: 'packing-unschedulable',
            unschedulablePod: x.pod,
            reason: x.reason,
            detail: x.detail,
          }),
        );
      return;
  }
}
