// What the operator knows after kill -9 is what it knew before: an operator (with its webhook) learns
// a workload and evicts one of its pods in Auto; it stops without a goodbye and a new one starts on
// a brand new, empty --history file. From the policy's SizingCheckpoint it has the series back at
// once (same first sample, same recommendation) and the eviction bookkeeping: the second pod, which
// needs an eviction just as much, is not evicted inside the cooldown / hourly cap. A conflicting
// write to the checkpoint meanwhile loses no eviction time.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingCheckpoint } from '../../src/api/index.ts';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { configsFor } from '../../src/core/recommend/tuning.ts';
import type { SeriesKey } from '../../src/sources/history.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import {
  createPolicy,
  eventsFor,
  outgrowsItsNode,
  expectPolicyStatus,
  startTestOperator,
  type TestOperator,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const q = (v: unknown) => parseQuantity(v as string | undefined) ?? NaN;
const WINDOW = 8 * 86_400;

let op: TestOperator | undefined;
after(async () => {
  await op?.stop();
});

async function podsOf(app: string): Promise<k8s.V1Pod[]> {
  const list = await cluster.core.listNamespacedPod({
    namespace: cluster.namespace,
    labelSelector: `app=${app}`,
  });
  return list.items;
}

test('restart on an empty disk: the recommendation is back at once and the eviction budget still holds', async () => {
  const { apps, namespace } = cluster;
  const start = () =>
    startTestOperator(cluster, {
      models: false,
      webhook: { port: 0, unregisterOnStop: false },
      sizing: { checkpointIntervalSeconds: 2 },
    });
  op = await start();

  // Two pods using 1.9 cores each, each on a 2-core node of the hog pool (preferred; general allowed): in
  // place is refused for both, so in Auto both need an eviction; the webhook sizes the replacement.
  const body = outgrowsItsNode('pair', 2);
  await apps.createNamespacedDeployment({ namespace, body });
  const original = await eventually(
    async () => {
      const pods = (await podsOf('pair')).filter((p) => p.status?.phase === 'Running');
      assert.equal(pods.length, 2, `${pods.length} running pods`);
      return pods;
    },
    { timeoutMs: 60_000, what: 'two running pods' },
  );
  const originalUids = new Set(original.map((p) => p.metadata!.uid!));

  await createPolicy(cluster, 'pair', {
    mode: 'Auto',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'pair' },
  });

  // 1. It learns and acts: one pod evicted (one per cooldown and hour), the other held.
  await eventually(
    async () => {
      const evicted = await eventsFor(cluster, 'SizingPolicy', 'pair', 'Evicted');
      assert.equal(evicted.length, 1, `${evicted.length} Evicted events on the policy`);
    },
    { timeoutMs: 90_000, what: 'one eviction' },
  );
  // The checkpoint written right after it holds the eviction and is owned by the policy.
  const policy = await expectPolicyStatus(cluster, 'pair', (p) => {
    assert.ok(
      q(p.status?.recommendations?.[0]?.target?.cpu) > 1.93,
      'a CPU recommendation above the 1930m a hog node has',
    );
  });
  const checkpoint = await eventually(
    async () => {
      const cp = (await makeClients(cluster.kc).custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'sizingcheckpoints',
        name: 'pair',
      })) as SizingCheckpoint;
      assert.equal(cp.spec.evictions?.length, 1, 'the eviction time is in the checkpoint');
      assert.ok((cp.spec.series?.count ?? 0) >= 1, 'the series is in the checkpoint');
      return cp;
    },
    { what: 'the SizingCheckpoint' },
  );
  assert.equal(checkpoint.metadata.ownerReferences?.[0]?.uid, policy.metadata.uid, 'owned by the policy');
  // A write by someone else meanwhile (a process before this one in a rolling update): the
  // operator's next write gets a 409, re-reads, and keeps that newer eviction time.
  const foreign = new Date(Date.parse(checkpoint.spec.evictions![0]!) + 1000).toISOString();
  await makeClients(cluster.kc).custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'sizingcheckpoints',
      name: 'pair',
      body: { spec: { evictions: [...checkpoint.spec.evictions!, foreign] } },
    },
    mergePatch,
  );
  await eventually(
    async () => {
      const cp = (await makeClients(cluster.kc).custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'sizingcheckpoints',
        name: 'pair',
      })) as SizingCheckpoint;
      assert.ok(cp.spec.writtenAt > checkpoint.spec.writtenAt, 'written again since');
      assert.ok(
        cp.spec.evictions?.some((t) => Date.parse(t) === Date.parse(foreign)),
        `the other writer's eviction is kept: ${JSON.stringify(cp.spec.evictions)}`,
      );
    },
    { timeoutMs: 20_000, what: 'a write after a conflict that keeps the newer eviction' },
  );
  // Let it learn a little more than the last write, then take what it knows.
  await new Promise((r) => setTimeout(r, 3000));
  const key: SeriesKey = { workload: { namespace, kind: 'Deployment', name: 'pair' }, container: 'app' };
  const configs = configsFor({ profile: 'Balanced' });
  const knew = op.history.recommend(key, op.ctx.now(), configs, WINDOW);
  assert.ok(knew.info && knew.cpu.samples > 0, 'the first operator has a history');
  const statusBefore = q(
    (await expectPolicyStatus(cluster, 'pair', () => {})).status!.recommendations![0]!.target.cpu,
  );
  const held = (await podsOf('pair')).filter(
    (p) => originalUids.has(p.metadata!.uid!) && !p.metadata?.deletionTimestamp,
  );
  assert.equal(held.length, 1, 'one original pod is left, held by the cooldown');

  // 2. Gone without a word (nothing is written on the way out), and back on an empty disk.
  await op.stop();
  op = await start();

  // (a) At once, without re-learning: the series' first sample and its samples are back.
  const now = await eventually(
    () => {
      const info = op!.history.info(key);
      assert.ok(info, 'the series is known');
      assert.ok(
        Math.abs(info.firstSample - knew.info!.firstSample) < 1,
        `first sample ${info.firstSample} is the first operator's ${knew.info!.firstSample}`,
      );
      return op!.ctx.now();
    },
    { timeoutMs: 20_000, what: 'the series restored from the checkpoint' },
  );
  const knows = op.history.recommend(key, now, configs, WINDOW);
  assert.ok(knows.cpu.samples >= knew.cpu.samples, `samples ${knows.cpu.samples} >= ${knew.cpu.samples}`);
  const a = knew.cpu.recommendation!.target;
  const b = knows.cpu.recommendation!.target;
  assert.ok(Math.abs(a - b) / a < 0.05, `cpu target ${b} within 5% of ${a}`);
  await expectPolicyStatus(cluster, 'pair', (p) => {
    const cpu = q(p.status?.recommendations?.[0]?.target?.cpu);
    assert.ok(Math.abs(cpu - statusBefore) / statusBefore < 0.05, `status cpu ${cpu} ~ ${statusBefore}`);
  });

  // (b) The eviction budget survived: the held pod is not evicted inside the cooldown.
  await new Promise((r) => setTimeout(r, 10_000));
  const evicted = await eventsFor(cluster, 'SizingPolicy', 'pair', 'Evicted');
  assert.equal(evicted.length, 1, `still one eviction after the restart (${evicted.length})`);
  const still = await cluster.core.readNamespacedPod({ name: held[0]!.metadata!.name!, namespace });
  assert.equal(still.metadata?.uid, held[0]!.metadata?.uid, 'the held pod is still there');
  assert.ok(!still.metadata?.deletionTimestamp, 'and not being deleted');
  await apps.deleteNamespacedDeployment({ name: 'pair', namespace });
});
