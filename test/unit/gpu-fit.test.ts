// GPU catalogue and fit: cheapest option that holds the estimate, tensor parallelism when one GPU
// is not enough, MIG slices, weights a GPU cannot run, and the named no-fit outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPU_CATALOGUE, findGpu } from '../../src/core/gpu/catalogue.ts';
import { fit } from '../../src/core/gpu/fit.ts';
import type { FitRequest } from '../../src/core/gpu/fit.ts';
import { estimate } from '../../src/core/llm/estimate.ts';
import type { Estimate, EstimateRequest } from '../../src/core/llm/estimate.ts';
import { catalogueArchitecture } from '../../src/core/llm/catalogue/index.ts';
import { GiB } from '../../src/core/llm/types.ts';

function est(id: string, req: Partial<EstimateRequest>): Estimate {
  const a = catalogueArchitecture(id);
  if (a?.kind !== 'ok') throw new Error(id);
  const e = estimate(a.value, { runtime: 'vllm', format: 'safetensors', ...req });
  if (e.kind !== 'ok') throw new Error(JSON.stringify(e.problem));
  return e.value;
}

void test('catalogue: a 24 GB card has about 22 GiB usable; ids unique; MIG slices request their own resource', () => {
  const l4 = findGpu('l4');
  assert.ok(l4);
  assert.ok(l4.usableBytes > 21.9 * GiB && l4.usableBytes < 22.6 * GiB);
  const ids = GPU_CATALOGUE.map((g) => g.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const g of GPU_CATALOGUE) {
    assert.ok(g.usableBytes < g.memoryBytes, `${g.id}: usable below marketed`);
    assert.ok(g.hourlyPrice > 0 && g.watts > 0, g.id);
    if (g.mig) {
      assert.equal(g.resourceName, `nvidia.com/mig-${g.mig.profile}`);
      const parent = findGpu(g.mig.parent);
      assert.ok(parent && g.hourlyPrice < parent.hourlyPrice && g.productLabel === parent.productLabel);
    } else {
      assert.equal(g.resourceName, 'nvidia.com/gpu');
    }
  }
  for (const id of [
    't4',
    'l4',
    'a10g',
    'l40s',
    'a100-40gb',
    'a100-80gb',
    'h100-80gb',
    'h200',
    'a100-80gb-mig-1g.10gb',
    'h100-80gb-mig-3g.40gb',
  ]) {
    assert.ok(findGpu(id), id);
  }
  assert.equal(findGpu('NVIDIA-H100-80GB-HBM3')?.id, 'h100-80gb');
  assert.equal(findGpu('nvidia-l4')?.id, 'l4');
});

const cases: Array<{
  name: string;
  id: string;
  req: Partial<EstimateRequest>;
  fitReq?: FitRequest;
  gpu: string;
  count: number;
}> = [
  {
    name: 'small model: the cheapest GPU',
    id: 'Qwen/Qwen2.5-0.5B-Instruct',
    req: { contextTokens: 4096, concurrency: 4 },
    gpu: 't4',
    count: 1,
  },
  {
    name: '8B at 8 x 8K: two L4 with tensor parallelism beat one L40S',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { contextTokens: 8192, concurrency: 8 },
    gpu: 'l4',
    count: 2,
  },
  {
    name: '8B pinned to H100',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { contextTokens: 8192, concurrency: 8 },
    fitReq: { gpu: 'h100-80gb' },
    gpu: 'h100-80gb',
    count: 1,
  },
  {
    name: '70B bf16: four L40S',
    id: 'meta-llama/Llama-3.1-70B-Instruct',
    req: { contextTokens: 8192, concurrency: 4 },
    gpu: 'l40s',
    count: 4,
  },
  {
    name: '70B bf16 pinned to H100: four, not two',
    id: 'meta-llama/Llama-3.1-70B-Instruct',
    req: { contextTokens: 8192, concurrency: 4 },
    fitReq: { gpu: 'h100-80gb' },
    gpu: 'h100-80gb',
    count: 4,
  },
  {
    name: 'DeepSeek-V3 FP8: eight H200',
    id: 'deepseek-ai/DeepSeek-V3',
    req: { contextTokens: 8192, concurrency: 4 },
    gpu: 'h200',
    count: 8,
  },
  {
    name: 'llama.cpp Q4_K_M 8B: one T4',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { runtime: 'llamacpp', format: 'gguf', contextTokens: 8192 },
    gpu: 't4',
    count: 1,
  },
];

for (const c of cases) {
  void test(`fit: ${c.name}`, () => {
    const e = est(c.id, c.req);
    const r = fit(e, c.fitReq);
    assert.equal(r.outcome, 'Fits', r.reason);
    assert.equal(r.choice?.gpu.id, c.gpu, r.reason);
    assert.equal(r.choice?.count, c.count, r.reason);
    assert.equal(r.choice?.tensorParallel, c.count);
    assert.ok(r.choice && r.choice.neededPerGpuBytes <= r.choice.budgetPerGpuBytes);
    // Nothing that fits is cheaper than the choice.
    for (const o of r.alternatives)
      if (o.fits) assert.ok(o.hourlyPrice >= (r.choice?.hourlyPrice ?? 0), o.why);
    assert.match(r.reason, /cheapest fit/);
  });
}

void test('vLLM reserves its whole budget; llama.cpp reserves what it needs', () => {
  const v = fit(est('Qwen/Qwen2.5-0.5B-Instruct', { contextTokens: 4096 }));
  assert.equal(v.choice?.reservedPerGpuBytes, v.choice?.budgetPerGpuBytes);
  const l = fit(
    est('Qwen/Qwen2.5-0.5B-Instruct', { runtime: 'llamacpp', format: 'gguf', contextTokens: 4096 }),
  );
  assert.equal(l.choice?.reservedPerGpuBytes, l.choice?.neededPerGpuBytes);
});

void test('a higher gpu_memory_utilization lets a tighter option fit', () => {
  const e = est('meta-llama/Llama-3.1-8B-Instruct', { contextTokens: 8192, concurrency: 3 });
  const at90 = fit(e, { gpu: 'l4' });
  const at98 = fit(e, { gpu: 'l4', gpuMemoryUtilization: 0.98 });
  assert.ok((at90.choice?.count ?? 0) >= (at98.choice?.count ?? 0));
  assert.ok((at98.choice?.budgetPerGpuBytes ?? 0) > (at90.choice?.budgetPerGpuBytes ?? 0));
});

void test('MIG slice chosen when it is the cheapest fit', () => {
  const noT4 = GPU_CATALOGUE.filter((g) => g.id !== 't4');
  const r = fit(
    est('Qwen/Qwen2.5-0.5B-Instruct', { runtime: 'llamacpp', format: 'gguf', contextTokens: 4096 }),
    {},
    noT4,
  );
  assert.equal(r.choice?.gpu.id, 'a100-40gb-mig-1g.5gb');
  assert.equal(r.choice?.gpu.resourceName, 'nvidia.com/mig-1g.5gb');
  const off = fit(
    est('Qwen/Qwen2.5-0.5B-Instruct', { runtime: 'llamacpp', format: 'gguf', contextTokens: 4096 }),
    { allowMig: false },
    noT4,
  );
  assert.equal(off.choice?.gpu.id, 'l4');
});

void test('MIG slices are never combined with tensor parallelism', () => {
  const r = fit(est('meta-llama/Llama-3.1-70B-Instruct', { contextTokens: 8192 }));
  for (const o of r.alternatives) if (o.gpu.mig) assert.equal(o.count, 1);
});

void test('FP8 weights are not offered on a T4 (no kernels before compute capability 8.0)', () => {
  const r = fit(est('deepseek-ai/DeepSeek-V3', { contextTokens: 4096 }), { gpu: 't4' });
  assert.equal(r.outcome, 'NoFit');
  assert.equal(r.alternatives[0]?.status, 'UnsupportedWeights');
  assert.match(r.alternatives[0]?.why ?? '', /compute capability/);
});

void test('no fit: the largest context that would fit, which then does fit', () => {
  const e = est('meta-llama/Llama-3.1-405B-Instruct', { contextTokens: 131072, concurrency: 8 });
  const r = fit(e);
  assert.equal(r.outcome, 'NoFit');
  assert.equal(r.choice, undefined);
  assert.ok(r.largest);
  assert.equal(r.largest.gpu, 'h200');
  assert.equal(r.largest.count, 8);
  assert.ok(
    r.largest.maxContextTokens > 8192 && r.largest.maxContextTokens < 131072,
    String(r.largest.maxContextTokens),
  );
  assert.match(r.reason, /longest context/);
  const shorter = est('meta-llama/Llama-3.1-405B-Instruct', {
    contextTokens: r.largest.maxContextTokens,
    concurrency: 8,
  });
  assert.equal(fit(shorter).outcome, 'Fits');
});

void test('no fit because the weights alone are too big: the largest model that would fit', () => {
  const e = est('meta-llama/Llama-3.1-405B-Instruct', { contextTokens: 4096 });
  const r = fit(e, { gpu: 'l4' });
  assert.equal(r.outcome, 'NoFit');
  assert.equal(r.largest?.maxContextTokens, 0);
  assert.ok(
    (r.largest?.maxParams ?? 0) > 50e9 && (r.largest?.maxParams ?? 0) < 90e9,
    String(r.largest?.maxParams),
  );
  assert.match(r.reason, /quantized checkpoint or a smaller model/);
});

void test('unknown pinned GPU is a named no-fit', () => {
  const r = fit(est('Qwen/Qwen2.5-0.5B-Instruct', {}), { gpu: 'rtx-9090' });
  assert.equal(r.outcome, 'NoFit');
  assert.match(r.reason, /not in the catalogue/);
});

void test('CPU deployments need no GPU', () => {
  const r = fit(est('Qwen/Qwen2.5-0.5B-Instruct', { runtime: 'llamacpp', format: 'gguf', device: 'cpu' }));
  assert.equal(r.outcome, 'Fits');
  assert.equal(r.choice, undefined);
});
