// The fault suite's harm classifier (bench/faults-harm.ts): what counts as a shrink below usage, an
// eviction without cause, and convergence after a fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyEviction,
  classifyMemoryChange,
  nodeCapacityRefusal,
  secondsToConverge,
} from '../../bench/faults-harm.ts';

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
  const facts = { deletedByBenchmark: false, resizeRefusedForNodeCapacity: false } as const;
  assert.equal(classifyEviction({ ...facts, mode: 'Auto', resizeBlockedSeen: true }), 'WithCause');
  assert.equal(classifyEviction({ ...facts, mode: 'Auto', resizeBlockedSeen: false }), 'WithoutCause');
  assert.equal(classifyEviction({ ...facts, mode: 'InPlace', resizeBlockedSeen: true }), 'WithoutCause');
  assert.equal(
    classifyEviction({ ...facts, deletedByBenchmark: true, mode: 'InPlace', resizeBlockedSeen: false }),
    'NotAnEviction',
  );
});

test('classifyEviction: an Auto pod whose resize the apiserver refused (403 NodeCapacity) was evicted with cause', () => {
  // Kubernetes 1.35+ refuses the resize at admission: no PodResizePending condition is ever seen.
  assert.equal(
    classifyEviction({
      deletedByBenchmark: false,
      mode: 'Auto',
      resizeBlockedSeen: false,
      resizeRefusedForNodeCapacity: true,
    }),
    'WithCause',
  );
  // The same refusal under InPlace is no reason to delete the pod: that mode never evicts.
  assert.equal(
    classifyEviction({
      deletedByBenchmark: false,
      mode: 'InPlace',
      resizeBlockedSeen: false,
      resizeRefusedForNodeCapacity: true,
    }),
    'WithoutCause',
  );
  assert.equal(
    classifyEviction({
      deletedByBenchmark: false,
      mode: 'None',
      resizeBlockedSeen: true,
      resizeRefusedForNodeCapacity: true,
    }),
    'WithoutCause',
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

test('nodeCapacityRefusal: a 403 NodeCapacity answer to a pods/resize PATCH names the pod; other 403s do not', () => {
  const refused = JSON.stringify({
    kind: 'Status',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message:
      'pods "mover-1" is forbidden: Node didn\'t have enough allocatable resources: cpu, requested: 2760, allocatable: 2000',
    details: { name: 'mover-1', kind: 'pods', causes: [{ reason: 'NodeCapacity', message: 'cpu' }] },
  });
  const url = '/api/v1/namespaces/faults-01/pods/mover-1/resize?fieldManager=tailor';
  assert.deepEqual(nodeCapacityRefusal('PATCH', url, 403, refused), {
    namespace: 'faults-01',
    name: 'mover-1',
  });
  // The message alone (an apiserver that sends no causes) is enough.
  const messageOnly = JSON.stringify({
    code: 403,
    message: 'pods "mover-1" is forbidden: Node didn\'t have enough allocatable resources: memory',
  });
  assert.deepEqual(nodeCapacityRefusal('PATCH', url, 403, messageOnly), {
    namespace: 'faults-01',
    name: 'mover-1',
  });
  // RBAC's 403 is not a capacity refusal.
  const rbac = JSON.stringify({
    code: 403,
    reason: 'Forbidden',
    message: 'pods "mover-1" is forbidden: User "x" cannot patch resource "pods/resize"',
  });
  assert.equal(nodeCapacityRefusal('PATCH', url, 403, rbac), undefined);
  // Not a resize, not a refusal, or not JSON.
  assert.equal(
    nodeCapacityRefusal('PATCH', '/api/v1/namespaces/faults-01/pods/mover-1', 403, refused),
    undefined,
  );
  assert.equal(nodeCapacityRefusal('PATCH', url, 200, refused), undefined);
  assert.equal(nodeCapacityRefusal('GET', url, 403, refused), undefined);
  assert.equal(nodeCapacityRefusal('PATCH', url, 403, '<html>'), undefined);
});
