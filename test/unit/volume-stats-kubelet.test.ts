// The kubelet Summary API source against the simulator's kubelet endpoints (in process, no
// cluster): node address and port from the Node object, the certificate verified against the CA
// given (refused otherwise unless insecure is asked), the token sent, samples at the kubelet's
// time and the same figures the simulator's Prometheus endpoint exports; a refusing or dead node
// is logged once and its claims get nothing fresh; an oversized answer is cut off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { KubeletApi } from '../../src/sim/metrics/kubelet-api.ts';
import { exposition } from '../../src/sim/metrics/prometheus.ts';
import type { UsageView } from '../../src/sim/metrics/view.ts';
import type { PodState } from '../../src/sim/kubelet/state.ts';
import { manualClock } from '../../src/sim/clock.ts';
import { SimVolumes } from '../../src/sim/volumes/store.ts';
import { NO_WRITES } from '../../src/sim/volumes/writes.ts';
import { newBook } from '../../src/sim/kubelet/resizer.ts';
import { KubeletVolumeStats, kubeletUrl } from '../../src/sources/volume-stats/kubelet.ts';

const Gi = 2 ** 30;

function world() {
  const clock = manualClock(1_764_680_000);
  const volumes = new SimVolumes({ capacityOf: () => 10 * Gi, throughputBytesPerSecond: 2 ** 27 });
  const pod = (name: string, node: string, ns: string, claim: string): PodState => ({
    uid: `uid-${name}`,
    namespace: ns,
    name,
    node,
    labels: {},
    phase: 'Running',
    startTime: clock.now(),
    podIP: '10.0.0.1',
    hostIP: '127.0.0.1',
    generation: 1,
    observedGeneration: 1,
    containers: new Map(),
    resizing: newBook({}),
    claims: [claim],
    dirty: false,
    volumes: [
      {
        claim,
        volumeName: 'data',
        writes: { ...NO_WRITES, cacheBytesPerHour: 3600 * 2 ** 20 },
        downloadBytes: 0,
        downloadKey: 'x',
      },
    ],
  });
  const pods = [pod('a-0', 'node-a', 'shop', 'cache'), pod('b-0', 'node-b', 'other', 'logs')];
  const view: UsageView = {
    now: () => clock.now(),
    nodes: () => [],
    pods: () => pods,
    apiPods: () => [],
    volumes: () =>
      pods.map((p) => {
        const s = volumes.statOf(p.namespace, p.claims[0]!, clock.now())!;
        return { namespace: p.namespace, claim: p.claims[0]!, ...s };
      }),
  };
  return { clock, volumes, pods, view };
}

function nodeObject(name: string, port: number | undefined): k8s.V1Node {
  return {
    metadata: { name },
    status: {
      addresses: [
        { type: 'Hostname', address: name },
        { type: 'InternalIP', address: '127.0.0.1' },
      ],
      ...(port ? { daemonEndpoints: { kubeletEndpoint: { Port: port } } } : {}),
    },
  };
}

function logSink() {
  const lines: { msg: string; node?: string }[] = [];
  const log = pino(
    { level: 'info' },
    { write: (s: string) => lines.push(JSON.parse(s) as { msg: string; node?: string }) },
  );
  return { log, lines };
}

test('Summary API: verified TLS, token, samples at the kubelet time equal to the Prometheus figures', async (t) => {
  const { clock, volumes, pods, view } = world();
  const tokens: string[] = [];
  const api = new KubeletApi(view, volumes, clock, (token, node) => {
    tokens.push(`${node}:${token}`);
    return Promise.resolve({ allowed: token === 'good', user: 'system:serviceaccount:tailor:tailor' });
  });
  await api.start([
    { name: 'node-a', address: '127.0.0.1', port: 0 },
    { name: 'node-b', address: '127.0.0.1', port: 0 },
  ]);
  t.after(() => api.stop());
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-src-'));
  writeFileSync(join(dir, 'ca.crt'), api.caPem);
  writeFileSync(join(dir, 'token'), 'good\n');
  const nodes = [
    nodeObject('node-a', api.ports.get('node-a')),
    nodeObject('node-b', api.ports.get('node-b')),
  ];
  const { log, lines } = logSink();
  const source = new KubeletVolumeStats({
    listNodes: () => nodes,
    bearerTokenFile: join(dir, 'token'),
    caFile: join(dir, 'ca.crt'),
    now: () => clock.now(),
    log,
  });
  t.after(() => source.stop());

  // Three minutes of a growing cache, a poll each minute.
  for (let m = 0; m < 3; m++) {
    for (const p of pods) volumes.runStep(p, clock.now(), 60);
    const polled = await source.poll();
    assert.deepEqual(
      polled.map((p) => p.result),
      ['Ok', 'Ok'],
    );
    clock.advance(60);
  }
  assert.ok(
    tokens.every((x) => x.endsWith(':good')),
    'the token is sent',
  );
  const got = await source.read(0);
  assert.deepEqual([...got.keys()].sort(), ['other/logs', 'shop/cache']);
  const cache = got.get('shop/cache')!;
  assert.equal(cache.length, 3);
  assert.ok(cache[2]!.usedBytes > cache[0]!.usedBytes);
  // The same figures as the Prometheus endpoint, at the kubelet's time.
  const text = exposition(view);
  const metric = (name: string) =>
    Number(
      new RegExp(`^${name}\\{namespace="shop",persistentvolumeclaim="cache"\\} (\\S+)$`, 'm').exec(text)![1],
    );
  const last = cache[2]!;
  assert.equal(last.usedBytes, metric('kubelet_volume_stats_used_bytes'));
  assert.equal(last.capacityBytes, metric('kubelet_volume_stats_capacity_bytes'));
  assert.equal(last.availableBytes, metric('kubelet_volume_stats_available_bytes'));
  assert.equal(last.inodes, metric('kubelet_volume_stats_inodes'));
  assert.equal(last.inodesUsed, metric('kubelet_volume_stats_inodes_used'));
  assert.equal(last.inodesFree, metric('kubelet_volume_stats_inodes_free'));
  assert.equal(last.at, clock.now() - 60, 'stamped when the kubelet read the file system');
  // Namespaces: only the ones asked for.
  assert.deepEqual([...(await source.read(0, ['shop'])).keys()], ['shop/cache']);
  assert.equal((await source.read(clock.now())).size, 0, 'nothing since now');
  assert.equal(lines.length, 0, String(lines.map((l) => l.msg)));
});

test('a refused token, a dead node and a wrong CA: logged once per node, no fresh samples', async (t) => {
  const { clock, volumes, view } = world();
  const api = new KubeletApi(view, volumes, clock, (token) =>
    Promise.resolve({ allowed: token === 'good', user: 'system:serviceaccount:tailor:nobody' }),
  );
  await api.start([
    { name: 'node-a', address: '127.0.0.1', port: 0 },
    { name: 'node-b', address: '127.0.0.1', port: 0 },
  ]);
  t.after(() => api.stop());
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-src-'));
  writeFileSync(join(dir, 'ca.crt'), api.caPem);
  writeFileSync(join(dir, 'token'), 'bad');
  const nodes = [nodeObject('node-a', api.ports.get('node-a')), nodeObject('node-gone', 1)];
  const { log, lines } = logSink();
  const source = new KubeletVolumeStats({
    listNodes: () => nodes,
    bearerTokenFile: join(dir, 'token'),
    caFile: join(dir, 'ca.crt'),
    now: () => clock.now(),
    log,
  });
  t.after(() => source.stop());
  for (let i = 0; i < 3; i++) {
    const polled = await source.poll();
    assert.deepEqual(
      polled.map((p) => p.result),
      ['Failed', 'Failed'],
    );
  }
  assert.equal((await source.read(0)).size, 0);
  assert.deepEqual(source.failingNodes(), ['node-a', 'node-gone']);
  const failed = lines.filter((l) => /failed; its claims get no fresh samples/.test(l.msg));
  assert.deepEqual(failed.map((l) => l.node).sort(), ['node-a', 'node-gone'], 'each node once');
  assert.match(JSON.stringify(lines), /HTTP 403/);
  // Fixed token: node-a answers again, and says so.
  writeFileSync(join(dir, 'token'), 'good');
  await source.poll();
  assert.equal((await source.read(0)).size, 1);
  assert.deepEqual(source.failingNodes(), ['node-gone']);

  // The kubelet's certificate from another CA: refused unless insecure was asked for.
  writeFileSync(
    join(dir, 'other.crt'),
    (await import('../../src/devcluster/pki.ts').then((p) => p.createCertificateAuthority('other'))).certPem,
  );
  const strict = new KubeletVolumeStats({
    listNodes: () => nodes.slice(0, 1),
    bearerTokenFile: join(dir, 'token'),
    caFile: join(dir, 'other.crt'),
    log: pino({ level: 'silent' }),
  });
  t.after(() => strict.stop());
  assert.equal((await strict.poll())[0]!.result, 'Failed');
  const insecure = new KubeletVolumeStats({
    listNodes: () => nodes.slice(0, 1),
    bearerTokenFile: join(dir, 'token'),
    insecureSkipTlsVerify: true,
    log: pino({ level: 'silent' }),
  });
  t.after(() => insecure.stop());
  assert.equal((await insecure.poll())[0]!.result, 'Ok');
  // An answer over the cap fails the node's poll.
  const tiny = new KubeletVolumeStats({
    listNodes: () => nodes.slice(0, 1),
    bearerTokenFile: join(dir, 'token'),
    insecureSkipTlsVerify: true,
    maxResponseBytes: 100,
    log: pino({ level: 'silent' }),
  });
  t.after(() => tiny.stop());
  assert.equal((await tiny.poll())[0]!.result, 'Failed');
});

test('the kubelet URL: the preferred address type, the daemonEndpoints port; none: refused', () => {
  const n = nodeObject('n1', 10250);
  assert.equal(kubeletUrl(n, ['InternalIP', 'Hostname']).href, 'https://127.0.0.1:10250/stats/summary');
  assert.equal(kubeletUrl(n, ['Hostname']).href, 'https://n1:10250/stats/summary');
  assert.throws(() => kubeletUrl(nodeObject('n2', undefined), ['InternalIP']), /reports no kubelet port/);
  assert.throws(() => kubeletUrl(n, ['ExternalIP']), /no address of the types ExternalIP/);
});
