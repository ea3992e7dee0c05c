// The operator's metrics: every name follows Prometheus's conventions (counters end in _total, units
// in the name or a unit/currency label, no tailor_operator_ prefix), Node's process metrics are
// unprefixed, build_info is 1; the report's gauges per namespace (no cluster series, gone with the
// namespace); the per-container recommendation gauges (gone with the policy or container); the work
// queues' adds, retries and depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { operatorMetrics, outcomeLabels, type OperatorMetrics } from '../../src/operator/metrics.ts';
import { exportReport } from '../../src/operator/report-metrics.ts';
import { sizingMetrics } from '../../src/operator/sizing-metrics.ts';
import { instrumentQueues } from '../../src/operator/queue-metrics.ts';
import { WorkQueue } from '../../src/kube/workqueue.ts';
import type { Figures, NamespaceReport, Report } from '../../src/core/report/model.ts';
import type { Controller } from '../../src/controllers/controller.ts';
import type { WorkloadRef } from '../../src/sources/workloads.ts';

/** Units a name may end in (Prometheus base units, and the report's per-month and over-range rates). */
const UNIT_SUFFIX = /_(seconds|bytes|info|grams_per_month|grams_in_range)$/;
/** Counts of things, no unit: Prometheus's convention leaves these bare. */
// Plain counts: queue depth; the packing what-if's nodes, GPUs and pods (names the issue fixes).
const DIMENSIONLESS = new Set([
  'tailor_workqueue_depth',
  'tailor_nodes_freeable',
  'tailor_gpus_freeable',
  'tailor_nodes_kept_by_caveats',
  'tailor_packing_unschedulable_pods',
]);

async function series(m: OperatorMetrics, name: string): Promise<{ labels: object; value: number }[]> {
  const metric = m.registry.getSingleMetric(name);
  assert.ok(metric, `${name} registered`);
  return (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

async function valueOf(m: OperatorMetrics, name: string, labels: Record<string, string>) {
  const all = await series(m, name);
  const hit = all.find((s) => Object.entries(labels).every(([k, v]) => (s.labels as never)[k] === v));
  return hit?.value;
}

test('every metric name follows the conventions: _total counters, units, no tailor_operator_ prefix', async () => {
  const m = operatorMetrics(true);
  const metrics = await m.registry.getMetricsAsJSON();
  assert.ok(metrics.length > 30, `${metrics.length} metrics`);
  for (const x of metrics) {
    const type = String(x.type);
    const labels = new Set<string>(
      (x as unknown as { values: { labels: object }[] }).values.flatMap((v) => Object.keys(v.labels)),
    );
    const declared = new Set<string>(
      (m.registry.getSingleMetric(x.name) as unknown as { labelNames?: string[] }).labelNames ?? [],
    );
    for (const l of declared) labels.add(l);
    assert.doesNotMatch(x.name, /^tailor_operator_/, `${x.name}: no tailor_operator_ prefix`);
    assert.match(x.name, /^[a-z_][a-z0-9_]*$/, `${x.name}: snake_case`);
    if (type === 'counter') assert.match(x.name, /_total$/, `${x.name}: a counter ends in _total`);
    if (!x.name.startsWith('tailor_')) continue; // Node's own: prom-client's names (a gauge nodejs_*_total among them)
    if (type !== 'counter') assert.doesNotMatch(x.name, /_total$/, `${x.name}: only counters end in _total`);
    if (type === 'histogram') assert.match(x.name, /_(seconds|bytes)$/, `${x.name}: a histogram has a unit`);
    if (type === 'gauge')
      assert.ok(
        UNIT_SUFFIX.test(x.name) || labels.has('unit') || labels.has('currency') || DIMENSIONLESS.has(x.name),
        `${x.name}: a unit in the name (or a unit/currency label, or a plain count)`,
      );
    for (const l of labels) assert.match(l, /^[a-z][a-z0-9_]*$/, `${x.name}: label ${l}`);
    assert.ok(x.help.length > 10, `${x.name}: a HELP`);
  }
  const names = new Set(metrics.map((x) => x.name));
  for (const n of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_seconds',
  ])
    assert.ok(names.has(n), `${n}: Node's process metrics without a prefix`);
});

test('tailor_build_info is 1 with the package version and Node version', async () => {
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  const m = operatorMetrics(false);
  assert.equal(await valueOf(m, 'tailor_build_info', { version, node_version: process.version }), 1);
});

test('a resize outcome is two labels, result and reason, never one packed value', () => {
  assert.deepEqual(outcomeLabels({ kind: 'Rejected', reason: 'QosClassChange', message: 'x' }), {
    result: 'Rejected',
    reason: 'QosClassChange',
  });
  assert.deepEqual(outcomeLabels({ kind: 'Infeasible', message: 'x' }), { result: 'Infeasible', reason: '' });
  assert.deepEqual(outcomeLabels({ kind: 'Error', retryable: true, message: 'x' }), {
    result: 'Error',
    reason: '',
  });
});

const fig = (cost: number, co2eKg: number) => ({ cost, currency: 'USD', co2eKg });
function figures(requested: number, recommended: number, used: number, realised: number): Figures {
  return {
    requested: fig(requested, requested / 10),
    recommended: fig(recommended, recommended / 10),
    used: fig(used, used / 10),
    realised: fig(realised, realised / 10),
    available: fig(requested - recommended, (requested - recommended) / 10),
  };
}
function nsReport(namespace: string, f: Figures): NamespaceReport {
  return { namespace, figures: f, oomKills: 0, resizes: 0, workloads: [] };
}
function reportOf(namespaces: NamespaceReport[]): Report {
  const sum = (pick: (f: Figures) => number) => namespaces.reduce((a, n) => a + pick(n.figures), 0);
  return {
    generatedAt: '2026-12-02T10:00:00Z',
    since: '2026-11-25T10:00:00Z',
    until: '2026-12-02T10:00:00Z',
    currency: 'USD',
    cluster: {
      figures: figures(
        sum((f) => f.requested.cost),
        sum((f) => f.recommended.cost),
        sum((f) => f.used.cost),
        sum((f) => f.realised.cost),
      ),
      oomKills: 0,
      resizes: 0,
    },
    namespaces,
    opportunities: [],
    notes: [],
  };
}

test('exportReport: per-namespace money and CO2e gauges, no cluster series, a namespace gone is removed', async () => {
  const m = operatorMetrics(false);
  const report = reportOf([
    nsReport('shop', figures(100, 40, 30, 12.5)),
    nsReport('acme', figures(50, 60, 45, -2)),
  ]);
  exportReport(m, report);
  assert.equal(
    await valueOf(m, 'tailor_savings_available_per_month', { namespace: 'shop', currency: 'USD' }),
    60,
  );
  assert.equal(await valueOf(m, 'tailor_savings_available_per_month', { namespace: 'acme' }), -10);
  assert.equal(await valueOf(m, 'tailor_savings_realised_in_range', { namespace: 'shop' }), 12.5);
  assert.equal(await valueOf(m, 'tailor_savings_realised_in_range', { namespace: 'acme' }), -2);
  assert.equal(await valueOf(m, 'tailor_cost_per_month', { namespace: 'shop', state: 'requested' }), 100);
  assert.equal(await valueOf(m, 'tailor_cost_per_month', { namespace: 'shop', state: 'recommended' }), 40);
  assert.equal(await valueOf(m, 'tailor_cost_per_month', { namespace: 'shop', state: 'used' }), 30);
  // kg in the report, grams (the base unit) in the metric.
  assert.equal(
    await valueOf(m, 'tailor_co2e_grams_per_month', { namespace: 'shop', state: 'requested' }),
    10_000,
  );
  assert.equal(
    await valueOf(m, 'tailor_co2e_savings_available_grams_per_month', { namespace: 'shop' }),
    6000,
  );
  assert.equal(await valueOf(m, 'tailor_co2e_savings_realised_grams_in_range', { namespace: 'shop' }), 1250);
  assert.equal((await series(m, 'tailor_report_range_seconds'))[0]?.value, 7 * 86_400);
  assert.equal(
    (await series(m, 'tailor_report_timestamp_seconds'))[0]?.value,
    Date.parse(report.generatedAt) / 1000,
  );
  // The namespaces add up to the cluster: sum() over the series is the cluster's figure.
  const available = (await series(m, 'tailor_savings_available_per_month')).reduce((a, s) => a + s.value, 0);
  assert.equal(available, report.cluster.figures.available.cost);
  assert.equal((await series(m, 'tailor_savings_available_per_month')).length, 2, 'no cluster series');

  exportReport(m, reportOf([nsReport('shop', figures(90, 40, 30, 13))]));
  for (const name of [
    'tailor_savings_available_per_month',
    'tailor_cost_per_month',
    'tailor_co2e_grams_per_month',
  ])
    assert.ok(
      (await series(m, name)).every((s) => (s.labels as { namespace: string }).namespace === 'shop'),
      `${name}: acme is gone`,
    );
  assert.equal(await valueOf(m, 'tailor_savings_available_per_month', { namespace: 'shop' }), 50);
});

function pod(name: string, requests: Record<string, string>, container = 'app'): k8s.V1Pod {
  return {
    metadata: { name, namespace: 'shop' },
    spec: { containers: [{ name: container, image: 'x', resources: { requests } }] },
  };
}
const web: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'web' };

test('recommendation gauges: set from the status written, per container and resource in cores and bytes; gone with the container or policy', async () => {
  const m = operatorMetrics(false);
  const s = sizingMetrics(m);
  const covered = [
    { pod: pod('web-1', { cpu: '500m', memory: '512Mi' }), workload: web },
    { pod: pod('web-2', { cpu: '250m', memory: '256Mi' }), workload: web },
  ];
  const rec = {
    name: 'app',
    target: { cpu: '100m', memory: '128Mi' },
    lowerBound: { cpu: '50m', memory: '100Mi' },
    upperBound: { cpu: '1', memory: '1Gi' },
  };
  s.publish('shop/web', covered, [rec]);
  const cpu = { namespace: 'shop', workload: 'web', container: 'app', resource: 'cpu', unit: 'core' };
  const mem = { ...cpu, resource: 'memory', unit: 'byte' };
  assert.equal(await valueOf(m, 'tailor_recommendation_target', cpu), 0.1);
  assert.equal(await valueOf(m, 'tailor_recommendation_target', mem), 128 * 2 ** 20);
  assert.equal(await valueOf(m, 'tailor_recommendation_lower_bound', cpu), 0.05);
  assert.equal(await valueOf(m, 'tailor_recommendation_upper_bound', mem), 2 ** 30);
  // The largest a replica asks for now.
  assert.equal(await valueOf(m, 'tailor_resource_requests', cpu), 0.5);
  assert.equal(await valueOf(m, 'tailor_resource_requests', mem), 512 * 2 ** 20);
  // A lower bound the status leaves out is 0; an upper bound left out is open: no series.
  s.publish('shop/web', covered, [{ name: 'app', target: { cpu: '100m' } }]);
  assert.equal(await valueOf(m, 'tailor_recommendation_lower_bound', cpu), 0);
  assert.equal(await valueOf(m, 'tailor_recommendation_upper_bound', cpu), undefined);
  assert.equal(
    await valueOf(m, 'tailor_recommendation_target', mem),
    undefined,
    'memory no longer recommended',
  );
  s.publish('shop/web', covered, [rec]);

  // A pod another policy controls is not published by this one.
  s.publish('shop/other', [{ ...covered[0]!, skip: 'OverlappingPolicy' }], [rec]);
  assert.equal(await valueOf(m, 'tailor_recommendation_target', cpu), 0.1);
  s.forget('shop/other');
  assert.equal(
    await valueOf(m, 'tailor_recommendation_target', cpu),
    0.1,
    'not removed by a policy that did not set it',
  );

  // The container no longer recommended: its series go; the policy gone: all go.
  s.publish('shop/web', covered, []);
  for (const name of [
    'tailor_recommendation_target',
    'tailor_resource_requests',
    'tailor_recommendation_upper_bound',
  ])
    assert.equal((await series(m, name)).length, 0, `${name} removed`);
  s.publish('shop/web', covered, [rec]);
  assert.equal((await series(m, 'tailor_recommendation_target')).length, 2);
  s.forget('shop/web');
  assert.equal(
    (await series(m, 'tailor_recommendation_target')).length,
    0,
    'policy deleted: no stale series',
  );
});

test('OOM kills and raises per workload', async () => {
  const m = operatorMetrics(false);
  const s = sizingMetrics(m);
  s.oomKills(web, 2);
  const urgent = { kind: 'InPlace', urgent: true, patch: {}, restarts: [], message: '' } as const;
  s.applied(web, { decision: urgent } as never);
  s.applied(web, { decision: { ...urgent, urgent: false } } as never);
  assert.equal(await valueOf(m, 'tailor_oom_kills_total', { namespace: 'shop', workload: 'web' }), 2);
  assert.equal(await valueOf(m, 'tailor_oom_raises_total', { namespace: 'shop', workload: 'web' }), 1);
});

test('work queues: adds, retries, time waited and depth per controller', async () => {
  const m = operatorMetrics(false);
  let fail = true;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue(
    async (k) => {
      await gate;
      if (k === 'bad' && fail) {
        fail = false;
        throw new Error('boom');
      }
    },
    () => {},
    { baseBackoffMs: 5 },
  );
  instrumentQueues(m, [
    { name: 'sizing', queue: q } as unknown as Controller,
    { name: 'none' } as Controller,
  ]);
  q.add('slow');
  q.add('slow');
  q.add('bad');
  assert.equal(await valueOf(m, 'tailor_workqueue_depth', { controller: 'sizing' }), 2);
  release();
  await q.idle();
  await new Promise((r) => setTimeout(r, 50));
  await q.idle();
  assert.equal(await valueOf(m, 'tailor_workqueue_retries_total', { controller: 'sizing' }), 1);
  // slow, bad, slow again (added while it ran: it runs once more), bad again after its backoff.
  assert.equal(await valueOf(m, 'tailor_workqueue_adds_total', { controller: 'sizing' }), 4);
  assert.equal(await valueOf(m, 'tailor_workqueue_depth', { controller: 'sizing' }), 0);
  const waited = (await series(m, 'tailor_workqueue_queue_duration_seconds')).find(
    (s) => (s.labels as { le?: unknown }).le === '+Inf',
  );
  assert.equal(waited?.value, 4);
  q.stop();
});
