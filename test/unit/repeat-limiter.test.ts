// A failure that repeats every poll is logged once, then once per interval with its count, and once
// more when the loop works again; a different failure is news and is logged at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { RepeatLimiter, repeatSuffix, shortDuration } from '../../src/core/log/repeat-limiter.ts';
import { RepeatLog } from '../../src/logging/repeat-log.ts';

const S = 1000;
const M = 60 * S;

test('the first failure is logged, repeats within the interval held, then one summary with the count', () => {
  const l = new RepeatLimiter(3 * M);
  assert.deepEqual(l.failed('watch pods', 'HTTP 503', 0), { kind: 'Log', repeated: 0, sinceMs: 0 });
  for (let t = 15 * S; t < 3 * M; t += 15 * S)
    assert.deepEqual(l.failed('watch pods', 'HTTP 503', t), { kind: 'Hold' });
  const v = l.failed('watch pods', 'HTTP 503', 3 * M);
  assert.deepEqual(v, { kind: 'Log', repeated: 12, sinceMs: 3 * M });
  assert.equal(repeatSuffix(v), ' (repeated 12 times in 3m)');
  // The next interval starts again from the summary.
  assert.deepEqual(l.failed('watch pods', 'HTTP 503', 3 * M + 15 * S), { kind: 'Hold' });
});

test('a different message or another key is logged at once', () => {
  const l = new RepeatLimiter(3 * M);
  l.failed('a', 'HTTP 503', 0);
  assert.equal(l.failed('a', 'HTTP 503', S).kind, 'Hold');
  assert.equal(l.failed('b', 'HTTP 503', 2 * S).kind, 'Log');
  assert.deepEqual(l.failed('a', 'HTTP 403', 3 * S), { kind: 'Log', repeated: 0, sinceMs: 0 });
  assert.equal(l.failed('a', 'HTTP 403', 4 * S).kind, 'Hold');
});

test('success forgets the key and tells how many failures were held back', () => {
  const l = new RepeatLimiter(3 * M);
  assert.equal(l.succeeded('a', 0), undefined, 'never failed: nothing to say');
  l.failed('a', 'x', 0);
  assert.equal(l.succeeded('a', S), undefined, 'failed once, already logged');
  l.failed('a', 'x', 10 * S);
  l.failed('a', 'x', 20 * S);
  l.failed('a', 'x', 30 * S);
  assert.deepEqual(l.succeeded('a', 40 * S), { held: 2, sinceMs: 30 * S });
  assert.equal(l.failed('a', 'x', 50 * S).kind, 'Log', 'a failure after recovery is news again');
});

test('shortDuration', () => {
  assert.equal(shortDuration(45 * S), '45s');
  assert.equal(shortDuration(3 * M), '3m');
  assert.equal(shortDuration(150 * M), '3h');
});

test('RepeatLog: 20 failures of a 15 s poll over 5 minutes are 2 lines and a recovery line', () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { base: undefined },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  let now = 0;
  const r = new RepeatLog(log, { intervalMs: 5 * M, now: () => now });
  const err = Object.assign(new Error('HTTP-Code: 503\nMessage: x\nBody: {}\nHeaders: {"a":"b"}'), {
    code: 503,
    body: '{"kind":"Status","message":"service unavailable","code":503}',
  });
  for (; now <= 5 * M; now += 15 * S) r.failed('poll', err, 'metrics.k8s.io poll failed');
  r.failed('poll', err, 'metrics.k8s.io poll failed');
  r.succeeded('poll', 'metrics.k8s.io poll works again');
  assert.deepEqual(
    lines.map((l) => [l.msg, l.err, l.repeated]),
    [
      ['metrics.k8s.io poll failed', 'service unavailable (HTTP 503)', undefined],
      ['metrics.k8s.io poll failed (repeated 20 times in 5m)', 'service unavailable (HTTP 503)', 20],
      ['metrics.k8s.io poll works again (after 1 more failure in 15s)', undefined, 1],
    ],
  );
});
