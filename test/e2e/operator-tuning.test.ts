// The operator honours a SizingPolicy's recommendation tuning and history source, on the real
// control plane and simulator: Conservative and Aggressive policies over two identical workloads
// publish different targets (Conservative the higher); a policy with history.source Prometheus reads
// its history from a real Prometheus server scraping the simulator (an operator source it names),
// one naming a source the operator does not have says so, and one whose Prometheus is
// down gets a condition saying so (no crash, nothing applied).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity } from '../../src/core/quantity.ts';
import type { SizingPolicy } from '../../src/api/index.ts';
import { idleDeployment, prometheusTarget, useCluster } from '../support/cluster.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { freePort } from '../../src/devcluster/ports.ts';
import {
  Mi,
  conditionOf,
  createPolicy,
  expectPolicyStatus,
  podOf,
  startTestOperator,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const q = (v: string | number | undefined) => parseQuantity(v === undefined ? undefined : String(v)) ?? NaN;
const USE = { cpuCores: 0.05, memoryBytes: 100 * Mi };
const REQUESTS = { requests: { cpu: '200m', memory: '400Mi' } };

function appRecommendation(p: SizingPolicy) {
  const rec = p.status?.recommendations?.find((r) => r.name === 'app');
  assert.ok(rec?.target.cpu && rec.target.memory, `recommendation: ${JSON.stringify(p.status)}`);
  return rec;
}

test('profiles: Conservative and Aggressive over identical workloads publish different targets, Conservative >= Aggressive', async (t) => {
  const { apps, namespace } = cluster;
  const operator = await startTestOperator(cluster);
  t.after(() => operator.stop());
  for (const name of ['safe', 'lean']) {
    await apps.createNamespacedDeployment({ namespace, body: idleDeployment(name, 1, USE, REQUESTS) });
  }
  await podOf(cluster, 'safe');
  await podOf(cluster, 'lean');
  await createPolicy(cluster, 'safe', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'safe' },
    recommendation: { profile: 'Conservative' },
  });
  await createPolicy(cluster, 'lean', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'lean' },
    recommendation: { profile: 'Aggressive' },
  });
  // Both read the same minutes of the same (constant) usage; let a few minutes of samples build up.
  const [safe, lean] = await Promise.all(
    ['safe', 'lean'].map((name) =>
      expectPolicyStatus(cluster, name, (p) => {
        assert.equal(conditionOf(p, 'RecommendationsAvailable')?.status, 'True', JSON.stringify(p.status));
        appRecommendation(p);
      }),
    ),
  );
  const c = appRecommendation(safe!);
  const a = appRecommendation(lean!);
  t.diagnostic(`Conservative ${JSON.stringify(c.target)} / Aggressive ${JSON.stringify(a.target)}`);
  for (const r of ['cpu', 'memory'] as const) {
    assert.ok(
      q(c.target[r]) >= q(a.target[r]),
      `${r}: Conservative ${c.target[r]} >= Aggressive ${a.target[r]}`,
    );
    // Neither below what the workload uses.
    assert.ok(q(a.target[r]) >= (r === 'cpu' ? USE.cpuCores : USE.memoryBytes), `${r} ${a.target[r]}`);
  }
  assert.ok(
    q(c.target.cpu) > q(a.target.cpu) && q(c.target.memory) > q(a.target.memory),
    'different targets for different profiles',
  );
  // An override replaces the profile's value: CPU at the peak with 100% headroom is above both.
  await createPolicy(cluster, 'override', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'lean' },
    recommendation: { profile: 'Aggressive', cpu: { percentile: 100, headroomPercent: 100 } },
  });
  const o = await expectPolicyStatus(cluster, 'override', (p) => {
    assert.ok(
      q(appRecommendation(p).target.cpu) >= 2 * USE.cpuCores,
      JSON.stringify(p.status?.recommendations),
    );
  });
  assert.ok(q(appRecommendation(o).target.cpu) > q(c.target.cpu));
});

test('history.source Prometheus: recommendations from a real Prometheus server; a dead one gives a condition, not a crash', async (t) => {
  const { apps, namespace } = cluster;
  const prometheus = await startPrometheus(prometheusTarget());
  t.after(() => prometheus.stop());
  // metrics.k8s.io is polled once, at start, before the workload exists: every minute this policy
  // gets must come from Prometheus.
  // A port nothing listens on: connection refused.
  const dead = `http://127.0.0.1:${await freePort()}`;
  const operator = await startTestOperator(cluster, {
    pollIntervalMs: 3_600_000,
    // The operator's sources; policies name them, never a URL.
    prometheusSources: [
      { name: 'main', url: prometheus.url },
      { name: 'dark', url: dead, timeoutMs: 5000 },
    ],
    prometheus: {
      stepSeconds: 5,
      rateWindowSeconds: 10,
      intervalMs: 2000,
      retryBaseMs: 500,
      retryMaxMs: 2000,
    },
  });
  t.after(() => operator.stop());
  await apps.createNamespacedDeployment({ namespace, body: idleDeployment('prom', 1, USE, REQUESTS) });
  await apps.createNamespacedDeployment({ namespace, body: idleDeployment('dark', 1, USE, REQUESTS) });
  await apps.createNamespacedDeployment({ namespace, body: idleDeployment('nowhere', 1, USE, REQUESTS) });
  await podOf(cluster, 'prom');
  await createPolicy(cluster, 'prom', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'prom' },
    history: { window: '2h', source: 'Prometheus', prometheus: 'main' },
  });
  await createPolicy(cluster, 'dark', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'dark' },
    history: { window: '8d', source: 'Prometheus', prometheus: 'dark' },
  });
  await createPolicy(cluster, 'nowhere', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nowhere' },
    history: { window: '8d', source: 'Prometheus', prometheus: 'elsewhere' },
  });

  const p = await expectPolicyStatus(
    cluster,
    'prom',
    (s) => {
      assert.equal(conditionOf(s, 'RecommendationsAvailable')?.status, 'True', JSON.stringify(s.status));
      const rec = appRecommendation(s);
      assert.match(rec.basis ?? '', /history from Prometheus source 'main'/);
    },
    { timeoutMs: 90_000, what: 'recommendations read from Prometheus' },
  );
  const rec = appRecommendation(p);
  t.diagnostic(`from Prometheus: ${JSON.stringify(rec)}`);
  assert.ok(q(rec.target.memory) >= USE.memoryBytes, `memory ${rec.target.memory} not below the 100Mi used`);
  assert.ok(q(rec.target.memory) < 400 * Mi, `memory ${rec.target.memory} below the 400Mi request`);
  const minutes = operator.history.minutes({
    workload: { namespace, kind: 'Deployment', name: 'prom' },
    container: 'app',
  });
  assert.ok(
    minutes.length > 0 && minutes.every((m) => m.memoryMax === USE.memoryBytes),
    JSON.stringify(minutes),
  );

  const dark = await expectPolicyStatus(cluster, 'dark', (s) => {
    const c = conditionOf(s, 'RecommendationsAvailable');
    assert.equal(c?.status, 'False', JSON.stringify(s.status?.conditions));
    assert.equal(c?.reason, 'PrometheusUnavailable');
  });
  const why = conditionOf(dark, 'RecommendationsAvailable')!.message;
  t.diagnostic(why);
  assert.match(
    why,
    /^Prometheus source 'dark' unavailable: cannot connect \(ECONNREFUSED\); retrying in \d+s \(\d+ failed reads?\)/,
  );
  assert.ok(!why.includes(dead), `the operator's URL stays out of the tenant's status: ${why}`);
  assert.equal(conditionOf(dark, 'Ready')?.status, 'False');
  assert.deepEqual(dark.status?.recommendations ?? [], [], 'no recommendation without its history');
  // Nothing applied to the pod; the operator is still healthy.
  const pod = await podOf(cluster, 'dark');
  assert.equal(pod.spec!.containers[0]!.resources!.requests!.memory, '400Mi');
  assert.equal((await fetch(`${operator.url}/healthz`)).status, 200);

  // A source the operator does not have: the policy says which ones it has.
  const nowhere = await expectPolicyStatus(cluster, 'nowhere', (s) => {
    assert.equal(conditionOf(s, 'RecommendationsAvailable')?.reason, 'UnknownPrometheusSource');
  });
  assert.equal(
    conditionOf(nowhere, 'RecommendationsAvailable')!.message,
    "history.prometheus 'elsewhere' is not one of the operator's Prometheus sources for this namespace ('dark', 'main'); name one of them",
  );
  assert.deepEqual(nowhere.status?.recommendations ?? [], []);
});
