// The operator while the apiserver is unreachable (its connection cut by a proxy): it retries with
// backoff, changes nothing it cannot see, and once the API is back its watches resume and work made
// during the outage is picked up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import {
  createPolicy,
  overProvisioned,
  expectPolicyStatus,
  expectResized,
  podOf,
  startTestOperator,
} from '../support/operator.ts';
import { apiProxy } from '../support/outage.ts';
import { operatorIdentity } from '../support/identity.ts';

const cluster = useCluster(import.meta.url);
const q = (v: string | undefined) => parseQuantity(v) ?? NaN;

test('apiserver unreachable: retries with backoff, resumes its watches, then acts on what changed meanwhile', async () => {
  const { apps, namespace } = cluster;
  // In front of the API as the operator's own identity (the admin's would bypass its role).
  const proxy = await apiProxy((await operatorIdentity()).kubeconfigPath);
  const operator = await startTestOperator(cluster, { kc: proxy.kc });
  try {
    // 1. Working through the proxy.
    await apps.createNamespacedDeployment({ namespace, body: overProvisioned('before') });
    await createPolicy(cluster, 'before', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'before' },
    });
    const b = await podOf(cluster, 'before');
    await expectResized(cluster, b.metadata!.name!, (r) =>
      assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} lowered`),
    );

    // 2. The API goes away; a new workload and policy appear meanwhile (written directly).
    await proxy.cut();
    await apps.createNamespacedDeployment({ namespace, body: overProvisioned('during') });
    await createPolicy(cluster, 'during', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'during' },
    });
    const d = await podOf(cluster, 'during');
    await new Promise((r) => setTimeout(r, 6000));
    const unseen = await cluster.core.readNamespacedPod({ name: d.metadata!.name!, namespace });
    assert.equal(
      unseen.spec!.containers[0]!.resources?.requests?.cpu,
      '200m',
      'nothing changed during the outage',
    );
    const health = await fetch(`${operator.url}/healthz`);
    assert.equal(health.status, 200, 'alive while the API is away');
    const ready = await fetch(`${operator.url}/readyz`);
    assert.equal(ready.status, 503, 'not ready while its watches are down');
    assert.match(await ready.text(), /watches not synced .*pods/);
    const metrics = await (await fetch(`${operator.url}/metrics`)).text();
    assert.match(
      metrics,
      /tailor_(api_errors_total|usage_polls_total\{result="error"\}) [1-9]/,
      'failures counted',
    );

    // 3. Back: the watches resume and the new policy is acted on.
    await proxy.restore();
    await eventually(
      async () => {
        const r = await fetch(`${operator.url}/readyz`);
        assert.equal(r.status, 200, `readyz after the outage: ${r.status} ${await r.text()}`);
      },
      { timeoutMs: 90_000, what: '/readyz true again once the watches relisted' },
    );
    await expectPolicyStatus(
      cluster,
      'during',
      (p) => assert.ok((p.status?.recommendations?.length ?? 0) > 0, 'recommendations after the outage'),
      { timeoutMs: 90_000 },
    );
    await expectResized(
      cluster,
      d.metadata!.name!,
      (r) => assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} lowered after the outage`),
      { timeoutMs: 90_000 },
    );
  } finally {
    await operator.stop();
    await proxy.close();
  }
});
