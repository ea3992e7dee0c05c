// Parameter counts and weight bytes from an architecture: the same arithmetic the published
// safetensors totals come from (params x bytes), split so quantization applies only where it does.
import { dtypeBytes } from './quant.ts';
import type { ModelArchitecture, TensorDtype } from './types.ts';

export interface ParamCount {
  total: number;
  /** Parameters touched per token: differs from total only for mixture-of-experts. */
  active: number;
  /** Input token embeddings. */
  embedding: number;
  /** Output head; 0 when tied to the embeddings. */
  outputHead: number;
  /** Linear weights of the decoder blocks: what GPTQ/AWQ/fp8 quantize. */
  linear: number;
  vision: number;
}

/** Families with a two-matrix MLP (up, down) rather than the gated three (gate, up, down). */
const NON_GATED = new Set([
  'gpt2',
  'gpt_neox',
  'gptneox',
  'gptj',
  'phi',
  'phi2',
  'falcon',
  'starcoder',
  'starcoder2',
  'gpt_bigcode',
  'opt',
  'bloom',
  'mpt',
]);

function attentionParams(a: ModelArchitecture): { linear: number; other: number } {
  const h = a.hiddenSize;
  if (a.mla !== undefined) {
    const m = a.mla;
    const qk = m.qkNopeHeadDim + m.qkRopeHeadDim;
    const q =
      m.qLoraRank === null
        ? h * a.attentionHeads * qk
        : h * m.qLoraRank + m.qLoraRank * a.attentionHeads * qk;
    const kv =
      h * (m.kvLoraRank + m.qkRopeHeadDim) + m.kvLoraRank * a.attentionHeads * (m.qkNopeHeadDim + m.vHeadDim);
    const o = a.attentionHeads * m.vHeadDim * h;
    return { linear: q + kv + o, other: m.kvLoraRank + (m.qLoraRank ?? 0) };
  }
  const qDim = a.attentionHeads * a.headDim;
  const kvDim = a.kvHeads * a.headDim;
  const linear = h * qDim + 2 * h * kvDim + qDim * h;
  const bias = a.qkvBias ? qDim + 2 * kvDim : 0;
  const norms = a.qkNorm ? 2 * a.headDim : 0;
  return { linear, other: bias + norms };
}

function mlpMatrices(a: ModelArchitecture): number {
  return NON_GATED.has(a.modelType) ? 2 : 3;
}

export function countParameters(a: ModelArchitecture): ParamCount {
  const h = a.hiddenSize;
  const mats = mlpMatrices(a);
  const attn = attentionParams(a);
  const norms = a.normsPerLayer * h;
  const dense = mats * h * a.intermediateSize;

  let linear = 0;
  let activeLinear = 0;
  let other = 0;
  const moe = a.moe;
  const moeLayers = moe ? a.layers - moe.denseLayers : 0;
  const denseLayers = a.layers - moeLayers;

  linear += a.layers * attn.linear + denseLayers * dense;
  activeLinear += a.layers * attn.linear + denseLayers * dense;
  other += a.layers * (attn.other + norms);
  if (moe !== undefined) {
    const expert = mats * h * moe.expertIntermediateSize;
    const shared = moe.sharedExperts * mats * h * moe.sharedIntermediateSize;
    linear += moeLayers * (moe.experts * expert + shared);
    activeLinear += moeLayers * (moe.expertsPerToken * expert + shared);
    other += moeLayers * moe.experts * h; // router
  }
  const embedding = a.vocabSize * h;
  const outputHead = a.tieWordEmbeddings ? 0 : a.vocabSize * h;
  other += h; // final norm
  const vision = a.visionParams ?? 0;
  const total = linear + other + embedding + outputHead + vision;
  const active = activeLinear + other + embedding + outputHead + vision;
  if (a.exact !== undefined) {
    const scale = a.exact.params / total;
    return {
      total: a.exact.params,
      active: Math.round(active * scale),
      embedding,
      outputHead,
      linear: Math.round(linear * scale),
      vision,
    };
  }
  return { total, active, embedding, outputHead, linear, vision };
}

export interface WeightBytes {
  bytes: number;
  /** Average over all parameters. */
  bitsPerWeight: number;
  /** Bytes of the input embedding table (llama.cpp keeps it in host memory). */
  tokenEmbeddingBytes: number;
  why: string;
}

/**
 * Bytes the weights take once loaded with the given dtype for unquantized tensors. Quantized
 * methods apply only to the block linear layers, except GGUF which quantizes everything.
 */
export function weightBytes(a: ModelArchitecture, dtype: TensorDtype): WeightBytes {
  const p = countParameters(a);
  const wide = dtypeBytes(dtype);
  if (a.exact !== undefined) {
    return {
      bytes: a.exact.weightBytes,
      bitsPerWeight: (a.exact.weightBytes * 8) / a.exact.params,
      tokenEmbeddingBytes: a.exact.tokenEmbeddingBytes,
      why: `${fmtParams(a.exact.params)} parameters, ${(a.exact.weightBytes / 1e9).toFixed(2)} GB summed from the GGUF tensor table`,
    };
  }
  const q = a.quantization;
  if (q === undefined) {
    const bytes = p.total * wide;
    return {
      bytes,
      bitsPerWeight: wide * 8,
      tokenEmbeddingBytes: p.embedding * wide,
      why: `${fmtParams(p.total)} parameters x ${wide} bytes (${dtype})`,
    };
  }
  if (q.quantizesEmbeddings) {
    const bytes = (p.total * q.bitsPerWeight) / 8;
    return {
      bytes,
      bitsPerWeight: q.bitsPerWeight,
      tokenEmbeddingBytes: (p.embedding * q.bitsPerWeight) / 8,
      why: `${fmtParams(p.total)} parameters x ${q.bitsPerWeight} bits (${q.label}, nominal average)`,
    };
  }
  const rest = p.total - p.linear;
  const bytes = (p.linear * q.bitsPerWeight) / 8 + rest * wide;
  return {
    bytes,
    bitsPerWeight: (bytes * 8) / p.total,
    tokenEmbeddingBytes: p.embedding * wide,
    why:
      `${fmtParams(p.linear)} linear parameters x ${q.bitsPerWeight.toFixed(2)} bits (${q.label}, scales included)` +
      ` + ${fmtParams(rest)} embedding/norm parameters x ${wide} bytes`,
  };
}

export function fmtParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return String(n);
}
