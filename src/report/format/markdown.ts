// `tailor report -o markdown`: the table format as GitHub-flavoured Markdown (a pull request, a wiki page).
import type { Report } from '../../core/report/model.ts';
import { co2e, known, money, period } from './common.ts';
import { quantity } from './table.ts';
import { TENANT_HEADER, WASTED_HEADER, tenantRows, volumesSummary, wastedRows } from './volumes.ts';
import { removedSummary, renderPackingMarkdown } from './packing.ts';

const row = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |\n`;
const head = (cells: readonly string[]) => row(cells) + row(cells.map(() => '---'));

export function renderMarkdown(r: Report): string {
  let out = `# Savings report\n\n${period(r)}, ${r.currency} per month (realised: saved over the range), CO2e in kg.\n\n`;
  const c = r.cluster.figures;
  out +=
    `**Cluster:** requested ${money(c.requested)}, used ${money(c.used)}, recommended ${money(c.recommended)}; ` +
    `available ${money(c.available)} (${co2e(c.available)} kg CO2e) per month; realised ${money(c.realised)} (${co2e(c.realised)} kg CO2e); ` +
    `${r.cluster.oomKills} OOM kills, ${r.cluster.resizes} resizes.\n\n`;
  out += '## Namespaces\n\n';
  out += head([
    'Namespace',
    'Requested',
    'Used',
    'Recommended',
    'Available',
    'Realised',
    'CO2e available',
    'CO2e realised',
  ]);
  for (const n of r.namespaces) {
    const f = n.figures;
    out += row([
      n.namespace,
      money(f.requested),
      money(f.used),
      money(f.recommended),
      money(f.available),
      money(f.realised),
      co2e(f.available),
      co2e(f.realised),
    ]);
  }
  out += '\n## Workloads\n\n';
  out += head([
    'Namespace',
    'Workload',
    'Mode',
    'Pods',
    'Requested',
    'Used',
    'Recommended',
    'Available',
    'Realised',
    'OOM',
    'Resizes',
  ]);
  for (const n of r.namespaces)
    for (const w of n.workloads) {
      const f = w.figures;
      out += row([
        w.namespace,
        `${w.kind}/${w.name}`,
        w.mode,
        String(w.replicas),
        money(f.requested),
        known(w) ? money(f.used) : 'no history',
        money(f.recommended),
        money(f.available),
        known(w) ? money(f.realised) : 'no history',
        String(w.oomKills),
        String(w.resizes),
      ]);
    }
  if (r.opportunities.length > 0) {
    out += '\n## Top opportunities\n\n';
    out += head([
      'Namespace',
      'Workload',
      'Container',
      'Resource',
      'Requested',
      'Recommended',
      'Saving / month',
      'CO2e kg',
    ]);
    for (const o of r.opportunities)
      out += row([
        o.namespace,
        o.workload,
        o.container,
        o.resource,
        quantity(o.resource, o.requested),
        quantity(o.resource, o.recommended),
        money(o.saving),
        co2e(o.saving),
      ]);
  }
  if (r.volumes) {
    out += `\n## Wasted volumes\n\n${volumesSummary(r.volumes)}.\n`;
    if (r.volumes.wasted.length > 0) {
      const title = (h: readonly string[]) => h.map((c) => c.charAt(0) + c.slice(1).toLowerCase());
      out += '\n' + head(title(WASTED_HEADER)) + wastedRows(r.volumes).map(row).join('');
      out += '\n' + head(title(TENANT_HEADER)) + tenantRows(r.volumes, r.currency).map(row).join('');
    }
  }
  if (r.packing) out += renderPackingMarkdown(r.packing, head, row);
  if (r.nodesRemoved) out += `\nRealised: ${removedSummary(r.nodesRemoved)}.\n`;
  const notes = [...r.notes, ...(r.volumes?.notes ?? [])];
  if (notes.length > 0) out += `\n## Notes\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  return out;
}
