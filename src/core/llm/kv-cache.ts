// KV-cache bytes: 2 x layers x kv_heads x head_dim x bytes per token for ordinary attention, the
// compressed latent for MLA, and only the window for sliding-window layers when the runtime knows.
import type { ModelArchitecture } from './types.ts';

/** Element type of the cache: `auto` follows the model's 16-bit dtype. */
export type KvCacheDtype = 'auto' | 'float16' | 'bfloat16' | 'fp8' | 'q8_0' | 'q4_0';

export function kvElementBytes(dtype: KvCacheDtype): number {
  switch (dtype) {
    case 'auto':
    case 'float16':
    case 'bfloat16':
      return 2;
    case 'fp8':
      return 1;
    case 'q8_0':
      return 34 / 32;
    case 'q4_0':
      return 18 / 32;
  }
}

export interface KvLayout {
  elementBytes: number;
  /** Bytes one token takes in one layer. */
  perLayerPerToken: number;
  fullLayers: number;
  slidingLayers: number;
  /** Tokens a sliding-window layer keeps; Infinity when there is none. */
  window: number;
  /** MLA caches one latent per token, the same on every tensor-parallel rank. */
  latent: boolean;
  kvHeads: number;
}

export function kvLayout(a: ModelArchitecture, dtype: KvCacheDtype): KvLayout {
  const e = kvElementBytes(dtype);
  const sliding = a.slidingWindow?.slidingLayers ?? 0;
  const window = a.slidingWindow?.window ?? Number.POSITIVE_INFINITY;
  if (a.mla !== undefined) {
    return {
      elementBytes: e,
      perLayerPerToken: (a.mla.kvLoraRank + a.mla.qkRopeHeadDim) * e,
      fullLayers: a.layers - sliding,
      slidingLayers: sliding,
      window,
      latent: true,
      kvHeads: 1,
    };
  }
  return {
    elementBytes: e,
    perLayerPerToken: 2 * a.kvHeads * a.headDim * e,
    fullLayers: a.layers - sliding,
    slidingLayers: sliding,
    window,
    latent: false,
    kvHeads: a.kvHeads,
  };
}

/** Bytes per token if every layer kept every token: the figure model cards and blogs quote. */
export function kvBytesPerToken(l: KvLayout): number {
  return l.perLayerPerToken * (l.fullLayers + l.slidingLayers);
}

/**
 * Bytes one sequence of `tokens` holds. A runtime that knows sliding windows (vLLM's hybrid
 * allocator, llama.cpp's SWA cache) keeps only the window in those layers; one that does not
 * pays for every token in every layer.
 */
export function kvBytesForSequence(l: KvLayout, tokens: number, slidingAware: boolean): number {
  const slidingTokens = slidingAware ? Math.min(tokens, l.window) : tokens;
  return l.perLayerPerToken * (l.fullLayers * tokens + l.slidingLayers * slidingTokens);
}

/**
 * Share of the cache one tensor-parallel rank holds. Heads are split across ranks; when there are
 * more ranks than KV heads each rank keeps one (replicated) head, and an MLA latent is replicated.
 */
export function kvSharePerRank(l: KvLayout, tensorParallel: number): number {
  if (l.latent) return 1;
  return Math.max(1 / l.kvHeads, 1 / tensorParallel);
}

export function describeKv(l: KvLayout, a: ModelArchitecture): string {
  if (l.latent && a.mla) {
    return `MLA: ${a.layers} layers x (kv_lora_rank ${a.mla.kvLoraRank} + rope ${a.mla.qkRopeHeadDim}) x ${l.elementBytes} bytes`;
  }
  const base = `2 (K,V) x ${a.layers} layers x ${a.kvHeads} KV heads x ${a.headDim} head dim x ${l.elementBytes} bytes`;
  if (l.slidingLayers > 0 && Number.isFinite(l.window)) {
    return `${base}; ${l.slidingLayers} of ${a.layers} layers use a ${l.window}-token sliding window`;
  }
  return base;
}
