import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { packingPods } from '../../src/operator/packing-pods.ts';

const toleration = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };

/** A pod as the API lists it (full) and as the operator's cache keeps it (slim, current requests). */
function pod(name: string, node: string, cpu: string): { full: k8s.V1Pod; slim: k8s.V1Pod } {
  const metadata = { name, namespace: 'chat', uid: `uid-${name}` };
  const resources = { requests: { cpu, 'nvidia.com/gpu': '1' } };
  return {
    full: {
      metadata,
      spec: {
        nodeName: node,
        tolerations: [toleration],
        volumes: [{ name: 'scratch', emptyDir: {} }],
        containers: [{ name: 'server', image: 'vllm', resources: { requests: { cpu: '8' } } }],
      },
    },
    slim: { metadata, spec: { nodeName: node, containers: [{ name: 'server', resources }] } },
  };
}

function world() {
  let now = 1000;
  let listed = 0;
  const cached: k8s.V1Pod[] = [];
  const api: k8s.V1Pod[] = [];
  const read = packingPods({
    cached: () => cached,
    listFull: () => {
      listed++;
      return Promise.resolve([...api]);
    },
    now: () => now,
    maxAgeSeconds: 300,
  });
  const add = (name: string, node: string, cpu = '4') => {
    const p = pod(name, node, cpu);
    cached.push(p.slim);
    api.push(p.full);
  };
  return {
    read,
    add,
    listed: () => listed,
    later: (s: number) => (now += s),
  };
}

test('packing pods: the cached pod (current requests, node) with the scheduling fields of the full list', async () => {
  const w = world();
  w.add('llama-8b-0', 'gpu-l4-0');
  const [p] = await w.read();
  assert.deepEqual(p?.spec?.tolerations, [toleration]);
  assert.deepEqual(p?.spec?.volumes, [{ name: 'scratch', emptyDir: {} }]);
  assert.equal(p?.spec?.nodeName, 'gpu-l4-0');
  assert.deepEqual(p?.spec?.containers[0]?.resources?.requests, { cpu: '4', 'nvidia.com/gpu': '1' });
});

test('packing pods: a pod started after the last list is there at the next read (relisted), not missing for minutes', async () => {
  const w = world();
  w.add('llama-8b-0', 'gpu-l4-0');
  assert.equal((await w.read()).length, 1);
  assert.equal(w.listed(), 1);
  w.later(10);
  assert.equal((await w.read()).length, 1);
  assert.equal(w.listed(), 1, 'nothing new: the list is reused');
  w.add('llama-8b-1', 'gpu-l4-1');
  w.later(10);
  const pods = await w.read();
  assert.deepEqual(
    pods.map((p) => [p.metadata?.name, p.spec?.nodeName, p.spec?.tolerations?.length]),
    [
      ['llama-8b-0', 'gpu-l4-0', 1],
      ['llama-8b-1', 'gpu-l4-1', 1],
    ],
  );
  assert.equal(w.listed(), 2);
  w.later(300);
  await w.read();
  assert.equal(w.listed(), 3, 'relisted after maxAgeSeconds');
});
