// The Grafana dashboard and the PrometheusRule in deploy/: they read only metrics the operator
// registers, cover what the issue lists, and the rules pass `promtool check rules` and fire in
// `promtool test rules` on series that should trigger each alert (deploy/prometheus/tailor-rules.test.yaml).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { parse } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorMetrics } from '../../src/operator/metrics.ts';
import {
  alertRules,
  baseName,
  dashboardQueries,
  metricsIn,
  readDashboard,
  RULES_TEST_FILE,
  readRules,
  writePlainRules,
} from '../support/monitoring.ts';

interface PromtoolTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

async function registered(): Promise<Set<string>> {
  const m = operatorMetrics(true);
  return new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
}

test('the dashboard: a prometheus datasource variable, a namespace variable, every panel on it', () => {
  const d = readDashboard();
  assert.ok(d.schemaVersion >= 39, `schemaVersion ${d.schemaVersion}`);
  const vars = new Map(d.templating.list.map((v) => [v.name, v]));
  assert.equal(vars.get('datasource')?.type, 'datasource');
  assert.equal(vars.get('datasource')?.query, 'prometheus');
  assert.equal(vars.get('namespace')?.type, 'query');
  assert.match(vars.get('namespace')?.definition ?? '', /^label_values\(tailor_[a-z_]+, namespace\)$/);
  assert.equal(vars.get('namespace')?.allValue, '.*');
  const text = JSON.stringify(d.panels);
  assert.doesNotMatch(text, /"uid":"(?!\$\{datasource\})/, 'every panel reads ${datasource}');
});

test('the dashboard and the alerts read only metrics the operator registers, and cover each topic', async () => {
  const names = await registered();
  const queries = dashboardQueries();
  const used = new Set<string>();
  for (const q of [...queries, ...alertRules().map((r) => ({ panel: r.alert, expr: r.expr }))]) {
    const ms = metricsIn(q.expr);
    assert.ok(ms.length > 0, `${q.panel}: reads a metric: ${q.expr}`);
    for (const m of ms) {
      assert.ok(names.has(baseName(m)) || names.has(m), `${q.panel}: ${m} is not an operator metric`);
      used.add(baseName(m));
    }
  }
  for (const topic of [
    'tailor_savings_available_per_month',
    'tailor_savings_realised_in_range',
    'tailor_cost_per_month',
    'tailor_co2e_grams_per_month',
    'tailor_co2e_savings_available_grams_per_month',
    'tailor_resizes_total',
    'tailor_oom_raises_total',
    'tailor_oom_kills_total',
    'tailor_recommendation_target',
    'tailor_resource_requests',
    'tailor_workqueue_depth',
    'tailor_reconcile_duration_seconds',
    'tailor_history_errors_total',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
  ])
    assert.ok(used.has(topic), `the dashboard or an alert shows ${topic}`);
});

test('the PrometheusRule: the five alerts, each with a severity, summary and description', () => {
  const r = readRules();
  assert.equal(r.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(r.kind, 'PrometheusRule');
  const alerts = alertRules(r);
  assert.deepEqual(alerts.map((a) => a.alert).sort(), [
    'TailorHistoryStoreFailing',
    'TailorOOMLoop',
    'TailorOperatorDown',
    'TailorResizesFailing',
    'TailorSavingsDropping',
  ]);
  for (const a of alerts) {
    assert.ok(a.labels?.severity, `${a.alert}: severity`);
    assert.ok((a.annotations?.summary ?? '').length > 10, `${a.alert}: summary`);
    assert.ok((a.annotations?.description ?? '').length > 100, `${a.alert}: a runbook-style description`);
  }
});

test('promtool check rules passes, and promtool test rules proves each alert fires when it should', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-rules-'));
  try {
    const rules = writePlainRules(dir);
    const check = execFileSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    assert.match(check, /SUCCESS: 5 rules found/);
    const run = execFileSync('promtool', ['test', 'rules', join(dir, 'tailor-rules.test.yaml')], {
      encoding: 'utf8',
      cwd: dir,
    });
    assert.match(run, /SUCCESS/);
    // Every alert has a case where it must fire, and one where it must not.
    const cases = (parse(readFileSync(RULES_TEST_FILE, 'utf8')) as PromtoolTests).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    for (const a of alertRules()) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${a.alert}: a case where it fires`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${a.alert}: a case where it does not`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
