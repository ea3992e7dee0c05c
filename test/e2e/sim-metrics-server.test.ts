// metrics.k8s.io on the real control plane served by the real metrics-server (v0.8.0, built by
// test/support/build-cache.ts) scraping the simulated kubelets' /metrics/resource: samples move by
// the resolution, not per request; a new pod is absent until it has two points; a crash-looping
// container is left out; `kubectl top` reads it through the aggregator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { eventually, expectReady, simPod, useCluster } from '../support/cluster.ts';
import { parseQuantity } from '../../src/core/quantity.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const RESOLUTION_S = 15;

interface PodMetrics {
  timestamp: string;
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}

const metrics = () => cluster.kc.makeApiClient(k8s.CustomObjectsApi);

/** The PodMetrics of a pod, or undefined while metrics-server has none (404). */
async function podMetrics(name: string): Promise<PodMetrics | undefined> {
  try {
    return (await metrics().getNamespacedCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      namespace: cluster.namespace,
      plural: 'pods',
      name,
    })) as PodMetrics;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

const seconds = (window: string) => Number(/^([\d.]+)s$/.exec(window)?.[1] ?? NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the run serves metrics.k8s.io with the real metrics-server', () => {
  assert.equal(
    process.env.TAILOR_TEST_METRICS_BACKEND,
    'metrics-server',
    'build it with `node --import tsx test/support/build-cache.ts` (CI does)',
  );
});

test('a new pod is absent until two scrapes; then samples move by the resolution, not per request', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'steady',
      profile: 'idle',
      params: { memoryBytes: 200 * Mi, cpuCores: 0.2, startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '250m', memory: '256Mi' } },
    }),
  });
  const ready = await expectReady(core, namespace, 'steady');
  const startedAt = Date.parse(String(ready.status!.containerStatuses![0]!.state!.running!.startedAt));
  assert.equal(await podMetrics('steady'), undefined, 'no rate from a single point');
  const first = await eventually(
    async () => {
      const m = await podMetrics('steady');
      assert.ok(m, 'PodMetrics of steady');
      return m;
    },
    { timeoutMs: 4 * RESOLUTION_S * 1000, intervalMs: 500, what: 'PodMetrics of a new pod' },
  );
  // Two points: the container's start counts as the first only from 10 s on (storage/pod.go).
  assert.ok(
    Date.parse(first.timestamp) - startedAt >= 9_000,
    `first sample at ${first.timestamp}, container started ${new Date(startedAt).toISOString()}`,
  );
  assert.ok(seconds(first.window) >= 9 && seconds(first.window) <= RESOLUTION_S + 2, first.window);
  assert.deepEqual(
    first.containers.map((c) => c.name),
    ['app'],
  );
  assert.equal(first.containers[0]!.usage.memory, '200Mi');
  // Nanocores as a rule ("199873412n"), but a rate of exactly 0.2 core is canonical "200m".
  const cpu = parseQuantity(first.containers[0]!.usage.cpu) ?? NaN;
  assert.ok(Math.abs(cpu - 0.2) < 0.01, `cpu ${first.containers[0]!.usage.cpu}`);

  // Read every second for 20 s: at most two scrapes show, RESOLUTION_S apart.
  const stamps = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const m = await podMetrics('steady');
    if (m) stamps.add(m.timestamp);
    await sleep(1000);
  }
  const times = [first.timestamp, ...stamps].map(Date.parse).sort((a, b) => a - b);
  const distinct = [...new Set(times)];
  assert.ok(distinct.length >= 2 && distinct.length <= 3, `timestamps ${[...stamps].join(', ')}`);
  for (let i = 1; i < distinct.length; i++) {
    const gap = (distinct[i]! - distinct[i - 1]!) / 1000;
    assert.ok(Math.abs(gap - RESOLUTION_S) <= 2, `scrapes ${gap}s apart`);
  }
});

test('a crash-looping container has no running container to measure: its pod is left out', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'looping',
      profile: 'idle',
      params: { memoryBytes: 300 * Mi, cpuCores: 0.1, startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } },
    }),
  });
  await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name: 'looping', namespace });
      const cs = p.status?.containerStatuses?.[0];
      assert.equal(cs?.state?.waiting?.reason, 'CrashLoopBackOff');
      assert.ok((cs?.restartCount ?? 0) >= 2);
    },
    { timeoutMs: 60_000, what: 'CrashLoopBackOff' },
  );
  // Two resolutions: a scrape that found it running would have had a second point by then.
  for (let i = 0; i < 2 * RESOLUTION_S; i += 3) {
    assert.equal(
      await podMetrics('looping'),
      undefined,
      'no PodMetrics for a pod whose container is not running',
    );
    await sleep(3000);
  }
});

test('kubectl top nodes and pods read metrics-server through the aggregator', async () => {
  const out = await eventually(
    () => {
      const r = cluster.kubectl('top', 'nodes', '--no-headers', '-l', 'sim.tailor.dev/pool=general');
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout;
    },
    { timeoutMs: 60_000, what: 'kubectl top nodes' },
  );
  assert.equal(out.trim().split('\n').length, 3, out);
  for (const line of out.trim().split('\n'))
    assert.match(line, /^sim-general-\d\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/);
});
