// The dispatcher (src/notify/dispatcher.ts) on an injected clock: one notification per alert key
// until it resolves or the repeat interval passes, resolves when alerts go, a rate limit per
// receiver, exponential backoff (Retry-After honoured) counted, a bounded queue, and `update` never
// waiting on a receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher, backoffMs, DEFAULT_DISPATCH, type Route } from '../../src/notify/dispatcher.ts';
import type { Receiver } from '../../src/notify/receivers/receiver.ts';
import type { Alert, DeliveryResult, Notification, SendResult } from '../../src/notify/types.ts';
import { FakeClock } from '../support/fake-clock.ts';

const alert = (key: string, over: Partial<Alert> = {}): Alert => ({
  kind: 'OOMLoop',
  key,
  severity: 'critical',
  summary: `summary of ${key}`,
  labels: { namespace: 'shop' },
  details: {},
  since: 1_800_000_000,
  ...over,
});

interface Sent {
  readonly at: number;
  readonly status: string;
  readonly key: string;
}

function recorder(name: string, clock: FakeClock, results: SendResult[] = []) {
  const sent: Sent[] = [];
  const receiver: Receiver = {
    name,
    type: 'webhook',
    send: (n: Notification) => {
      sent.push({ at: clock.now(), status: n.status, key: n.alert.key });
      return Promise.resolve(results.shift() ?? { kind: 'Delivered' });
    },
  };
  return { receiver, sent };
}

function counts() {
  const c = new Map<string, number>();
  return {
    count: (receiver: string, result: DeliveryResult) =>
      c.set(`${receiver}/${result}`, (c.get(`${receiver}/${result}`) ?? 0) + 1),
    get: (k: string) => c.get(k) ?? 0,
  };
}

const all: Route[] = [{ alerts: ['OOMLoop', 'ResizeInfeasible', 'SavingsDigest'], receivers: ['r'] }];
const fast = { rate: { perMinute: 6000, burst: 100 } };

test('one notification per key until it resolves or the repeat interval passes; a resolve when it goes', async () => {
  const clock = new FakeClock();
  const r = recorder('r', clock);
  const n = counts();
  const d = new Dispatcher({ receivers: [r.receiver], routes: all, clock, count: n.count, settings: fast });
  const t0 = clock.now();
  d.update([alert('a')]);
  await clock.advance(10);
  d.update([alert('a')]);
  await clock.advance(3600_000);
  d.update([alert('a', { summary: 'changed words, same key' })]);
  await clock.advance(10);
  assert.deepEqual(r.sent, [{ at: t0, status: 'firing', key: 'a' }], 'told once in the first 4h');
  await clock.advance(3 * 3600_000);
  d.update([alert('a')]);
  await clock.advance(10);
  assert.equal(r.sent.length, 2, 'told again after the 4h repeat interval');
  assert.equal(r.sent[1]!.status, 'firing');
  d.update([alert('b')]);
  await clock.advance(10);
  assert.deepEqual(
    r.sent.slice(2).map((s) => [s.status, s.key]),
    [
      ['firing', 'b'],
      ['resolved', 'a'],
    ],
  );
  d.update([alert('b')]);
  d.update([]);
  d.update([]);
  await clock.advance(10);
  assert.deepEqual(
    r.sent.slice(4).map((s) => [s.status, s.key]),
    [['resolved', 'b']],
    'resolved once',
  );
  assert.equal(n.get('r/delivered'), 5);
  await d.stop();
});

test('routes: only the alerts and namespaces a route names reach a receiver; the digest only by announce', async () => {
  const clock = new FakeClock();
  const a = recorder('a', clock);
  const b = recorder('b', clock);
  const d = new Dispatcher({
    receivers: [a.receiver, b.receiver],
    routes: [
      { alerts: ['OOMLoop'], receivers: ['a'] },
      { alerts: ['OOMLoop', 'SavingsDigest'], receivers: ['b'], namespaces: ['acme'] },
    ],
    clock,
    settings: fast,
  });
  d.update([
    alert('shop-oom'),
    alert('acme-oom', { labels: { namespace: 'acme' } }),
    alert('infeasible', { kind: 'ResizeInfeasible' }),
  ]);
  d.announce(alert('digest', { kind: 'SavingsDigest', labels: {} }));
  await clock.advance(10);
  assert.deepEqual(
    a.sent.map((s) => s.key),
    ['shop-oom', 'acme-oom'],
  );
  assert.deepEqual(
    b.sent.map((s) => s.key),
    ['acme-oom', 'digest'],
    'a cluster-wide digest matches a namespaced route',
  );
  await d.stop();
});

test('backoff: a failing receiver is retried at 1 s, 2 s, 4 s ... (Retry-After honoured), each retry counted', async () => {
  const clock = new FakeClock();
  const r = recorder('r', clock, [
    { kind: 'Retry', reason: 'HTTP 503' },
    { kind: 'Retry', reason: 'timeout after 10s' },
    { kind: 'Retry', reason: 'connection failed (ECONNREFUSED)' },
    { kind: 'Retry', reason: 'HTTP 429', retryAfterMs: 30_000 },
  ]);
  const n = counts();
  const d = new Dispatcher({ receivers: [r.receiver], routes: all, clock, count: n.count, settings: fast });
  const t0 = clock.now();
  d.update([alert('a')]);
  await clock.advance(60_000);
  assert.deepEqual(
    r.sent.map((s) => s.at - t0),
    [0, 1000, 3000, 7000, 37_000],
    'exponential from 1 s, then the 30 s Retry-After',
  );
  assert.equal(n.get('r/retried'), 4);
  assert.equal(n.get('r/delivered'), 1);
  assert.equal(backoffMs(1, DEFAULT_DISPATCH.retry), 1000);
  assert.equal(backoffMs(20, DEFAULT_DISPATCH.retry), 300_000, 'capped at 5 minutes');
  await d.stop();
});

test('out of retries: counted failed and dropped; a refusal (4xx) is not retried; the next notification goes on', async () => {
  const clock = new FakeClock();
  const r = recorder('r', clock, [
    { kind: 'Retry', reason: 'HTTP 500' },
    { kind: 'Retry', reason: 'HTTP 500' },
    { kind: 'Retry', reason: 'HTTP 500' },
    { kind: 'Failed', reason: 'HTTP 400' },
  ]);
  const n = counts();
  const d = new Dispatcher({
    receivers: [r.receiver],
    routes: all,
    clock,
    count: n.count,
    settings: { ...fast, retry: { baseMs: 100, maxMs: 1000, maxAttempts: 3 } },
  });
  d.update([alert('a'), alert('b'), alert('c')]);
  await clock.advance(10_000);
  assert.deepEqual(
    r.sent.map((s) => s.key),
    ['a', 'a', 'a', 'b', 'c'],
  );
  assert.equal(n.get('r/retried'), 2);
  assert.equal(n.get('r/failed'), 2, 'a out of retries, b refused');
  assert.equal(n.get('r/delivered'), 1);
  await d.stop();
});

test('rate limit per receiver: a burst, then perMinute; the wait is counted', async () => {
  const clock = new FakeClock();
  const r = recorder('r', clock);
  const n = counts();
  const d = new Dispatcher({
    receivers: [r.receiver],
    routes: all,
    clock,
    count: n.count,
    settings: { rate: { perMinute: 60, burst: 2 } },
  });
  const t0 = clock.now();
  d.update(['a', 'b', 'c', 'd', 'e'].map((k) => alert(k)));
  await clock.advance(10_000);
  assert.deepEqual(
    r.sent.map((s) => s.at - t0),
    [0, 0, 1000, 2000, 3000],
  );
  assert.equal(n.get('r/rate_limited'), 3);
  await d.stop();
});

test('an endpoint that never answers: update() returns at once, the queue is bounded (oldest dropped, counted), other receivers are not delayed', async () => {
  const clock = new FakeClock();
  const n = counts();
  let calls = 0;
  const hung: Receiver = {
    name: 'hung',
    type: 'slack',
    send: () => (calls++, new Promise<SendResult>(() => {})),
  };
  const ok = recorder('ok', clock);
  const d = new Dispatcher({
    receivers: [hung, ok.receiver],
    routes: [{ alerts: ['OOMLoop'], receivers: ['hung', 'ok'] }],
    clock,
    count: n.count,
    settings: { ...fast, queueSize: 3 },
  });
  for (let i = 0; i < 10; i++) {
    const began = performance.now();
    assert.equal(d.update([alert(`k${i}`)]), undefined, 'nothing to await');
    assert.ok(performance.now() - began < 50, 'update is synchronous work only');
    await clock.advance(1);
  }
  assert.equal(calls, 1, 'one request in flight to the hung endpoint');
  assert.equal(d.pending().hung, 3, 'its queue holds at most queueSize');
  // 10 firing + 9 resolved queued; 3 kept.
  assert.equal(n.get('hung/dropped'), 16);
  assert.equal(ok.sent.length, 19, 'the other receiver got every firing and resolve');
  await d.stop();
});
