// The simulator's volumes on the real control plane, read by the operator's two usage sources: a
// download fills the volume while the init container runs and the pod is not Ready; the kubelet
// Summary API (direct to the simulated node, the operator's token checked by the kubelet's
// TokenReview + SubjectAccessReview for get nodes/stats) and a real Prometheus scraping the
// simulator give the same figures within a minute; a replacing pod finds the bytes on the claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { condition, eventually, prometheusTarget, simPod, useCluster } from '../support/cluster.ts';
import { operatorIdentity } from '../support/identity.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { PrometheusClient } from '../../src/sources/prometheus.ts';
import { PrometheusVolumeStats } from '../../src/sources/volume-stats/prometheus.ts';
import { KubeletVolumeStats } from '../../src/sources/volume-stats/kubelet.ts';
import type { VolumeSample } from '../../src/core/volume/types.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const Gi = 2 ** 30;
const DOWNLOAD = 1200 * Mi;

/** A pod whose init container downloads 1.2 GiB into the claim at 10 MiB/s (two minutes). */
function downloader(name: string): k8s.V1Pod {
  const pod = simPod({
    name,
    profile: 'idle',
    params: { startupSeconds: 0, noise: 0 },
    resources: { requests: { cpu: '10m', memory: '32Mi' } },
    annotations: {
      'sim.tailor.dev/volume': JSON.stringify({
        downloadBytes: DOWNLOAD,
        downloadKey: 'org/model@rev1',
        throughputBytesPerSecond: 10 * Mi,
      }),
    },
    volumes: [{ name: 'model', persistentVolumeClaim: { claimName: 'model' } }],
    mounts: [{ name: 'model', mountPath: '/model' }],
  });
  pod.spec!.initContainers = [
    { name: 'download', image: 'python:3.12-slim', volumeMounts: [{ name: 'model', mountPath: '/model' }] },
  ];
  return pod;
}

test('a download fills the volume before Ready; Summary API and Prometheus agree; a new pod keeps the bytes', async (t) => {
  const { core, namespace } = cluster;
  const prometheus = await startPrometheus(prometheusTarget());
  t.after(() => prometheus.stop());
  const identity = await operatorIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'sim-volumes-'));
  writeFileSync(join(dir, 'token'), identity.kc.getCurrentUser()!.token!);
  const kubelet = new KubeletVolumeStats({
    listNodes: async () =>
      (await core.listNode()).items.filter((n) => n.metadata?.labels?.['sim.tailor.dev/node']),
    bearerTokenFile: join(dir, 'token'),
    // The simulator's kubelets have self-signed certificates, as kubelets without serverTLSBootstrap.
    insecureSkipTlsVerify: true,
    log: pino({ level: 'warn' }),
  });
  t.after(() => kubelet.stop());
  const fromPrometheus = new PrometheusVolumeStats({
    client: new PrometheusClient({ baseUrl: prometheus.url }),
  });
  const key = `${namespace}/model`;

  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: 'model' },
      spec: {
        storageClassName: 'tailor-sim',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '2Gi' } },
      },
    },
  });
  const started = Date.now() / 1000;
  await core.createNamespacedPod({ namespace, body: downloader('server-1') });

  // 1. While the init container downloads: the pod is Pending, not Ready, and the volume fills.
  const during = await eventually(
    async () => {
      const polled = await kubelet.poll();
      assert.ok(
        polled.every((p) => p.result === 'Ok'),
        JSON.stringify(polled),
      );
      const pod = await core.readNamespacedPod({ name: 'server-1', namespace });
      assert.equal(condition(pod, 'Initialized')?.status, 'False', 'still initializing');
      assert.equal(condition(pod, 'Ready')?.status, 'False');
      assert.equal(pod.status?.phase, 'Pending');
      const samples = (await kubelet.read(started, [namespace])).get(key) ?? [];
      const filling = samples.find((s) => s.usedBytes > 100 * Mi && s.usedBytes < DOWNLOAD);
      assert.ok(
        filling,
        `a reading between 100 MiB and 1.2 GiB: ${samples.map((s) => s.usedBytes).join(', ')}`,
      );
      return filling;
    },
    { timeoutMs: 150_000, intervalMs: 2000, what: 'a partly filled volume while the pod initializes' },
  );
  // ext4 of 2 GiB: a bit below for metadata, 5% reserved, an inode per 16 KiB.
  assert.ok(during.capacityBytes < 2 * Gi && during.capacityBytes > 1.9 * Gi, String(during.capacityBytes));
  assert.equal(during.inodes, (2 * Gi) / 16384);
  assert.ok(
    during.capacityBytes - during.usedBytes - during.availableBytes > 0.049 * 2 * Gi,
    'reserved blocks',
  );

  // 2. Done: Ready, all the bytes there.
  await eventually(
    async () => {
      const pod = await core.readNamespacedPod({ name: 'server-1', namespace });
      assert.equal(condition(pod, 'Ready')?.status, 'True');
    },
    { timeoutMs: 180_000, intervalMs: 2000, what: 'the pod Ready after its download' },
  );
  const full = await eventually(
    async () => {
      await kubelet.poll();
      const last = (await kubelet.read(started, [namespace])).get(key)?.at(-1);
      assert.ok(last && last.usedBytes >= DOWNLOAD, `used ${last?.usedBytes}`);
      return last;
    },
    { timeoutMs: 90_000, intervalMs: 2000, what: 'a reading after the download' },
  );

  // 3. The two sources: the same readings, within a minute of each other.
  const agree = (a: VolumeSample, b: VolumeSample) =>
    a.usedBytes === b.usedBytes &&
    a.capacityBytes === b.capacityBytes &&
    a.availableBytes === b.availableBytes &&
    a.inodes === b.inodes &&
    a.inodesUsed === b.inodesUsed &&
    a.inodesFree === b.inodesFree &&
    Math.abs(a.at - b.at) <= 65;
  await eventually(
    async () => {
      const prom = (await fromPrometheus.read(started, [namespace])).get(key) ?? [];
      assert.ok(
        prom.some((p) => agree(p, full)),
        `Prometheus ${JSON.stringify(prom.slice(-3))} vs kubelet ${JSON.stringify(full)}`,
      );
    },
    { timeoutMs: 60_000, intervalMs: 2000, what: 'Prometheus to hold the same reading' },
  );

  // 4. The pod is replaced: the new one finds the download on the claim and is Ready at once.
  await core.deleteNamespacedPod({ name: 'server-1', namespace, gracePeriodSeconds: 0 });
  await eventually(
    async () => {
      const pods = await core.listNamespacedPod({ namespace });
      assert.equal(pods.items.length, 0);
    },
    { timeoutMs: 60_000, what: 'the first pod gone' },
  );
  const replaced = Date.now();
  await core.createNamespacedPod({ namespace, body: downloader('server-2') });
  await eventually(
    async () => {
      const pod = await core.readNamespacedPod({ name: 'server-2', namespace });
      assert.equal(condition(pod, 'Ready')?.status, 'True');
    },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'the new pod Ready' },
  );
  assert.ok(Date.now() - replaced < 60_000, 'no second two-minute download');
  const after = await eventually(
    async () => {
      await kubelet.poll();
      const last = (await kubelet.read(replaced / 1000, [namespace])).get(key)?.at(-1);
      assert.ok(last, 'a reading of the new pod');
      return last;
    },
    { timeoutMs: 90_000, intervalMs: 2000, what: 'a reading under the new pod' },
  );
  assert.ok(after.usedBytes >= full.usedBytes, `${after.usedBytes} < ${full.usedBytes}`);
});
