// The simulator's scale-down on the real control plane, with a simulator and a tainted pool of its
// own: four nodes, pods that fit on two; the loop drains and removes an unneeded node through the
// Eviction API, a PodDisruptionBudget allowing no disruption makes its node's drain fail (the node
// is uncordoned, as cluster-autoscaler does) and is never broken, and the pool ends within one node
// of what the packing what-if (src/core/packing) predicted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import type { Simulator } from '../../src/sim/simulator.ts';
import { startPrivateSimulator } from '../support/simulator.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import { Consolidation, SCALE_DOWN_DEFAULTS } from '../../src/sim/consolidation/index.ts';
import { eventRecorder } from '../../src/kube/events.ts';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { holdsResources, packingWhatIf, packNode, packPdb, packPod } from '../../src/core/packing/index.ts';
import { eventually, idleDeployment, useCluster } from '../support/cluster.ts';
import { runReport } from '../../src/cli/commands/report.ts';
import { installCrds } from '../../src/api/install.ts';
import type { Report } from '../../src/core/report/model.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const Gi = 2 ** 30;
const suffix = cluster.namespace.slice(-6);
const POOL = `shrink-${suffix}`;
const TAINT = { key: 'sim.tailor.dev/test', value: 'scale-down', effect: 'NoSchedule' } as const;
const node = (i: number) => `${POOL}-${i}`;

const nodes: SimNodeSpec[] = [0, 1, 2, 3].map((i) => ({
  name: node(i),
  cpu: 4,
  memoryBytes: 8 * Gi,
  ephemeralStorageBytes: 100 * Gi,
  pods: 110,
  gpus: 0,
  instanceType: 'm6i.xlarge',
  labels: { 'sim.tailor.dev/pool': POOL },
  taints: [TAINT],
}));

let sim: Simulator;
let loop: Consolidation | undefined;
const lines: string[] = [];
before(async () => {
  await installCrds(cluster.ext);
  sim = await startPrivateSimulator(cluster.kc, { nodes, storageClass: `shrink-${suffix}` });
});
after(async () => {
  await loop?.stop();
  await sim?.stop({ deleteNodes: true });
});

/** A one-replica Deployment on the pool, preferring node `i` (packing ignores preferences; the scheduler follows them). */
function placed(name: string, cpu: string, i: number): k8s.V1Deployment {
  const d = idleDeployment(
    name,
    1,
    { cpuCores: 0.01, memoryBytes: 16 * Mi },
    { requests: { cpu, memory: '256Mi' } },
  );
  const spec = d.spec!.template.spec!;
  spec.nodeSelector = { 'sim.tailor.dev/pool': POOL };
  spec.tolerations = [{ ...TAINT, operator: 'Equal' }];
  spec.affinity = {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          preference: {
            matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node(i)] }],
          },
        },
      ],
    },
  };
  return d;
}

async function running(app: string): Promise<k8s.V1Pod> {
  const pods = await cluster.core.listNamespacedPod({
    namespace: cluster.namespace,
    labelSelector: `app=${app}`,
  });
  const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
  assert.equal(live.length, 1, `${app}: one running pod`);
  return live[0]!;
}

/** Cordons every node of the pool but `keep` (undefined: uncordons them all). */
async function cordonAllBut(keep: string | undefined): Promise<void> {
  for (const n of nodes)
    await cluster.core.patchNode(
      { name: n.name, body: { spec: { unschedulable: keep !== undefined && n.name !== keep } } },
      mergePatch,
    );
}

async function poolNodes(): Promise<k8s.V1Node[]> {
  return (await cluster.core.listNode({ labelSelector: `sim.tailor.dev/pool=${POOL}` })).items;
}

async function nodeEvents(reason: string): Promise<k8s.CoreV1Event[]> {
  const list = await cluster.core.listNamespacedEvent({
    namespace: 'default',
    fieldSelector: `reason=${reason}`,
  });
  return list.items.filter(
    (e) => e.involvedObject.kind === 'Node' && e.involvedObject.name?.startsWith(POOL),
  );
}

test('an unneeded node is drained and removed; the PodDisruptionBudget holds its node and is never broken; the pool ends within one node of the packing what-if', async () => {
  const { apps, core, namespace } = cluster;
  // Every node of the pool Ready first: a pod scheduled while its preferred node is still joining
  // lands elsewhere, and the layout below (one pod per node) would not hold.
  await eventually(
    async () => {
      const ready = (await poolNodes()).filter((n) =>
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      assert.equal(ready.length, 4, `${ready.length} of the pool's 4 nodes Ready`);
    },
    { timeoutMs: 60_000, what: 'the pool Ready' },
  );
  // Two 2.5-core pods cannot share a node; the 1-core and 0.5-core pods fit beside them: two nodes would do.
  for (const [name, cpu, i] of [
    ['guarded', '1', 0],
    ['big-a', '2500m', 1],
    ['big-b', '2500m', 2],
    ['small', '500m', 3],
  ] as const) {
    // One pod per node, whatever the scheduler's scores: only its node is schedulable while it is
    // placed (the loop is not running yet); its preference then lets it return there.
    await cordonAllBut(node(i));
    await apps.createNamespacedDeployment({ namespace, body: placed(name, cpu, i) });
    await eventually(() => running(name), { timeoutMs: 60_000, what: `${name} runs` });
  }
  await cordonAllBut(undefined);
  await makeClients(cluster.kc).policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: {
      metadata: { name: 'guarded' },
      spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'guarded' } } },
    },
  });
  const guarded = await eventually(() => running('guarded'), { timeoutMs: 60_000, what: 'guarded runs' });
  const placedOn = [guarded.spec?.nodeName];
  for (const app of ['big-a', 'big-b', 'small'])
    placedOn.push(
      (await eventually(() => running(app), { timeoutMs: 60_000, what: `${app} runs` })).spec?.nodeName,
    );
  // The scheduler followed each pod's preferred node: one pod per node, so two nodes are unneeded.
  assert.equal(new Set(placedOn).size, 4, `one pod per node: ${placedOn.join(', ')}`);

  // What the packing what-if predicts for the pool, PDB included, before anything moves.
  const predicted = await eventually(
    async () => {
      const [ns, pods, pdbs] = await Promise.all([
        poolNodes(),
        core.listNamespacedPod({ namespace }),
        makeClients(cluster.kc).policy.listNamespacedPodDisruptionBudget({ namespace }),
      ]);
      const r = packingWhatIf({
        nodes: ns.map(packNode),
        pods: pods.items.filter(holdsResources).map((p) => packPod(p)),
        pdbs: pdbs.items.map(packPdb),
      });
      assert.equal(r.kind, 'Packed');
      const pool = r.kind === 'Packed' ? r.pools.find((p) => p.pool === POOL) : undefined;
      assert.ok(pool);
      assert.equal(pool.nodesToday, 4);
      return pool;
    },
    { timeoutMs: 30_000, what: 'the packing what-if of the pool' },
  );
  assert.ok(predicted.nodesFreed >= 1, JSON.stringify(predicted));

  loop = new Consolidation({
    clients: makeClients(cluster.kc),
    clock: sim.clock,
    pools: new Map([
      [
        POOL,
        {
          ...SCALE_DOWN_DEFAULTS,
          enabled: true,
          unneededSeconds: 5,
          minNodes: 1,
          drainTimeoutSeconds: 15,
          recheckSeconds: 3600,
        },
      ],
    ]),
    events: eventRecorder(makeClients(cluster.kc), 'tailor-sim-scale-down'),
    removed: (n) => sim.fleet.remove(n),
    log: (l) => lines.push(l),
    intervalMs: 1000,
  });
  loop.start();

  // The pool shrinks; the guarded pod's node had its drain refused and was uncordoned.
  const guardedNode = guarded.spec!.nodeName!;
  await eventually(
    async () => {
      const left = await poolNodes();
      assert.ok(left.length < 4, `nodes left: ${left.map((n) => n.metadata?.name).join(', ')}`);
      assert.ok(loop!.removedNodes.length >= 1);
    },
    { timeoutMs: 120_000, intervalMs: 2000, what: `a node of ${POOL} removed (log: ${lines.join(' | ')})` },
  );
  const removed = loop.removedNodes.map((r) => r.node);
  assert.ok(!removed.includes(guardedNode), 'the guarded pod keeps its node');
  for (const r of loop.removedNodes) assert.equal(r.instanceType, 'm6i.xlarge');
  await eventually(
    async () => {
      const removedEvents = await nodeEvents('ScaleDown');
      for (const name of removed)
        assert.ok(
          removedEvents.some((e) => e.involvedObject.name === name && /node removed/.test(e.message ?? '')),
          `a ScaleDown event says ${name} was removed`,
        );
    },
    { timeoutMs: 20_000, what: 'the ScaleDown events' },
  );
  // The report's realised side counts the removed nodes, priced from their instance type.
  await eventually(
    async () => {
      const r = JSON.parse(
        await runReport({ kubeconfig: cluster.kubeconfigPath, namespace, since: '1h', output: 'json' }),
      ) as Report;
      const mine = r.nodesRemoved?.pools.find((p) => p.pool === POOL);
      assert.ok(mine, `nodesRemoved: ${JSON.stringify(r.nodesRemoved)}`);
      assert.ok(mine.nodes >= 1 && mine.nodes <= loop!.removedNodes.length, JSON.stringify(mine));
      assert.ok(mine.monthly.cost > 0, 'an m6i.xlarge costs money');
    },
    { timeoutMs: 30_000, intervalMs: 3000, what: 'the report counts the removed nodes' },
  );
  // The scale-down reached the guarded node: its drain is refused by the apiserver (429) until
  // drainTimeoutSeconds, then given up and the node uncordoned.
  await eventually(
    async () => {
      const failed = await nodeEvents('ScaleDownFailed');
      assert.ok(
        failed.some(
          (e) => e.involvedObject.name === guardedNode && /disruption budget/i.test(e.message ?? ''),
        ),
        `ScaleDownFailed on ${guardedNode}: ${failed.map((e) => `${e.involvedObject.name}: ${e.message}`).join(' | ')}`,
      );
      const n = await core.readNode({ name: guardedNode });
      assert.notEqual(n.spec?.unschedulable, true, `${guardedNode} uncordoned`);
    },
    {
      timeoutMs: 120_000,
      intervalMs: 2000,
      what: `the drain of ${guardedNode} given up (log: ${lines.join(' | ')})`,
    },
  );

  // Never broken: the guarded pod is the same pod, still running where it was.
  const after = await running('guarded');
  assert.equal(after.metadata?.uid, guarded.metadata?.uid);
  assert.equal(after.spec?.nodeName, guardedNode);
  // Every other pod found a home on the nodes that remain.
  for (const app of ['big-a', 'big-b', 'small'])
    await eventually(() => running(app), { timeoutMs: 60_000, what: `${app} runs again` });

  const left = (await poolNodes()).length;
  assert.ok(
    Math.abs(left - predicted.nodesNeeded) <= 1,
    `${left} nodes left; the packing what-if predicted ${predicted.nodesNeeded} (log: ${lines.join(' | ')})`,
  );
  assert.ok(
    lines.some((l) => /scale-down: .* removed, empty after/.test(l)),
    'a log line per decision',
  );
});
