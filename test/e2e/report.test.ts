// `tailor report` on the real control plane and simulator with the operator running: an
// over-provisioned workload in Recommend shows an available saving; one Tailor resized in place has
// its ledger (baseline above what it holds now) in its SizingCheckpoint; the namespaces add up to the
// cluster to the cent; every text format renders; a bad price override is refused naming its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GROUP, VERSION, type SizingCheckpoint } from '../../src/api/index.ts';
import { makeClients } from '../../src/kube/client.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { decodeLedger } from '../../src/core/report/ledger.ts';
import type { Report } from '../../src/core/report/model.ts';
import { runReport } from '../../src/cli/commands/report.ts';
import { eventually, idleDeployment, useCluster } from '../support/cluster.ts';
import {
  Mi,
  createPolicy,
  expectPolicyStatus,
  expectResized,
  podOf,
  useTestOperator,
  overProvisioned,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
/** The standing reports the operator hands to its onReport hook (metrics and the dashboard use it). */
const standing: Report[] = [];
const operator = useTestOperator(cluster, {
  models: false,
  sizing: { checkpointIntervalSeconds: 1 },
  reportIntervalMs: 1000,
  onReport: (r) => standing.push(r),
});
const q = (v: string | undefined) => parseQuantity(v) ?? NaN;

async function report(args: { output: string; all?: boolean; prices?: string }): Promise<string> {
  return runReport({
    kubeconfig: cluster.kubeconfigPath,
    ...(args.all ? { allNamespaces: true } : { namespace: cluster.namespace }),
    since: '1h',
    output: args.output,
    ...(args.prices ? { pricesConfigmap: args.prices } : {}),
  });
}

test('report: per-namespace workloads, available and realised savings, sums to the cent, every format', async () => {
  const { apps, namespace } = cluster;
  assert.ok(operator.current, 'the operator runs');
  // `web` is resized in place by Tailor; `spare` (same over-provisioning) only gets recommendations.
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('web') });
  await apps.createNamespacedDeployment({
    namespace,
    body: idleDeployment(
      'spare',
      2,
      { cpuCores: 0.05, memoryBytes: 100 * Mi },
      { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
    ),
  });
  const web = await podOf(cluster, 'web');
  await createPolicy(cluster, 'web', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  });
  await createPolicy(cluster, 'spare', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'spare' },
  });
  await expectResized(cluster, web.metadata!.name!, (r) =>
    assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} below 100m`),
  );
  await expectPolicyStatus(cluster, 'spare', (p) =>
    assert.ok((p.status?.recommendations ?? []).length > 0, 'spare has a recommendation'),
  );

  // 1. Tailor's records: the resized workload's ledger, in its checkpoint, says it asked for more before.
  const custom = makeClients(cluster.kc).custom;
  await eventually(
    async () => {
      const cp = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'sizingcheckpoints',
        name: 'web',
      })) as SizingCheckpoint;
      const { ledger, error } = decodeLedger(cp.spec.ledger?.data);
      assert.equal(error, undefined, 'the ledger decodes');
      const app = ledger.containers.find((c) => c.workload.name === 'web' && c.container === 'app');
      assert.ok(app, 'a ledger for web/app');
      const last = app.buckets.at(-1)!;
      assert.ok(last.podSeconds > 0, `pod-seconds recorded: ${last.podSeconds}`);
      assert.ok(
        last.baseline.cpu / last.podSeconds >= 0.19,
        `baseline ${last.baseline.cpu / last.podSeconds} is the template's 200m`,
      );
      // The bucket is time-weighted and began before the resize (at the template's 200m), so its mean
      // lies between 200m and what Tailor set (< 100m): well below the template, however busy the machine.
      assert.ok(
        last.requested.cpu / last.podSeconds < 0.15,
        `requested ${last.requested.cpu / last.podSeconds} counts what Tailor set`,
      );
      assert.ok(app.buckets.reduce((n, b) => n + b.resizes, 0) >= 1, 'the resize is counted');
    },
    { timeoutMs: 60_000, what: 'the ledger of web in its SizingCheckpoint' },
  );

  // 2. The report of the namespace.
  const r = await eventually(
    async () => {
      const r = JSON.parse(await report({ output: 'json' })) as Report;
      const ns = r.namespaces.find((n) => n.namespace === namespace);
      assert.ok(ns, `namespace ${namespace} in the report`);
      const names = ns.workloads.map((w) => `${w.kind}/${w.name}`).sort();
      assert.deepEqual(names, ['Deployment/spare', 'Deployment/web']);
      const spare = ns.workloads.find((w) => w.name === 'spare')!;
      assert.equal(spare.replicas, 2);
      assert.equal(spare.mode, 'Recommend');
      assert.ok(spare.figures.available.cost > 0, `spare's available saving ${spare.figures.available.cost}`);
      assert.ok(spare.figures.available.co2eKg > 0, 'and its CO2e');
      assert.ok((spare.historyHours ?? 0) > 0, 'spare has history');
      const w = ns.workloads.find((x) => x.name === 'web')!;
      assert.ok(
        w.figures.realised.cost >= 0,
        `web's realised saving ${w.figures.realised.cost} is not negative`,
      );
      assert.ok(w.resizes >= 1, `web's resizes ${w.resizes}`);
      assert.ok(
        r.opportunities.some((o) => o.workload === 'Deployment/spare'),
        'spare is among the top opportunities',
      );
      return r;
    },
    { timeoutMs: 60_000, what: 'a report with both workloads' },
  );
  assert.equal(r.currency, 'USD');

  // 3. Namespaces add up to the cluster, to the cent (every namespace the run has, too).
  const all = JSON.parse(await report({ output: 'json', all: true })) as Report;
  for (const rep of [r, all])
    for (const key of ['requested', 'used', 'recommended', 'available', 'realised'] as const)
      assert.equal(
        Math.round(rep.cluster.figures[key].cost * 100),
        rep.namespaces.reduce((n, x) => n + Math.round(x.figures[key].cost * 100), 0),
        `${key}: the namespaces add up to the cluster`,
      );
  assert.ok(all.namespaces.some((n) => n.namespace === namespace));

  // 4. The operator builds the same report (same code) on demand and every interval, inside its RBAC.
  const live = await operator.current.report({ sinceSeconds: 3600, namespaces: [namespace] });
  const mine = live.namespaces.find((n) => n.namespace === namespace)!;
  const cli = r.namespaces.find((n) => n.namespace === namespace)!;
  assert.deepEqual(
    mine.workloads.map((w) => [w.name, w.replicas, w.figures.requested.cost]),
    cli.workloads.map((w) => [w.name, w.replicas, w.figures.requested.cost]),
    'the operator and the CLI agree on the workloads and their requested cost',
  );
  await eventually(
    () =>
      assert.ok(
        standing.some((x) => x.namespaces.some((n) => n.namespace === namespace && n.workloads.length === 2)),
        `a standing report with both workloads (${standing.length} so far)`,
      ),
    { timeoutMs: 20_000, what: 'onReport called with the namespace' },
  );

  // 5. The text formats.
  const table = await report({ output: 'table' });
  assert.match(table, /Deployment\/spare/);
  assert.match(table, /\(cluster\)/);
  const csv = await report({ output: 'csv' });
  assert.match(csv, /^level,namespace,kind,workload,container/);
  assert.match(csv, new RegExp(`container,${namespace},Deployment,spare,app`));
  const md = await report({ output: 'markdown' });
  assert.match(md, /^# Savings report/);
  assert.match(md, /\| Deployment\/spare \|/);
});

test('report: a price override that is not a number is refused, naming the key', async () => {
  await cluster.core.createNamespacedConfigMap({
    namespace: cluster.namespace,
    body: { metadata: { name: 'prices' }, data: { cpuCoreHour: 'cheap' } },
  });
  await assert.rejects(report({ output: 'json', prices: `${cluster.namespace}/prices` }), (err: Error) => {
    assert.match(err.message, /"cpuCoreHour": "cheap" is not a number/);
    return true;
  });
  await assert.rejects(report({ output: 'yaml' }), /-o yaml: expected table, json, csv, markdown/);
});

test("report: `tailor report -o json`, the dashboard's /ui/api/report.json and /metrics agree to the cent", async () => {
  const { namespace } = cluster;
  const cents = (x: number) => Math.round(x * 100);
  /** A gauge of the namespace from the operator's /metrics text (labels in any order). */
  const gauge = (text: string, name: string, labels: Record<string, string>): number | undefined => {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const body = line.slice(name.length + 1, line.indexOf('}'));
      if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`)))
        return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return undefined;
  };
  // The three read at slightly different moments: retry until a resize or a new bucket is not in between.
  await eventually(
    async () => {
      const cli = JSON.parse(await report({ output: 'json' })) as Report;
      const ui = (await (
        await fetch(`${operator.current.url}/ui/api/report.json?namespace=${namespace}&since=1h`)
      ).json()) as Report;
      const metrics = await (await fetch(`${operator.current.url}/metrics`)).text();
      const c = cli.namespaces.find((n) => n.namespace === namespace)!;
      const u = ui.namespaces.find((n) => n.namespace === namespace);
      assert.ok(u, `the dashboard's report has ${namespace}`);
      for (const key of ['requested', 'recommended', 'used', 'available', 'realised'] as const)
        assert.equal(cents(u.figures[key].cost), cents(c.figures[key].cost), `${key}: dashboard = CLI`);
      assert.deepEqual(
        u.workloads.map((w) => [w.name, cents(w.figures.available.cost)]),
        c.workloads.map((w) => [w.name, cents(w.figures.available.cost)]),
        'per workload too',
      );
      // The gauges follow the operator's standing report (its own range): the per-month figures match.
      const available = gauge(metrics, 'tailor_savings_available_per_month', { namespace });
      assert.ok(available !== undefined, 'tailor_savings_available_per_month for the namespace');
      assert.equal(cents(available), cents(c.figures.available.cost), 'available: metrics = CLI');
      for (const state of ['requested', 'recommended'] as const)
        assert.equal(
          cents(gauge(metrics, 'tailor_cost_per_month', { namespace, state }) ?? NaN),
          cents(c.figures[state].cost),
          `cost ${state}: metrics = CLI`,
        );
      assert.ok(c.figures.available.cost > 0, `a non-zero saving: ${c.figures.available.cost}`);
    },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'the CLI, the dashboard and the metrics agree' },
  );
});
