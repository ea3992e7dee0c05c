// The simulator's ground truth apart from Tailor, on the real control plane: a llama.cpp server
// told to hold far more context than Tailor estimated for is OOM-killed at its memory limit; and
// a server whose weights load slower than its startup probe allows is killed by the kubelet and
// restarted, with the kubelet's Events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { PRESET_IMAGES } from '../../src/controllers/models/presets.ts';
import { eventually } from '../support/cluster.ts';
import { createModel, eventReasons, modelPods, readModel, useModels } from '../support/models.ts';

const env = useModels('truth', 2);
const A = (): string => env.tenants[0]!;
const B = (): string => env.tenants[1]!;

function server(pod: k8s.V1Pod) {
  return {
    spec: pod.spec!.containers.find((c) => c.name === 'server')!,
    status: pod.status?.containerStatuses?.find((c) => c.name === 'server'),
  };
}

void test('llama.cpp given 64 times the context Tailor sized it for is OOM-killed at its memory limit, again and again', async () => {
  await createModel(env, {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'assistant', namespace: A() },
    spec: {
      model: {
        huggingFace: {
          repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF',
          revision: 'main',
          file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
        },
      },
      // -c replaces the preset's 2048: llama-server allocates (and clears) a KV buffer of 131072
      // tokens x 32 KiB = 4 GiB, which the estimate (for 2048 tokens) knows nothing of.
      runtime: { name: 'llamacpp', args: ['-c', '131072'] },
      serving: { contextLength: 2048, maxSequences: 1, dtype: 'auto' },
      replicas: 1,
      gpu: { count: 0, type: 'auto' },
      cache: { size: 'auto', storageClassName: 'tailor-sim' },
      sizing: { mode: 'Recommend', startupBoost: true },
    },
  });
  const killed = await eventually(
    async () => {
      const [p] = await modelPods(env, A(), 'assistant');
      assert.ok(p, 'assistant pod');
      const s = server(p);
      const last = s.status?.lastState?.terminated;
      assert.equal(last?.reason, 'OOMKilled', `last state ${JSON.stringify(s.status?.lastState)}`);
      assert.ok((s.status?.restartCount ?? 0) >= 2, `restarts ${s.status?.restartCount}`);
      return { p, s, last };
    },
    { what: 'the server OOM-killed twice', timeoutMs: 120_000, intervalMs: 1000 },
  );
  assert.equal(killed.last.exitCode, 137);
  assert.equal(killed.s.status?.ready, false, 'never Ready');
  // The limit is Tailor's (about 2 GiB for 2048 tokens); the server needs over 5 GiB.
  const limit = killed.s.spec.resources?.limits?.memory ?? '';
  assert.match(limit, /^\d+(Mi|Gi)$/);
  const m = await readModel(env, A(), 'assistant');
  assert.notEqual(m.status?.phase, 'Ready', `phase ${m.status?.phase}`);
});

void test('a startup probe that runs out before the weights are loaded: the kubelet kills the server and restarts it', async () => {
  // A plain Pod, as a user would write it: llama-server with a 0.8 GB model read at 10 MB/s (80 s),
  // and a startup probe that gives it 3 attempts, 2 s apart.
  const pod: k8s.V1Pod = {
    metadata: {
      name: 'slow-disk',
      namespace: B(),
      annotations: { 'sim.tailor.dev/params': JSON.stringify({ loadBytesPerSecond: 10e6 }) },
    },
    spec: {
      containers: [
        {
          name: 'server',
          image: PRESET_IMAGES.llamacpp,
          args: ['-m', '/models/Llama-3.2-1B-Instruct-Q4_K_M.gguf', '-c', '2048', '--port', '8080'],
          resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '2Gi' } },
          startupProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 2, failureThreshold: 3 },
          readinessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 5 },
        },
      ],
    },
  };
  await env.core.createNamespacedPod({ namespace: B(), body: pod });
  const restarted = await eventually(
    async () => {
      const p = await env.core.readNamespacedPod({ name: 'slow-disk', namespace: B() });
      const s = server(p);
      assert.ok((s.status?.restartCount ?? 0) >= 1, `restarts ${s.status?.restartCount}`);
      return { p, s };
    },
    { what: 'the startup probe to kill the server', timeoutMs: 60_000, intervalMs: 500 },
  );
  const last = restarted.s.status?.lastState?.terminated;
  assert.equal(last?.reason, 'Error');
  assert.equal(last?.exitCode, 137);
  assert.equal(restarted.s.status?.ready, false);
  const reasons = await eventually(
    async () => {
      const r = await eventReasons(env, B(), 'slow-disk');
      assert.ok(r.includes('Unhealthy') && r.includes('Killing'), `events: ${r.join(',')}`);
      return r;
    },
    { what: "the kubelet's Events", timeoutMs: 20_000 },
  );
  assert.ok(reasons.length >= 2);
  const events = await env.core.listNamespacedEvent({
    namespace: B(),
    fieldSelector: 'involvedObject.name=slow-disk',
  });
  const unhealthy = events.items.find((e) => e.reason === 'Unhealthy');
  assert.equal(unhealthy?.message, 'Startup probe failed: HTTP probe failed with statuscode: 503');
  assert.equal(
    events.items.find((e) => e.reason === 'Killing')?.message,
    'Container server failed startup probe, will be restarted',
  );
  // With a startup probe that waits long enough, the same server becomes Ready once loaded.
  await env.core.deleteNamespacedPod({ name: 'slow-disk', namespace: B() });
  const patient: k8s.V1Pod = {
    ...pod,
    metadata: {
      ...pod.metadata,
      name: 'patient',
      annotations: { 'sim.tailor.dev/params': JSON.stringify({ loadBytesPerSecond: 200e6 }) },
    },
  };
  patient.spec!.containers[0]!.startupProbe = {
    httpGet: { path: '/health', port: 8080 },
    periodSeconds: 2,
    failureThreshold: 30,
  };
  await env.core.createNamespacedPod({ namespace: B(), body: patient });
  const ready = await eventually(
    async () => {
      const p = await env.core.readNamespacedPod({ name: 'patient', namespace: B() });
      assert.equal(server(p).status?.ready, true, 'ready');
      return p;
    },
    { what: 'the patient server Ready', timeoutMs: 60_000, intervalMs: 500 },
  );
  assert.equal(server(ready).status?.restartCount, 0);
});
