// The operator's metrics through the real Prometheus server (Debian's), on the real control plane and
// simulator: a workload sized in place, one OOM-killed and raised, one in an OOM loop (capped by
// maxAllowed), and the savings report exported (a fixed report until the real ReportProvider is
// wired). Every query of every panel of deploy/grafana/tailor-dashboard.json returns data; every
// alert of deploy/prometheus/tailor-rules.yaml is loaded and evaluated by Prometheus without error,
// the series it reads exist, and TailorOOMLoop fires for the looping workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuantity } from '../../src/core/quantity.ts';
import type { SizingPolicySpec } from '../../src/api/index.ts';
import type { Report, ReportProvider } from '../../src/core/report/model.ts';
import { exportReport } from '../../src/operator/report-metrics.ts';
import { eventually, idleDeployment, useCluster } from '../support/cluster.ts';
import { Mi, createPolicy, expectPolicyStatus, useTestOperator } from '../support/operator.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { alertRules, baseName, dashboardQueries, metricsIn, writePlainRules } from '../support/monitoring.ts';

const cluster = useCluster(import.meta.url);
// Process metrics on (off by default in tests): the dashboard's CPU and memory panels read them.
// The standing report is built once at start and then hourly: the test waits for that first build
// before it exports its fixed report, so the operator's own (of an empty namespace) never lands on top.
let standingBuilt!: () => void;
const standingReport = new Promise<void>((resolve) => (standingBuilt = resolve));
const operator = useTestOperator(cluster, {
  processMetrics: true,
  reportIntervalMs: 3_600_000,
  onReport: () => standingBuilt(),
});

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(prom: TestPrometheus, expr: string): Promise<QueryResult> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as QueryResult;
}

/** A report as the real ReportProvider would build it, fixed: one tenant (this namespace) and one more. */
function fixedReport(namespace: string): Report {
  const f = (cost: number, co2eKg: number) => ({ cost, currency: 'USD', co2eKg });
  const figures = (req: number, rec: number, used: number, realised: number) => ({
    requested: f(req, req / 20),
    recommended: f(rec, rec / 20),
    used: f(used, used / 20),
    realised: f(realised, realised / 20),
    available: f(req - rec, (req - rec) / 20),
  });
  const ns = (name: string, fig: ReturnType<typeof figures>) => ({
    namespace: name,
    figures: fig,
    oomKills: 0,
    resizes: 0,
    workloads: [],
  });
  const namespaces = [ns(namespace, figures(12.34, 3.21, 2.5, 1.23)), ns('tenant-b', figures(40, 30, 25, 4))];
  return {
    generatedAt: new Date().toISOString(),
    since: new Date(Date.now() - 7 * 86_400_000).toISOString(),
    until: new Date().toISOString(),
    currency: 'USD',
    cluster: { figures: figures(52.34, 33.21, 27.5, 5.23), oomKills: 0, resizes: 0 },
    namespaces,
    opportunities: [],
    notes: [],
  };
}

test('every dashboard query and every alert expression returns data from the real Prometheus scraping the operator', async (t) => {
  const { apps, namespace } = cluster;
  const op = operator.current;

  // The fleet: one over-provisioned workload sized in place, one OOM-killed and raised, one whose
  // memory is capped below its use (maxAllowed) so it is killed again and again: an OOM loop.
  await apps.createNamespacedDeployment({
    namespace,
    body: idleDeployment(
      'web',
      1,
      { cpuCores: 0.05, memoryBytes: 100 * Mi },
      { requests: { cpu: '200m', memory: '400Mi' }, limits: { cpu: '400m', memory: '800Mi' } },
    ),
  });
  // Uses more than its 160Mi limit: killed at once. The loop's raise is capped at 160Mi of request
  // (200Mi of limit, keeping the ratio), below the 300Mi it uses: killed again after each back-off.
  const leaky = (name: string, memoryBytes: number) =>
    idleDeployment(
      name,
      1,
      { cpuCores: 0.02, memoryBytes },
      { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '160Mi' } },
    );
  await apps.createNamespacedDeployment({ namespace, body: leaky('leaky', 200 * Mi) });
  await apps.createNamespacedDeployment({ namespace, body: leaky('loop', 300 * Mi) });
  const target = (name: string) => ({ apiVersion: 'apps/v1' as const, kind: 'Deployment' as const, name });
  await createPolicy(cluster, 'web', { mode: 'InPlace', targetRef: target('web') });
  await createPolicy(cluster, 'leaky', { mode: 'InPlace', targetRef: target('leaky') });
  await createPolicy(cluster, 'loop', {
    mode: 'InPlace',
    targetRef: target('loop'),
    containers: [
      {
        name: 'app',
        mode: 'Auto',
        controlledResources: ['cpu', 'memory'],
        controlledValues: 'RequestsAndLimits',
        maxAllowed: { memory: '160Mi' },
      } as NonNullable<SizingPolicySpec['containers']>[number],
    ],
  });

  // The savings report: the coordinator wires the real provider as onReport; here a fixed one.
  const provider: ReportProvider = () => Promise.resolve(fixedReport(namespace));
  const report = await provider({ sinceSeconds: 7 * 86_400 });
  await standingReport;
  exportReport(op.metrics, report);

  const dir = mkdtempSync(join(tmpdir(), 'tailor-rules-'));
  const prom = await startPrometheus(`127.0.0.1:${op.http!.port}`, {
    job: 'tailor',
    ruleFiles: [writePlainRules(dir)],
  });
  t.after(async () => {
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // The recommendation the status holds is what the gauge says (cores).
  const web = await expectPolicyStatus(cluster, 'web', (p) => {
    assert.ok(p.status?.recommendations?.find((r) => r.name === 'app')?.target.cpu, JSON.stringify(p.status));
  });
  const webCpu = parseQuantity(
    String(web.status!.recommendations!.find((r) => r.name === 'app')!.target.cpu),
  );

  // Series that only come with events: a resize applied, an OOM raise, OOM kills of the loop.
  await eventually(
    async () => {
      for (const expr of [
        'tailor_resizes_total{result="Applied"} > 0',
        `tailor_oom_raises_total{namespace="${namespace}",workload="leaky"} > 0`,
        `tailor_oom_kills_total{namespace="${namespace}",workload="loop"} >= 3`,
        `tailor_recommendation_target{namespace="${namespace}",workload="web",resource="cpu"}`,
      ]) {
        const r = await query(prom, expr);
        assert.equal(r.status, 'success', `${expr}: ${r.error}`);
        assert.ok((r.data?.result.length ?? 0) > 0, `${expr}: no data yet`);
      }
    },
    {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'a resize, an OOM raise and an OOM loop scraped by Prometheus',
    },
  );

  // Every query of every panel returns data (the namespace variable as "All").
  const queries = dashboardQueries();
  assert.ok(queries.length >= 25, `${queries.length} dashboard queries`);
  await eventually(
    async () => {
      const empty: string[] = [];
      for (const q of queries) {
        const r = await query(prom, q.expr);
        assert.equal(r.status, 'success', `${q.panel}: ${q.expr}: ${r.error}`);
        if ((r.data?.result.length ?? 0) === 0) empty.push(`${q.panel}: ${q.expr}`);
      }
      assert.deepEqual(empty, [], 'dashboard queries without data');
    },
    { timeoutMs: 60_000, intervalMs: 2000, what: 'every dashboard query returns data' },
  );
  t.diagnostic(`${queries.length} dashboard queries return data`);

  // The figures agree: the report's, to the cent, and the status's recommendation.
  const sum = async (expr: string) => Number((await query(prom, expr)).data?.result[0]?.value[1]);
  assert.equal(
    (await sum(`sum(tailor_savings_available_per_month{namespace="${namespace}"})`)).toFixed(2),
    report.namespaces[0]!.figures.available.cost.toFixed(2),
  );
  assert.equal(
    (await sum('sum(tailor_savings_available_per_month)')).toFixed(2),
    report.cluster.figures.available.cost.toFixed(2),
    "the namespaces add up to the cluster's",
  );
  await eventually(
    async () =>
      assert.equal(
        await sum(`tailor_recommendation_target{namespace="${namespace}",workload="web",resource="cpu"}`),
        webCpu,
      ),
    { timeoutMs: 30_000, what: 'the cpu target gauge equals the status' },
  );

  // Every alert: loaded and evaluated by Prometheus without error, its expression parses, and the
  // series it reads exist (an alert's expression is empty unless it fires).
  const alerts = alertRules();
  await eventually(
    async () => {
      const res = (await (await fetch(`${prom.url}/api/v1/rules?type=alert`)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string; state: string }[] }[] };
      };
      const loaded = res.data.groups.flatMap((g) => g.rules);
      for (const a of alerts) {
        const r = loaded.find((x) => x.name === a.alert);
        assert.ok(r, `${a.alert} loaded`);
        assert.equal(r.health, 'ok', `${a.alert} evaluated: ${r.health} ${r.lastError ?? ''}`);
      }
    },
    { timeoutMs: 30_000, what: 'the alerts loaded and evaluated' },
  );
  for (const a of alerts) {
    const r = await query(prom, a.expr);
    assert.equal(r.status, 'success', `${a.alert}: ${r.error}`);
    for (const m of metricsIn(a.expr)) {
      const s = await query(prom, `count({__name__="${m}"})`);
      assert.ok((s.data?.result.length ?? 0) > 0, `${a.alert}: no series of ${baseName(m)}`);
    }
  }
  // The loop is a real one: the alert fires for that workload, and only for it.
  await eventually(
    async () => {
      const r = await query(prom, 'ALERTS{alertname="TailorOOMLoop",alertstate="firing"}');
      const firing = (r.data?.result ?? []).map((x) => `${x.metric.namespace}/${x.metric.workload}`);
      assert.deepEqual(firing, [`${namespace}/loop`], 'TailorOOMLoop firing');
    },
    // increase() counts from the series' first sample (its first kill): three more kills, the
    // last after the kubelet's back-off has grown to 40 s.
    { timeoutMs: 150_000, intervalMs: 1000, what: 'TailorOOMLoop firing for the loop' },
  );
  // And the operator is up: TailorOperatorDown is not firing.
  const down = await query(prom, 'ALERTS{alertname="TailorOperatorDown"}');
  assert.equal(down.data?.result.length, 0, 'TailorOperatorDown quiet while the operator runs');
});
