// Advice from live metrics, one scenario per row: what the KV cache and the queue say about the
// GPU, gpu_memory_utilization and the sequence limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advise } from '../../src/core/gpu/advise.ts';
import type { AdviceKind, CurrentDeployment, LiveMetrics } from '../../src/core/gpu/advise.ts';
import { GPU_CATALOGUE } from '../../src/core/gpu/catalogue.ts';
import { estimate } from '../../src/core/llm/estimate.ts';
import type { Estimate, EstimateRequest } from '../../src/core/llm/estimate.ts';
import { catalogueArchitecture } from '../../src/core/llm/catalogue/index.ts';

function est(id: string, req: Partial<EstimateRequest>): Estimate {
  const a = catalogueArchitecture(id);
  if (a?.kind !== 'ok') throw new Error(id);
  const e = estimate(a.value, { runtime: 'vllm', format: 'safetensors', ...req });
  if (e.kind !== 'ok') throw new Error(JSON.stringify(e.problem));
  return e.value;
}

const llama8b = est('meta-llama/Llama-3.1-8B-Instruct', { contextTokens: 8192, concurrency: 8 });
const qwenSmall = est('Qwen/Qwen2.5-0.5B-Instruct', { contextTokens: 4096, concurrency: 4 });

const cases: Array<{
  name: string;
  e: Estimate;
  live: LiveMetrics;
  current: CurrentDeployment;
  kinds: AdviceKind[];
  check?: (a: ReturnType<typeof advise>) => void;
}> = [
  {
    name: 'no KV-cache series (llama-server): no guess from an idle or a full cache, queue or not',
    e: llama8b,
    live: { requestsWaitingP95: 5 },
    current: { gpu: 'a100-80gb', gpus: 1 },
    kinds: [],
  },
  {
    name: 'no KV-cache series, GPU memory above the plan: the memory check still speaks',
    e: llama8b,
    live: { requestsWaitingP95: 0, gpuMemoryUsedBytes: 79e9 },
    current: { gpu: 'a100-80gb', gpus: 1, gpuMemoryUtilization: 0.5 },
    kinds: ['EstimateBelowUsage'],
  },
  {
    name: 'idle KV cache on an A100: a cheaper GPU',
    e: llama8b,
    live: { kvCacheUsageP95: 0.05, requestsWaitingP95: 0 },
    current: { gpu: 'a100-80gb', gpus: 1 },
    kinds: ['SmallerGpu'],
    check: (a) => {
      assert.equal(a[0]?.gpu, 'l40s');
      assert.ok((a[0]?.hourlySaving ?? 0) > 3);
    },
  },
  {
    name: 'queue with free KV cache: more sequences per replica',
    e: llama8b,
    live: { kvCacheUsageP95: 0.3, requestsWaitingP95: 5 },
    current: { gpu: 'a100-80gb', gpus: 1, maxNumSeqs: 8 },
    kinds: ['MoreSequencesPerReplica'],
    check: (a) => assert.equal(a[0]?.maxNumSeqs, 24),
  },
  {
    name: 'queue with a full KV cache: give vLLM more of the GPU',
    e: llama8b,
    live: { kvCacheUsageP95: 0.97, requestsWaitingP95: 5 },
    current: { gpu: 'a100-80gb', gpus: 1, maxNumSeqs: 64 },
    kinds: ['RaiseGpuMemoryUtilization'],
    check: (a) => assert.equal(a[0]?.gpuMemoryUtilization, 0.95),
  },
  {
    name: 'queue with a full KV cache and nothing left: another replica',
    e: llama8b,
    live: { kvCacheUsageP95: 0.97, requestsWaitingP95: 5 },
    current: { gpu: 'a100-80gb', gpus: 1, maxNumSeqs: 64, gpuMemoryUtilization: 0.95 },
    kinds: ['MoreReplicas'],
  },
  {
    name: 'idle on the cheapest GPU that fits: lower gpu_memory_utilization',
    e: qwenSmall,
    live: { kvCacheUsageP95: 0.05, requestsWaitingP95: 0 },
    current: { gpu: 't4', gpus: 1 },
    kinds: ['LowerGpuMemoryUtilization'],
    check: (a) => assert.ok((a[0]?.gpuMemoryUtilization ?? 1) < 0.5),
  },
  {
    name: 'busy but not queued: keep as is',
    e: llama8b,
    live: { kvCacheUsageP95: 0.7, requestsWaitingP95: 0 },
    current: { gpu: 'l40s', gpus: 1 },
    kinds: [],
  },
  {
    name: 'memory in use above the plan: warn before shrinking',
    e: llama8b,
    live: { kvCacheUsageP95: 0.7, requestsWaitingP95: 0, gpuMemoryUsedBytes: 47e9 },
    current: { gpu: 'l40s', gpus: 1 },
    kinds: ['EstimateBelowUsage'],
  },
  {
    name: 'unknown GPU: no advice rather than a guess',
    e: llama8b,
    live: { kvCacheUsageP95: 0.05, requestsWaitingP95: 0 },
    current: { gpu: 'mystery', gpus: 1 },
    kinds: [],
  },
];

for (const c of cases) {
  void test(`advise: ${c.name}`, () => {
    const a = advise(c.e, c.live, c.current);
    assert.deepEqual(
      a.map((x) => x.kind),
      c.kinds,
      JSON.stringify(a),
    );
    for (const x of a) assert.ok(x.message.length > 20);
    c.check?.(a);
  });
}

void test('advise: a MIG slice when it is the cheaper home', () => {
  const noT4 = GPU_CATALOGUE.filter((g) => g.id !== 't4');
  const a = advise(qwenSmall, { kvCacheUsageP95: 0.02, requestsWaitingP95: 0 }, { gpu: 'l4', gpus: 1 }, noT4);
  assert.equal(a[0]?.kind, 'MigSlice');
  assert.match(a[0]?.gpu ?? '', /mig/);
});
