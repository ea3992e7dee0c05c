// The report's packing section as text rows, shared by the table and Markdown formats: per pool the
// nodes needed and freed, GPUs and money freed; the nodes that would empty and their moves; the
// caveats (pins that keep a node); or the pods that fit nowhere and why.
import type { Packed, PackingResult, Unpackable } from '../../core/packing/types.ts';
import type { NodesRemoved } from '../../core/packing/removed.ts';
import { columns } from './common.ts';
import { co2e, gpus, money } from './numbers.ts';

export const POOL_HEADER = [
  'POOL',
  'NODES',
  'NEEDED',
  'FREED',
  'GPUS FREED',
  'SAVING/MO',
  'CO2E kg/MO',
  'KEPT BY CAVEATS',
] as const;

export function poolRows(p: Packed): string[][] {
  return p.pools.map((x) => [
    x.pool,
    String(x.nodesToday),
    String(x.nodesNeeded),
    String(x.nodesFreed),
    x.gpusFreed.length === 0 ? '-' : x.gpusFreed.map((g) => `${gpus(g.gpus)} ${g.model}`).join(', '),
    money(x.saving.cost, x.saving.currency),
    co2e(x.saving.co2eKg),
    String(x.heldByPins),
  ]);
}

export const EMPTIED_HEADER = ['NODE', 'POOL', 'MOVES'] as const;

export function emptiedRows(p: Packed): string[][] {
  return p.nodes
    .filter((n) => n.verdict === 'Empties')
    .map((n) => [
      n.name,
      n.pool,
      n.moves.length === 0 ? '(DaemonSet pods only)' : n.moves.map((m) => `${m.pod} -> ${m.to}`).join(', '),
    ]);
}

/** One line per node a pin keeps: the caveat. */
export function caveatLines(p: Packed): string[] {
  return p.nodes
    .filter((n) => n.verdict === 'Stays' && n.why === 'Pinned')
    .map(
      (n) =>
        `${n.name} (${n.pool}) stays: ${n.pins.map((x) => `${x.pod} ${x.reason}: ${x.detail}`).join('; ')}`,
    );
}

export const UNSCHEDULABLE_HEADER = ['POD', 'REASON', 'DETAIL'] as const;

export function unschedulableRows(p: Unpackable): string[][] {
  return p.pods.map((x) => [x.pod, x.reason, x.detail]);
}

/** The section's opening line. */
export function packingSummary(p: PackingResult): string {
  switch (p.kind) {
    case 'Packed': {
      const n = p.total.nodesFreed;
      const caveats = p.pools.reduce((a, x) => a + x.heldByPins, 0);
      return (
        `with the recommendations applied, ${n} node${n === 1 ? '' : 's'} and ${gpus(p.total.gpusFreed)} GPU${p.total.gpusFreed === 1 ? '' : 's'} would empty` +
        (n > 0
          ? `, ${money(p.total.saving.cost, p.total.saving.currency)} and ${co2e(p.total.saving.co2eKg)} CO2e per month`
          : '') +
        (caveats > 0
          ? `; ${caveats} more node${caveats === 1 ? ' is' : 's are'} kept by PodDisruptionBudgets, local storage, affinity or pods without a controller`
          : '')
      );
    }
    case 'Unschedulable':
      return `no packing: ${p.pods.length} pod${p.pods.length === 1 ? '' : 's'} fit${p.pods.length === 1 ? 's' : ''} on no node with the recommendations applied`;
  }
}

/** `tailor report -o table`'s packing section. */
export function renderPackingTable(p: PackingResult): string {
  let out = `\nPacking what-if: ${packingSummary(p)}\n`;
  switch (p.kind) {
    case 'Packed': {
      out += columns(POOL_HEADER, poolRows(p));
      const emptied = emptiedRows(p);
      if (emptied.length > 0) out += '\n' + columns(EMPTIED_HEADER, emptied);
      for (const c of caveatLines(p)) out += `caveat: ${c}\n`;
      return out;
    }
    case 'Unschedulable':
      return out + columns(UNSCHEDULABLE_HEADER, unschedulableRows(p));
  }
}

/** `tailor report -o markdown`'s packing section, with that format's table helpers. */
export function renderPackingMarkdown(
  p: PackingResult,
  head: (cells: readonly string[]) => string,
  row: (cells: readonly string[]) => string,
): string {
  const title = (h: readonly string[]) => h.map((c) => c.charAt(0) + c.slice(1).toLowerCase());
  let out = `\n## Nodes right-sizing frees\n\n${packingSummary(p)}.\n\n`;
  switch (p.kind) {
    case 'Packed': {
      out += head(title(POOL_HEADER)) + poolRows(p).map(row).join('');
      const emptied = emptiedRows(p);
      if (emptied.length > 0) out += '\n' + head(title(EMPTIED_HEADER)) + emptied.map(row).join('');
      const caveats = caveatLines(p);
      if (caveats.length > 0) out += `\nCaveats:\n\n${caveats.map((c) => `- ${c}`).join('\n')}\n`;
      return out;
    }
    case 'Unschedulable':
      return out + head(title(UNSCHEDULABLE_HEADER)) + unschedulableRows(p).map(row).join('');
  }
}

/** The realised line: nodes a scale-down removed over the range and what they cost per month. */
export function removedSummary(r: NodesRemoved): string {
  const n = r.total.nodes;
  const g = r.total.gpus;
  return (
    `${n} node${n === 1 ? '' : 's'}${g > 0 ? ` and ${gpus(g)} GPU${g === 1 ? '' : 's'}` : ''} removed by scale-down over the range, ` +
    `${money(r.total.monthly.cost, r.total.monthly.currency)} and ${co2e(r.total.monthly.co2eKg)} CO2e per month ` +
    `(${r.pools.map((p) => `${p.pool}: ${p.nodes}`).join(', ')})`
  );
}
