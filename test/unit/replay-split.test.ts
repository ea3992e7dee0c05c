import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32, splitByPod, splitHalfOf } from '../../src/core/replay/split.ts';

test('FNV-1a 32 matches the published test vectors', () => {
  // From the reference implementation's test suite (isthe.com/chongo/tech/comp/fnv).
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('a pod falls in the half the top bit of its hash says: 0 tunes, 1 evaluates', () => {
  assert.equal(fnv1a32('fo'), 0x6222e842);
  assert.equal(splitHalfOf('fo'), 'Tuning');
  assert.equal(fnv1a32('foo'), 0xa9f37ed7);
  assert.equal(splitHalfOf('foo'), 'Evaluation');
  assert.equal(splitHalfOf('a'), 'Evaluation');
});

test('the split depends on the pod id alone: not on order, neighbours or other fields', () => {
  const pods = Array.from({ length: 200 }, (_, i) => ({ pod: `pod-${i.toString(16)}`, n: i }));
  const once = splitByPod(pods);
  const reversed = splitByPod([...pods].reverse());
  const halfOnly = splitByPod(pods.slice(0, 50));
  const key = (xs: readonly { pod: string }[]) => new Set(xs.map((x) => x.pod));
  assert.deepEqual(key(reversed.tuning), key(once.tuning));
  assert.deepEqual(key(reversed.evaluation), key(once.evaluation));
  for (const p of halfOnly.tuning) assert.ok(key(once.tuning).has(p.pod), p.pod);
  // Every pod lands in exactly one half, in input order.
  assert.equal(once.tuning.length + once.evaluation.length, pods.length);
  for (const p of once.tuning) assert.ok(!key(once.evaluation).has(p.pod));
  assert.deepEqual(
    once.tuning.map((p) => p.n),
    [...once.tuning.map((p) => p.n)].sort((a, b) => a - b),
  );
  // Roughly halves: 200 ids are far from all in one half.
  assert.ok(
    once.tuning.length > 70 && once.evaluation.length > 70,
    `${once.tuning.length} / ${once.evaluation.length}`,
  );
});
