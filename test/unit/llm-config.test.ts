// config.json parsing and parameter arithmetic: catalogued models against the totals their
// repositories publish, plus the field variants of other families and the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHfConfig } from '../../src/core/llm/hf-config.ts';
import { countParameters, weightBytes } from '../../src/core/llm/params.ts';
import { parseQuantizationConfig } from '../../src/core/llm/quant.ts';
import {
  catalogueArchitecture,
  catalogueIds,
  lookupModelConfig,
  MODEL_CATALOGUE,
} from '../../src/core/llm/catalogue/index.ts';
import type { ModelArchitecture } from '../../src/core/llm/types.ts';

function arch(config: unknown): ModelArchitecture {
  const r = parseHfConfig(config);
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  if (r.kind !== 'ok') throw new Error('unreachable');
  return r.value;
}

function catalogued(id: string): ModelArchitecture {
  const r = catalogueArchitecture(id);
  assert.ok(r, `${id} is catalogued`);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') throw new Error('unreachable');
  return r.value;
}

// metadata.total_size of each repository's model.safetensors.index.json (bf16 checkpoints).
const publishedBytes: Array<[string, number]> = [
  ['meta-llama/Llama-3.1-8B-Instruct', 16060522496],
  ['meta-llama/Llama-3.1-70B-Instruct', 141107412992],
  ['Qwen/Qwen2.5-7B-Instruct', 15231233024],
  ['Qwen/Qwen2.5-72B-Instruct', 145412407296],
  ['Qwen/Qwen3-4B', 8044936192],
  ['Qwen/Qwen3-8B', 16381470720],
  ['Qwen/Qwen3-14B', 29536614400],
  ['Qwen/Qwen3-32B', 65524246528],
  ['Qwen/Qwen3-30B-A3B', 61064245248],
  ['mistralai/Mistral-7B-Instruct-v0.2', 14483464192],
  ['mistralai/Mixtral-8x7B-Instruct-v0.1', 93405585408],
  ['google/gemma-2-9b-it', 18483411968],
];

for (const [id, bytes] of publishedBytes) {
  void test(`bf16 weight bytes of ${id} equal the published safetensors total`, () => {
    assert.equal(weightBytes(catalogued(id), 'bfloat16').bytes, bytes);
  });
}

// Parameter counts as the model cards state them (rounded as published).
const publishedParams: Array<[string, number, number]> = [
  ['meta-llama/Llama-3.2-1B-Instruct', 1.24e9, 0.01e9],
  ['meta-llama/Llama-3.2-3B-Instruct', 3.21e9, 0.01e9],
  ['meta-llama/Llama-3.1-405B-Instruct', 405.9e9, 0.5e9],
  ['Qwen/Qwen2.5-0.5B-Instruct', 0.494e9, 0.001e9],
  ['Qwen/Qwen2.5-14B-Instruct', 14.7e9, 0.1e9],
  ['Qwen/Qwen2.5-32B-Instruct', 32.8e9, 0.1e9],
  ['mistralai/Mistral-7B-Instruct-v0.3', 7.25e9, 0.01e9],
  ['mistralai/Mistral-Nemo-Instruct-2407', 12.2e9, 0.1e9],
  ['google/gemma-2-27b-it', 27.2e9, 0.1e9],
  ['google/gemma-3-27b-it', 27.4e9, 0.1e9],
  ['google/gemma-3-4b-it', 4.3e9, 0.05e9],
  ['microsoft/Phi-3.5-mini-instruct', 3.82e9, 0.01e9],
  ['microsoft/phi-4', 14.7e9, 0.1e9],
  ['deepseek-ai/DeepSeek-V3', 671e9, 1e9],
];

for (const [id, params, tolerance] of publishedParams) {
  void test(`parameter count of ${id} is the published ${params / 1e9}B`, () => {
    const p = countParameters(catalogued(id));
    assert.ok(Math.abs(p.total - params) <= tolerance, `${p.total} vs ${params}`);
  });
}

void test('mixture of experts: active parameters per token', () => {
  assert.equal(countParameters(catalogued('Qwen/Qwen3-30B-A3B')).active, 3353032704);
  const mixtral = countParameters(catalogued('mistralai/Mixtral-8x7B-Instruct-v0.1'));
  assert.ok(Math.abs(mixtral.active - 12.9e9) < 0.1e9, String(mixtral.active));
  const ds = countParameters(catalogued('deepseek-ai/DeepSeek-V3'));
  assert.ok(Math.abs(ds.active - 37.5e9) < 0.6e9, String(ds.active));
});

void test('sliding windows: Gemma 2 alternates, Gemma 3 is 5 local to 1 global, Qwen ignores an unused window', () => {
  assert.deepEqual(catalogued('google/gemma-2-9b-it').slidingWindow, { window: 4096, slidingLayers: 21 });
  assert.deepEqual(catalogued('google/gemma-3-27b-it').slidingWindow, { window: 1024, slidingLayers: 52 });
  assert.deepEqual(catalogued('mistralai/Mistral-7B-Instruct-v0.1').slidingWindow, {
    window: 4096,
    slidingLayers: 32,
  });
  assert.equal(catalogued('Qwen/Qwen2.5-7B-Instruct').slidingWindow, undefined);
  assert.equal(catalogued('mistralai/Mistral-7B-Instruct-v0.3').slidingWindow, undefined);
  const typed = arch({
    model_type: 'x',
    num_hidden_layers: 4,
    hidden_size: 64,
    num_attention_heads: 4,
    vocab_size: 10,
    max_position_embeddings: 100,
    sliding_window: 16,
    layer_types: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'],
  });
  assert.deepEqual(typed.slidingWindow, { window: 16, slidingLayers: 2 });
});

void test('multimodal configs: the text_config is the language model, the vision tower is counted', () => {
  const g = catalogued('google/gemma-3-12b-it');
  assert.equal(g.hiddenSize, 3840);
  assert.equal(g.headDim, 256);
  assert.equal(g.tieWordEmbeddings, true);
  assert.equal(g.dtype, 'bfloat16');
  assert.ok((g.visionParams ?? 0) > 0.4e9 && (g.visionParams ?? 0) < 0.45e9);
});

void test('family quirks: Qwen2 q/k/v bias, Qwen3 q/k norms, explicit head_dim, multi-query, Falcon names', () => {
  assert.equal(catalogued('Qwen/Qwen2.5-7B-Instruct').qkvBias, true);
  assert.equal(catalogued('Qwen/Qwen3-8B').qkNorm, true);
  assert.equal(catalogued('mistralai/Mistral-Nemo-Instruct-2407').headDim, 128); // not 5120/32
  const falcon = arch({
    model_type: 'falcon',
    n_layer: 32,
    hidden_size: 4544,
    n_head: 71,
    multi_query: true,
    vocab_size: 65024,
    max_position_embeddings: 2048,
  });
  assert.equal(falcon.kvHeads, 1);
  assert.equal(falcon.layers, 32);
});

void test('YaRN rope scaling extends the context', () => {
  const a = arch({
    model_type: 'qwen2',
    num_hidden_layers: 2,
    hidden_size: 64,
    num_attention_heads: 4,
    vocab_size: 10,
    max_position_embeddings: 32768,
    rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 },
  });
  assert.equal(a.maxContext, 131072);
});

void test('float32 checkpoints and defaults', () => {
  const a = arch({
    model_type: 'gemma',
    num_hidden_layers: 2,
    hidden_size: 64,
    num_attention_heads: 4,
    vocab_size: 10,
    max_position_embeddings: 100,
    torch_dtype: 'float32',
  });
  assert.equal(a.dtype, 'float32');
  assert.equal(a.tieWordEmbeddings, true); // Gemma ties by default
  assert.equal(a.kvHeads, 4);
  assert.equal(a.intermediateSize, 256);
});

const quantCases: Array<{ name: string; config: unknown; method: string; bits: number }> = [
  {
    name: 'AWQ 4-bit g128',
    config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true },
    method: 'awq',
    bits: 4 + 20 / 128,
  },
  {
    name: 'GPTQ 4-bit g128',
    config: { quant_method: 'gptq', bits: 4, group_size: 128 },
    method: 'gptq',
    bits: 4 + 20 / 128,
  },
  {
    name: 'GPTQ 8-bit per channel',
    config: { quant_method: 'gptq', bits: 8, group_size: -1 },
    method: 'gptq',
    bits: 8,
  },
  {
    name: 'bitsandbytes NF4',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true },
    method: 'bitsandbytes-nf4',
    bits: 4.5,
  },
  {
    name: 'bitsandbytes NF4 double quant',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_use_double_quant: true },
    method: 'bitsandbytes-nf4',
    bits: 4 + 8 / 64 + 32 / 16384,
  },
  {
    name: 'bitsandbytes int8',
    config: { quant_method: 'bitsandbytes', load_in_8bit: true },
    method: 'bitsandbytes-int8',
    bits: 8,
  },
  {
    name: 'FP8 block-wise',
    config: { quant_method: 'fp8', weight_block_size: [128, 128] },
    method: 'fp8',
    bits: 8 + 32 / 16384,
  },
  {
    name: 'compressed-tensors W4A16',
    config: {
      quant_method: 'compressed-tensors',
      config_groups: { group_0: { weights: { num_bits: 4, type: 'int', group_size: 128, symmetric: true } } },
    },
    method: 'int4',
    bits: 4 + 16 / 128,
  },
  {
    name: 'compressed-tensors FP8',
    config: {
      quant_method: 'compressed-tensors',
      config_groups: { group_0: { weights: { num_bits: 8, type: 'float' } } },
    },
    method: 'fp8',
    bits: 8,
  },
];

for (const c of quantCases) {
  void test(`quantization_config: ${c.name}`, () => {
    const r = parseQuantizationConfig(c.config);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok' || r.value === undefined) throw new Error('no quantization');
    assert.equal(r.value.method, c.method);
    assert.ok(Math.abs(r.value.bitsPerWeight - c.bits) < 1e-9, `${r.value.bitsPerWeight} vs ${c.bits}`);
    assert.equal(r.value.quantizesEmbeddings, false);
  });
}

void test('AWQ Llama 3.1 8B: linear layers at ~4.16 bits, embeddings and head stay 16-bit', () => {
  const config = {
    ...lookupModelConfig('meta-llama/Llama-3.1-8B-Instruct'),
    quantization_config: { quant_method: 'awq', bits: 4, group_size: 128 },
    torch_dtype: 'float16',
  };
  const w = weightBytes(arch(config), 'float16');
  // hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 is about 5.7 GB on the hub.
  assert.ok(w.bytes > 5.6e9 && w.bytes < 5.8e9, String(w.bytes));
});

const refusals: Array<{ name: string; config: unknown; reason: string }> = [
  { name: 'not an object', config: [1, 2], reason: 'InvalidConfig' },
  {
    name: 'missing layers',
    config: {
      model_type: 'llama',
      hidden_size: 64,
      num_attention_heads: 4,
      vocab_size: 10,
      max_position_embeddings: 100,
    },
    reason: 'InvalidConfig',
  },
  {
    name: 'missing context',
    config: {
      model_type: 'llama',
      num_hidden_layers: 2,
      hidden_size: 64,
      num_attention_heads: 4,
      vocab_size: 10,
    },
    reason: 'InvalidConfig',
  },
  {
    name: 'encoder-only',
    config: {
      model_type: 'bert',
      num_hidden_layers: 12,
      hidden_size: 768,
      num_attention_heads: 12,
      vocab_size: 30522,
      max_position_embeddings: 512,
    },
    reason: 'UnsupportedArchitecture',
  },
  {
    name: 'unknown quantization',
    config: {
      model_type: 'llama',
      num_hidden_layers: 2,
      hidden_size: 64,
      num_attention_heads: 4,
      vocab_size: 10,
      max_position_embeddings: 100,
      quantization_config: { quant_method: 'hqq' },
    },
    reason: 'UnsupportedQuantization',
  },
];

for (const c of refusals) {
  void test(`refuses config: ${c.name}`, () => {
    const r = parseHfConfig(c.config);
    assert.equal(r.kind, 'problem');
    if (r.kind === 'problem') {
      assert.equal(r.problem.reason, c.reason);
      assert.ok(r.problem.hint.length > 10, 'says what to change');
    }
  });
}

void test('catalogue: lookups are case-insensitive, aliases resolve, unknown ids are undefined', () => {
  assert.ok(lookupModelConfig('QWEN/qwen2.5-7b-instruct'));
  assert.equal(
    lookupModelConfig('meta-llama/Meta-Llama-3.1-8B-Instruct'),
    lookupModelConfig('meta-llama/Llama-3.1-8B-Instruct'),
  );
  assert.equal(lookupModelConfig('nobody/nothing'), undefined);
  assert.equal(catalogueArchitecture('nobody/nothing'), undefined);
  assert.equal(catalogued('qwen/qwen3-8b').name, 'Qwen/Qwen3-8B');
});

void test('catalogue: every entry parses, and ids are unique', () => {
  const ids = catalogueIds().map((id) => id.toLowerCase());
  assert.equal(new Set(ids).size, ids.length);
  for (const e of MODEL_CATALOGUE) catalogued(e.id);
  const required = [
    'meta-llama/Llama-3.1-8B-Instruct',
    'meta-llama/Llama-3.1-70B-Instruct',
    'meta-llama/Llama-3.1-405B-Instruct',
    'meta-llama/Llama-3.2-1B-Instruct',
    'meta-llama/Llama-3.2-3B-Instruct',
    'meta-llama/Llama-3.3-70B-Instruct',
    'Qwen/Qwen2.5-0.5B-Instruct',
    'Qwen/Qwen2.5-7B-Instruct',
    'Qwen/Qwen2.5-14B-Instruct',
    'Qwen/Qwen2.5-32B-Instruct',
    'Qwen/Qwen2.5-72B-Instruct',
    'Qwen/Qwen3-8B',
    'Qwen/Qwen3-32B',
    'Qwen/Qwen3-30B-A3B',
    'mistralai/Mistral-7B-Instruct-v0.3',
    'mistralai/Mistral-Nemo-Instruct-2407',
    'mistralai/Mixtral-8x7B-Instruct-v0.1',
    'google/gemma-2-9b-it',
    'google/gemma-2-27b-it',
    'google/gemma-3-27b-it',
    'microsoft/Phi-3.5-mini-instruct',
    'microsoft/phi-4',
    'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B',
    'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B',
    'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
    'deepseek-ai/DeepSeek-R1-Distill-Llama-70B',
  ];
  for (const id of required) assert.ok(lookupModelConfig(id), id);
});
