// What `tailor recommend` prints, built and rendered without I/O: one entry per workload and
// container (current requests and limits, usage percentiles, recommendation, change), as a terminal
// table or machine-stable JSON, YAML or CSV. JSON numbers are base units: cores and bytes.
import { stringify as toYaml } from 'yaml';
import { decideLimit, type LimitOutcome } from '../../core/recommend/actuation.ts';
import type { Recommendation, TargetReason } from '../../core/recommend/types.ts';
import { formatBytes, formatCpu, humanBytes, parseQuantity } from '../../core/quantity.ts';
import type { HistoryResource } from '../../sources/history.ts';
import type { VolumesReport } from '../../core/report/model.ts';

export type OutputFormat = 'table' | 'json' | 'yaml' | 'csv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml', 'csv'];

/** Store: the SQLite history (plus what this run sampled); Prometheus: read from it for this run. */
export type HistorySourceKind = 'Store' | 'Prometheus';

/** NoData: not one sample, so no recommendation (Tailor never sizes on missing data). */
export type ResourceStatus = 'Ok' | 'NoData';

export interface UsageStats {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface RecommendationOut {
  /** Rounded up the way it would be applied (whole millicores, whole MiB), so it equals `quantity`. */
  readonly target: number;
  readonly lowerBound: number;
  /** null: unbounded. */
  readonly upperBound: number | null;
  readonly reason: TargetReason;
  readonly quantity: string;
}

export interface ResourceReport {
  readonly status: ResourceStatus;
  readonly request: number | null;
  readonly limit: number | null;
  readonly usage: UsageStats | null;
  readonly recommendation: RecommendationOut | null;
  /** target / request - 1 (-0.75 is 75% less); null without a request or a recommendation. */
  readonly change: number | null;
  /** What Tailor would do to the request: outside [lowerBound, upperBound] it moves, else it stays. */
  readonly action: LimitOutcome | null;
}

export interface ContainerReport {
  readonly namespace: string;
  readonly workload: { readonly kind: string; readonly name: string };
  readonly container: string;
  readonly pods: number;
  readonly history: {
    readonly first: string | null;
    readonly last: string | null;
    readonly seconds: number;
    readonly minutes: number;
    /** Under the recommender's short-history horizon: its bounds are still widened. */
    readonly short: boolean;
    readonly ooms: number;
  };
  readonly cpu: ResourceReport;
  readonly memory: ResourceReport;
  /** For pods of a ModelDeployment: what the model needs to serve, worked out before any usage. */
  readonly estimate?: ModelEstimate;
}

export interface ModelEstimate {
  readonly modelDeployment: string;
  /** Cores and bytes; null when the estimate does not say. */
  readonly cpu: number | null;
  readonly memory: number | null;
}

export interface RecommendReport {
  readonly apiVersion: 'tailor.dev/v1alpha1';
  readonly kind: 'RecommendationReport';
  readonly generatedAt: string;
  readonly scope: { readonly allNamespaces: boolean; readonly namespaces: readonly string[] };
  readonly history: {
    readonly source: HistorySourceKind;
    readonly location: string;
    readonly window: string;
    /** How long this run sampled metrics.k8s.io (0: it did not). */
    readonly sampledSeconds: number;
    readonly shortHistorySeconds: number;
  };
  readonly items: readonly ContainerReport[];
  readonly notes: readonly string[];
  /** Wasted volumes over the window, when volume stats were read (with --prometheus). */
  readonly volumes?: VolumesReport;
}

/** Nearest-rank percentiles of the values; null for none. */
export function usageStats(values: readonly number[]): UsageStats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

export interface ResourceInput {
  readonly request: number | undefined;
  readonly limit: number | undefined;
  readonly values: readonly number[];
  readonly recommendation: Recommendation | undefined;
}

export function resourceReport(resource: HistoryResource, r: ResourceInput): ResourceReport {
  // Without usage in the window, only an OOM kill's floor is worth showing (a raise, never a cut).
  const rec = r.values.length > 0 || r.recommendation?.reason === 'OomFloor' ? r.recommendation : undefined;
  const out = rec ? roundRecommendation(resource, rec) : null;
  return {
    status: out ? 'Ok' : 'NoData',
    request: r.request ?? null,
    limit: r.limit ?? null,
    usage: usageStats(r.values),
    recommendation: out,
    change: out && r.request && r.request > 0 ? round(out.target / r.request - 1, 4) : null,
    action: rec ? decideLimit(r.request ?? 0, rec).outcome : null,
  };
}

function roundRecommendation(resource: HistoryResource, rec: Recommendation): RecommendationOut {
  const quantity = resource === 'cpu' ? formatCpu(rec.target) : formatBytes(rec.target);
  const upper = Number.isFinite(rec.upperBound) ? rec.upperBound : null;
  const exact = (v: number) => (resource === 'cpu' ? round(v, 4) : Math.round(v));
  return {
    target: exact(parseQuantity(quantity)!),
    lowerBound: exact(rec.lowerBound),
    upperBound: upper === null ? null : exact(upper),
    reason: rec.reason,
    quantity,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function render(report: RecommendReport, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'yaml':
      return toYaml(report);
    case 'csv':
      return renderCsv(report);
    case 'table':
      return renderTable(report);
  }
}

const show = {
  cpu: (v: number | null | undefined) => (v === null || v === undefined ? '-' : formatCpu(v)),
  // 64Mi rather than 64.0Mi: whole values read better in a column.
  memory: (v: number | null | undefined) =>
    v === null || v === undefined ? '-' : humanBytes(v).replace(/\.0(?=[A-Za-z]*$)/, ''),
};

export function formatChange(r: ResourceReport): string {
  if (!r.recommendation) return '-';
  if (r.change === null) return 'new';
  // Half away from zero, so -64.5% reads as -65% like +64.5% reads as +65%.
  const pct = Math.sign(r.change) * Math.round(Math.abs(r.change * 100)) || 0;
  const text = `${pct > 0 ? '+' : ''}${pct}%`;
  return r.action === 'Keep' ? `${text} (keep)` : text;
}

export function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s)}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 2 * 86_400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

export function renderTable(report: RecommendReport): string {
  // The estimate column appears only where a ModelDeployment's pods are in scope.
  const withEstimate = report.items.some((i) => i.estimate !== undefined);
  const header = [
    'NAMESPACE',
    'WORKLOAD',
    'CONTAINER',
    'RESOURCE',
    'REQUEST',
    'LIMIT',
    ...(withEstimate ? ['ESTIMATE'] : []),
    'P50',
    'P95',
    'MAX',
    'RECOMMEND',
    'RANGE',
    'CHANGE',
    'HISTORY',
  ];
  const rows: string[][] = [];
  for (const item of report.items) {
    const noData = item.cpu.status === 'NoData' && item.memory.status === 'NoData';
    const history = noData
      ? 'no data'
      : `${formatSeconds(item.history.seconds)}${item.history.short ? ' (short)' : ''}${item.history.ooms > 0 ? `, ${item.history.ooms} OOM` : ''}`;
    for (const resource of ['cpu', 'memory'] as const) {
      const r = item[resource];
      const f = show[resource];
      const rec = r.recommendation;
      const first = resource === 'cpu';
      rows.push([
        first ? item.namespace : '',
        first ? `${item.workload.kind}/${item.workload.name}` : '',
        first ? item.container : '',
        resource,
        f(r.request),
        f(r.limit),
        ...(withEstimate ? [f(item.estimate?.[resource])] : []),
        f(r.usage?.p50),
        f(r.usage?.p95),
        f(r.usage?.max),
        rec ? rec.quantity : 'no data',
        rec ? `${f(rec.lowerBound)}..${rec.upperBound === null ? '' : f(rec.upperBound)}` : '-',
        formatChange(r),
        first ? history : '',
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  const h = report.history;
  const from = h.source === 'Prometheus' ? `Prometheus ${h.location}` : `history ${h.location}`;
  const sampled =
    h.sampledSeconds > 0 ? `, plus ${formatSeconds(h.sampledSeconds)} sampled from metrics.k8s.io` : '';
  let out = `usage: ${from} (window ${h.window})${sampled}\n\n`;
  out += report.items.length === 0 ? 'no running pods in scope\n' : line(header) + rows.map(line).join('');
  const footnotes: string[] = [];
  if (report.items.length > 0) {
    footnotes.push(
      'P50/P95/MAX: one-minute peaks of the busiest pod; RECOMMEND: requests (RANGE: keep the current value inside it).',
    );
  }
  if (withEstimate) {
    footnotes.push(
      'ESTIMATE: what the model needs to serve, from its ModelDeployment, worked out from the model before any usage.',
    );
  }
  if (report.items.some((i) => i.history.short && (i.cpu.status === 'Ok' || i.memory.status === 'Ok'))) {
    footnotes.push(
      `(short): under ${formatSeconds(h.shortHistorySeconds)} of history, so the recommender widens its margin and bounds; ` +
        'let the history grow (the operator, or repeated runs) or read more with --prometheus.',
    );
  }
  if (report.volumes) out += volumesTable(report.volumes);
  const notes = [...footnotes, ...report.notes, ...(report.volumes?.notes ?? [])];
  for (const n of notes) out += `\n${n}`;
  return out + (notes.length > 0 ? '\n' : '');
}

/** The wasted volumes under the containers: capacity, peak used, suggested size and monthly cost. */
function volumesTable(v: VolumesReport): string {
  const size = (b: number) => humanBytes(b).replace(/\.0(?=[A-Za-z]*$)/, '');
  const money = (x: number, currency: string) => `${x.toFixed(2)} ${currency}`;
  let out = `\nvolumes: ${v.claims} with stats from ${v.source} (window ${formatSeconds(v.windowSeconds)}), ${v.wasted.length} never half full\n`;
  if (v.wasted.length === 0) return out;
  const header = ['NAMESPACE', 'CLAIM', 'CLASS', 'CAPACITY', 'PEAK USED', 'SUGGESTED', 'COST/MO', 'WASTE/MO'];
  const rows = v.wasted.map((w) => [
    w.namespace,
    w.claim,
    w.storageClass ?? '-',
    size(w.capacityBytes),
    size(w.peakUsedBytes),
    size(w.suggestedBytes),
    money(w.monthlyCost, w.currency),
    money(w.wasteMonthlyCost, w.currency),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  out += line(header) + rows.map(line).join('');
  out +=
    'SUGGESTED: peak used plus a month of its growth, with 10% free, in whole GiB (a PVC cannot shrink: a new volume of this size); WASTE/MO: the cost of the difference.\n';
  return out;
}

const CSV_HEADER = [
  'namespace',
  'kind',
  'workload',
  'container',
  'pods',
  'resource',
  'status',
  'request',
  'limit',
  'p50',
  'p95',
  'max',
  'target',
  'lowerBound',
  'upperBound',
  'reason',
  'change',
  'action',
  'historySeconds',
  'shortHistory',
  'ooms',
];

export function renderCsv(report: RecommendReport): string {
  const cell = (v: string | number | boolean | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const withEstimate = report.items.some((i) => i.estimate !== undefined);
  const withVolumes = (report.volumes?.wasted.length ?? 0) > 0;
  const header = [
    ...CSV_HEADER,
    ...(withEstimate ? ['modelDeployment', 'estimate'] : []),
    ...(withVolumes ? ['monthlyCost', 'wasteMonthlyCost', 'currency'] : []),
  ];
  const lines = [header.join(',')];
  for (const i of report.items) {
    for (const resource of ['cpu', 'memory'] as const) {
      const r = i[resource];
      lines.push(
        [
          i.namespace,
          i.workload.kind,
          i.workload.name,
          i.container,
          i.pods,
          resource,
          r.status,
          r.request,
          r.limit,
          r.usage?.p50,
          r.usage?.p95,
          r.usage?.max,
          r.recommendation?.target,
          r.recommendation?.lowerBound,
          r.recommendation?.upperBound,
          r.recommendation?.reason,
          r.change,
          r.action,
          i.history.seconds,
          i.history.short,
          i.history.ooms,
          ...(withEstimate ? [i.estimate?.modelDeployment, i.estimate?.[resource]] : []),
          ...(withVolumes ? ['', '', ''] : []),
        ]
          .map(cell)
          .join(','),
      );
    }
  }
  // Wasted volumes: resource storage, status Wasted, request = capacity, max = peak used, target =
  // the suggested size; their money in the extra columns.
  for (const w of report.volumes?.wasted ?? []) {
    const cells: Record<string, string | number> = {
      namespace: w.namespace,
      kind: 'PersistentVolumeClaim',
      workload: w.claim,
      resource: 'storage',
      status: 'Wasted',
      request: w.capacityBytes,
      max: w.peakUsedBytes,
      target: w.suggestedBytes,
      change: round(w.suggestedBytes / w.capacityBytes - 1, 4),
      historySeconds: report.volumes!.windowSeconds,
      monthlyCost: w.monthlyCost,
      wasteMonthlyCost: w.wasteMonthlyCost,
      currency: w.currency,
    };
    lines.push(header.map((h) => cell(cells[h])).join(','));
  }
  return lines.join('\n') + '\n';
}
