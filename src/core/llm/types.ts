// The estimator's vocabulary: what it knows about a model (whatever it was read from) and the
// closed set of reasons it can refuse an input, each with a message that says what to change.
import { TailorError } from '../../errors.ts';

/** Dtype of the tensors that are not quantized (embeddings, norms, and everything when unquantized). */
export type TensorDtype = 'float32' | 'bfloat16' | 'float16';

/** How the linear layers are stored, when they are not plain 16/32-bit. */
export type QuantMethod =
  'gptq' | 'awq' | 'bitsandbytes-nf4' | 'bitsandbytes-int8' | 'fp8' | 'int8' | 'int4' | 'mxfp4' | 'gguf';

export interface Quantization {
  method: QuantMethod;
  /** Storage per quantized weight, scales and zero points included. */
  bitsPerWeight: number;
  /** Human label, e.g. "AWQ 4-bit, group 128" or "GGUF Q4_K_M". */
  label: string;
  /** GGUF quantizes embeddings and the output head too; GPTQ/AWQ/fp8 leave them in 16-bit. */
  quantizesEmbeddings: boolean;
}

export interface MixtureOfExperts {
  experts: number;
  expertsPerToken: number;
  expertIntermediateSize: number;
  /** Always-on shared experts (DeepSeek, Qwen2-MoE), each of sharedIntermediateSize. */
  sharedExperts: number;
  sharedIntermediateSize: number;
  /** Leading layers with a dense MLP of intermediateSize instead of experts. */
  denseLayers: number;
}

/** Multi-head latent attention (DeepSeek V2/V3/R1): the KV cache holds a compressed latent. */
export interface LatentAttention {
  kvLoraRank: number;
  qLoraRank: number | null;
  qkRopeHeadDim: number;
  qkNopeHeadDim: number;
  vHeadDim: number;
}

export interface SlidingWindow {
  window: number;
  /** How many of the layers use the window; the others attend to the whole context. */
  slidingLayers: number;
}

export interface ModelArchitecture {
  source: 'config.json' | 'gguf' | 'catalogue';
  /** e.g. "LlamaForCausalLM" (config.json) or "llama" (GGUF). */
  architecture: string;
  modelType: string;
  name?: string;
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  attentionHeads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxContext: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2). */
  qkvBias: boolean;
  /** Per-head q/k RMS norms (Qwen3, Gemma 3). */
  qkNorm: boolean;
  /** RMS norms per decoder layer: 2 for Llama, 4 for Gemma 2/3. */
  normsPerLayer: number;
  dtype: TensorDtype;
  quantization?: Quantization;
  moe?: MixtureOfExperts;
  mla?: LatentAttention;
  slidingWindow?: SlidingWindow;
  /** Parameters of a vision tower that a multimodal checkpoint also loads (approximate). */
  visionParams?: number;
  /** Known exactly (from GGUF tensor infos): overrides the formulas. */
  exact?: { params: number; weightBytes: number; tokenEmbeddingBytes: number };
}

export type LlmProblemReason =
  /** config.json is not an object, or lacks a field the estimator needs. */
  | 'InvalidConfig'
  /** The model is not a decoder-only transformer the estimator can size. */
  | 'UnsupportedArchitecture'
  /** quantization_config names a method the estimator does not know. */
  | 'UnsupportedQuantization'
  /** The bytes are not a GGUF header (bad magic, version, or a corrupt field). */
  | 'InvalidGguf'
  /** The requested context is longer than the model supports. */
  | 'ContextTooLong'
  /** The runtime cannot load this weight format (GGUF on vLLM/TGI, safetensors on llama.cpp/Ollama). */
  | 'FormatUnsupportedByRuntime'
  /** A request field is out of range (concurrency, tensor parallel size, ...). */
  | 'InvalidRequest';

export interface LlmProblem {
  reason: LlmProblemReason;
  message: string;
  /** What the user should change. */
  hint: string;
}

export type Result<T> = { kind: 'ok'; value: T } | { kind: 'problem'; problem: LlmProblem };

export function ok<T>(value: T): Result<T> {
  return { kind: 'ok', value };
}

export function problem<T>(reason: LlmProblemReason, message: string, hint: string): Result<T> {
  return { kind: 'problem', problem: { reason, message, hint } };
}

/** For callers at a boundary (CLI) that want an exception rather than a value. */
export function toTailorError(p: LlmProblem): TailorError {
  return new TailorError('InvalidInput', `${p.reason}: ${p.message}`, { hint: p.hint });
}

export function unwrap<T>(r: Result<T>): T {
  switch (r.kind) {
    case 'ok':
      return r.value;
    case 'problem':
      throw toTailorError(r.problem);
  }
}

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}
