// Turns a parsed GGUF header into the estimator's ModelArchitecture: shapes from <arch>.* keys,
// and exact parameter and byte counts from the tensor table when the file is not split.
import type { GgufHeader } from './gguf.ts';
import { metaArrayLength, metaNumber, metaNumberOrMax, metaString } from './gguf.ts';
import { GGML_TYPES, ggufFileTypeById, ggufQuantization } from './quant.ts';
import type { ModelArchitecture, Result } from './types.ts';
import { ok, problem } from './types.ts';

/** GGUF architecture names whose Hugging Face model_type differs. */
const MODEL_TYPE: Record<string, string> = {
  qwen2moe: 'qwen2_moe',
  qwen3moe: 'qwen3_moe',
  deepseek2: 'deepseek_v3',
  'command-r': 'cohere',
};

export interface TensorTotals {
  params: number;
  bytes: number;
  tokenEmbeddingBytes: number;
  hasOutputHead: boolean;
  /** False when a tensor has a type this code does not know the block size of. */
  complete: boolean;
}

export function tensorTotals(h: GgufHeader): TensorTotals {
  let params = 0;
  let bytes = 0;
  let tokenEmbeddingBytes = 0;
  let complete = true;
  let hasOutputHead = false;
  for (const t of h.tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    params += n;
    const type = GGML_TYPES.get(t.type);
    if (type === undefined) {
      complete = false;
      continue;
    }
    const b = (n / type.blockSize) * type.typeSize;
    bytes += b;
    if (t.name === 'token_embd.weight') tokenEmbeddingBytes = b;
    if (t.name === 'output.weight') hasOutputHead = true;
  }
  return { params, bytes, tokenEmbeddingBytes, hasOutputHead, complete };
}

export function ggufArchitecture(h: GgufHeader): Result<ModelArchitecture> {
  const arch = metaString(h, 'general.architecture');
  if (arch === undefined) {
    return problem(
      'InvalidGguf',
      'the GGUF header has no general.architecture',
      'use a GGUF file produced by llama.cpp convert_hf_to_gguf.py',
    );
  }
  const k = (suffix: string): string => `${arch}.${suffix}`;
  const layers = metaNumber(h, k('block_count'));
  const hidden = metaNumber(h, k('embedding_length'));
  const heads = metaNumberOrMax(h, k('attention.head_count'));
  if (layers === undefined || hidden === undefined || heads === undefined || heads === 0) {
    return problem(
      'UnsupportedArchitecture',
      `GGUF architecture "${arch}" lacks ${k('block_count')}, ${k('embedding_length')} or ${k('attention.head_count')}`,
      'Tailor sizes transformer LLMs; for other GGUF models set resources explicitly',
    );
  }
  const kvHeads = metaNumberOrMax(h, k('attention.head_count_kv')) ?? heads;
  const totals = tensorTotals(h);
  const embd = h.tensors.find((t) => t.name === 'token_embd.weight');
  const vocab =
    metaNumber(h, k('vocab_size')) ?? metaArrayLength(h, 'tokenizer.ggml.tokens') ?? embd?.dims[1] ?? 0;
  const maxContext = metaNumber(h, k('context_length')) ?? 4096;
  const modelType = MODEL_TYPE[arch] ?? arch;
  const fileTypeId = metaNumber(h, 'general.file_type');
  const fileType = fileTypeId === undefined ? undefined : ggufFileTypeById(fileTypeId);
  const splitCount = metaNumber(h, 'split.count') ?? 1;
  const exact = totals.complete && splitCount <= 1 && h.tensors.length > 0;

  const a: ModelArchitecture = {
    source: 'gguf',
    architecture: arch,
    modelType,
    layers,
    hiddenSize: hidden,
    intermediateSize: metaNumberOrMax(h, k('feed_forward_length')) ?? 4 * hidden,
    attentionHeads: heads,
    kvHeads,
    headDim: metaNumber(h, k('attention.key_length')) ?? Math.floor(hidden / heads),
    vocabSize: vocab,
    maxContext,
    tieWordEmbeddings: h.tensors.length > 0 && splitCount <= 1 ? !totals.hasOutputHead : false,
    qkvBias: modelType === 'qwen2' || modelType === 'qwen2_moe',
    qkNorm: modelType === 'qwen3' || modelType === 'qwen3_moe' || modelType === 'gemma3',
    normsPerLayer: modelType === 'gemma2' || modelType === 'gemma3' ? 4 : 2,
    dtype: 'float16',
  };
  const name = metaString(h, 'general.name');
  if (name !== undefined) a.name = name;
  if (fileType !== undefined) {
    a.quantization = ggufQuantization(fileType.type, exact ? (totals.bytes * 8) / totals.params : undefined);
  }
  if (exact)
    a.exact = {
      params: totals.params,
      weightBytes: totals.bytes,
      tokenEmbeddingBytes: totals.tokenEmbeddingBytes,
    };

  const experts = metaNumber(h, k('expert_count'));
  if (experts !== undefined && experts > 1) {
    const sharedCount = metaNumber(h, k('expert_shared_count')) ?? 0;
    const expertFf = metaNumber(h, k('expert_feed_forward_length')) ?? a.intermediateSize;
    const sharedFf = metaNumber(h, k('expert_shared_feed_forward_length'));
    a.moe = {
      experts,
      expertsPerToken: metaNumber(h, k('expert_used_count')) ?? 2,
      expertIntermediateSize: expertFf,
      sharedExperts: sharedFf !== undefined ? 1 : sharedCount,
      sharedIntermediateSize: sharedFf ?? expertFf,
      denseLayers: metaNumber(h, k('leading_dense_block_count')) ?? 0,
    };
  }

  const kvLoraRank = metaNumber(h, k('attention.kv_lora_rank'));
  if (kvLoraRank !== undefined && kvLoraRank > 0) {
    const rope = metaNumber(h, k('rope.dimension_count')) ?? 64;
    // Files written after llama.cpp gained MLA store the per-head sizes under *_mla.
    const keyLength =
      metaNumber(h, k('attention.key_length_mla')) ?? metaNumber(h, k('attention.key_length')) ?? 192;
    const valueLength =
      metaNumber(h, k('attention.value_length_mla')) ?? metaNumber(h, k('attention.value_length')) ?? 128;
    const qLora = metaNumber(h, k('attention.q_lora_rank'));
    a.mla = {
      kvLoraRank,
      qLoraRank: qLora !== undefined && qLora > 0 ? qLora : null,
      qkRopeHeadDim: rope,
      qkNopeHeadDim: Math.max(0, keyLength - rope),
      vHeadDim: valueLength,
    };
  }

  const window = metaNumber(h, k('attention.sliding_window'));
  if (window !== undefined && window > 0) {
    if (arch === 'gemma2') a.slidingWindow = { window, slidingLayers: Math.ceil(layers / 2) };
    else if (arch === 'gemma3') {
      const pattern = metaNumber(h, k('attention.sliding_window_pattern')) ?? 6;
      a.slidingWindow = { window, slidingLayers: layers - Math.floor(layers / pattern) };
    } else a.slidingWindow = { window, slidingLayers: layers };
  }
  return ok(a);
}
