// Reads a Hugging Face config.json into a ModelArchitecture: the field names differ between model
// families (and multimodal checkpoints nest the language model in text_config), the meaning does not.
import { parseQuantizationConfig } from './quant.ts';
import type {
  LatentAttention,
  MixtureOfExperts,
  ModelArchitecture,
  Result,
  SlidingWindow,
  TensorDtype,
} from './types.ts';
import { ok, problem } from './types.ts';

type Json = Record<string, unknown>;

function rec(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function int(c: Json, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = c[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v);
  }
  return undefined;
}

/** Families whose embeddings are tied unless the config says otherwise (transformers' defaults). */
const TIED_BY_DEFAULT = new Set(['gemma', 'gemma2', 'gemma3', 'gemma3_text']);
const QKV_BIAS = new Set(['qwen2', 'qwen2_moe', 'qwen2_vl', 'qwen2_5_vl']);
const QK_NORM = new Set(['qwen3', 'qwen3_moe', 'gemma3', 'gemma3_text', 'olmo2']);
const FOUR_NORMS = new Set(['gemma2', 'gemma3', 'gemma3_text']);
const ENCODER_ONLY = new Set([
  'bert',
  'roberta',
  'xlm-roberta',
  'distilbert',
  'deberta',
  'deberta-v2',
  'electra',
  't5',
  'mt5',
  'bart',
]);

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function dtypeOf(v: unknown): TensorDtype {
  switch (str(v).toLowerCase()) {
    case 'float32':
    case 'fp32':
      return 'float32';
    case 'float16':
    case 'fp16':
    case 'half':
      return 'float16';
    default:
      return 'bfloat16';
  }
}

/**
 * The language model's own config. Multimodal checkpoints (Gemma 3, Llava, Mistral 3) nest it in
 * text_config; the top level then keeps the dtype and quantization that apply to the whole file.
 */
function languageConfig(top: Json): Json {
  const text = rec(top['text_config']);
  if (text === undefined) return top;
  const merged: Json = { ...text };
  for (const k of ['torch_dtype', 'dtype', 'quantization_config', 'tie_word_embeddings']) {
    if (merged[k] === undefined && top[k] !== undefined) merged[k] = top[k];
  }
  if (merged['model_type'] === undefined) merged['model_type'] = top['model_type'];
  return merged;
}

function slidingWindowOf(c: Json, modelType: string, layers: number): SlidingWindow | undefined {
  const window = int(c, 'sliding_window');
  const layerTypes = c['layer_types'];
  if (Array.isArray(layerTypes) && layerTypes.length > 0) {
    const sliding = layerTypes.filter((t) => t === 'sliding_attention').length;
    return sliding > 0 && window !== undefined ? { window, slidingLayers: sliding } : undefined;
  }
  if (window === undefined || window <= 0) return undefined;
  switch (modelType) {
    case 'gemma2':
      // Even layers are local (transformers: is_sliding = not layer_idx % 2).
      return { window, slidingLayers: Math.ceil(layers / 2) };
    case 'gemma3':
    case 'gemma3_text': {
      const pattern = int(c, 'sliding_window_pattern') ?? 6;
      return { window, slidingLayers: layers - Math.floor(layers / pattern) };
    }
    case 'qwen2':
    case 'qwen2_moe':
    case 'qwen3':
    case 'qwen3_moe': {
      // Qwen configs carry a sliding_window that is off unless use_sliding_window is set.
      if (c['use_sliding_window'] !== true) return undefined;
      const fullLayers = Math.min(layers, int(c, 'max_window_layers') ?? layers);
      return layers - fullLayers > 0 ? { window, slidingLayers: layers - fullLayers } : undefined;
    }
    default:
      return { window, slidingLayers: layers };
  }
}

function moeOf(c: Json, layers: number, intermediate: number): MixtureOfExperts | undefined {
  const experts = int(c, 'num_local_experts', 'num_experts', 'n_routed_experts', 'moe_num_experts');
  if (experts === undefined || experts <= 1) return undefined;
  const perToken = int(c, 'num_experts_per_tok', 'num_experts_per_token', 'moe_top_k') ?? 2;
  const expertSize = int(c, 'moe_intermediate_size') ?? intermediate;
  let sharedExperts = int(c, 'n_shared_experts') ?? 0;
  let sharedSize = expertSize;
  const qwenShared = int(c, 'shared_expert_intermediate_size');
  if (qwenShared !== undefined && qwenShared > 0) {
    sharedExperts = 1;
    sharedSize = qwenShared;
  }
  let denseLayers = int(c, 'first_k_dense_replace') ?? 0;
  const mlpOnly = c['mlp_only_layers'];
  if (Array.isArray(mlpOnly)) denseLayers += mlpOnly.length;
  const step = int(c, 'decoder_sparse_step');
  if (step !== undefined && step > 1) denseLayers += layers - Math.floor(layers / step);
  return {
    experts,
    expertsPerToken: perToken,
    expertIntermediateSize: expertSize,
    sharedExperts,
    sharedIntermediateSize: sharedSize,
    denseLayers: Math.min(layers, denseLayers),
  };
}

function mlaOf(c: Json): LatentAttention | undefined {
  const kvLoraRank = int(c, 'kv_lora_rank');
  if (kvLoraRank === undefined || kvLoraRank === 0) return undefined;
  return {
    kvLoraRank,
    qLoraRank: int(c, 'q_lora_rank') ?? null,
    qkRopeHeadDim: int(c, 'qk_rope_head_dim') ?? 64,
    qkNopeHeadDim: int(c, 'qk_nope_head_dim') ?? 128,
    vHeadDim: int(c, 'v_head_dim') ?? 128,
  };
}

/** SigLIP/CLIP-style vision towers: layers of attention + MLP, counted approximately. */
function visionParamsOf(top: Json, textHidden: number): number | undefined {
  const v = rec(top['vision_config']);
  if (v === undefined) return undefined;
  const h = int(v, 'hidden_size', 'embed_dim');
  const layers = int(v, 'num_hidden_layers', 'depth');
  if (h === undefined || layers === undefined) return undefined;
  const inter = int(v, 'intermediate_size') ?? 4 * h;
  const perLayer = 4 * h * h + 2 * h * inter + 9 * h + inter;
  const patch = int(v, 'patch_size') ?? 14;
  const image = int(v, 'image_size') ?? 224;
  const positions = (image / patch) ** 2;
  const embeddings = 3 * patch * patch * h + positions * h;
  return layers * perLayer + embeddings + h * textHidden; // plus a projector into the text model
}

function effectiveMaxContext(c: Json): number | undefined {
  const declared = int(
    c,
    'max_position_embeddings',
    'n_positions',
    'max_sequence_length',
    'seq_length',
    'n_ctx',
  );
  const scaling = rec(c['rope_scaling']);
  const type = str(scaling?.['rope_type']) || str(scaling?.['type']);
  const factor = typeof scaling?.['factor'] === 'number' ? scaling['factor'] : undefined;
  const original = scaling ? int(scaling, 'original_max_position_embeddings') : undefined;
  // YaRN added to a config (the Qwen2.5 recipe for 128K) extends the declared window by its factor.
  if (type === 'yarn' && factor !== undefined && original !== undefined) {
    return Math.max(declared ?? 0, Math.round(original * factor));
  }
  return declared;
}

/** Parses a config.json (already JSON-decoded) into the estimator's view of the model. */
export function parseHfConfig(
  json: unknown,
  source: ModelArchitecture['source'] = 'config.json',
): Result<ModelArchitecture> {
  const top = rec(json);
  if (top === undefined) {
    return problem(
      'InvalidConfig',
      'config.json is not a JSON object',
      'point the model at a Hugging Face repository whose config.json is valid',
    );
  }
  const c = languageConfig(top);
  const modelType = str(c['model_type']) || str(top['model_type']);
  const archs = top['architectures'];
  const architecture =
    Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : modelType || 'unknown';
  if (ENCODER_ONLY.has(modelType) || c['is_encoder_decoder'] === true) {
    return problem(
      'UnsupportedArchitecture',
      `model_type "${modelType}" is not a decoder-only language model`,
      'Tailor sizes decoder-only LLMs (Llama, Qwen, Mistral, Gemma, Phi, DeepSeek, ...); size other models with a SizingPolicy',
    );
  }

  const layers = int(c, 'num_hidden_layers', 'n_layer', 'num_layers', 'n_layers');
  const hidden = int(c, 'hidden_size', 'n_embd', 'd_model', 'dim');
  const heads = int(c, 'num_attention_heads', 'n_head', 'n_heads', 'num_heads');
  const vocab = int(c, 'vocab_size', 'padded_vocab_size');
  const missing = [
    layers === undefined ? 'num_hidden_layers' : undefined,
    hidden === undefined ? 'hidden_size' : undefined,
    heads === undefined ? 'num_attention_heads' : undefined,
    vocab === undefined ? 'vocab_size' : undefined,
  ].filter((x): x is string => x !== undefined);
  if (
    layers === undefined ||
    hidden === undefined ||
    heads === undefined ||
    vocab === undefined ||
    heads === 0
  ) {
    return problem(
      'InvalidConfig',
      `config.json lacks ${missing.join(', ') || 'a non-zero num_attention_heads'}`,
      'check that the repository is a transformers LLM; a GGUF-only repository needs format: gguf',
    );
  }
  const intermediate = int(c, 'intermediate_size', 'ffn_hidden_size', 'n_inner') ?? 4 * hidden;
  let kvHeads = int(c, 'num_key_value_heads', 'n_head_kv', 'num_kv_heads') ?? heads;
  if (c['multi_query'] === true) kvHeads = 1;
  const headDim = int(c, 'head_dim') ?? Math.floor(hidden / heads);
  const maxContext = effectiveMaxContext(c);
  if (maxContext === undefined) {
    return problem(
      'InvalidConfig',
      'config.json lacks max_position_embeddings',
      'add the model context length to the ModelDeployment or use a complete config.json',
    );
  }

  const quant = parseQuantizationConfig(c['quantization_config']);
  if (quant.kind === 'problem') return quant;

  const tieDefault = TIED_BY_DEFAULT.has(modelType);
  const tie = typeof c['tie_word_embeddings'] === 'boolean' ? c['tie_word_embeddings'] : tieDefault;
  const arch: ModelArchitecture = {
    source,
    architecture,
    modelType,
    layers,
    hiddenSize: hidden,
    intermediateSize: intermediate,
    attentionHeads: heads,
    kvHeads,
    headDim,
    vocabSize: vocab,
    maxContext,
    tieWordEmbeddings: tie,
    qkvBias: QKV_BIAS.has(modelType) || c['attention_bias'] === true,
    qkNorm: QK_NORM.has(modelType),
    normsPerLayer: FOUR_NORMS.has(modelType) ? 4 : 2,
    dtype: dtypeOf(c['torch_dtype'] ?? c['dtype']),
  };
  if (quant.value !== undefined) arch.quantization = quant.value;
  const moe = moeOf(c, layers, intermediate);
  if (moe !== undefined) arch.moe = moe;
  const mla = mlaOf(c);
  if (mla !== undefined) arch.mla = mla;
  const sliding = slidingWindowOf(c, modelType, layers);
  if (sliding !== undefined) arch.slidingWindow = sliding;
  const vision = visionParamsOf(top, hidden);
  if (vision !== undefined) arch.visionParams = vision;
  if (typeof top['_name_or_path'] === 'string' && top['_name_or_path'] !== '')
    arch.name = top['_name_or_path'];
  return ok(arch);
}
