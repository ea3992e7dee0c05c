// The fault suite's harm classifier (bench/faults-harm.ts): what counts as a shrink below usage, an
// eviction without cause, and convergence after a fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyEviction, classifyMemoryChange, secondsToConverge } from '../../bench/faults-harm.ts';

const Mi = 2 ** 20;

test('classifyMemoryChange: a decrease is judged against the usage at that moment', () => {
  const before = { request: 256 * Mi, limit: 512 * Mi };
  assert.equal(classifyMemoryChange(before, before, 100 * Mi), 'NoChange');
  assert.equal(classifyMemoryChange(before, { request: 300 * Mi, limit: 600 * Mi }, 100 * Mi), 'Raise');
  assert.equal(classifyMemoryChange(before, { request: 128 * Mi, limit: 512 * Mi }, 100 * Mi), 'Shrink');
  // At exactly the usage: not below it.
  assert.equal(classifyMemoryChange(before, { request: 100 * Mi, limit: 512 * Mi }, 100 * Mi), 'Shrink');
  assert.equal(
    classifyMemoryChange(before, { request: 64 * Mi, limit: 512 * Mi }, 100 * Mi),
    'ShrinkBelowUsage',
  );
  // The limit alone lowered below usage (an OOM kill in waiting), the request raised.
  assert.equal(
    classifyMemoryChange(before, { request: 300 * Mi, limit: 90 * Mi }, 100 * Mi),
    'ShrinkBelowUsage',
  );
  // A limit set where there was none is a cap: judged like a decrease.
  assert.equal(
    classifyMemoryChange({ request: 256 * Mi }, { request: 256 * Mi, limit: 64 * Mi }, 100 * Mi),
    'ShrinkBelowUsage',
  );
  // A limit removed is a raise.
  assert.equal(classifyMemoryChange(before, { request: 256 * Mi }, 100 * Mi), 'Raise');
  assert.equal(
    classifyMemoryChange(before, { request: 64 * Mi, limit: 512 * Mi }, undefined),
    'ShrinkUsageUnknown',
  );
});

test('classifyEviction: only Auto with a blocked resize has a cause; the benchmark’s own deletions are not evictions', () => {
  assert.equal(
    classifyEviction({ deletedByBenchmark: false, mode: 'Auto', resizeBlockedSeen: true }),
    'WithCause',
  );
  assert.equal(
    classifyEviction({ deletedByBenchmark: false, mode: 'Auto', resizeBlockedSeen: false }),
    'WithoutCause',
  );
  assert.equal(
    classifyEviction({ deletedByBenchmark: false, mode: 'InPlace', resizeBlockedSeen: true }),
    'WithoutCause',
  );
  assert.equal(
    classifyEviction({ deletedByBenchmark: true, mode: 'InPlace', resizeBlockedSeen: false }),
    'NotAnEviction',
  );
});

test('secondsToConverge: ready, as many policies Ready as before, and a resize since the end', () => {
  const end = 1_000_000;
  const probes = [
    { t: end - 1000, operatorReady: true, policiesReady: 10, resizedSinceEnd: true },
    { t: end + 2000, operatorReady: false, policiesReady: 10, resizedSinceEnd: true },
    { t: end + 4000, operatorReady: true, policiesReady: 9, resizedSinceEnd: true },
    { t: end + 6000, operatorReady: true, policiesReady: 10, resizedSinceEnd: false },
    { t: end + 8500, operatorReady: true, policiesReady: 10, resizedSinceEnd: true },
  ];
  assert.equal(secondsToConverge(end, 10, probes), 8.5);
  assert.equal(secondsToConverge(end, 11, probes), undefined);
});
