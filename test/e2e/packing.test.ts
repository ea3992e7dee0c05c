// The packing what-if on the real control plane and a simulator of its own: three tainted nodes
// each holding one over-sized replica; with a recommendation published, `tailor report` says the pool needs
// one node and two empty (with the moves), and with a pod no node can hold it names the pod and why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import type { Simulator } from '../../src/sim/simulator.ts';
import { startPrivateSimulator } from '../support/simulator.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import type { Report } from '../../src/core/report/model.ts';
import { runReport } from '../../src/cli/commands/report.ts';
import { eventually, idleDeployment, simPod, useCluster } from '../support/cluster.ts';
import { createPolicy } from '../support/operator.ts';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { GROUP, VERSION } from '../../src/api/index.ts';
import { installCrds } from '../../src/api/install.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const Gi = 2 ** 30;
const suffix = cluster.namespace.slice(-6);
const POOL = `pack-${suffix}`;
const TAINT = { key: 'sim.tailor.dev/test', value: 'packing', effect: 'NoSchedule' } as const;

// Nodes of a second simulator, tainted so no other test's pod lands there (as sim-gpus.test.ts).
const nodes: SimNodeSpec[] = [0, 1, 2].map((i) => ({
  name: `${POOL}-${i}`,
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
before(async () => {
  await installCrds(cluster.ext);
  sim = await startPrivateSimulator(cluster.kc, { nodes, storageClass: `packing-${suffix}` });
});
after(async () => {
  await sim?.stop({ deleteNodes: true });
});

function onPool<T extends { spec?: k8s.V1PodSpec }>(template: T): T {
  template.spec!.nodeSelector = { 'sim.tailor.dev/pool': POOL };
  template.spec!.tolerations = [{ ...TAINT, operator: 'Equal' }];
  return template;
}

async function report(): Promise<Report> {
  return JSON.parse(
    await runReport({
      kubeconfig: cluster.kubeconfigPath,
      namespace: cluster.namespace,
      since: '1h',
      output: 'json',
    }),
  ) as Report;
}

test("over-sized replicas: with their recommendation published, the report frees two of the pool's three nodes, with the moves", async () => {
  const { apps, namespace } = cluster;
  // 3 cores each of a 4-core node: one replica per node today; they use 50m.
  const fat = idleDeployment(
    'fat',
    3,
    { cpuCores: 0.05, memoryBytes: 100 * Mi },
    {
      requests: { cpu: '3', memory: '1Gi' },
    },
  );
  onPool(fat.spec!.template);
  await apps.createNamespacedDeployment({ namespace, body: fat });
  await createPolicy(cluster, 'fat', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fat' },
  });
  // What the sizing controller would publish for pods using 50m (the second simulator serves no
  // metrics.k8s.io, so no operator runs here; the recommender has its own tests).
  await makeClients(cluster.kc).custom.patchNamespacedCustomObjectStatus(
    {
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'sizingpolicies',
      name: 'fat',
      body: {
        status: {
          recommendations: [
            {
              name: 'app',
              target: { cpu: '100m', memory: '256Mi' },
              lowerBound: { cpu: '50m', memory: '128Mi' },
              upperBound: { cpu: '200m', memory: '512Mi' },
            },
          ],
        },
      },
    },
    mergePatch,
  );
  const pool = await eventually(
    async () => {
      const r = await report();
      const p = r.packing;
      assert.ok(p, 'the report has a packing section');
      // The cluster is shared: another test's pod pending for a moment makes the whole what-if say so.
      assert.equal(p.kind, 'Packed', p.kind === 'Unschedulable' ? JSON.stringify(p.pods) : '');
      const mine = p.pools.find((x) => x.pool === POOL);
      assert.ok(mine, `pool ${POOL} in ${p.pools.map((x) => x.pool).join(', ')}`);
      assert.equal(mine.nodesToday, 3);
      assert.equal(mine.nodesFreed, 2, JSON.stringify(mine));
      return { mine, nodes: p.nodes.filter((n) => n.pool === POOL) };
    },
    { timeoutMs: 120_000, intervalMs: 3000, what: `the packing frees two nodes of ${POOL}` },
  );
  assert.equal(pool.mine.nodesNeeded, 1);
  assert.equal(pool.mine.heldByPins, 0);
  assert.ok(pool.mine.saving.cost > 0, 'two m6i.xlarge cost money');
  assert.ok(pool.mine.saving.co2eKg > 0);
  const kept = pool.nodes.filter((n) => n.verdict === 'Stays');
  assert.equal(kept.length, 1);
  for (const n of pool.nodes.filter((x) => x.verdict === 'Empties')) {
    assert.equal(n.moves.length, 1, `${n.name}: its replica moves`);
    assert.match(n.moves[0]!.pod, new RegExp(`^${namespace}/fat-`));
    assert.equal(n.moves[0]!.to, kept[0]!.name);
  }
  // The table says it too.
  const table = await runReport({
    kubeconfig: cluster.kubeconfigPath,
    namespace,
    since: '1h',
    output: 'table',
  });
  assert.match(table, /Packing what-if: with the recommendations applied, \d+ nodes? and/);
  assert.match(table, new RegExp(`${POOL}\\s+3\\s+1\\s+2\\s`));
});

test('a pod no node can hold: the report names it and why instead of a number', async () => {
  const { core, namespace } = cluster;
  const greedy = onPool(
    simPod({
      name: 'greedy',
      profile: 'idle',
      params: { cpuCores: 0.01, memoryBytes: 16 * Mi, startupSeconds: 0, noise: 0 },
      resources: {
        requests: { cpu: '100m', memory: '64Mi', 'nvidia.com/gpu': '4' },
        limits: { 'nvidia.com/gpu': '4' },
      },
    }),
  );
  await core.createNamespacedPod({ namespace, body: greedy });
  try {
    const r = await eventually(
      async () => {
        const p = (await report()).packing;
        assert.ok(p, 'the report has a packing section');
        assert.equal(p.kind, 'Unschedulable');
        return p;
      },
      { timeoutMs: 60_000, intervalMs: 2000, what: 'the packing says a pod fits nowhere' },
    );
    const mine = r.pods.find((x) => x.pod === `${namespace}/greedy`);
    assert.ok(mine, JSON.stringify(r.pods));
    assert.equal(mine.reason, 'TooLarge');
    assert.match(
      mine.detail,
      /requests nvidia\.com\/gpu 4; the most any node it may run on has free .* is 0/,
    );
    const table = await runReport({
      kubeconfig: cluster.kubeconfigPath,
      namespace,
      since: '1h',
      output: 'table',
    });
    assert.match(table, /no packing: \d+ pods? fits? on no node/);
    assert.match(table, new RegExp(`${namespace}/greedy\\s+TooLarge`));
  } finally {
    await core.deleteNamespacedPod({ namespace, name: 'greedy', gracePeriodSeconds: 0 });
  }
});
