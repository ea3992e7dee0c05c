// The shipped Grafana dashboard and PrometheusRule as test data: every panel's query with the
// template variables resolved, every alert's expression, the metric names a query reads, and the
// rules as a plain rules file promtool can read.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const ROOT = new URL('../../', import.meta.url);
export const DASHBOARD_FILE = new URL('deploy/grafana/tailor-dashboard.json', ROOT);
export const RULES_FILE = new URL('deploy/prometheus/tailor-rules.yaml', ROOT);
export const RULES_TEST_FILE = new URL('deploy/prometheus/tailor-rules.test.yaml', ROOT);

export interface PanelQuery {
  readonly panel: string;
  readonly expr: string;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export interface Dashboard {
  schemaVersion: number;
  templating: {
    list: { name: string; type: string; query: unknown; definition?: string; allValue?: string }[];
  };
  panels: Panel[];
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/**
 * Every panel's query (rows' panels too), with Grafana's variables as the dashboard's "All" and a
 * rate interval that spans several scrapes: $namespace -> .*, $__rate_interval -> `rateInterval`.
 */
export function dashboardQueries(d: Dashboard = readDashboard(), rateInterval = '1m'): PanelQuery[] {
  const out: PanelQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        if (t.expr) out.push({ panel: p.title ?? '?', expr: resolveVariables(t.expr, rateInterval) });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  return out;
}

export function resolveVariables(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', '5m')
    .replaceAll('$namespace', '.*')
    .replaceAll('${namespace}', '.*');
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

interface PrometheusRule {
  apiVersion: string;
  kind: string;
  spec: { groups: { name: string; rules: AlertRule[] }[] };
}

export function readRules(): PrometheusRule {
  return parse(readFileSync(RULES_FILE, 'utf8')) as PrometheusRule;
}

export function alertRules(r: PrometheusRule = readRules()): AlertRule[] {
  return r.spec.groups.flatMap((g) => g.rules);
}

/** The PrometheusRule's spec.groups as a plain rules file, where the promtool test file expects it. */
export function writePlainRules(dir: string): string {
  const file = join(dir, 'tailor-rules.rules.yaml');
  writeFileSync(file, stringify({ groups: readRules().spec.groups }));
  writeFileSync(join(dir, 'tailor-rules.test.yaml'), readFileSync(RULES_TEST_FILE, 'utf8'));
  return file;
}

const FUNCTIONS = new Set([
  'sum',
  'by',
  'without',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'sort_desc',
  'sort',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'absent',
  'offset',
  'max',
  'min',
  'avg',
  'count',
  'topk',
  'bottomk',
  'scalar',
  'vector',
  'label_replace',
  'clamp_min',
  'delta',
]);

/** The metric names a query selects (series names, without _bucket/_sum/_count), labels and functions left out. */
export function metricsIn(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  // Label matchers and grouping lists name labels, not metrics.
  const noLabels = noStrings
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of noLabels.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const n = m[1]!;
    if (FUNCTIONS.has(n) || /^\d/.test(n) || /^[0-9.]+[smhdwy]?$/.test(n)) continue;
    names.add(n);
  }
  return [...names];
}

/** A histogram's _bucket/_sum/_count series belong to the metric without the suffix. */
export function baseName(series: string): string {
  return series.replace(/_(bucket|sum|count)$/, '');
}
