// renderHtml: a Report as one HTML page, the same for `tailor report -o html` (a self-contained file:
// chart.js, the script and the data inline, a CSP that allows no request) and for the operator's /ui
// (scripts from /ui/assets, the charts drawn from /ui/api/report.json). Renders, never computes.
import { packingSection } from './packing.ts';
import type { NamespaceReport, Report, WorkloadReport } from '../../core/report/model.ts';
import { CLIENT_JS, CSS, chartJsSource, cspHash } from './assets.ts';
import { esc, pathSegment, scriptJson } from './escape.ts';
import {
  containersTable,
  historySection,
  namespacesTable,
  notesList,
  opportunitiesTable,
  seriesCharts,
  summaryCards,
  volumesSection,
  workloadsTable,
  type WorkloadLink,
} from './tables.ts';

export type HtmlTarget =
  /** One file that opens anywhere without a network: everything inline. */
  | { readonly kind: 'File' }
  /** A page of the operator's dashboard, mounted at `base` (/ui). */
  | {
      readonly kind: 'Live';
      readonly base: string;
      /** Where the page's script fetches the Report it charts. */
      readonly dataUrl: string;
      /** The filter in force ('' or absent: every namespace). */
      readonly namespace?: string;
      /** The --since of the page, kept across the filter and links ("7d"). */
      readonly since: string;
      /** What the filter offers. */
      readonly namespaces: readonly string[];
    };

export interface HtmlOptions {
  readonly target: HtmlTarget;
  /** Render one workload's page (its tables, charts and history) instead of the whole report. */
  readonly workload?: { readonly namespace: string; readonly name: string };
}

const nsAnchor = (i: number) => `ns-${i}`;

function anchors(report: Report): { ns: (n: NamespaceReport) => string; w: (w: WorkloadReport) => string } {
  // Ids from positions, never from names: a tenant's name cannot collide with or break an id.
  const nsIds = new Map<NamespaceReport, string>();
  const wIds = new Map<WorkloadReport, string>();
  report.namespaces.forEach((n, i) => {
    nsIds.set(n, nsAnchor(i));
    n.workloads.forEach((w, j) => wIds.set(w, `w-${i}-${j}`));
  });
  return { ns: (n) => nsIds.get(n) ?? 'ns', w: (w) => wIds.get(w) ?? 'w' };
}

function workloadLink(target: HtmlTarget): WorkloadLink {
  switch (target.kind) {
    case 'File':
      return (_w, anchor) => `#${anchor}`;
    case 'Live':
      return (w) =>
        esc(
          `${target.base}/workload/${pathSegment(w.namespace)}/${pathSegment(w.name)}?${new URLSearchParams({ since: target.since }).toString()}`,
        );
  }
}

function filterSelect(report: Report, target: HtmlTarget): string {
  const names =
    target.kind === 'Live'
      ? [...new Set([...target.namespaces, ...(target.namespace ? [target.namespace] : [])])].sort()
      : report.namespaces.map((n) => n.namespace);
  const current = target.kind === 'Live' ? (target.namespace ?? '') : '';
  const opts = ['', ...names]
    .map(
      (n) =>
        `<option value="${esc(n)}"${n === current ? ' selected' : ''}>${n === '' ? 'all namespaces' : esc(n)}</option>`,
    )
    .join('');
  return `<label>Namespace <select id="ns-filter">${opts}</select></label>`;
}

function workloadSection(w: WorkloadReport, report: Report, id: string, history: boolean): string {
  return `<section class="workload" id="${id}" data-ns-scope data-ns="${esc(w.namespace)}" data-workload="${esc(w.name)}">
<h3>${esc(w.name)} <span class="muted">${esc(w.kind)} in ${esc(w.namespace)}, ${w.replicas} replica(s), policy ${esc(w.policy)} (${esc(w.mode)})</span></h3>
${containersTable(w, report.currency)}
${seriesCharts(w)}
${history ? historySection(w) : ''}
</section>`;
}

function reportBody(report: Report, target: HtmlTarget): string {
  const a = anchors(report);
  const link = workloadLink(target);
  const namespaces = report.namespaces
    .map(
      (n) => `<section class="namespace" id="${a.ns(n)}" data-ns-scope data-ns="${esc(n.namespace)}">
<h2>Namespace ${esc(n.namespace)}</h2>
${workloadsTable(n.workloads, report.currency, link, a.w)}
${n.workloads.map((w) => workloadSection(w, report, a.w(w), false)).join('\n')}
</section>`,
    )
    .join('\n');
  return `${summaryCards(report)}
<section id="by-namespace">
<h2>By namespace</h2>
${report.namespaces.length === 0 ? '<p class="muted">No workload under a SizingPolicy in this report.</p>' : namespacesTable(report, a.ns)}
<div class="charts">
<div class="chart"><h4>Savings by namespace (${esc(report.currency)})</h4><div class="box"><canvas id="chart-savings"></canvas></div></div>
<div class="chart"><h4>CO2e by namespace (kg)</h4><div class="box"><canvas id="chart-co2e"></canvas></div></div>
</div>
</section>
<section id="top-opportunities"><h2>Top opportunities</h2>${opportunitiesTable(report)}</section>
${volumesSection(report)}
${packingSection(report)}
${notesList(report)}
${namespaces}`;
}

function workloadBody(report: Report, target: HtmlTarget, want: { namespace: string; name: string }): string {
  const found = report.namespaces
    .flatMap((n) => n.workloads)
    .filter((w) => w.namespace === want.namespace && w.name === want.name);
  const back =
    target.kind === 'Live'
      ? `<p><a href="${esc(target.base)}?${esc(new URLSearchParams({ namespace: want.namespace, since: target.since }).toString())}">← ${esc(want.namespace)}</a></p>`
      : '';
  if (found.length === 0) {
    return `${back}<p>No workload ${esc(want.name)} in namespace ${esc(want.namespace)} in this report.</p>${notesList(report)}`;
  }
  return `${back}${found
    .map(
      (w, i) =>
        workloadsTable(
          [w],
          report.currency,
          (_w, anchor) => `#${anchor}`,
          () => `w-${i}`,
        ) + workloadSection(w, report, `w-${i}`, true),
    )
    .join('\n')}${notesList(report)}`;
}

/** The page's scripts and CSP for its target: inline with hashes in a file, from /ui/assets live. */
function scripts(report: Report, target: HtmlTarget): { tags: string; csp: string } {
  switch (target.kind) {
    case 'File': {
      const chart = chartJsSource();
      return {
        tags: `<script type="application/json" id="tailor-report">${scriptJson(report)}</script>
<script>${chart}</script>
<script>${CLIENT_JS}</script>`,
        // Nothing may load or connect: the file is complete, and injected markup could not run.
        csp: `default-src 'none'; script-src ${cspHash(chart)} ${cspHash(CLIENT_JS)}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`,
      };
    }
    case 'Live':
      return {
        tags: `<script src="${esc(target.base)}/assets/chart.js"></script>
<script src="${esc(target.base)}/assets/dashboard.js"></script>`,
        csp: LIVE_CSP,
      };
  }
}

/** The live pages' policy: scripts and data from the operator itself, nothing elsewhere. */
export const LIVE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'self'";

/** The Report as one HTML document. */
export function renderHtml(report: Report, opts: HtmlOptions): string {
  const target = opts.target;
  const config =
    target.kind === 'Live'
      ? { mode: 'live', base: target.base, dataUrl: target.dataUrl, since: target.since }
      : { mode: 'file' };
  const { tags, csp } = scripts(report, target);
  const title = opts.workload
    ? `${opts.workload.namespace}/${opts.workload.name}: Tailor`
    : 'Tailor savings report';
  const body = opts.workload ? workloadBody(report, target, opts.workload) : reportBody(report, target);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body data-charts="pending">
<header>
<h1>${esc(title)}</h1>
<span class="meta">${esc(report.since)} → ${esc(report.until)} · generated ${esc(report.generatedAt)} · ${esc(report.currency)}</span>
${opts.workload ? '' : filterSelect(report, target)}
<span class="meta" id="tailor-charts-status"></span>
</header>
<main>
${body}
</main>
<script type="application/json" id="tailor-config">${scriptJson(config)}</script>
${tags}
</body>
</html>
`;
}
