// The dashboard's and `tailor report -o html`'s packing section: per pool the nodes needed and
// freed, GPUs and money freed, the nodes that would empty with their moves and the caveats; or the
// pods that fit nowhere and why. Rows come from the text formats' helpers, so both say the same.
import type { Report } from '../../core/report/model.ts';
import {
  EMPTIED_HEADER,
  POOL_HEADER,
  UNSCHEDULABLE_HEADER,
  caveatLines,
  emptiedRows,
  packingSummary,
  poolRows,
  unschedulableRows,
} from '../format/packing.ts';
import { esc } from './escape.ts';

const title = (h: string) => h.charAt(0) + h.slice(1).toLowerCase();

function table(
  id: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  row: string,
): string {
  const head = header
    .map((h, i) => `<th${i > 0 && id === 'packing-pools' ? ' class="num"' : ''}>${esc(title(h))}</th>`)
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr data-row="${row}">${r.map((c, i) => `<td${i > 0 && id === 'packing-pools' ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** '' when the report has no packing section (a one-namespace operator, pods not readable). */
export function packingSection(report: Pick<Report, 'packing'>): string {
  const p = report.packing;
  if (!p) return '';
  const intro = `<p data-row="packing-summary">${esc(packingSummary(p))}.</p>`;
  switch (p.kind) {
    case 'Packed': {
      const emptied = emptiedRows(p);
      const caveats = caveatLines(p);
      return `<section id="packing"><h2>Nodes right-sizing frees</h2>${intro}
${table('packing-pools', POOL_HEADER, poolRows(p), 'packing-pool')}
${emptied.length > 0 ? table('packing-emptied', EMPTIED_HEADER, emptied, 'packing-node') : ''}
${caveats.length > 0 ? `<h3>Caveats</h3><ul class="notes" id="packing-caveats">${caveats.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : ''}
</section>`;
    }
    case 'Unschedulable':
      return `<section id="packing"><h2>Nodes right-sizing frees</h2>${intro}
${table('packing-unschedulable', UNSCHEDULABLE_HEADER, unschedulableRows(p), 'packing-unschedulable')}
</section>`;
  }
}
