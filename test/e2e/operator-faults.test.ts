// The operator holding still on the real control plane and simulator when what a shrink stands on
// fails: a usage history store that refuses writes (SQLITE_FULL) holds every shrink with
// Ready=False HistoryUnavailable, counts the failures, still raises memory after an OOM kill, and
// shrinks once the store works again; metrics.k8s.io samples that go stale hold shrinks too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { parseQuantity } from '../../src/core/quantity.ts';
import type { SeriesKey, UsageHistory } from '../../src/sources/history.ts';
import { eventually, simPod, useCluster } from '../support/cluster.ts';
import {
  Mi,
  conditionOf,
  createPolicy,
  expectPolicyStatus,
  expectResized,
  overProvisioned,
  podOf,
  useTestOperator,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const operator = useTestOperator(cluster, { models: false });

const q = (v: string | undefined) => parseQuantity(v) ?? NaN;
const series = (name: string): SeriesKey => ({
  workload: { namespace: cluster.namespace, kind: 'Deployment', name },
  container: 'app',
});

/** Makes the store's writes fail like a full disk until `heal()`; reads keep working. */
function fillDisk(history: UsageHistory, ops: readonly ('record' | 'recordOoms')[]): { heal(): void } {
  const real = { record: history.record.bind(history), recordOoms: history.recordOoms.bind(history) };
  const full = () => {
    throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
  };
  for (const op of ops) history[op] = full;
  return {
    heal() {
      history.record = real.record;
      history.recordOoms = real.recordOoms;
    },
  };
}

async function historyErrors(url: string, op: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^tailor_history_errors_total\\{op="${op}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The pod's requests stay as they are for `ms` (polls at 1 s, reconciles every few seconds). */
async function staysFor(pod: string, ms: number, cpu: string, memory: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const p = await cluster.core.readNamespacedPod({ name: pod, namespace: cluster.namespace });
    const r = p.spec!.containers[0]!.resources!.requests!;
    assert.deepEqual({ cpu: r.cpu, memory: r.memory }, { cpu, memory }, `pod ${pod} not resized`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('history store full: no shrink while Ready=False HistoryUnavailable, errors counted, shrinks once it works', async () => {
  const op = operator.current;
  const { apps, namespace } = cluster;
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('store') });
  const pod = (await podOf(cluster, 'store')).metadata!.name!;
  // Usage recorded first, so there is a recommendation to hold back.
  await eventually(() => assert.ok(op.history.minutes(series('store')).length > 0, 'usage recorded'), {
    what: 'usage in the history',
  });

  const disk = fillDisk(op.history, ['record']);
  try {
    await eventually(
      async () => assert.ok((await historyErrors(op.url, 'record')) >= 1, 'a failed write counted'),
      { what: 'tailor_history_errors_total{op="record"}' },
    );
    await createPolicy(cluster, 'store', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'store' },
    });
    const p = await expectPolicyStatus(cluster, 'store', (s) => {
      const ready = conditionOf(s, 'Ready');
      assert.equal(ready?.status, 'False', `Ready: ${JSON.stringify(ready)}`);
      assert.equal(ready?.reason, 'HistoryUnavailable');
    });
    assert.match(
      conditionOf(p, 'Ready')!.message,
      /usage history store fails \(record: SQLITE_FULL: database or disk is full\).*shrinks are held until it works again/,
    );
    // A shrink is due (the recommendation is a quarter of the requests), and held.
    assert.ok(
      q(p.status?.recommendations?.[0]?.target.cpu as string | undefined) < 0.1,
      `recommendation ${JSON.stringify(p.status?.recommendations)}`,
    );
    await staysFor(pod, 6000, '200m', '400Mi');
    assert.ok((await historyErrors(op.url, 'record')) >= 3, 'every failed poll counted');
  } finally {
    disk.heal();
  }

  // The store works again: the shrink goes out and Ready is True.
  await expectResized(cluster, pod, (r) => {
    assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} lowered`);
    assert.ok(q(r.requests?.memory) >= 100 * Mi, `memory ${r.requests?.memory} at least the 100Mi used`);
  });
  await expectPolicyStatus(cluster, 'store', (s) =>
    assert.equal(conditionOf(s, 'Ready')?.status, 'True', JSON.stringify(conditionOf(s, 'Ready'))),
  );
});

test('history store full: an OOM kill still raises memory at once, and the kill is written once the store works', async () => {
  const op = operator.current;
  const { core, namespace } = cluster;
  const disk = fillDisk(op.history, ['record', 'recordOoms']);
  try {
    await createPolicy(cluster, 'leaky', { mode: 'InPlace', selector: { matchLabels: { app: 'leaky' } } });
    // Uses 200Mi under a 160Mi limit: killed as soon as it runs.
    await core.createNamespacedPod({
      namespace,
      body: simPod({
        name: 'leaky',
        profile: 'idle',
        params: { memoryBytes: 200 * Mi, cpuCores: 0.02, noise: 0, startupSeconds: 0 },
        resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '160Mi' } },
      }),
    });
    await expectResized(
      cluster,
      'leaky',
      (r) => assert.ok(q(r.limits?.memory) > 160 * Mi, `memory limit ${r.limits?.memory} raised`),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    assert.ok((await historyErrors(op.url, 'recordOoms')) >= 1, 'the refused OOM write counted');
  } finally {
    disk.heal();
  }
  const leaky: SeriesKey = { workload: { namespace, kind: 'Pod', name: 'leaky' }, container: 'app' };
  await eventually(() => assert.ok(op.history.ooms(leaky).length >= 1, 'the OOM kill is in the history'), {
    what: 'the refused OOM kill written at a later poll',
  });
});

test('metrics.k8s.io samples go stale: no shrink from a frozen "used now", shrinks once samples are fresh', async () => {
  const op = operator.current;
  const { apps, namespace } = cluster;
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('stale') });
  const pod = (await podOf(cluster, 'stale')).metadata!.name!;
  await eventually(() => assert.ok(op.usage.latestOf(namespace, pod)?.get('app'), 'a sample'), {
    what: 'a usage sample of the pod',
  });
  // The poller stops: the last sample stays in memory and ages (polls of 1 s: stale after 3 s).
  await op.usage.stop();
  try {
    await new Promise((r) => setTimeout(r, 3500));
    await createPolicy(cluster, 'stale', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'stale' },
    });
    await expectPolicyStatus(cluster, 'stale', (s) =>
      assert.ok((s.status?.recommendations?.length ?? 0) > 0, 'recommendations published'),
    );
    await staysFor(pod, 6000, '200m', '400Mi');
    const p = await expectPolicyStatus(cluster, 'stale', (s) =>
      assert.match(conditionOf(s, 'Ready')?.message ?? '', /shrinks held .*StaleUsage/),
    );
    assert.equal(conditionOf(p, 'Ready')?.status, 'True', 'recommendations are still published');
  } finally {
    op.usage.start();
  }
  await expectResized(cluster, pod, (r) =>
    assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} lowered once samples are fresh`),
  );
});
