// The operator with its admission webhook, end to end on the real apiserver: in Auto, a resize the
// node cannot fit leads to an eviction that waits for the PodDisruptionBudget, and the replacement
// pod starts with the recommendation (from the webhook) on a node where it fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import {
  Mi,
  createPolicy,
  eventsFor,
  outgrowsItsNode,
  expectPolicyStatus,
  podOf,
  useTestOperator,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
// The webhook's Secret and Lease in this file's namespace: other files share the cluster.
const operator = useTestOperator(cluster, {
  webhook: { port: 0, tlsSecret: { namespace: cluster.namespace } },
});

const q = (v: string | undefined) => parseQuantity(v) ?? NaN;

test('Auto: Infeasible in place -> eviction respecting the PDB -> the new pod gets the recommendation from the webhook', async () => {
  const { apps, core, namespace } = cluster;
  const policy = makeClients(cluster.kc).policy;
  assert.ok(operator.current.webhook, 'the operator serves the webhook');
  const registered = await makeClients(cluster.kc).admission.readMutatingWebhookConfiguration({
    name: operator.current.webhook.configuration!,
  });
  assert.deepEqual(
    registered.webhooks?.[0]?.namespaceSelector?.matchExpressions?.[0]?.values,
    [namespace],
    'registered for this namespace only',
  );

  // Uses 1.9 cores but asks for 100m: it lands on a 2-core node of the hog pool (preferred), where the
  // recommendation (above 2 cores) cannot fit.
  const body = outgrowsItsNode('mover', 1);
  await apps.createNamespacedDeployment({ namespace, body });
  await policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: {
      metadata: { name: 'mover' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'mover' } } },
    },
  });
  const first = await podOf(cluster, 'mover');
  const node = await core.readNode({ name: first.spec!.nodeName! });
  assert.equal(node.metadata?.labels?.['sim.tailor.dev/pool'], 'hog', 'first placed on a 2-core hog node');
  await eventually(
    async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'mover', namespace });
      assert.equal(pdb.status?.disruptionsAllowed, 0, 'the PDB allows no disruption');
    },
    { what: 'the PDB status' },
  );

  await createPolicy(cluster, 'mover', {
    mode: 'Auto',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mover' },
  });
  const withRec = await expectPolicyStatus(cluster, 'mover', (p) => {
    const cpu = q(p.status?.recommendations?.[0]?.target?.cpu as string | undefined);
    assert.ok(cpu > 1.93, `a CPU recommendation above the hog node's allocatable 1930m: ${cpu}`);
  });
  const recommended = q(withRec.status!.recommendations![0]!.target.cpu as string);
  // The workload's memory peak is published beside the recommendation: the webhook's floor.
  const peakOf = (p: typeof withRec) => q(p.status?.recommendations?.[0]?.peak?.memory as string | undefined);
  const peak = peakOf(
    await expectPolicyStatus(cluster, 'mover', (p) => {
      const v = peakOf(p);
      assert.ok(v >= 40 * Mi && v <= 64 * Mi, `peak.memory about the 50Mi used: ${v}`);
    }),
  );

  // 1. In place is refused (the node has 2 cores) and the eviction waits for the PDB.
  const name = first.metadata!.name!;
  await eventually(
    async () => {
      assert.ok((await eventsFor(cluster, 'Pod', name, 'ResizeInfeasible')).length >= 1, 'ResizeInfeasible');
      assert.ok((await eventsFor(cluster, 'Pod', name, 'EvictionHeld')).length >= 1, 'EvictionHeld');
    },
    { timeoutMs: 60_000, what: 'the resize refused and the eviction held' },
  );
  const still = await core.readNamespacedPod({ name, namespace });
  assert.equal(still.metadata?.uid, first.metadata?.uid, 'not evicted while the PDB allows no disruption');
  assert.ok(!still.metadata?.deletionTimestamp, 'not being deleted');

  // 2. The PDB allows one: evicted through the Eviction API.
  await policy.patchNamespacedPodDisruptionBudget(
    { name: 'mover', namespace, body: { spec: { minAvailable: 0 } } },
    mergePatch,
  );
  await eventually(
    async () => {
      assert.ok(
        (await eventsFor(cluster, 'Pod', name, 'Evicted')).length >= 1,
        'an Evicted event on the pod',
      );
    },
    { timeoutMs: 30_000, what: 'the eviction' },
  );

  // 3. The replacement was sized at admission and scheduled where it fits.
  const next = await eventually(
    async () => {
      const p = await podOf(cluster, 'mover', 5_000);
      assert.notEqual(p.metadata?.uid, first.metadata?.uid, 'a new pod');
      return p;
    },
    { timeoutMs: 60_000, what: 'the replacement pod Ready' },
  );
  const r = next.spec!.containers[0]!.resources!;
  assert.ok(q(r.requests?.cpu) >= recommended * 0.9, `replacement cpu ${r.requests?.cpu} ~ ${recommended}`);
  assert.match(next.metadata?.annotations?.['tailor.dev/sized-by'] ?? '', /mover/, 'sized by the webhook');
  assert.ok(q(r.requests?.memory) >= peak * 1.05, `replacement memory ${r.requests?.memory} >= peak + 5%`);
  const newNode = await core.readNode({ name: next.spec!.nodeName! });
  assert.equal(newNode.metadata?.labels?.['sim.tailor.dev/pool'], 'general', 'rescheduled where it fits');
  assert.equal(next.status?.containerStatuses?.[0]?.restartCount, 0, 'no restart');
  await apps.deleteNamespacedDeployment({ name: 'mover', namespace });
});
