// The controllers' work queue: one run per key however often it is added, never two at once for a
// key, a key added while running runs once more, urgent keys jump the line, failures retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/kube/workqueue.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('a key added many times is reconciled once; different keys run up to the concurrency', async () => {
  const runs: string[] = [];
  let active = 0;
  let peak = 0;
  const q = new WorkQueue(
    async (k) => {
      runs.push(k);
      peak = Math.max(peak, ++active);
      await tick();
      active--;
    },
    () => {},
    { concurrency: 2 },
  );
  // x and y take both workers; the rest wait in the queue, where repeats fold into one.
  for (const k of ['x', 'y', 'a', 'b', 'a', 'c', 'a', 'b']) q.add(k);
  await q.idle();
  assert.deepEqual([...runs].sort(), ['a', 'b', 'c', 'x', 'y']);
  assert.equal(peak, 2);
});

test('a key added while it runs runs once more afterwards, never twice at once', async () => {
  let active = 0;
  let runs = 0;
  const q = new WorkQueue(
    async () => {
      runs++;
      assert.equal(++active, 1, 'never two runs of one key at once');
      await tick();
      active--;
    },
    () => {},
  );
  q.add('a');
  await new Promise((r) => setImmediate(r));
  q.add('a');
  q.add('a');
  await q.idle();
  await q.idle();
  assert.equal(runs, 2);
});

test('urgent keys go to the front of the line, also when already queued', async () => {
  const order: string[] = [];
  const q = new WorkQueue(
    async (k) => {
      order.push(k);
      await tick();
    },
    () => {},
    { concurrency: 1 },
  );
  for (const k of ['p1', 'p2', 'p3', 'p4']) q.add(k);
  q.add('oom', { urgent: true });
  q.add('p4', { urgent: true });
  await q.idle();
  // p1 was already running when the urgent keys came.
  assert.deepEqual(order, ['p1', 'p4', 'oom', 'p2', 'p3']);
});

test('a failing key is retried with backoff and reported', async () => {
  let attempts = 0;
  const errors: number[] = [];
  const q = new WorkQueue(
    () => (++attempts < 3 ? Promise.reject(new Error('apiserver away')) : Promise.resolve()),
    (_k, _e, retryInMs) => errors.push(retryInMs),
    { baseBackoffMs: 10, maxBackoffMs: 15 },
  );
  q.add('a');
  const deadline = Date.now() + 2000;
  while (attempts < 3 && Date.now() < deadline) await tick();
  await q.idle();
  assert.equal(attempts, 3);
  assert.deepEqual(errors, [10, 15]);
  q.stop();
});
