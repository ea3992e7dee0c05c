// A ModelDeployment on a shared cluster, end to end on the real control plane: it never adopts or
// overwrites an object it did not create, and checks them all before it writes any; an API error
// shows in its status; it takes a token only from a Secret marked for Tailor, runs only preset or
// allowed images, and leaves replicas to a HorizontalPodAutoscaler that targets its Deployment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { clients, eventually } from '../support/cluster.ts';
import {
  createModel,
  eventReasons,
  modelCondition,
  objectNames,
  readModel,
  useModels,
} from '../support/models.ts';

const ALLOWED = 'registry.example.com/llm';
// One tenant per case, so each namespace shows only what its case wrote.
const env = useModels('mdown', 5, { allowedImages: [ALLOWED] });
const ns = (i: number): string => env.tenants[i]!;

/** A small catalogued GGUF on CPU: resolved without the hub, cheap on the simulator. */
function model(namespace: string, name: string, extra: { runtimeImage?: string; tokenSecret?: string } = {}) {
  return {
    apiVersion: 'tailor.dev/v1alpha1' as const,
    kind: 'ModelDeployment' as const,
    metadata: { name, namespace },
    spec: {
      model: {
        huggingFace: {
          repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF',
          revision: 'main',
          file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
          ...(extra.tokenSecret ? { tokenSecretRef: { name: extra.tokenSecret, key: 'token' } } : {}),
        },
      },
      runtime: { name: 'llamacpp' as const, ...(extra.runtimeImage ? { image: extra.runtimeImage } : {}) },
      serving: { contextLength: 2048, maxSequences: 1, dtype: 'auto' as const },
      replicas: 1,
      gpu: { count: 0, type: 'auto' },
      cache: { size: 'auto', storageClassName: 'tailor-sim' },
      sizing: { mode: 'Recommend' as const, startupBoost: false },
    },
  };
}

async function accepted(namespace: string, name: string, reason: string) {
  return eventually(
    async () => {
      const { md, condition } = await modelCondition(env, namespace, name, 'Accepted');
      assert.equal(condition?.reason, reason, `Accepted reason ${condition?.reason}: ${condition?.message}`);
      assert.equal(condition.observedGeneration, md.metadata.generation);
      return { md, condition };
    },
    { what: `${name}: Accepted reason ${reason}`, timeoutMs: 30_000 },
  );
}

/** Nothing of the ModelDeployment's was written: no Deployment, PVC or SizingPolicy by its name. */
async function nothingWritten(namespace: string, name: string) {
  const o = await objectNames(env, namespace);
  assert.ok(!o.deployments.includes(name), `no Deployment: ${o.deployments.join(',')}`);
  assert.ok(!o.pvcs.includes(`${name}-model-cache`), `no PVC: ${o.pvcs.join(',')}`);
  assert.ok(!o.sizingPolicies.includes(name), `no SizingPolicy: ${o.sizingPolicies.join(',')}`);
}

test("a tenant's own Service of the same name: NameConflict naming it, nothing created, the Service unchanged", async () => {
  const n = ns(0);
  const mine = await env.core.createNamespacedService({
    namespace: n,
    body: {
      metadata: { name: 'chat', labels: { app: 'tenant-web' } },
      spec: { selector: { app: 'tenant-web' }, ports: [{ name: 'web', port: 8080, targetPort: 8080 }] },
    },
  });
  await createModel(env, model(n, 'chat'));
  const { md, condition } = await accepted(n, 'chat', 'NameConflict');
  assert.equal(condition.status, 'False');
  assert.match(condition.message, /Service\/chat \(no controller; written by [^)]+\) already exists/);
  assert.match(condition.message, /never adopts or overwrites/);
  assert.match(condition.message, /To fix: rename the ModelDeployment/);
  assert.match(condition.message, /Nothing was created/);
  assert.equal(md.status?.phase, 'Failed');
  // Checked over a few resyncs: nothing is ever written, the tenant's Service is as it was.
  await new Promise((r) => setTimeout(r, 6_000));
  await nothingWritten(n, 'chat');
  const after = await env.core.readNamespacedService({ name: 'chat', namespace: n });
  assert.deepEqual(after.spec!.selector, { app: 'tenant-web' });
  assert.deepEqual(
    after.spec!.ports!.map((p) => [p.name, p.port]),
    [['web', 8080]],
  );
  assert.equal(after.metadata!.ownerReferences, undefined, 'not adopted');
  assert.equal(after.metadata!.resourceVersion, mine.metadata!.resourceVersion, 'not written at all');
  const reasons = await eventually(
    async () => {
      const r = await eventReasons(env, n, 'chat');
      assert.ok(r.includes('NameConflict'), `events: ${r.join(',')}`);
      return r;
    },
    { what: 'the NameConflict Event' },
  );
  assert.equal(reasons.filter((r) => r === 'NameConflict').length, 1, 'one Event, not one per resync');

  // The tenant removes its Service: the ModelDeployment goes ahead and owns everything it creates.
  await env.core.deleteNamespacedService({ name: 'chat', namespace: n });
  await eventually(
    async () => {
      const { md, condition } = await modelCondition(env, n, 'chat', 'Accepted');
      assert.equal(condition?.status, 'True', `Accepted: ${condition?.message}`);
      const s = await env.core.readNamespacedService({ name: 'chat', namespace: n });
      assert.equal(s.metadata!.ownerReferences?.[0]?.uid, md.metadata.uid);
    },
    { what: 'chat applied once the name is free', timeoutMs: 60_000 },
  );
});

test('an API error while writing shows in status (Synced=False, ReconcileError, the apiserver message) and clears once fixed', async () => {
  const n = ns(1);
  // A quota of no PVCs: the model cache, the first object written, is refused by the apiserver.
  await env.core.createNamespacedResourceQuota({
    namespace: n,
    body: { metadata: { name: 'no-volumes' }, spec: { hard: { persistentvolumeclaims: '0' } } },
  });
  await eventually(
    async () => {
      const q = await env.core.readNamespacedResourceQuota({ name: 'no-volumes', namespace: n });
      assert.ok(q.status?.hard?.persistentvolumeclaims !== undefined, 'quota status computed');
    },
    { what: 'the quota in force' },
  );
  await createModel(env, model(n, 'quota'));
  const synced = await eventually(
    async () => {
      const { condition } = await modelCondition(env, n, 'quota', 'Synced');
      assert.equal(condition?.status, 'False', `Synced ${condition?.status}`);
      return condition;
    },
    { what: 'the error in status', timeoutMs: 30_000 },
  );
  assert.equal(synced.reason, 'ReconcileError');
  assert.match(
    synced.message,
    /^apply PersistentVolumeClaim .*\/quota-model-cache: Forbidden \(HTTP 403\): .*exceeded quota: no-volumes/,
  );
  assert.doesNotMatch(synced.message, /Headers|HTTP-Code|Body:|\n/, 'one line, no dump');
  assert.ok(synced.message.length < 600, 'short');
  await nothingWritten(n, 'quota');
  const reasons = await eventReasons(env, n, 'quota');
  assert.ok(reasons.includes('ReconcileError'), `events: ${reasons.join(',')}`);

  // The quota goes: a retry (with backoff) succeeds and the condition turns True.
  await env.core.deleteNamespacedResourceQuota({ name: 'no-volumes', namespace: n });
  await eventually(
    async () => {
      const { condition } = await modelCondition(env, n, 'quota', 'Synced');
      assert.equal(condition?.status, 'True', `Synced: ${condition?.message}`);
      assert.equal(condition.reason, 'ReconcileSuccess');
      await env.apps.readNamespacedDeployment({ name: 'quota', namespace: n });
    },
    { what: 'recovered after the quota is removed', timeoutMs: 90_000, intervalMs: 1000 },
  );
});

test('a token Secret without the tailor.dev/huggingface-token label is refused, unread, until labelled', async () => {
  const n = ns(2);
  await env.core.createNamespacedSecret({
    namespace: n,
    body: { metadata: { name: 'hf' }, stringData: { token: 'hf_not_for_tailor' } },
  });
  await createModel(env, model(n, 'gated', { tokenSecret: 'hf' }));
  const { condition } = await accepted(n, 'gated', 'TokenSecretNotAllowed');
  assert.equal(condition.status, 'False');
  assert.match(condition.message, /Secret hf .*lacks the label tailor\.dev\/huggingface-token=true/);
  assert.match(
    condition.message,
    new RegExp(`kubectl label secret hf -n ${n} tailor\\.dev/huggingface-token=true`),
  );
  await nothingWritten(n, 'gated');

  // Labelled by its owner: accepted, and the download step gets the token from it.
  await env.core.patchNamespacedSecret(
    { name: 'hf', namespace: n, body: { metadata: { labels: { 'tailor.dev/huggingface-token': 'true' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const d = await eventually(() => env.apps.readNamespacedDeployment({ name: 'gated', namespace: n }), {
    what: 'gated applied once the Secret is labelled',
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
  const env0 = d.spec!.template.spec!.initContainers!.find((c) => c.name === 'download')!.env!;
  const selector = env0.find((e) => e.name === 'HF_TOKEN')?.valueFrom?.secretKeyRef;
  assert.deepEqual([selector?.name, selector?.key], ['hf', 'token']);
});

test('runtime.image outside the presets and --allowed-image is refused; one under an allowed prefix runs', async () => {
  const n = ns(3);
  await createModel(env, model(n, 'miner', { runtimeImage: 'docker.io/evil/miner:1' }));
  await createModel(env, model(n, 'sneaky', { runtimeImage: `${ALLOWED}-evil/server:1` }));
  await createModel(env, model(n, 'custom', { runtimeImage: `${ALLOWED}/llama.cpp:server-b5000` }));
  for (const name of ['miner', 'sneaky']) {
    const { condition } = await accepted(n, name, 'ImageNotAllowed');
    assert.equal(condition.status, 'False');
    assert.match(condition.message, /runtime\.image ".*" is neither a preset image/);
    assert.match(condition.message, /--allowed-image PREFIX/);
    await nothingWritten(n, name);
  }
  const d = await eventually(() => env.apps.readNamespacedDeployment({ name: 'custom', namespace: n }), {
    what: 'the allowed image applied',
  });
  assert.equal(d.spec!.template.spec!.containers[0]!.image, `${ALLOWED}/llama.cpp:server-b5000`);
});

test('a HorizontalPodAutoscaler on the Deployment owns replicas: the controller stops resetting them and says so', async () => {
  const n = ns(4);
  const created = await createModel(env, model(n, 'scaled'));
  await eventually(
    async () => {
      const d = await env.apps.readNamespacedDeployment({ name: 'scaled', namespace: n });
      assert.equal(d.spec!.replicas, 1);
      assert.equal(d.metadata!.ownerReferences?.[0]?.uid, created.metadata.uid);
    },
    { what: 'scaled applied with spec.replicas' },
  );
  const autoscaling = clients().kc.makeApiClient(k8s.AutoscalingV2Api);
  await autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace: n,
    body: {
      metadata: { name: 'scaled-hpa' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
        // Below minReplicas the HPA scales up whatever the metrics say.
        minReplicas: 2,
        maxReplicas: 3,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
      },
    },
  });
  await eventually(
    async () => {
      const d = await env.apps.readNamespacedDeployment({ name: 'scaled', namespace: n });
      assert.equal(d.spec!.replicas, 2, `replicas ${d.spec!.replicas}`);
    },
    { what: 'the HPA scaled to its minimum', timeoutMs: 60_000, intervalMs: 500 },
  );
  // Several resyncs (every 5 s here): the controller never puts spec.replicas (1) back.
  const until = Date.now() + 16_000;
  while (Date.now() < until) {
    const d = await env.apps.readNamespacedDeployment({ name: 'scaled', namespace: n });
    assert.equal(d.spec!.replicas, 2, 'replicas stay where the HPA put them');
    const ours = (d.metadata!.managedFields ?? []).filter(
      (f) => f.manager === 'tailor' && f.operation === 'Apply',
    );
    assert.ok(ours.length > 0, 'still applied by tailor');
    for (const f of ours)
      assert.ok(
        !('f:replicas' in ((f.fieldsV1 as { 'f:spec'?: object })['f:spec'] ?? {})),
        'tailor does not apply replicas',
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  const m = await eventually(
    async () => {
      const m = await readModel(env, n, 'scaled');
      assert.equal(m.status?.replicasManagedBy, 'HorizontalPodAutoscaler/scaled-hpa');
      return m;
    },
    { what: 'status names the HPA', timeoutMs: 30_000 },
  );
  assert.match(
    m.status!.conditions!.find((c) => c.type === 'Accepted')!.message,
    /replicas left to HorizontalPodAutoscaler\/scaled-hpa/,
  );
  const after = await readModel(env, n, 'scaled');
  assert.equal(after.status!.replicas, 2, "status shows the HPA's count");

  // The HPA goes: spec.replicas is applied again.
  await autoscaling.deleteNamespacedHorizontalPodAutoscaler({ name: 'scaled-hpa', namespace: n });
  await eventually(
    async () => {
      const d = await env.apps.readNamespacedDeployment({ name: 'scaled', namespace: n });
      assert.equal(d.spec!.replicas, 1);
      const m = await readModel(env, n, 'scaled');
      assert.equal(m.status?.replicasManagedBy, undefined);
    },
    { what: 'spec.replicas back once the HPA is gone', timeoutMs: 30_000 },
  );
});
