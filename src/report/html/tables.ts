// The report's tables as HTML: figures (money and CO2e through the shared formatters), workloads,
// containers, opportunities, notes, a workload's history. Every cluster string passes through esc().
import type {
  Amounts,
  Figures,
  NamespaceReport,
  Opportunity,
  Report,
  WorkloadReport,
} from '../../core/report/model.ts';
import { bytes, co2e, cores, gpus, money } from '../format/numbers.ts';
import { esc } from './escape.ts';

/** Where a workload's name links to: an anchor in the file, its history page live. */
export type WorkloadLink = (w: WorkloadReport, anchor: string) => string;

export const FIGURE_COLUMNS = [
  ['requested', 'Requested /month'],
  ['used', 'Used /month'],
  ['recommended', 'Recommended /month'],
  ['available', 'Available saving /month'],
  ['realised', 'Realised saving (range)'],
] as const satisfies readonly (readonly [keyof Figures, string])[];

function figureCells(f: Figures, currency: string): string {
  return FIGURE_COLUMNS.map(([k]) => {
    const fig = f[k];
    const neg = (k === 'available' || k === 'realised') && fig.cost < 0 ? ' neg' : '';
    return (
      `<td class="num${neg}" data-fig="${k}"><span class="money" data-unit="cost">${esc(money(fig.cost, fig.currency || currency))}</span>` +
      `<span class="co2e" data-unit="co2e">${esc(co2e(fig.co2eKg))}</span></td>`
    );
  }).join('');
}

const figureHeads = () => FIGURE_COLUMNS.map(([, label]) => `<th class="num">${label}</th>`).join('');

/** The headline figures as cards. */
export function summaryCards(report: Report): string {
  const c = report.cluster;
  const card = (label: string, value: string, sub: string, field: string, neg = false) =>
    `<div class="card" data-card="${field}"><div class="muted">${label}</div><div class="v${neg ? ' neg' : ''}">${esc(value)}</div><div class="muted">${esc(sub)}</div></div>`;
  const f = c.figures;
  return `<div class="cards">
${card('Requested per month', money(f.requested.cost, report.currency), co2e(f.requested.co2eKg), 'requested')}
${card('Recommended per month', money(f.recommended.cost, report.currency), co2e(f.recommended.co2eKg), 'recommended')}
${card('Available saving per month', money(f.available.cost, report.currency), co2e(f.available.co2eKg), 'available', f.available.cost < 0)}
${card('Realised saving over the range', money(f.realised.cost, report.currency), co2e(f.realised.co2eKg), 'realised', f.realised.cost < 0)}
${card('OOM kills', String(c.oomKills), 'over the range', 'oomKills')}
${card('Resizes', String(c.resizes), 'applied by Tailor', 'resizes')}
</div>`;
}

/** One row per namespace (tenant). */
export function namespacesTable(report: Report, anchorOf: (ns: NamespaceReport) => string): string {
  const rows = report.namespaces
    .map(
      (n) =>
        `<tr data-row="namespace" data-ns-scope data-ns="${esc(n.namespace)}"><td><a href="#${anchorOf(n)}">${esc(n.namespace)}</a></td>` +
        `<td class="num">${n.workloads.length}</td>${figureCells(n.figures, report.currency)}` +
        `<td class="num" data-k="oomKills">${n.oomKills}</td><td class="num" data-k="resizes">${n.resizes}</td></tr>`,
    )
    .join('\n');
  return `<table id="namespaces"><thead><tr><th>Namespace</th><th class="num">Workloads</th>${figureHeads()}<th class="num">OOM kills</th><th class="num">Resizes</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** One row per workload. */
export function workloadsTable(
  workloads: readonly WorkloadReport[],
  currency: string,
  link: WorkloadLink,
  anchor: (w: WorkloadReport) => string,
): string {
  const rows = workloads
    .map(
      (w) =>
        `<tr data-row="workload" data-ns="${esc(w.namespace)}" data-kind="${esc(w.kind)}" data-name="${esc(w.name)}">` +
        `<td><a href="${link(w, anchor(w))}">${esc(w.name)}</a><span class="muted"> ${esc(w.kind)}</span></td>` +
        `<td>${esc(w.policy)}<span class="muted"> ${esc(w.mode)}</span></td><td class="num">${w.replicas}</td>` +
        `${figureCells(w.figures, currency)}<td class="num" data-k="oomKills">${w.oomKills}</td><td class="num" data-k="resizes">${w.resizes}</td></tr>`,
    )
    .join('\n');
  return `<table class="workloads"><thead><tr><th>Workload</th><th>Policy</th><th class="num">Replicas</th>${figureHeads()}<th class="num">OOM kills</th><th class="num">Resizes</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function amountCells(a: Amounts, gpu: boolean): string {
  const one = (k: keyof Amounts) =>
    `<td class="num">${esc(cores(a[k].cpuCores))}</td><td class="num">${esc(bytes(a[k].memoryBytes))}</td>` +
    (gpu ? `<td class="num">${esc(gpus(a[k].gpus))}</td>` : '');
  return one('requested') + one('used') + one('recommended');
}

/** A workload's containers: amounts requested, used and recommended, then their figures. */
export function containersTable(w: WorkloadReport, currency: string): string {
  const gpu = w.containers.some((c) => c.amounts.requested.gpus > 0 || c.amounts.recommended.gpus > 0);
  const sub = gpu
    ? '<th class="num">CPU</th><th class="num">Memory</th><th class="num">GPU</th>'
    : '<th class="num">CPU</th><th class="num">Memory</th>';
  const span = gpu ? 3 : 2;
  const rows = w.containers
    .map(
      (c) =>
        `<tr data-row="container" data-name="${esc(c.name)}"><td>${esc(c.name)}</td>${amountCells(c.amounts, gpu)}</tr>`,
    )
    .join('\n');
  const figRows = w.containers
    .map(
      (c) =>
        `<tr data-row="container-figures" data-name="${esc(c.name)}"><td>${esc(c.name)}</td>${figureCells(c.figures, currency)}</tr>`,
    )
    .join('\n');
  return `<table class="amounts"><thead><tr><th rowspan="2">Container</th><th colspan="${span}">Requested</th><th colspan="${span}">Used (average)</th><th colspan="${span}">Recommended</th></tr>
<tr>${sub}${sub}${sub}</tr></thead><tbody>${rows}</tbody></table>
<table class="container-figures"><thead><tr><th>Container</th>${figureHeads()}</tr></thead><tbody>${figRows}</tbody></table>`;
}

/** The workload's series charts: CPU and memory, GPU when it holds any. */
export function seriesCharts(w: WorkloadReport): string {
  if (w.series.length === 0) return '<p class="muted">No usage series over the range.</p>';
  const hasGpu = w.series.some((p) => p.requested.gpus > 0 || p.recommended.gpus > 0 || p.used.gpus > 0);
  const resources: [string, string][] = [
    ['cpu', 'CPU (cores)'],
    ['memory', 'Memory (GiB)'],
    ...(hasGpu ? [['gpu', 'GPU'] as [string, string]] : []),
  ];
  const attrs = `data-ns="${esc(w.namespace)}" data-kind="${esc(w.kind)}" data-name="${esc(w.name)}"`;
  return `<div class="charts">${resources
    .map(
      ([r, title]) =>
        `<div class="chart"><h4>${title}: requested, used, recommended</h4><div class="box"><canvas data-series="${r}" ${attrs}></canvas></div></div>`,
    )
    .join('')}</div>`;
}

function amountOf(o: Opportunity, v: number): string {
  switch (o.resource) {
    case 'cpu':
      return cores(v);
    case 'memory':
      return bytes(v);
    case 'nvidia.com/gpu':
      return gpus(v);
  }
}

export function opportunitiesTable(report: Report): string {
  if (report.opportunities.length === 0) return '<p class="muted">No change worth making now.</p>';
  const rows = report.opportunities
    .map(
      (o) =>
        `<tr data-row="opportunity" data-ns-scope data-ns="${esc(o.namespace)}"><td>${esc(o.namespace)}</td><td>${esc(o.workload)}</td><td>${esc(o.container)}</td>` +
        `<td>${esc(o.resource)}</td><td class="num">${esc(amountOf(o, o.requested))} → ${esc(amountOf(o, o.recommended))}</td>` +
        `<td class="num${o.saving.cost < 0 ? ' neg' : ''}"><span class="money" data-unit="cost">${esc(money(o.saving.cost, o.saving.currency || report.currency))}</span>` +
        `<span class="co2e" data-unit="co2e">${esc(co2e(o.saving.co2eKg))}</span></td></tr>`,
    )
    .join('\n');
  return `<table id="opportunities"><thead><tr><th>Namespace</th><th>Workload</th><th>Container</th><th>Resource</th><th class="num">Requested → recommended</th><th class="num">Saving /month</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

export function notesList(report: Report): string {
  const notes = [...report.notes, ...(report.volumes?.notes ?? [])];
  if (notes.length === 0) return '';
  return `<h2>Notes</h2><ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
}

/** Wasted volumes (never half full over the range) and their monthly cost, per tenant; '' without a volumes section. */
export function volumesSection(report: Report): string {
  const v = report.volumes;
  if (!v) return '';
  const intro = `<p class="muted">${v.claims} volume(s) with stats from ${esc(v.source)}; ${v.wasted.length} never half full over the range. Suggested: peak used and a month of its growth with 10% free, in whole GiB (a PVC cannot shrink: a new volume of that size).</p>`;
  if (v.wasted.length === 0) return `<section id="volumes"><h2>Wasted volumes</h2>${intro}</section>`;
  const cost = (x: number, currency: string) => `<td class="num">${esc(money(x, currency))}</td>`;
  const rows = v.wasted
    .map(
      (w) =>
        `<tr data-row="volume" data-ns-scope data-ns="${esc(w.namespace)}" data-claim="${esc(w.claim)}"><td>${esc(w.namespace)}</td><td>${esc(w.claim)}</td>` +
        `<td>${esc(w.storageClass ?? '-')}</td><td class="num">${esc(bytes(w.capacityBytes))}</td><td class="num">${esc(bytes(w.peakUsedBytes))}</td>` +
        `<td class="num">${esc(bytes(w.suggestedBytes))}</td>${cost(w.monthlyCost, w.currency)}${cost(w.wasteMonthlyCost, w.currency)}</tr>`,
    )
    .join('\n');
  const tenants = v.namespaces
    .map(
      (n) =>
        `<tr data-row="volume-namespace" data-ns-scope data-ns="${esc(n.namespace)}"><td>${esc(n.namespace)}</td><td class="num">${n.volumes}</td>` +
        `<td class="num">${esc(bytes(n.capacityBytes))}</td><td class="num">${esc(bytes(n.wasteBytes))}</td>${cost(n.monthlyCost, report.currency)}${cost(n.wasteMonthlyCost, report.currency)}</tr>`,
    )
    .join('\n');
  return `<section id="volumes"><h2>Wasted volumes</h2>${intro}
<table id="wasted-volumes"><thead><tr><th>Namespace</th><th>Claim</th><th>Class</th><th class="num">Capacity</th><th class="num">Peak used</th><th class="num">Suggested</th><th class="num">Cost /month</th><th class="num">Waste /month</th></tr></thead>
<tbody>${rows}</tbody></table>
<table id="volume-namespaces"><thead><tr><th>Namespace</th><th class="num">Volumes</th><th class="num">Capacity</th><th class="num">Waste</th><th class="num">Cost /month</th><th class="num">Waste /month</th></tr></thead>
<tbody>${tenants}</tbody></table></section>`;
}

/** What Tailor did to a workload: the policy's last change and the Events it emitted. */
export function historySection(w: WorkloadReport): string {
  const last = w.lastApplied
    ? `<p data-row="lastApplied">Last change: <time>${esc(w.lastApplied.time)}</time>, ${w.lastApplied.pods} pod(s): ${esc(w.lastApplied.summary)}</p>`
    : '<p class="muted">No change by Tailor recorded in this report.</p>';
  const events = w.events ?? [];
  const table =
    w.events === undefined
      ? '<p class="muted">This report did not gather the Events Tailor emitted.</p>'
      : events.length === 0
        ? '<p class="muted">No Events from Tailor over the range.</p>'
        : `<table class="events"><thead><tr><th>Time</th><th>Type</th><th>Reason</th><th>Object</th><th>Message</th></tr></thead><tbody>${events
            .map(
              (e) =>
                `<tr data-row="event"><td>${esc(e.time)}</td><td${e.type === 'Warning' ? ' class="neg"' : ''}>${esc(e.type)}</td><td>${esc(e.reason)}</td><td>${esc(e.object ?? '')}</td><td>${esc(e.message)}</td></tr>`,
            )
            .join('\n')}</tbody></table>`;
  return `<h3>Resize history</h3>${last}${table}`;
}
