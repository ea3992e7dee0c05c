// Published figures the estimator is checked against, each with where it was published so a
// reader can verify it. Only figures seen in the source are listed; `confidence` says how exact.
import type { EstimateRequest } from '../src/core/llm/estimate.ts';

export type Metric =
  /** Bytes of the weights as loaded (whole model, or per GPU when tensorParallel is set). */
  | 'weights'
  /** KV-cache bytes per token, every layer every token. */
  | 'kvPerToken'
  /** KV-cache bytes for the request's context x concurrency. */
  | 'kvCache'
  /** vLLM: weights + non-torch memory + activation peak on one GPU (everything but KV cache). */
  | 'gpuNonKv'
  /** vLLM: what is left for KV cache in gpu_memory_utilization x total GPU memory. */
  | 'kvAvailable'
  /** llama.cpp: model + KV + compute buffers it allocates on the GPU (CUDA context excluded). */
  | 'gpuBuffers';

export type Category = 'weights' | 'kv' | 'total';

export function category(m: Metric): Category {
  switch (m) {
    case 'weights':
      return 'weights';
    case 'kvPerToken':
    case 'kvCache':
      return 'kv';
    case 'gpuNonKv':
    case 'kvAvailable':
    case 'gpuBuffers':
      return 'total';
  }
}

export interface Published {
  id: string;
  /** Catalogue id of the model. */
  model: string;
  metric: Metric;
  /** The figure in bytes. */
  bytes: number;
  /** As the source prints it. */
  asPublished: string;
  request: EstimateRequest;
  /** Extra config.json fields for the checkpoint (e.g. its quantization_config). */
  configOverride?: Record<string, unknown>;
  /** Total GPU memory the runtime saw, for kvAvailable. */
  gpuTotalBytes?: number;
  source: string;
  confidence: 'exact' | 'rounded' | 'approximate';
  note?: string;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const vllm = (extra: Partial<EstimateRequest> = {}): EstimateRequest => ({
  runtime: 'vllm',
  format: 'safetensors',
  ...extra,
});
const index = (repo: string): string =>
  `https://huggingface.co/${repo}/blob/main/model.safetensors.index.json (metadata.total_size)`;
const ISCA =
  'Zhao et al., "Insights into DeepSeek-V3: Scaling Challenges and Reflections on Hardware for AI Architectures", ISCA 2025 (arXiv:2505.09343), Table 1 (KV cache per token, BF16)';
const HF_BLOG =
  'https://huggingface.co/blog/llama31 "Inference Memory Requirements" (KV cache, FP16, per 1k tokens)';
const VLLM_PR_10511 =
  'https://github.com/vllm-project/vllm/pull/10511 (memory profiling log, vllm serve meta-llama/Meta-Llama-3-8B on an 80 GB GPU, total_gpu_memory 79.22GiB, gpu_memory_utilization 0.90)';
const LLAMACPP_Q4KM =
  'llama.cpp load log of Meta-Llama-3.1-8B-Instruct Q4_K_M (the Ollama llama3.1:8b file): "model size = 4.58 GiB (4.89 BPW)", "CUDA0 model buffer size = 4403.49 MiB", "KV self size = 1024.00 MiB", "CUDA0 compute buffer size = 560.00 MiB" at n_ctx 8192, n_ubatch 512, flash_attn 0; identical in every public log of that file';

export const PUBLISHED: readonly Published[] = [
  // Weights: safetensors index totals (bf16 checkpoints) and runtime-reported loads.
  {
    id: 'llama31-8b-weights',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    metric: 'weights',
    bytes: 16060522496,
    asPublished: '16060522496',
    request: vllm(),
    source: `${index('meta-llama/Llama-3.1-8B-Instruct')}; also quoted in the Hub docs page "Using transformers at Hugging Face"`,
    confidence: 'exact',
  },
  {
    id: 'llama31-70b-weights',
    model: 'meta-llama/Llama-3.1-70B-Instruct',
    metric: 'weights',
    bytes: 141107412992,
    asPublished: '141107412992',
    request: vllm(),
    source: index('meta-llama/Llama-3.1-70B-Instruct'),
    confidence: 'exact',
  },
  {
    id: 'qwen25-7b-weights',
    model: 'Qwen/Qwen2.5-7B-Instruct',
    metric: 'weights',
    bytes: 15231233024,
    asPublished: '15231233024',
    request: vllm(),
    source: index('Qwen/Qwen2.5-7B-Instruct'),
    confidence: 'exact',
  },
  {
    id: 'qwen25-72b-weights',
    model: 'Qwen/Qwen2.5-72B-Instruct',
    metric: 'weights',
    bytes: 145412407296,
    asPublished: '145412407296',
    request: vllm(),
    source: index('Qwen/Qwen2.5-72B-Instruct'),
    confidence: 'exact',
  },
  {
    id: 'qwen3-4b-weights',
    model: 'Qwen/Qwen3-4B',
    metric: 'weights',
    bytes: 8044936192,
    asPublished: '8044936192',
    request: vllm(),
    source: index('Qwen/Qwen3-4B'),
    confidence: 'exact',
  },
  {
    id: 'qwen3-8b-weights',
    model: 'Qwen/Qwen3-8B',
    metric: 'weights',
    bytes: 16381470720,
    asPublished: '16381470720',
    request: vllm(),
    source: index('Qwen/Qwen3-8B'),
    confidence: 'exact',
  },
  {
    id: 'qwen3-32b-weights',
    model: 'Qwen/Qwen3-32B',
    metric: 'weights',
    bytes: 65524246528,
    asPublished: '65524246528',
    request: vllm(),
    source: index('Qwen/Qwen3-32B'),
    confidence: 'exact',
  },
  {
    id: 'qwen3-30b-a3b-weights',
    model: 'Qwen/Qwen3-30B-A3B-Instruct-2507',
    metric: 'weights',
    bytes: 61064245248,
    asPublished: '61064245248',
    request: vllm(),
    source: index('Qwen/Qwen3-30B-A3B-Instruct-2507'),
    confidence: 'exact',
    note: 'mixture of experts: 128 experts, 8 active',
  },
  {
    id: 'mistral-7b-v02-weights',
    model: 'mistralai/Mistral-7B-Instruct-v0.2',
    metric: 'weights',
    bytes: 14483464192,
    asPublished: '14483464192',
    request: vllm(),
    source: index('mistralai/Mistral-7B-Instruct-v0.2'),
    confidence: 'exact',
  },
  {
    id: 'mixtral-8x7b-weights',
    model: 'mistralai/Mixtral-8x7B-Instruct-v0.1',
    metric: 'weights',
    bytes: 93405585408,
    asPublished: '93405585408',
    request: vllm(),
    source: index('mistralai/Mixtral-8x7B-Instruct-v0.1'),
    confidence: 'exact',
    note: 'mixture of experts',
  },
  {
    id: 'gemma2-9b-weights',
    model: 'google/gemma-2-9b-it',
    metric: 'weights',
    bytes: 18483411968,
    asPublished: '18483411968',
    request: vllm(),
    source: index('google/gemma-2-9b-it'),
    confidence: 'exact',
    note: 'tied embeddings, 4 norms per layer',
  },
  {
    id: 'llama3-8b-vllm-weights',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    metric: 'weights',
    bytes: 14.96 * GiB,
    asPublished: 'model weights take 14.96GiB',
    request: vllm(),
    source: VLLM_PR_10511,
    confidence: 'rounded',
  },
  {
    id: 'llama3-8b-vllm-tp2-weights',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    metric: 'weights',
    bytes: 7.48 * GiB,
    asPublished: 'model weights take 7.48GiB (per GPU, -tp 2)',
    request: vllm({ tensorParallel: 2 }),
    source: VLLM_PR_10511,
    confidence: 'rounded',
  },
  {
    id: 'qwen25-7b-bnb4-vllm-weights',
    model: 'Qwen/Qwen2.5-7B-Instruct',
    metric: 'weights',
    bytes: 5.2032 * GiB,
    asPublished: 'Loading model weights took 5.2032 GB (vLLM prints GiB)',
    request: vllm(),
    configOverride: {
      quantization_config: {
        quant_method: 'bitsandbytes',
        load_in_4bit: true,
        bnb_4bit_use_double_quant: true,
      },
    },
    source: 'https://github.com/vllm-project/vllm/issues/13882 (Qwen2.5-7B-Instruct-bnb-4bit on vLLM 0.7.3)',
    confidence: 'approximate',
    note: 'the checkpoint quantization_config is not shown in the issue; NF4 with double quantization (the common bnb-4bit export) assumed',
  },
  {
    id: 'llama31-8b-q4km-weights',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    metric: 'weights',
    bytes: 4.58 * GiB,
    asPublished: 'model size = 4.58 GiB (4.89 BPW)',
    request: { runtime: 'llamacpp', format: 'gguf', ggufFileType: 'Q4_K_M' },
    source: LLAMACPP_Q4KM,
    confidence: 'rounded',
    note: 'estimated without the GGUF header, at the nominal 4.84 bits per weight',
  },

  // KV cache per token.
  {
    id: 'llama31-8b-kv',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    metric: 'kvPerToken',
    bytes: (0.125 * GiB) / 1024,
    asPublished: '0.125 GB per 1k tokens',
    request: vllm(),
    source: HF_BLOG,
    confidence: 'rounded',
  },
  {
    id: 'llama31-70b-kv',
    model: 'meta-llama/Llama-3.1-70B-Instruct',
    metric: 'kvPerToken',
    bytes: (0.313 * GiB) / 1024,
    asPublished: '0.313 GB per 1k tokens',
    request: vllm(),
    source: HF_BLOG,
    confidence: 'rounded',
  },
  {
    id: 'llama31-405b-kv',
    model: 'meta-llama/Llama-3.1-405B-Instruct',
    metric: 'kvPerToken',
    bytes: 516.096 * 1000,
    asPublished: '516.096 KB',
    request: vllm(),
    source: ISCA,
    confidence: 'exact',
    note: 'the HF blog row for 405B (0.984 GB per 1k tokens) assumes 16 KV heads; the released config has 8',
  },
  {
    id: 'qwen25-72b-kv',
    model: 'Qwen/Qwen2.5-72B-Instruct',
    metric: 'kvPerToken',
    bytes: 327.68 * 1000,
    asPublished: '327.680 KB',
    request: vllm(),
    source: ISCA,
    confidence: 'exact',
  },
  {
    id: 'deepseek-v3-kv',
    model: 'deepseek-ai/DeepSeek-V3',
    metric: 'kvPerToken',
    bytes: 70.272 * 1000,
    asPublished: '70.272 KB',
    request: vllm(),
    source: ISCA,
    confidence: 'exact',
    note: 'multi-head latent attention',
  },
  {
    id: 'llama2-7b-kv',
    model: 'meta-llama/Llama-2-7b-chat-hf',
    metric: 'kvCache',
    bytes: 2 * GiB,
    asPublished: '~2 GB for batch 1 x 4096 tokens (FP16)',
    request: vllm({ contextTokens: 4096, concurrency: 1 }),
    source:
      'NVIDIA Technical Blog, "Mastering LLM Techniques: Inference Optimization" (KV cache size of Llama 2 7B)',
    confidence: 'rounded',
  },
  {
    id: 'llama31-8b-q4km-kv',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    metric: 'kvCache',
    bytes: 1024 * MiB,
    asPublished: 'KV self size = 1024.00 MiB (n_ctx 8192)',
    request: {
      runtime: 'llamacpp',
      format: 'gguf',
      ggufFileType: 'Q4_K_M',
      contextTokens: 2048,
      concurrency: 4,
    },
    source: LLAMACPP_Q4KM,
    confidence: 'exact',
  },

  // Total GPU memory as runtimes report it.
  {
    id: 'llama3-8b-vllm-nonkv',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    metric: 'gpuNonKv',
    bytes: (14.96 + 1.79 + 1.26) * GiB,
    asPublished: 'weights 14.96GiB + non_torch_memory 1.79GiB + activation peak 1.26GiB',
    request: vllm({
      contextTokens: 8192,
      concurrency: 256,
      tensorParallel: 1,
      knobs: { maxNumBatchedTokens: 8192 },
    }),
    source: VLLM_PR_10511,
    confidence: 'rounded',
    note: "vLLM defaults of the time: max_num_seqs 256, max_num_batched_tokens = max_model_len 8192; CUDA graphs are counted by the estimate but were outside this version's budget",
  },
  {
    id: 'llama3-8b-vllm-kv-available',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    metric: 'kvAvailable',
    bytes: 53.29 * GiB,
    asPublished: 'available_kv_cache_memory 53.29GiB (0.90 x 79.22GiB)',
    request: vllm({
      contextTokens: 8192,
      concurrency: 256,
      tensorParallel: 1,
      gpuMemoryUtilization: 0.9,
      knobs: { maxNumBatchedTokens: 8192 },
    }),
    gpuTotalBytes: 79.22 * GiB,
    source: VLLM_PR_10511,
    confidence: 'rounded',
  },
  {
    id: 'llama3-8b-vllm-tp2-nonkv',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    metric: 'gpuNonKv',
    bytes: (7.48 + 3.58 + 1.26) * GiB,
    asPublished: 'weights 7.48GiB + non_torch_memory 3.58GiB + activation peak 1.26GiB (per GPU, -tp 2)',
    request: vllm({
      contextTokens: 8192,
      concurrency: 256,
      tensorParallel: 2,
      knobs: { maxNumBatchedTokens: 8192 },
    }),
    source: VLLM_PR_10511,
    confidence: 'rounded',
  },
  {
    id: 'llama31-8b-q4km-gpu',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    metric: 'gpuBuffers',
    bytes: (4403.49 + 1024 + 560) * MiB,
    asPublished: 'model 4403.49 MiB + KV 1024.00 MiB + compute 560.00 MiB on CUDA0',
    request: {
      runtime: 'llamacpp',
      format: 'gguf',
      ggufFileType: 'Q4_K_M',
      contextTokens: 2048,
      concurrency: 4,
      knobs: { flashAttention: false, ubatch: 512 },
    },
    source: LLAMACPP_Q4KM,
    confidence: 'exact',
    note: 'Ollama runs 4 parallel slots of 2048 tokens (n_ctx 8192); the input embeddings (281.81 MiB) stay in host memory',
  },
];

export const GOALS: Record<Category, number> = { weights: 0.05, kv: 0.05, total: 0.1 };
