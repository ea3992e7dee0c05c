// The sizing controller's shrink gate per pod: a failing store, a stale or missing "used now", a
// history shorter than min(window, 24 h) each hold shrinks (in that order); and how a hold shows on
// the policy's Ready condition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  requiredSpanSeconds,
  shrinkGate,
  spanGate,
  withHolds,
  type GateInput,
} from '../../src/controllers/sizing/shrink-gate.ts';
import type { WantedCondition } from '../../src/controllers/sizing/status.ts';
import type { HistoryHealth } from '../../src/operator/history-guard.ts';

const NOW = 1_700_000_000;
const H = 3600;
const ok: HistoryHealth = { kind: 'Ok' };
const failing: HistoryHealth = {
  kind: 'Failing',
  op: 'record',
  error: 'SQLITE_FULL: database or disk is full',
  since: NOW - 30,
};
const fresh = { t: NOW - 10, cpuCores: 0.1, memoryBytes: 1 };

function gate(o: Partial<GateInput> = {}) {
  return shrinkGate({
    store: ok,
    now: NOW,
    pollIntervalSeconds: 15,
    requiredSpanSeconds: 24 * H,
    containers: [{ name: 'app', latest: fresh, spanSeconds: 30 * H }],
    ...o,
  });
}

test('the gate: each missing fact holds shrinks with its reason, the store first', () => {
  const cases: [string, Partial<GateInput>, string][] = [
    ['all known: allowed', {}, 'Allowed'],
    ['the store fails', { store: failing }, 'HistoryUnavailable'],
    [
      'the store fails and the sample is stale: the store is said',
      {
        store: failing,
        containers: [{ name: 'app', latest: { ...fresh, t: NOW - 600 }, spanSeconds: 30 * H }],
      },
      'HistoryUnavailable',
    ],
    [
      'a sample 44 s old, polls of 15 s: fresh',
      { containers: [{ name: 'app', latest: { ...fresh, t: NOW - 44 }, spanSeconds: 30 * H }] },
      'Allowed',
    ],
    [
      'a sample 46 s old, polls of 15 s: stale',
      { containers: [{ name: 'app', latest: { ...fresh, t: NOW - 46 }, spanSeconds: 30 * H }] },
      'StaleUsage',
    ],
    [
      'no sample for a container',
      { containers: [{ name: 'app', latest: undefined, spanSeconds: 30 * H }] },
      'StaleUsage',
    ],
    [
      'one of two containers stale',
      {
        containers: [
          { name: 'app', latest: fresh, spanSeconds: 30 * H },
          { name: 'sidecar', latest: { ...fresh, t: NOW - 120 }, spanSeconds: 30 * H },
        ],
      },
      'StaleUsage',
    ],
    [
      '23 h of the 24 h needed',
      { containers: [{ name: 'app', latest: fresh, spanSeconds: 23 * H }] },
      'ShortHistory',
    ],
    [
      'stale beats short',
      { containers: [{ name: 'app', latest: undefined, spanSeconds: 60 }] },
      'StaleUsage',
    ],
    ['no container to size: nothing to hold', { containers: [] }, 'Allowed'],
  ];
  for (const [name, o, want] of cases) {
    const g = gate(o);
    assert.equal(g.kind === 'Allowed' ? 'Allowed' : g.reason, want, name);
  }
  const store = gate({ store: failing });
  assert.equal(store.kind, 'Held');
  if (store.kind === 'Held')
    assert.equal(
      store.message,
      'the usage history store fails (record: SQLITE_FULL: database or disk is full) since 2023-11-14T22:12:50Z: ' +
        'shrinks are held until it works again; OOM raises still go out',
    );
  const stale = gate({
    containers: [{ name: 'app', latest: { ...fresh, t: NOW - 120 }, spanSeconds: 30 * H }],
  });
  if (stale.kind === 'Held')
    assert.match(stale.message, /container app is 120s old \(stale after 3 polls, 45s\)/);
});

test('the history a shrink needs: min(window, 24 h) unless the operator says otherwise', () => {
  assert.equal(requiredSpanSeconds(8 * 24 * H), 24 * H);
  assert.equal(requiredSpanSeconds(6 * H), 6 * H);
  assert.equal(requiredSpanSeconds(90 * 24 * H), 24 * H);
  assert.equal(requiredSpanSeconds(8 * 24 * H, 0), 0, 'tests lower it');
  assert.equal(requiredSpanSeconds(8 * 24 * H, 600), 600);
  // The span half alone, for a source that knows a series for longer than the local store.
  assert.equal(spanGate([{ name: 'app', spanSeconds: 24 * H }], 24 * H).kind, 'Allowed');
  const short = spanGate([{ name: 'app', spanSeconds: 90 * 60 }], 24 * H);
  assert.equal(short.kind, 'Held');
  if (short.kind === 'Held')
    assert.match(short.message, /container app spans 1.5 h of the 24.0 h a shrink needs/);
});

test('Ready says a failing store (False, HistoryUnavailable); other holds by reason on a Ready=True message', () => {
  const ready: WantedCondition = {
    type: 'Ready',
    status: 'True',
    reason: 'Applying',
    message: 'resized in place',
  };
  const found: WantedCondition = { type: 'TargetFound', status: 'True', reason: 'Found', message: 'x' };
  const [r1, f1] = withHolds([ready, found], failing, []);
  assert.equal(r1!.status, 'False');
  assert.equal(r1!.reason, 'HistoryUnavailable');
  assert.match(
    r1!.message,
    /record: SQLITE_FULL.*shrinks are held until it works again; OOM raises still go out/,
  );
  assert.deepEqual(f1, found);
  const held = (reason: 'StaleUsage' | 'ShortHistory') =>
    ({ kind: 'Held', reason, message: 'varies 17s' }) as const;
  const [r2] = withHolds([ready], ok, [
    held('StaleUsage'),
    held('StaleUsage'),
    held('ShortHistory'),
    { kind: 'Allowed' },
  ]);
  assert.equal(r2!.status, 'True');
  assert.equal(
    r2!.message,
    'resized in place; shrinks held (raises still go out): 2 pods without a recent usage sample (StaleUsage), ' +
      '1 pod with a history shorter than min(window, 24 h) (ShortHistory)',
  );
  assert.deepEqual(withHolds([ready], ok, [{ kind: 'Allowed' }]), [ready]);
  const notReady: WantedCondition = {
    type: 'Ready',
    status: 'False',
    reason: 'NoMetrics',
    message: 'no data',
  };
  assert.deepEqual(withHolds([notReady], ok, [held('StaleUsage')]), [notReady]);
});
