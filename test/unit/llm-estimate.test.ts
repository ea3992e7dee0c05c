// The estimator: KV cache per token, per-GPU memory by tensor-parallel size, runtime rules,
// host memory, disk, load time, and the refusals with what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimate } from '../../src/core/llm/estimate.ts';
import type { Estimate, EstimateRequest } from '../../src/core/llm/estimate.ts';
import { catalogueArchitecture } from '../../src/core/llm/catalogue/index.ts';
import type { ModelArchitecture } from '../../src/core/llm/types.ts';
import { GiB } from '../../src/core/llm/types.ts';

function model(id: string): ModelArchitecture {
  const r = catalogueArchitecture(id);
  if (r?.kind !== 'ok') throw new Error(`${id} not catalogued`);
  return r.value;
}

function est(id: string, req: Partial<EstimateRequest> = {}): Estimate {
  const r = estimate(model(id), { runtime: 'vllm', format: 'safetensors', ...req });
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  if (r.kind !== 'ok') throw new Error('unreachable');
  return r.value;
}

// KV bytes per token, every layer every token, 16-bit cache.
const kvCases: Array<[string, number]> = [
  ['meta-llama/Llama-3.1-8B-Instruct', 128 * 1024],
  ['meta-llama/Llama-3.1-70B-Instruct', 320 * 1024],
  ['meta-llama/Llama-3.1-405B-Instruct', 516096],
  ['Qwen/Qwen2.5-72B-Instruct', 327680],
  ['Qwen/Qwen2.5-7B-Instruct', 57344],
  ['meta-llama/Llama-2-7b-chat-hf', 512 * 1024],
  ['deepseek-ai/DeepSeek-V3', 70272],
  ['google/gemma-2-9b-it', 344064],
];

for (const [id, bytes] of kvCases) {
  void test(`KV cache per token of ${id}`, () => {
    assert.equal(est(id, { contextTokens: 1024 }).kvCache.bytesPerToken, bytes);
  });
}

void test('fp8 KV cache halves it', () => {
  assert.equal(
    est('meta-llama/Llama-3.1-8B-Instruct', { kvCacheDtype: 'fp8' }).kvCache.bytesPerToken,
    64 * 1024,
  );
});

void test('vLLM per-GPU memory: weights and KV split by tensor parallelism, overhead per GPU', () => {
  const e = est('meta-llama/Llama-3.1-70B-Instruct', { contextTokens: 8192, concurrency: 4 });
  assert.deepEqual(
    e.gpu.shapes.map((s) => s.gpus),
    [1, 2, 4, 8],
  );
  const [one, two, , eight] = e.gpu.shapes;
  assert.ok(one && two && eight);
  assert.equal(one.weightsBytes, 141107412992);
  assert.equal(two.weightsBytes, 141107412992 / 2);
  assert.equal(one.kvCacheBytes, 4 * 8192 * 320 * 1024);
  assert.equal(eight.kvCacheBytes, one.kvCacheBytes / 8);
  assert.ok(two.overheadBytes > one.overheadBytes - 1, 'tensor parallel adds NCCL buffers');
  assert.ok(
    one.overheadBytes > 1 * GiB && one.overheadBytes < 4 * GiB,
    `overhead ${one.overheadBytes / GiB} GiB within vLLM's 1-3 GiB band`,
  );
  assert.equal(e.gpuMemoryBytes.value, one.perGpuBytes);
  assert.match(e.gpuMemoryBytes.why, /weights/);
  assert.equal(e.gpu.rule, 'FractionOfGpu');
  assert.equal(e.gpu.budgetFraction, 0.9);
});

void test('more GPUs than KV heads replicate the heads; MLA latents are replicated on every rank', () => {
  // Qwen2.5-7B has 28 heads and 4 KV heads: 2 and 4 split, 8 does not divide 28.
  const q = est('Qwen/Qwen2.5-7B-Instruct', { contextTokens: 4096 });
  assert.deepEqual(
    q.gpu.shapes.map((s) => s.gpus),
    [1, 2, 4],
  );
  const ds = est('deepseek-ai/DeepSeek-V3', { contextTokens: 8192 });
  const one = ds.gpu.shapes.find((s) => s.gpus === 1);
  const eight = ds.gpu.shapes.find((s) => s.gpus === 8);
  assert.equal(eight?.kvCacheBytes, one?.kvCacheBytes);
  assert.ok(ds.notes.some((n) => n.includes('MLA')));
});

void test('sliding windows: vLLM keeps the window, TGI pays for every token', () => {
  const v = est('google/gemma-2-9b-it', { contextTokens: 8192 });
  const t = est('google/gemma-2-9b-it', { runtime: 'tgi', contextTokens: 8192 });
  // 21 global layers x 8192 + 21 local layers x 4096 tokens, 8 KiB per layer-token.
  assert.equal(v.kvCache.bytesPerSequence, 8192 * (21 * 8192 + 21 * 4096));
  assert.equal(t.kvCache.bytesPerSequence, 8192 * 42 * 8192);
  assert.ok(v.notes.some((n) => n.includes('sliding')));
});

void test('llama.cpp on GPU: exact reservation, embeddings on the host, compute buffer from ubatch', () => {
  const e = est('meta-llama/Llama-3.1-8B-Instruct', {
    runtime: 'llamacpp',
    format: 'gguf',
    ggufFileType: 'Q4_K_M',
    contextTokens: 8192,
    knobs: { flashAttention: false },
  });
  assert.equal(e.gpu.rule, 'Exact');
  const s = e.gpu.shapes[0];
  assert.ok(s);
  // Nominal Q4_K_M: 8.03B x 4.84 bits.
  assert.ok(Math.abs(e.weights.value - (8030261248 * 4.84) / 8) < 1);
  assert.ok(s.weightsBytes < e.weights.value, 'token embeddings stay in host memory');
  // Attention scores dominate without flash attention: 512 x 8192 x 32 heads x 4 bytes.
  const compute = s.parts.find((p) => p.label.startsWith('compute buffer'));
  assert.ok(compute && compute.bytes >= 512 * 8192 * 32 * 4);
  assert.ok(e.notes.some((n) => n.includes('Q4_K_M')));
  assert.ok(
    e.cpuMemoryBytes.load.value > e.cpuMemoryBytes.steady.value + e.weights.value * 0.99,
    'page cache while loading',
  );
});

void test('llama.cpp on CPU: weights are mapped and resident, so host memory holds them', () => {
  const e = est('Qwen/Qwen2.5-0.5B-Instruct', {
    runtime: 'llamacpp',
    format: 'gguf',
    ggufFileType: 'Q8_0',
    device: 'cpu',
    contextTokens: 4096,
    concurrency: 2,
  });
  assert.equal(e.gpuMemoryBytes.value, 0);
  assert.deepEqual(e.gpu.shapes, []);
  assert.ok(e.cpuMemoryBytes.steady.value > e.weights.value + e.kvCache.totalBytes);
  assert.equal(e.cpuMemoryBytes.load.value, e.cpuMemoryBytes.steady.value);
  assert.equal(e.cpuCores.steady.value, 6);
});

void test('vLLM host memory: page cache of the checkpoint while loading, worker processes after', () => {
  const e = est('Qwen/Qwen2.5-7B-Instruct', { contextTokens: 4096, tensorParallel: 2 });
  assert.equal(e.gpu.gpus, 2);
  assert.equal(e.cpuMemoryBytes.load.value - e.cpuMemoryBytes.steady.value, e.checkpoint.value);
  assert.equal(e.cpuMemoryBytes.steady.value, 1 * GiB + 2 * 1.5 * GiB);
  assert.equal(e.cpuCores.steady.value, 3);
  assert.ok(e.cpuCores.load.value > e.cpuCores.steady.value);
});

void test('disk and load time follow the checkpoint size and throughput assumptions', () => {
  const e = est('meta-llama/Llama-3.1-8B-Instruct', {
    throughput: { diskBytesPerSecond: 1e9, downloadBytesPerSecond: 2e8 },
  });
  assert.equal(e.checkpoint.value, 16060522496);
  assert.equal(e.diskBytes.value % GiB, 0);
  assert.ok(e.diskBytes.value >= 16060522496 * 1.05 + GiB);
  assert.ok(Math.abs(e.loadSeconds.warm.value - (16.06 + 45)) < 0.1);
  assert.ok(Math.abs(e.loadSeconds.cold.value - (16.06 + 45 + 80.3)) < 0.2);
  assert.match(e.loadSeconds.cold.why, /download/);
});

void test('float32 checkpoints take twice the disk but are served in bfloat16', () => {
  const m = model('meta-llama/Llama-3.2-1B-Instruct');
  const r = estimate({ ...m, dtype: 'float32' }, { runtime: 'vllm', format: 'safetensors' });
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.value.checkpoint.value, 2 * r.value.weights.value);
  assert.equal(r.value.dtype, 'bfloat16');
});

void test('mixture of experts: every expert is loaded', () => {
  const e = est('mistralai/Mixtral-8x7B-Instruct-v0.1', { contextTokens: 4096 });
  assert.equal(e.weights.value, 93405585408);
  assert.ok(e.model.activeParams < e.model.params / 3);
  assert.ok(e.notes.some((n) => n.includes('experts')));
});

const refusals: Array<{
  name: string;
  id: string;
  req: Partial<EstimateRequest>;
  reason: string;
  hint: RegExp;
}> = [
  {
    name: 'context beyond the model',
    id: 'meta-llama/Meta-Llama-3-8B-Instruct',
    req: { contextTokens: 16384 },
    reason: 'ContextTooLong',
    hint: /8192 or less/,
  },
  {
    name: 'GGUF on vLLM',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { format: 'gguf' },
    reason: 'FormatUnsupportedByRuntime',
    hint: /llamacpp or ollama/,
  },
  {
    name: 'GGUF on TGI',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { runtime: 'tgi', format: 'gguf' },
    reason: 'FormatUnsupportedByRuntime',
    hint: /llamacpp or ollama/,
  },
  {
    name: 'safetensors on llama.cpp',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { runtime: 'llamacpp', format: 'safetensors' },
    reason: 'FormatUnsupportedByRuntime',
    hint: /GGUF/,
  },
  {
    name: 'safetensors on Ollama',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { runtime: 'ollama', format: 'safetensors' },
    reason: 'FormatUnsupportedByRuntime',
    hint: /GGUF/,
  },
  {
    name: 'vLLM on CPU',
    id: 'meta-llama/Llama-3.1-8B-Instruct',
    req: { device: 'cpu' },
    reason: 'InvalidRequest',
    hint: /llamacpp or ollama/,
  },
  {
    name: 'tensor parallel that does not divide the heads',
    id: 'Qwen/Qwen2.5-7B-Instruct',
    req: { tensorParallel: 8 },
    reason: 'InvalidRequest',
    hint: /1, 2, 4/,
  },
  {
    name: 'zero concurrency',
    id: 'Qwen/Qwen2.5-7B-Instruct',
    req: { concurrency: 0 },
    reason: 'InvalidRequest',
    hint: /1 or more/,
  },
  {
    name: 'gpu memory utilization above 1',
    id: 'Qwen/Qwen2.5-7B-Instruct',
    req: { gpuMemoryUtilization: 1.2 },
    reason: 'InvalidRequest',
    hint: /0.9/,
  },
];

for (const c of refusals) {
  void test(`refuses: ${c.name}`, () => {
    const r = estimate(model(c.id), { runtime: 'vllm', format: 'safetensors', ...c.req });
    assert.equal(r.kind, 'problem');
    if (r.kind !== 'problem') return;
    assert.equal(r.problem.reason, c.reason);
    assert.match(r.problem.hint, c.hint);
  });
}

void test('default context is the model maximum capped at 8192', () => {
  assert.equal(est('meta-llama/Llama-3.1-8B-Instruct').contextTokens, 8192);
  assert.equal(est('meta-llama/Llama-2-7b-chat-hf').contextTokens, 4096);
});
