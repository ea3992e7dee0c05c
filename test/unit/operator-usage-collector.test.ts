// The usage collector against a failing history store: a SQLite error during a poll (disk full, a
// lock held past busy_timeout) is caught and counted, the pods' "used now" still moves and the
// listeners are still told, the guard says the store fails until it works again, and OOM kills the
// store refused are written at the next chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { UsageHistory, type SeriesKey } from '../../src/sources/history.ts';
import { namespaces } from '../../src/sources/scope.ts';
import type { SharedWatch } from '../../src/kube/shared-watch.ts';
import { operatorMetrics, type OperatorMetrics } from '../../src/operator/metrics.ts';
import { HistoryGuard } from '../../src/operator/history-guard.ts';
import { UsageCollector } from '../../src/operator/usage-collector.ts';

const Mi = 2 ** 20;
const web: SeriesKey = { workload: { namespace: 'shop', kind: 'Deployment', name: 'web' }, container: 'app' };
const silent = pino({ level: 'silent' });

/** metrics.k8s.io answering one pod, with a new timestamp at each call. */
function fakeMetricsApi(): k8s.CustomObjectsApi {
  let t = Date.now() - 3_600_000;
  const list = () => {
    t += 1000;
    return Promise.resolve({
      items: [
        {
          metadata: { namespace: 'shop', name: 'web-0' },
          timestamp: new Date(t).toISOString(),
          containers: [{ name: 'app', usage: { cpu: '50m', memory: '100Mi' } }],
        },
      ],
    });
  };
  return {
    listNamespacedCustomObject: list,
    listClusterCustomObject: list,
  } as unknown as k8s.CustomObjectsApi;
}

const pod = { metadata: { namespace: 'shop', name: 'web-0', uid: 'u1' } } as k8s.V1Pod;
const pods = { get: () => pod } as unknown as SharedWatch<k8s.V1Pod>;

function collector(history: UsageHistory, metrics: OperatorMetrics, intervalMs = 10_000) {
  const guard = new HistoryGuard(history, { metrics, log: silent, now: () => Date.now() / 1000 });
  const usage = new UsageCollector({
    custom: fakeMetricsApi(),
    scope: namespaces('shop'),
    history: guard,
    pods,
    resolve: () => Promise.resolve(web.workload),
    intervalMs,
    now: () => Date.now() / 1000,
    log: silent,
    metrics,
  });
  return { guard, usage };
}

async function errors(metrics: OperatorMetrics, op: string): Promise<number> {
  const m = await metrics.registry.getSingleMetric('tailor_history_errors_total')!.get();
  return m.values.find((v) => v.labels.op === op)?.value ?? 0;
}

test('a store that fails during a poll: caught, counted, "used now" kept, listeners told, then healthy again', async () => {
  const history = UsageHistory.open(':memory:');
  const metrics = operatorMetrics(false);
  const { guard, usage } = collector(history, metrics);
  const told: string[][] = [];
  usage.onSamples((nss) => told.push([...nss]));
  const record = history.record.bind(history);
  let full = true;
  history.record = (records) => {
    if (full) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
    record(records);
  };

  await usage.pollOnce(); // resolves: nothing thrown out of the poll
  assert.equal(await errors(metrics, 'record'), 1);
  assert.equal(usage.latestOf('shop', 'web-0')?.get('app')?.memoryBytes, 100 * Mi, '"used now" still moves');
  assert.deepEqual(told, [['shop']], 'listeners still told, so the policies show the failure');
  const h = guard.health();
  assert.equal(h.kind, 'Failing');
  if (h.kind === 'Failing') {
    assert.equal(h.op, 'record');
    assert.match(h.error, /SQLITE_FULL: database or disk is full/);
  }
  assert.equal(history.series().length, 0);

  await usage.pollOnce();
  assert.equal(await errors(metrics, 'record'), 2, 'each failure counted');
  assert.equal(guard.health().kind, 'Failing');

  full = false;
  await usage.pollOnce();
  assert.equal(guard.health().kind, 'Ok', 'the store works again');
  assert.equal(history.series().length, 1);
  history.close();
});

test('a lock held past busy_timeout: the polling loop goes on, no unhandled rejection, and recovers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-collector-'));
  const path = join(dir, 'history.db');
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  const history = UsageHistory.open(path, { busyTimeoutMs: 20 });
  // Another process's writer: an exclusive transaction on the same file.
  const other = new Database(path);
  other.pragma('busy_timeout = 0');
  other.exec('BEGIN EXCLUSIVE');
  const metrics = operatorMetrics(false);
  const { guard, usage } = collector(history, metrics, 20);
  try {
    usage.start();
    const until = async (what: string, f: () => Promise<boolean> | boolean) => {
      const end = Date.now() + 5000;
      while (!(await f())) {
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('three failed writes', async () => (await errors(metrics, 'record')) >= 3);
    const h = guard.health();
    assert.equal(h.kind, 'Failing');
    if (h.kind === 'Failing') assert.match(h.error, /SQLITE_BUSY|database is locked/);
    other.exec('COMMIT');
    await until('the store works again', () => guard.health().kind === 'Ok');
    assert.equal(history.series().length, 1);
  } finally {
    await usage.stop();
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    history.close();
    process.off('unhandledRejection', onUnhandled);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(unhandled, []);
});

test('OOM kills the store refused are kept and written once it works again', () => {
  const history = UsageHistory.open(':memory:');
  const metrics = operatorMetrics(false);
  const guard = new HistoryGuard(history, { metrics, log: silent, now: () => 1_700_000_000 });
  const real = history.recordOoms.bind(history);
  let failing = true;
  history.recordOoms = (events, merge) => {
    if (failing) throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR');
    return real(events, merge);
  };
  const kill = { ...web, pod: 'web-0', t: 1_700_000_000, usageBytes: 512 * Mi };
  assert.equal(guard.recordOoms([kill]).ok, false);
  assert.deepEqual(guard.health(), {
    kind: 'Failing',
    op: 'recordOoms',
    error: 'SQLITE_IOERR: disk I/O error',
    since: 1_700_000_000,
  });
  guard.retryPending();
  assert.equal(history.ooms(web).length, 0);
  failing = false;
  guard.retryPending();
  assert.equal(history.ooms(web).length, 1, 'the refused kill is written');
  assert.equal(guard.health().kind, 'Ok');
  history.close();
});
