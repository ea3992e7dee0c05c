// The simulated kubelet's /metrics/resource (the text metrics-server scrapes) and the built-in
// metrics.k8s.io fallback that follows metrics-server's storage: the exact text and timestamps,
// running containers only, counters consistent at any clock speed; a pod absent until two scrapes,
// usage as the rate between scrapes stamped with the reading's time, not the request's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { counterSeconds, simClock, type Clock } from '../../src/sim/clock.ts';
import type { ContainerState, PodState } from '../../src/sim/kubelet/state.ts';
import {
  ContainerRunCounters,
  formatValue,
  NODE_SYSTEM_USAGE,
  NodeCpuCounters,
  readResources,
  resourceMetricsText,
} from '../../src/sim/metrics/resource-metrics.ts';
import { MetricsStore } from '../../src/sim/metrics/metrics-store.ts';
import { MetricsApi, quantities } from '../../src/sim/metrics/metrics-api.ts';
import { KubeletApi, loopbackAddressOf } from '../../src/sim/metrics/kubelet-api.ts';
import { resolutionFor } from '../../src/sim/metrics/metrics-server.ts';
import type { UsageView } from '../../src/sim/metrics/view.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import { SimVolumes } from '../../src/sim/volumes/store.ts';
import { newBook } from '../../src/sim/kubelet/resizer.ts';

const Mi = 2 ** 20;
const T0 = 1_764_680_000;

/** A clock the test moves: simulated time runs `speed` times the (fake) wall time. */
function movableClock(speed: number) {
  let wall = T0;
  const clock: Clock = simClock(speed, T0, () => wall);
  return { clock, advanceWall: (s: number) => (wall += s) };
}

function container(name: string, o: Partial<ContainerState> = {}): ContainerState {
  return {
    name,
    image: 'app:1',
    profile: { kind: 'idle', startupSeconds: 0, sample: () => o.usage!, volumeBytes: () => 0 },
    remake: () => {
      throw new Error('not in this test');
    },
    startedAt: T0,
    restartCount: 0,
    ready: true,
    allocated: { cpuRequest: 1, memoryRequest: 256 * Mi },
    actual: { cpuRequest: 1, memoryRequest: 256 * Mi },
    gpus: 0,
    policy: { cpu: 'NotRequired', memory: 'NotRequired' },
    consecutiveCrashes: 0,
    usage: { cpuCores: 0.25, memoryBytes: 100 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
    cpuSecondsTotal: 0,
    cfsPeriodsTotal: 0,
    cfsThrottledPeriodsTotal: 0,
    oomEventsTotal: 0,
    ...o,
  };
}

function pod(name: string, node: string, containers: ContainerState[], o: Partial<PodState> = {}): PodState {
  return {
    uid: `uid-${name}`,
    namespace: 'shop',
    name,
    node,
    labels: { app: name },
    phase: 'Running',
    startTime: T0,
    podIP: '10.0.0.1',
    hostIP: '127.0.0.1',
    generation: 1,
    observedGeneration: 1,
    containers: new Map(containers.map((c) => [c.name, c])),
    resizing: newBook({ spec: { containers: [] } }),
    claims: [],
    dirty: false,
    ...o,
  };
}

function viewOf(clock: Clock, pods: PodState[], nodes = ['node-a']): UsageView {
  return {
    now: () => clock.now(),
    nodes: () => nodes.map((name) => ({ name, labels: {} }) as unknown as SimNodeSpec),
    pods: () => pods,
    volumes: () => [],
    apiPods: () => [],
  };
}

/** The kubelet's counters advance as its tick moves them: on the wall-clock axis (docs/decisions/0023). */
function run(pods: PodState[], simSeconds: number, speed = 1): void {
  for (const p of pods)
    for (const c of p.containers.values())
      c.cpuSecondsTotal += c.usage.cpuCores * counterSeconds({ speed }, simSeconds);
}

test("the text is the kubelet's: sorted families and labels, [STABLE] help, ms timestamps; only running containers", () => {
  const { clock, advanceWall } = movableClock(1);
  const web = pod('web-0', 'node-a', [
    container('app', { cpuSecondsTotal: 12.5, startedAt: T0 - 100 }),
    container('sidecar', {
      cpuSecondsTotal: 0.000025,
      usage: { cpuCores: 0.01, memoryBytes: 8 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
    }),
  ]);
  const looping = pod('crashy-0', 'node-a', [
    container('app', { cpuSecondsTotal: 3, backOffUntil: T0 + 60, restartCount: 4 }),
  ]);
  const pending = pod('new-0', 'node-a', [container('app')], { phase: 'Pending' });
  const elsewhere = pod('far-0', 'node-b', [container('app', { cpuSecondsTotal: 1 })]);
  advanceWall(5);
  const reading = readResources(
    viewOf(clock, [web, looping, pending, elsewhere]),
    'node-a',
    clock,
    new NodeCpuCounters(),
    new ContainerRunCounters(),
  );
  const ms = (T0 + 5) * 1000;
  const nodeMemory = NODE_SYSTEM_USAGE.memoryBytes + 108 * Mi;
  assert.equal(
    resourceMetricsText(reading),
    [
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
      '# TYPE container_cpu_usage_seconds_total counter',
      `container_cpu_usage_seconds_total{container="app",namespace="shop",pod="web-0"} 12.5 ${ms}`,
      `container_cpu_usage_seconds_total{container="sidecar",namespace="shop",pod="web-0"} 2.5e-05 ${ms}`,
      '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
      '# TYPE container_memory_working_set_bytes gauge',
      `container_memory_working_set_bytes{container="app",namespace="shop",pod="web-0"} 1.048576e+08 ${ms}`,
      `container_memory_working_set_bytes{container="sidecar",namespace="shop",pod="web-0"} 8.388608e+06 ${ms}`,
      '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
      '# TYPE container_start_time_seconds gauge',
      `container_start_time_seconds{container="app",namespace="shop",pod="web-0"} ${formatValue(T0 - 100)}`,
      `container_start_time_seconds{container="sidecar",namespace="shop",pod="web-0"} ${formatValue(T0)}`,
      '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
      '# TYPE node_cpu_usage_seconds_total counter',
      `node_cpu_usage_seconds_total ${formatValue(NODE_SYSTEM_USAGE.cpuCores + 0.26)} ${ms}`,
      '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
      '# TYPE node_memory_working_set_bytes gauge',
      `node_memory_working_set_bytes ${formatValue(nodeMemory)} ${ms}`,
      '# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      '# TYPE pod_cpu_usage_seconds_total counter',
      `pod_cpu_usage_seconds_total{namespace="shop",pod="web-0"} ${formatValue(12.5 + 0.000025)} ${ms}`,
      '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
      '# TYPE pod_memory_working_set_bytes gauge',
      `pod_memory_working_set_bytes{namespace="shop",pod="web-0"} 1.13246208e+08 ${ms}`,
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 0',
      '',
    ].join('\n'),
  );
});

test('values are written as Go writes them (strconv g, shortest)', () => {
  assert.deepEqual([0, 1, 0.5, 12.5, 0.0001, 0.000025, 123456, 1e6, 1234567, 1.5e-7].map(formatValue), [
    '0',
    '1',
    '0.5',
    '12.5',
    '0.0001',
    '2.5e-05',
    '123456',
    '1e+06',
    '1.234567e+06',
    '1.5e-07',
  ]);
});

test('a node without running containers still reads its own processes (metrics-server drops a 0)', () => {
  const { clock } = movableClock(1);
  const text = resourceMetricsText(
    readResources(viewOf(clock, []), 'node-a', clock, new NodeCpuCounters(), new ContainerRunCounters()),
  );
  assert.doesNotMatch(text, /^container_|^pod_/m);
  assert.match(text, /^node_memory_working_set_bytes 4\.02653184e\+08 \d+$/m);
  assert.match(text, /^node_cpu_usage_seconds_total 0\.05 \d+$/m);
});

test('at clock speed 60 the counter over the wall-clock stamps is the simulated cores, and the node counter never falls', () => {
  const { clock, advanceWall } = movableClock(60);
  const c = container('app', {
    usage: { cpuCores: 1.5, memoryBytes: 64 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
  });
  const pods = [pod('llm-0', 'node-a', [c])];
  const view = viewOf(clock, pods);
  const nodeCpu = new NodeCpuCounters();
  const first = readResources(view, 'node-a', clock, nodeCpu, new ContainerRunCounters());
  advanceWall(15); // 900 simulated seconds
  run(pods, 900, 60);
  const second = readResources(view, 'node-a', clock, nodeCpu, new ContainerRunCounters());
  const rate = (a: { cpuSeconds: number; timestampMs: number }, b: typeof a) =>
    (b.cpuSeconds - a.cpuSeconds) / ((b.timestampMs - a.timestampMs) / 1000);
  assert.equal(
    second.pods[0]!.containers[0]!.timestampMs - first.pods[0]!.containers[0]!.timestampMs,
    15_000,
  );
  assert.ok(Math.abs(rate(first.pods[0]!.containers[0]!, second.pods[0]!.containers[0]!) - 1.5) < 1e-9);
  assert.ok(Math.abs(rate(first.node, second.node) - (1.5 + NODE_SYSTEM_USAGE.cpuCores)) < 1e-9);
  pods.length = 0; // the pod leaves the node
  advanceWall(15);
  const third = readResources(view, 'node-a', clock, nodeCpu, new ContainerRunCounters());
  assert.ok(third.node.cpuSeconds > second.node.cpuSeconds, 'monotonic');
});

test('metrics-server storage: a pod shows after two scrapes, at the scrape time, with the rate over the window', () => {
  const { clock, advanceWall } = movableClock(1);
  const c = container('app', { startedAt: T0 - 3600, cpuSecondsTotal: 100 });
  const pods = [pod('web-0', 'node-a', [c])];
  const view = viewOf(clock, pods);
  const nodeCpu = new NodeCpuCounters();
  const store = new MetricsStore(15_000);
  const scrape = () =>
    store.store(
      new Map([['node-a', readResources(view, 'node-a', clock, nodeCpu, new ContainerRunCounters())]]),
    );
  scrape();
  assert.equal(store.pod('shop', 'web-0'), undefined, 'one point: no rate yet');
  assert.equal(store.ready(), false);
  advanceWall(15);
  run(pods, 15);
  scrape();
  const m = store.pod('shop', 'web-0');
  assert.equal(m?.timestampMs, (T0 + 15) * 1000);
  assert.equal(m?.windowMs, 15_000);
  assert.ok(Math.abs(m.containers[0]!.usage.cpuCores - 0.25) < 1e-9);
  assert.equal(m.containers[0]!.usage.memoryBytes, 100 * Mi);
  assert.ok(store.node('node-a'), 'the node too');
  assert.equal(store.ready(), true);

  // The container restarts: its new run has one point, so the pod is gone until the next scrape.
  advanceWall(15);
  c.startedAt = clock.now() - 2;
  c.cpuSecondsTotal = 0.5;
  scrape();
  assert.equal(store.pod('shop', 'web-0'), undefined, 'restarted: waits for a second point');
  advanceWall(15);
  run(pods, 15);
  scrape();
  assert.ok(store.pod('shop', 'web-0'));

  // It crash-loops: not running, so missing from the scrape, and from metrics.k8s.io.
  c.backOffUntil = clock.now() + 40;
  advanceWall(15);
  scrape();
  assert.equal(store.pod('shop', 'web-0'), undefined);
});

test('metrics-server storage: a container started 10-15 s before the scrape counts from its start; a zero reading drops the pod', () => {
  const { clock, advanceWall } = movableClock(1);
  const fresh = container('app', { startedAt: T0, cpuSecondsTotal: 3 });
  const idle = container('app', { startedAt: T0 - 600, cpuSecondsTotal: 0 });
  const pods = [pod('fresh-0', 'node-a', [fresh]), pod('idle-0', 'node-a', [idle])];
  const view = viewOf(clock, pods);
  const store = new MetricsStore(15_000);
  advanceWall(12);
  store.store(
    new Map([
      ['node-a', readResources(view, 'node-a', clock, new NodeCpuCounters(), new ContainerRunCounters())],
    ]),
  );
  const m = store.pod('shop', 'fresh-0');
  assert.equal(m?.windowMs, 12_000, 'from the container start');
  assert.ok(Math.abs(m.containers[0]!.usage.cpuCores - 0.25) < 1e-9);
  assert.equal(store.pod('shop', 'idle-0'), undefined, 'a 0 CPU counter: incomplete point, dropped');
});

interface MetricsBody {
  kind: string;
  timestamp: string;
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
  items: { metadata: { name: string } }[];
}

/** GET through the built-in server's handler: status and JSON body. */
function call(api: MetricsApi, url: string): { status: number; body: MetricsBody } {
  let status = 0;
  let text = '';
  const res = {
    writeHead(s: number) {
      status = s;
      return res;
    },
    end(t?: string) {
      text = t ?? '';
      if (!status) status = 200;
    },
  };
  api.handle({ url } as IncomingMessage, res as unknown as ServerResponse);
  return { status, body: (text.startsWith('{') ? JSON.parse(text) : {}) as MetricsBody };
}

test('built-in metrics.k8s.io: timestamps move by the resolution, not per request; new pods wait two scrapes', () => {
  const { clock, advanceWall } = movableClock(1);
  const pods = [pod('web-0', 'node-a', [container('app', { startedAt: T0 - 3600, cpuSecondsTotal: 10 })])];
  const view = viewOf(clock, pods);
  const nodeCpu = new NodeCpuCounters();
  const api = new MetricsApi(view, {
    resolutionMs: 15_000,
    read: (node) => readResources(view, node, clock, nodeCpu, new ContainerRunCounters()),
  });
  api.scrape();
  assert.equal(call(api, '/readyz').status, 500, 'not ready before a rate');
  assert.deepEqual(call(api, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods').body.items, []);
  assert.equal(call(api, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-0').status, 404);
  advanceWall(15);
  run(pods, 15);
  api.scrape();
  const first = call(api, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-0').body;
  assert.equal(first.timestamp, new Date((T0 + 15) * 1000).toISOString().replace('.000Z', 'Z'));
  assert.equal(first.window, '15s');
  assert.deepEqual(first.containers, [{ name: 'app', usage: { cpu: '250m', memory: '100Mi' } }]);
  advanceWall(7);
  const again = call(api, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-0').body;
  assert.equal(again.timestamp, first.timestamp, 'the same scrape: the same timestamp');
  advanceWall(8);
  run(pods, 15);
  api.scrape();
  const next = call(api, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-0').body;
  assert.equal(Date.parse(next.timestamp) - Date.parse(first.timestamp), 15_000);
  // A pod that arrives now is absent until it has two points.
  pods.push(pod('new-0', 'node-a', [container('app', { startedAt: clock.now() - 1, cpuSecondsTotal: 0.1 })]));
  advanceWall(15);
  run(pods, 15);
  api.scrape();
  const names = () =>
    call(api, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods').body.items.map((i) => i.metadata.name);
  assert.deepEqual(names(), ['web-0']);
  advanceWall(15);
  run(pods, 15);
  api.scrape();
  assert.deepEqual(names(), ['web-0', 'new-0']);
  const node = call(api, '/apis/metrics.k8s.io/v1beta1/nodes/node-a').body;
  assert.equal(node.kind, 'NodeMetrics');
  assert.equal(node.window, '15s');
});

test('quantities in their canonical form; resolution scaled for a fast clock, never under 10 s', () => {
  assert.deepEqual(quantities({ cpuCores: 0.25, memoryBytes: 100 * Mi }), { cpu: '250m', memory: '100Mi' });
  assert.deepEqual(quantities({ cpuCores: 2, memoryBytes: 1536 * 1024 }), { cpu: '2', memory: '1536Ki' });
  assert.deepEqual(quantities({ cpuCores: 0.0000123, memoryBytes: 1000 }), { cpu: '12300n', memory: '1000' });
  assert.equal(resolutionFor(1), 15);
  assert.equal(resolutionFor(60), 10);
  assert.equal(resolutionFor(1, 30), 30);
  assert.equal(resolutionFor(2, 30), 15);
  assert.throws(() => resolutionFor(1, 5), /at least 10s/);
});

test("/metrics/resource over HTTPS on the node's own loopback address, authorized as nodes/metrics", async (t) => {
  const { clock } = movableClock(1);
  const pods = [pod('web-0', 'node-a', [container('app', { cpuSecondsTotal: 2 })])];
  const view = viewOf(clock, pods);
  const asked: string[] = [];
  const nodeCpu = new NodeCpuCounters();
  const volumes = new SimVolumes({ capacityOf: () => 2 ** 30, throughputBytesPerSecond: 2 ** 27 });
  const api = new KubeletApi(
    view,
    volumes,
    clock,
    (token, node, subresource) => {
      asked.push(`${node}/${subresource}`);
      return Promise.resolve({ allowed: token === 'good', user: 'system:serviceaccount:kube-system:ms' });
    },
    (node) => readResources(view, node, clock, nodeCpu, new ContainerRunCounters()),
  );
  const address = loopbackAddressOf('node-a');
  assert.match(address, /^127\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
  assert.equal(loopbackAddressOf('node-a'), address, 'stable');
  await api.start([{ name: 'node-a', address, port: 0 }]);
  t.after(() => api.stop());
  const fetch = (token: string) =>
    new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
      get(
        `https://${address}:${api.ports.get('node-a')}/metrics/resource`,
        { ca: api.caPem, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }),
          );
        },
      ).on('error', reject);
    });
  const ok = await fetch('good');
  assert.equal(ok.status, 200);
  assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
  assert.match(
    ok.text,
    /^container_cpu_usage_seconds_total\{container="app",namespace="shop",pod="web-0"\} 2 \d+$/m,
  );
  const refused = await fetch('bad');
  assert.equal(refused.status, 403);
  assert.match(refused.text, /subresource\(s\)=\[metrics\]/);
  assert.deepEqual(asked, ['node-a/metrics', 'node-a/metrics']);
  assert.equal(api.stats.resourceScrapes, 1);
});

test('a restarted container counts from 0 at its new start, as a new cgroup does', () => {
  const { clock, advanceWall } = movableClock(1);
  const c = container('app', { restartCount: 1, cpuSecondsTotal: 100, startedAt: T0 });
  const pods = [pod('again-0', 'node-a', [c])];
  const view = viewOf(clock, pods);
  const runs = new ContainerRunCounters();
  advanceWall(4);
  run(pods, 4);
  const first = readResources(view, 'node-a', clock, new NodeCpuCounters(), runs);
  assert.ok(Math.abs(first.pods[0]!.containers[0]!.cpuSeconds - 1) < 1e-9, 'four seconds at 0.25 cores');
  advanceWall(10);
  run(pods, 10);
  const second = readResources(view, 'node-a', clock, new NodeCpuCounters(), runs);
  assert.ok(Math.abs(second.pods[0]!.containers[0]!.cpuSeconds - 3.5) < 1e-9);
});
