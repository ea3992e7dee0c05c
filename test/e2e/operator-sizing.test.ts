// The operator's sizing controller on the real control plane and simulator, in-process: a Deployment
// over-provisioned 4x is brought down in place with no restart; an OOM-killed container gets more
// memory within seconds; Recommend mode publishes and never touches a pod; a policy naming a missing
// Deployment gets a condition; in Auto without the admission webhook, a resize the node cannot fit
// evicts nothing and the policy says why (the eviction with the webhook and a PDB: operator-webhook).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatch } from '../../src/kube/client.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually, idleDeployment, simPod, useCluster } from '../support/cluster.ts';
import {
  HOG_CORES,
  Mi,
  conditionOf,
  createPolicy,
  eventsFor,
  expectPolicyStatus,
  expectResized,
  hogOnItsOwnNode,
  podOf,
  useTestOperator,
  overProvisioned,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
// Without the models and start-up boost controllers: the boost test below plays that controller's
// part by hand, to show the sizing controller's own rule.
const operator = useTestOperator(cluster, { models: false });

const q = (v: string | undefined) => parseQuantity(v) ?? NaN;

test('InPlace: a Deployment over-provisioned 4x is brought down in place, no restart, Events on pod and policy', async () => {
  const { apps, core, namespace } = cluster;
  // Uses 50m and 100Mi; requests 4x that, limits twice the requests.
  await apps.createNamespacedDeployment({
    namespace,
    body: overProvisioned('web'),
  });
  const before = await podOf(cluster, 'web');
  const name = before.metadata!.name!;
  await createPolicy(cluster, 'web', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  });

  const after = await expectResized(cluster, name, (r) => {
    assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} below 100m`);
    assert.ok(q(r.requests?.memory) < 200 * Mi, `memory request ${r.requests?.memory} below 200Mi`);
  });
  const r = after.spec!.containers[0]!.resources!;
  // Never below what it uses; limits keep their 2:1 ratio, so the QoS class stays Burstable.
  assert.ok(q(r.requests?.cpu) >= 0.05, `cpu ${r.requests?.cpu} at least the 50m used`);
  assert.ok(q(r.requests?.memory) >= 100 * Mi, `memory ${r.requests?.memory} at least the 100Mi used`);
  assert.equal(q(r.limits?.memory), 2 * q(r.requests?.memory), 'memory limit keeps the ratio');
  assert.equal(after.status?.qosClass, 'Burstable');

  // Applied by the (simulated) kubelet in place: same pod, no restart.
  const applied = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name, namespace });
      const cs = p.status!.containerStatuses![0]!;
      assert.equal(cs.resources?.requests?.memory, r.requests?.memory, 'kubelet applied memory');
      return p;
    },
    { what: 'the kubelet to apply the resize' },
  );
  assert.equal(applied.metadata!.uid, before.metadata!.uid, 'the same pod');
  assert.equal(applied.status!.containerStatuses![0]!.restartCount, 0, 'no restart');

  await eventually(
    async () => {
      const onPod = await eventsFor(cluster, 'Pod', name, 'Resized');
      const onPolicy = await eventsFor(cluster, 'SizingPolicy', 'web', 'Resized');
      assert.ok(onPod.length >= 1, 'a Resized event on the pod');
      assert.ok(onPolicy.length >= 1, 'a Resized event on the policy');
      assert.match(onPod[0]!.message!, /app: cpu 200m -> \d+m/, 'the event says before -> after');
    },
    { what: 'Resized events' },
  );
  const p = await expectPolicyStatus(cluster, 'web', (s) => {
    assert.equal(conditionOf(s, 'Ready')?.status, 'True', `Ready: ${JSON.stringify(s.status?.conditions)}`);
    assert.ok(s.status?.lastApplied, 'lastApplied set');
  });
  assert.equal(p.status?.target, 'Deployment/web');
  assert.equal(p.status?.pods?.targeted, 1);
  assert.equal(p.status?.recommendations?.[0]?.name, 'app');
  assert.match(p.status?.lastApplied?.summary ?? '', new RegExp(name));
  // 150m and 300Mi requested for nothing: a positive saving.
  assert.ok(Number(p.status?.estimatedMonthlySavings?.cost) > 0, 'a saving against the declared requests');
  assert.equal(p.status?.estimatedMonthlySavings?.currency, 'USD');
});

test('OOM kill: the container gets a larger memory limit in place within seconds', async (t) => {
  const { core, namespace } = cluster;
  await createPolicy(cluster, 'leaky', { mode: 'InPlace', selector: { matchLabels: { app: 'leaky' } } });
  // Uses 200Mi under a 160Mi limit: killed as soon as it runs.
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'leaky',
      profile: 'idle',
      params: { memoryBytes: 200 * Mi, cpuCores: 0.02, noise: 0, startupSeconds: 0 },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '160Mi' } },
    }),
  });
  const killed = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name: 'leaky', namespace });
      const term = p.status?.containerStatuses?.[0]?.lastState?.terminated;
      assert.equal(term?.reason, 'OOMKilled', `last termination ${term?.reason}`);
      return new Date(term.finishedAt!).getTime();
    },
    { intervalMs: 100, what: 'an OOM kill' },
  );
  const raised = await expectResized(
    cluster,
    'leaky',
    (r) => assert.ok(q(r.limits?.memory) > 160 * Mi, `memory limit ${r.limits?.memory} raised`),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  const reaction = Date.now() - killed;
  assert.ok(reaction < 10_000, `raised ${reaction} ms after the OOM kill`);
  t.diagnostic(`OOM kill to raised limit seen in the API: ${reaction} ms`);
  const r = raised.spec!.containers[0]!.resources!;
  // At least max(usage x 1.2, usage + 100Mi) over the 160Mi it was killed at.
  assert.ok(q(r.requests?.memory) >= 260 * Mi, `memory request ${r.requests?.memory}`);
  await eventually(
    async () => {
      const e = await eventsFor(cluster, 'Pod', 'leaky', 'OOMRaised');
      assert.ok(e.length >= 1, 'an OOMRaised event on the pod');
    },
    { what: 'OOMRaised event' },
  );
});

test('Recommend: status gets recommendations, the pod is never changed', async () => {
  const { apps, core, namespace } = cluster;
  await apps.createNamespacedDeployment({
    namespace,
    body: overProvisioned('quiet'),
  });
  const pod = await podOf(cluster, 'quiet');
  const name = pod.metadata!.name!;
  await createPolicy(cluster, 'quiet', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'quiet' },
  });
  const p = await expectPolicyStatus(cluster, 'quiet', (s) => {
    const rec = s.status?.recommendations?.find((x) => x.name === 'app');
    assert.ok(
      rec?.target.cpu !== undefined && rec.target.memory !== undefined,
      `recommendation ${JSON.stringify(rec)}`,
    );
  });
  assert.equal(conditionOf(p, 'Ready')?.reason, 'Recommending');
  const rec = p.status!.recommendations![0]!;
  assert.ok(q(String(rec.target.cpu)) < 0.2, `recommended cpu ${rec.target.cpu} below the 200m requested`);
  assert.ok(rec.basis && /one-minute samples? from 1 pod/.test(rec.basis), `basis ${rec.basis}`);
  assert.ok(
    Number(p.status?.estimatedMonthlySavings?.cost) > 0,
    `saving ${p.status?.estimatedMonthlySavings?.cost}`,
  );

  // Several passes later (polls every second): the pod is as it was.
  await new Promise((r) => setTimeout(r, 5000));
  const now = await core.readNamespacedPod({ name, namespace });
  assert.equal(now.metadata?.generation, pod.metadata?.generation, 'generation unchanged');
  assert.deepEqual(now.spec?.containers[0]?.resources, pod.spec?.containers[0]?.resources);
  assert.equal((await eventsFor(cluster, 'Pod', name, 'Resized')).length, 0, 'no Resized event');
});

test('a policy naming a missing Deployment gets TargetFound=False; the operator keeps running', async () => {
  await createPolicy(cluster, 'ghost', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'not-there' },
  });
  const p = await expectPolicyStatus(cluster, 'ghost', (s) => {
    const c = conditionOf(s, 'TargetFound');
    assert.equal(c?.status, 'False', `TargetFound ${JSON.stringify(c)}`);
  });
  assert.equal(conditionOf(p, 'TargetFound')?.reason, 'TargetNotFound');
  assert.equal(conditionOf(p, 'Ready')?.status, 'False');
  assert.match(conditionOf(p, 'TargetFound')!.message, /Deployment\/not-there not found/);
  for (const path of ['/healthz', '/readyz']) {
    const res = await fetch(`${operator.current.url}${path}`);
    assert.equal(res.status, 200, `${path} answers 200`);
  }
  const metrics = await (await fetch(`${operator.current.url}/metrics`)).text();
  assert.match(metrics, /tailor_reconciles_total\{controller="sizing",result="ok"\} [1-9]/);
  assert.match(metrics, /tailor_resizes_total\{result="Applied",reason=""\}/);
});

test('Auto without the webhook: a resize the node cannot fit evicts nothing, and the policy says why (EvictionsBlocked/NoAdmissionWebhook)', async () => {
  const { apps, core, namespace } = cluster;
  // Uses 1.9 of its 2-core hog node's cores: the recommendation (about 2.6) cannot fit there. An
  // evicted pod would come back at its template size (no webhook here) and need evicting again, forever.
  const body = hogOnItsOwnNode(
    idleDeployment(
      'big',
      1,
      { cpuCores: HOG_CORES, memoryBytes: 50 * Mi },
      { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    ),
  );
  await apps.createNamespacedDeployment({ namespace, body });
  const pod = await podOf(cluster, 'big');
  const name = pod.metadata!.name!;
  await createPolicy(cluster, 'big', {
    mode: 'Auto',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'big' },
  });

  // The raise is refused by the apiserver (the node has 1930m allocatable); the policy says evictions are held.
  await eventually(
    async () => {
      const infeasible = await eventsFor(cluster, 'Pod', name, 'ResizeInfeasible');
      assert.ok(infeasible.length >= 1, 'a ResizeInfeasible event');
    },
    { timeoutMs: 60_000, what: 'the resize refused' },
  );
  await expectPolicyStatus(cluster, 'big', (p) => {
    const c = conditionOf(p, 'EvictionsBlocked');
    assert.equal(c?.status, 'True', `EvictionsBlocked: ${JSON.stringify(c)}`);
    assert.equal(c?.reason, 'NoAdmissionWebhook');
    assert.match(c?.message ?? '', /--webhook/, 'says how to fix it');
  });
  const told = await eventually(
    async () => {
      const ev = await eventsFor(cluster, 'SizingPolicy', 'big', 'NoAdmissionWebhook');
      assert.ok(ev.length >= 1, 'a NoAdmissionWebhook event on the policy');
      return ev;
    },
    { what: 'the NoAdmissionWebhook event' },
  );
  await new Promise((r) => setTimeout(r, 6000));
  const still = await core.readNamespacedPod({ name, namespace });
  assert.equal(still.metadata?.uid, pod.metadata?.uid, 'not evicted');
  assert.ok(!still.metadata?.deletionTimestamp, 'not being deleted');
  assert.equal((await eventsFor(cluster, 'Pod', name, 'Evicted')).length, 0, 'no Evicted event');
  assert.equal(
    (await eventsFor(cluster, 'SizingPolicy', 'big', 'NoAdmissionWebhook')).length,
    told.length,
    'said once, not on every pass',
  );
  const metrics = await (await fetch(`${operator.current.url}/metrics`)).text();
  assert.doesNotMatch(metrics, /tailor_evictions_total\{result="Evicted"\} [1-9]/);
  await apps.deleteNamespacedDeployment({ name: 'big', namespace });
});

test('a pod in its start-up boost is left to that controller, counted as skipped, and sized once the boost is done', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'boosted',
      profile: 'idle',
      params: { memoryBytes: 100 * Mi, cpuCores: 0.05, noise: 0, startupSeconds: 0 },
      resources: { requests: { cpu: '200m', memory: '400Mi' }, limits: { cpu: '400m', memory: '800Mi' } },
      annotations: { 'tailor.dev/startup-boost': '{"cpu":"2"}' },
    }),
  });
  await createPolicy(cluster, 'boosted', { mode: 'InPlace', selector: { matchLabels: { app: 'boosted' } } });
  await expectPolicyStatus(cluster, 'boosted', (s) => {
    assert.equal(s.status?.pods?.skipped, 1, `pods ${JSON.stringify(s.status?.pods)}`);
    assert.ok((s.status?.recommendations?.length ?? 0) > 0, 'a recommendation from its usage');
  });
  await new Promise((r) => setTimeout(r, 3000));
  const held = await core.readNamespacedPod({ name: 'boosted', namespace });
  assert.equal(held.spec?.containers[0]?.resources?.requests?.cpu, '200m', 'not resized during the boost');

  await core.patchNamespacedPod(
    {
      name: 'boosted',
      namespace,
      body: { metadata: { annotations: { 'tailor.dev/startup-boost-done': 'true' } } },
    },
    mergePatch,
  );
  await expectResized(cluster, 'boosted', (r) =>
    assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} lowered after the boost`),
  );
});
