// Placement: how large a model's pod may ask to be, from the nodes that could run it. A request no
// node can hold leaves the pod Pending for ever; the cap keeps it schedulable beside other pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { BOOST_NODE_SHARE, loadingCap, nodeShapes } from '../../src/controllers/models/placement.ts';
import { boostSchedule } from '../../src/core/boost/index.ts';
import { catalogueArchitecture } from '../../src/core/llm/catalogue/index.ts';
import { estimate, type Estimate } from '../../src/core/llm/estimate.ts';

const Gi = 2 ** 30;

function node(name: string, cpu: string, memory: string, extra: Partial<k8s.V1Node> = {}): k8s.V1Node {
  return {
    metadata: { name, labels: extra.metadata?.labels ?? {} },
    spec: extra.spec ?? {},
    status: { allocatable: { cpu, memory } },
  };
}

const nodes = nodeShapes([
  node('general', '3920m', '6248Mi'),
  node('small', '1930m', '1436Mi'),
  node('gpu', '7910m', '29022Mi', {
    metadata: { labels: { 'nvidia.com/gpu.product': 'NVIDIA-L4' } },
    spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
  }),
  node('cordoned', '64', '256Gi', { spec: { unschedulable: true } }),
  node('hog', '16', '64Gi', {
    spec: { taints: [{ key: 'team', value: 'ml', effect: 'NoExecute' }] },
  }),
  node('preferred', '5', '8Gi', {
    spec: { taints: [{ key: 'spot', value: 'yes', effect: 'PreferNoSchedule' }] },
  }),
]);

void test('placement: a CPU pod is capped by the untainted, schedulable nodes; a GPU pod by its GPU nodes', () => {
  // CPU pod: general, small and preferred (PreferNoSchedule does not keep it off); not the cordoned,
  // the NoExecute-tainted or the GPU node.
  assert.deepEqual(loadingCap(nodes, {}), { cpu: 5 * BOOST_NODE_SHARE, memory: 8 * Gi * BOOST_NODE_SHARE });
  // GPU pod: only the L4 node, which it tolerates.
  const gpu = loadingCap(nodes, {
    nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4' },
    toleratedKeys: ['nvidia.com/gpu'],
  });
  assert.equal(gpu?.cpu, 7.91 * BOOST_NODE_SHARE);
  // Selector without the toleration: no node, so no cap (a node may be added on demand).
  assert.equal(loadingCap(nodes, { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4' } }), undefined);
  assert.equal(loadingCap([], {}), undefined);
});

function llamaCpp(): Estimate {
  const a = catalogueArchitecture('Qwen/Qwen2.5-0.5B-Instruct');
  if (a?.kind !== 'ok') throw new Error('catalogue');
  const e = estimate(a.value, { runtime: 'llamacpp', format: 'gguf', device: 'cpu' });
  if (e.kind !== 'ok') throw new Error(JSON.stringify(e.problem));
  return e.value;
}

void test('boost schedule under a node cap: CPU requests lowered to it, serving memory never', () => {
  const e = llamaCpp();
  const free = boostSchedule(e, {});
  assert.equal(free.steady.requests.cpu, 4, 'llama.cpp on CPU: 4 threads');
  const capped = boostSchedule(e, { nodeCap: { cpu: 1.96, memory: 0.2 * Gi } });
  assert.equal(capped.steady.requests.cpu, 1.95, 'floored to 50m steps, below the cap');
  assert.equal(capped.loading.requests.cpu, 1.95);
  assert.equal(
    capped.steady.requests.memory,
    free.steady.requests.memory,
    'serving memory is what the model needs',
  );
  assert.ok(capped.loading.requests.memory >= capped.steady.requests.memory, 'loading never below serving');
  assert.equal(capped.steady.limits.memory, free.steady.limits.memory);
  assert.match(capped.why, /CPU requests at most 1\.95 cores/);
  // A roomy node changes nothing, and says nothing.
  const roomy = boostSchedule(e, { nodeCap: { cpu: 32, memory: 128 * Gi } });
  assert.deepEqual(roomy.steady, free.steady);
  assert.equal(roomy.why, free.why);
});
