// The sizing controller beside other deciders, on the real control plane and simulator: a workload a
// HorizontalPodAutoscaler scales on CPU utilisation keeps its CPU request (memory still comes down),
// and says why; two policies covering one Deployment: only the one the overlap rule picks resizes,
// the other says Conflict and names the winner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { SizingPolicySpec } from '../../src/api/index.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import {
  Mi,
  conditionOf,
  createPolicy,
  eventsFor,
  expectPolicyStatus,
  expectResized,
  overProvisioned,
  podOf,
  readPolicy,
  useTestOperator,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const operator = useTestOperator(cluster, { models: false });

const q = (v: string | undefined) => parseQuantity(v) ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('HPA on CPU utilisation: the CPU request stays, memory comes down; condition, one Event, recommendation marked', async () => {
  const { apps, namespace } = cluster;
  assert.ok(operator.current);
  // Uses 50m and 100Mi of 200m / 400Mi requested (limits twice that).
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('scaled') });
  // One replica at most: the HPA controller (the real kube-controller-manager) has nothing to add,
  // so what moves is Tailor's alone. What matters is what it scales on: CPU utilisation.
  await cluster.kc.makeApiClient(k8s.AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name: 'scaled' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
        minReplicas: 1,
        maxReplicas: 1,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
      },
    },
  });
  const pod = (await podOf(cluster, 'scaled')).metadata!.name!;
  await createPolicy(cluster, 'scaled', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
  });

  const after = await expectResized(cluster, pod, (r) =>
    assert.ok(q(r.requests?.memory) < 200 * Mi, `memory request ${r.requests?.memory} below 200Mi`),
  );
  const r = after.spec!.containers[0]!.resources!;
  assert.equal(r.requests?.cpu, '200m', 'the CPU request the HPA divides by is left as it was');
  assert.equal(r.limits?.cpu, '400m', 'and its limit');

  const p = await expectPolicyStatus(cluster, 'scaled', (s) => {
    const c = conditionOf(s, 'HPAConflict');
    assert.equal(c?.status, 'True', `HPAConflict: ${JSON.stringify(s.status?.conditions)}`);
  });
  const c = conditionOf(p, 'HPAConflict')!;
  assert.equal(c.reason, 'ScaledOnUtilization');
  assert.match(c.message, /cpu \(HorizontalPodAutoscaler scaled\)/);
  assert.doesNotMatch(c.message, /memory/, 'memory is not what it scales on');
  const rec = p.status?.recommendations?.find((x) => x.name === 'app');
  assert.ok(rec?.target.cpu !== undefined, 'the CPU recommendation is still published');
  assert.match(rec?.notApplied ?? '', /^cpu: HorizontalPodAutoscaler scaled/, 'and marked as not applied');

  const events = () => eventsFor(cluster, 'SizingPolicy', 'scaled', 'ScaledOnUtilization');
  await eventually(async () => assert.equal((await events()).length, 1, 'an Event on the policy'), {
    what: 'the ScaledOnUtilization Event',
  });
  // Passes go on every second: the Event is said once, and the CPU request still has not moved.
  await sleep(5_000);
  const said = await events();
  assert.equal(said.length, 1, 'said once');
  assert.equal(said[0]!.count ?? 1, 1, 'not repeated either');
  const still = await cluster.core.readNamespacedPod({ name: pod, namespace });
  assert.equal(still.spec!.containers[0]!.resources?.requests?.cpu, '200m');
});

test('two policies cover one Deployment: the targetRef one resizes, the older selector one says Conflict', async () => {
  const { apps, namespace } = cluster;
  // The selector policy is older, and would keep CPU at 150m: it must neither act nor be obeyed.
  await createPolicy(cluster, 'by-selector', {
    mode: 'InPlace',
    selector: { matchLabels: { app: 'shared' } },
    // The apiserver fills in the rest of the entry.
    containers: [{ name: '*', minAllowed: { cpu: '150m' } }] as SizingPolicySpec['containers'],
  });
  await sleep(1_100); // creationTimestamp has one-second resolution
  await createPolicy(cluster, 'by-ref', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shared' },
  });
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('shared') });
  const pod = (await podOf(cluster, 'shared')).metadata!.name!;

  await expectResized(cluster, pod, (res) =>
    assert.ok(q(res.requests?.cpu) < 0.15, `cpu request ${res.requests?.cpu} below the loser's 150m floor`),
  );
  const loser = await expectPolicyStatus(cluster, 'by-selector', (s) => {
    assert.equal(conditionOf(s, 'Conflict')?.status, 'True', JSON.stringify(s.status?.conditions));
  });
  const c = conditionOf(loser, 'Conflict')!;
  assert.equal(c.reason, 'OverlappingPolicy');
  assert.match(c.message, new RegExp(`pod ${pod} controlled by SizingPolicy by-ref`));
  assert.equal(loser.status?.pods?.skipped, 1, 'the pod counts as skipped for the loser');
  await eventually(
    async () =>
      assert.equal((await eventsFor(cluster, 'SizingPolicy', 'by-selector', 'OverlappingPolicy')).length, 1),
    { what: 'the OverlappingPolicy Event' },
  );
  const winner = await readPolicy(cluster, 'by-ref');
  assert.equal(conditionOf(winner, 'Conflict')?.status, 'False');

  // Passes go on: the loser never resizes, so the pod stays below its 150m.
  await sleep(5_000);
  const now = await cluster.core.readNamespacedPod({ name: pod, namespace });
  assert.ok(q(now.spec!.containers[0]!.resources?.requests?.cpu) < 0.15, 'still the winner size');
  assert.equal(
    (await eventsFor(cluster, 'SizingPolicy', 'by-selector', 'Resized')).length,
    0,
    'the loser resized nothing',
  );
  assert.ok((await eventsFor(cluster, 'SizingPolicy', 'by-ref', 'Resized')).length >= 1, 'the winner did');
});
