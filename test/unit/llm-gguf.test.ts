// GGUF header parsing on headers built in code: values, tensor tables, truncation, corruption.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGgufHeader, metaNumber, metaString } from '../../src/core/llm/gguf.ts';
import type { GgufHeader } from '../../src/core/llm/gguf.ts';
import { ggufArchitecture, tensorTotals } from '../../src/core/llm/gguf-architecture.ts';
import { estimate } from '../../src/core/llm/estimate.ts';
import { ggufFileTypeFromFileName } from '../../src/core/llm/quant.ts';
import { buildGguf, kv, tinyLlamaGguf } from './llm-gguf-fixture.ts';

function parsed(bytes: Uint8Array): GgufHeader {
  const r = parseGgufHeader(bytes);
  assert.equal(r.outcome, 'Parsed', JSON.stringify(r));
  if (r.outcome !== 'Parsed') throw new Error('unreachable');
  return r.header;
}

void test('reads every metadata value type', () => {
  const bytes = buildGguf({
    metadata: [
      ['a.u32', kv.u32(7)],
      ['a.i32', kv.i32(-3)],
      ['a.u64', kv.u64(2 ** 40)],
      ['a.f32', kv.f32(0.5)],
      ['a.bool', kv.bool(true)],
      ['a.str', kv.str('héllo')],
      ['a.u8', { type: 'u8', value: 255 }],
      ['a.i16', { type: 'i16', value: -2 }],
      ['a.f64', { type: 'f64', value: 1.25 }],
      ['a.i64', { type: 'i64', value: -5 }],
      ['a.arr', kv.arr('i32', [1, 2, 3])],
      ['a.strs', kv.arr('str', ['x', 'y'])],
    ],
    tensors: [],
  });
  const h = parsed(bytes);
  assert.equal(h.version, 3);
  assert.equal(metaNumber(h, 'a.u32'), 7);
  assert.equal(metaNumber(h, 'a.i32'), -3);
  assert.equal(metaNumber(h, 'a.u64'), 2 ** 40);
  assert.equal(metaNumber(h, 'a.f32'), 0.5);
  assert.equal(h.metadata.get('a.bool'), true);
  assert.equal(metaString(h, 'a.str'), 'héllo');
  assert.equal(metaNumber(h, 'a.u8'), 255);
  assert.equal(metaNumber(h, 'a.i16'), -2);
  assert.equal(metaNumber(h, 'a.f64'), 1.25);
  assert.equal(metaNumber(h, 'a.i64'), -5);
  assert.deepEqual(h.metadata.get('a.arr'), { kind: 'array', itemType: 5, length: 3, items: [1, 2, 3] });
  assert.deepEqual(h.metadata.get('a.strs'), { kind: 'array', itemType: 8, length: 2, items: ['x', 'y'] });
});

void test('tensor table gives exact parameters and bytes of a llama-shaped Q4_K_M file', () => {
  const tiny = tinyLlamaGguf();
  const h = parsed(tiny.bytes);
  assert.equal(h.tensors.length, tiny.tensors.length);
  assert.equal(h.dataOffset % 32, 0);
  assert.deepEqual(h.tensors[0], { name: 'token_embd.weight', dims: [256, 512], type: 12, offset: 0 });
  // Long arrays are counted, not kept.
  assert.deepEqual(h.metadata.get('tokenizer.ggml.scores'), { kind: 'array', itemType: 6, length: 5000 });
  const totals = tensorTotals(h);
  assert.equal(totals.params, tiny.params);
  assert.equal(totals.bytes, tiny.weightBytes);
  assert.equal(totals.tokenEmbeddingBytes, tiny.tokenEmbeddingBytes);
  assert.equal(totals.hasOutputHead, true);

  const a = ggufArchitecture(h);
  assert.equal(a.kind, 'ok');
  if (a.kind !== 'ok') return;
  assert.equal(a.value.architecture, 'llama');
  assert.equal(a.value.layers, 2);
  assert.equal(a.value.hiddenSize, 256);
  assert.equal(a.value.attentionHeads, 4);
  assert.equal(a.value.kvHeads, 2);
  assert.equal(a.value.headDim, 64);
  assert.equal(a.value.vocabSize, 512); // from the tokenizer array length
  assert.equal(a.value.maxContext, 2048);
  assert.equal(a.value.tieWordEmbeddings, false);
  assert.equal(a.value.quantization?.label, 'GGUF Q4_K_M');
  assert.deepEqual(a.value.exact, {
    params: tiny.params,
    weightBytes: tiny.weightBytes,
    tokenEmbeddingBytes: tiny.tokenEmbeddingBytes,
  });
});

void test('a file without output.weight has tied embeddings', () => {
  const h = parsed(tinyLlamaGguf({ tied: true }).bytes);
  const a = ggufArchitecture(h);
  assert.equal(a.kind === 'ok' && a.value.tieWordEmbeddings, true);
});

void test('every prefix shorter than the header is Truncated, never a crash', () => {
  const { bytes } = tinyLlamaGguf();
  const full = parsed(bytes);
  // The header ends somewhere in the last 32 bytes before the (aligned) data offset.
  const cuts = [0, 3, 7, 8, 23, 24, 40, 100, 1000, 3000, 7000, full.dataOffset - 32];
  for (const cut of cuts) {
    const r = parseGgufHeader(bytes.subarray(0, cut));
    assert.equal(r.outcome, 'Truncated', `cut at ${cut}`);
  }
  assert.equal(parseGgufHeader(bytes.subarray(0, full.dataOffset)).outcome, 'Parsed');
});

void test('big-endian files are read too', () => {
  const bytes = buildGguf({
    littleEndian: false,
    metadata: [
      ['general.architecture', kv.str('llama')],
      ['llama.block_count', kv.u32(3)],
    ],
    tensors: [],
  });
  const h = parsed(bytes);
  assert.equal(h.littleEndian, false);
  assert.equal(metaNumber(h, 'llama.block_count'), 3);
});

const invalid: Array<{ name: string; bytes: Uint8Array; message: RegExp }> = [
  { name: 'wrong magic', bytes: buildGguf({ magic: 'GGML', metadata: [], tensors: [] }), message: /magic/ },
  { name: 'version 1', bytes: buildGguf({ version: 1, metadata: [], tensors: [] }), message: /version 1/ },
  { name: 'version 9', bytes: buildGguf({ version: 9, metadata: [], tensors: [] }), message: /version 9/ },
];

for (const c of invalid) {
  void test(`invalid header: ${c.name}`, () => {
    const r = parseGgufHeader(c.bytes);
    assert.equal(r.outcome, 'Invalid');
    if (r.outcome === 'Invalid') {
      assert.equal(r.problem.reason, 'InvalidGguf');
      assert.match(r.problem.message, c.message);
      assert.ok(r.problem.hint.length > 0);
    }
  });
}

void test('an unknown metadata value type is Invalid', () => {
  const bytes = buildGguf({ metadata: [['x', kv.u32(1)]], tensors: [] });
  // The value type of the first key sits after magic(4) version(4) counts(16) key(8+1).
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(4 + 4 + 16 + 8 + 1, 99, true);
  const r = parseGgufHeader(bytes);
  assert.equal(r.outcome, 'Invalid');
});

void test('a header without general.architecture is refused with a reason', () => {
  const h = parsed(buildGguf({ metadata: [['general.name', kv.str('x')]], tensors: [] }));
  const a = ggufArchitecture(h);
  assert.equal(a.kind, 'problem');
  if (a.kind === 'problem') assert.equal(a.problem.reason, 'InvalidGguf');
});

void test('MoE, MLA and sliding-window keys become architecture fields', () => {
  const h = parsed(
    buildGguf({
      metadata: [
        ['general.architecture', kv.str('deepseek2')],
        ['deepseek2.block_count', kv.u32(61)],
        ['deepseek2.embedding_length', kv.u32(7168)],
        ['deepseek2.feed_forward_length', kv.u32(18432)],
        ['deepseek2.attention.head_count', kv.u32(128)],
        ['deepseek2.attention.head_count_kv', kv.u32(128)],
        ['deepseek2.context_length', kv.u32(163840)],
        ['deepseek2.vocab_size', kv.u32(129280)],
        ['deepseek2.expert_count', kv.u32(256)],
        ['deepseek2.expert_used_count', kv.u32(8)],
        ['deepseek2.expert_shared_count', kv.u32(1)],
        ['deepseek2.expert_feed_forward_length', kv.u32(2048)],
        ['deepseek2.leading_dense_block_count', kv.u32(3)],
        ['deepseek2.attention.kv_lora_rank', kv.u32(512)],
        ['deepseek2.attention.q_lora_rank', kv.u32(1536)],
        ['deepseek2.attention.key_length', kv.u32(192)],
        ['deepseek2.attention.value_length', kv.u32(128)],
        ['deepseek2.rope.dimension_count', kv.u32(64)],
        ['general.file_type', kv.u32(10)],
      ],
      tensors: [],
    }),
  );
  const a = ggufArchitecture(h);
  assert.equal(a.kind, 'ok');
  if (a.kind !== 'ok') return;
  assert.deepEqual(a.value.moe, {
    experts: 256,
    expertsPerToken: 8,
    expertIntermediateSize: 2048,
    sharedExperts: 1,
    sharedIntermediateSize: 2048,
    denseLayers: 3,
  });
  assert.deepEqual(a.value.mla, {
    kvLoraRank: 512,
    qLoraRank: 1536,
    qkRopeHeadDim: 64,
    qkNopeHeadDim: 128,
    vHeadDim: 128,
  });
  assert.equal(a.value.exact, undefined); // no tensor table: nominal bits per weight
  assert.equal(a.value.quantization?.label, 'GGUF Q2_K');

  const g = parsed(
    buildGguf({
      metadata: [
        ['general.architecture', kv.str('gemma2')],
        ['gemma2.block_count', kv.u32(42)],
        ['gemma2.embedding_length', kv.u32(3584)],
        ['gemma2.attention.head_count', kv.u32(16)],
        ['gemma2.attention.head_count_kv', kv.u32(8)],
        ['gemma2.attention.key_length', kv.u32(256)],
        ['gemma2.attention.sliding_window', kv.u32(4096)],
        ['gemma2.context_length', kv.u32(8192)],
      ],
      tensors: [],
    }),
  );
  const ga = ggufArchitecture(g);
  assert.equal(ga.kind === 'ok' && ga.value.slidingWindow?.slidingLayers, 21);
  assert.equal(ga.kind === 'ok' && ga.value.headDim, 256);
});

void test('a split file does not claim exact totals from its partial tensor table', () => {
  const h = parsed(tinyLlamaGguf({ extra: [['split.count', { type: 'u16', value: 3 }]] }).bytes);
  const a = ggufArchitecture(h);
  assert.equal(a.kind === 'ok' && a.value.exact, undefined);
});

void test('estimate from a parsed header uses the exact bytes, and llama.cpp keeps token embeddings on the host', () => {
  const tiny = tinyLlamaGguf();
  const a = ggufArchitecture(parsed(tiny.bytes));
  assert.equal(a.kind, 'ok');
  if (a.kind !== 'ok') return;
  const e = estimate(a.value, { runtime: 'llamacpp', format: 'gguf', contextTokens: 2048, concurrency: 1 });
  assert.equal(e.kind, 'ok');
  if (e.kind !== 'ok') return;
  assert.equal(e.value.weights.value, tiny.weightBytes);
  const shape = e.value.gpu.shapes[0];
  assert.equal(shape?.weightsBytes, tiny.weightBytes - tiny.tokenEmbeddingBytes);
  // KV: 2 x 2 layers x 2 heads x 64 x 2 bytes per token.
  assert.equal(e.value.kvCache.bytesPerToken, 2 * 2 * 2 * 64 * 2);
});

const names: Array<[string, string | undefined]> = [
  ['Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf', 'Q4_K_M'],
  ['qwen2.5-7b-instruct-q5_k_m-00001-of-00002.gguf', 'Q5_K_M'],
  ['model.IQ4_XS.gguf', 'IQ4_XS'],
  ['gemma-2-9b-it-Q8_0.gguf', 'Q8_0'],
  ['phi-4-F16.gguf', 'F16'],
  ['mystery.gguf', undefined],
];
for (const [file, want] of names) {
  void test(`file type from name: ${file}`, () => assert.equal(ggufFileTypeFromFileName(file), want));
}
