// What a model really needs when a given runtime serves it: weights in memory, KV cache per token,
// the runtime's own GPU and host overheads, and the bytes it downloads. Built from the model's
// config.json (./models.ts) and each runtime's published start-up logs; never from Tailor's
// estimate. The start-up rules that turn these into "serves" or "crashes" are in ./startup.ts.
import type { LlmParams } from '../usage/params.ts';
import type { Runtime } from './identify.ts';
import type { Architecture } from './models.ts';
import { safetensorsBytes } from './models.ts';
import type { Served } from './served.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** The runtime's figures beside the profile parameters, per GPU where a GPU is meant. */
export interface RuntimeFigures {
  runtime: Runtime;
  /** Bytes the model's files take on disk: what a download writes. */
  fileBytes: number;
  /** Memory the CUDA context and libraries take on each GPU before the server allocates anything. */
  cudaContextBytes: number;
  /** GPU memory per GPU held beside weights and KV inside the runtime's budget (vLLM non-torch memory). */
  gpuBufferBytes: number;
  /** Peak of the profiling (or warm-up) forward pass per GPU, freed once measured. */
  activationPeakBytes: number;
  /** CUDA graphs per GPU, captured after the KV cache is allocated (outside vLLM's budget). */
  cudaGraphBytes: number;
  /** Longest context the model was trained for (vLLM refuses a longer max_model_len). */
  maxPosition?: number;
  /** Whether the weights and KV cache are on the GPU (llama.cpp: -ngl). */
  device: 'gpu' | 'cpu';
  tensorParallel: number;
}

export interface Reference {
  /** The llm profile's parameters that the model and the server's settings fix. */
  params: Partial<LlmParams>;
  figures: RuntimeFigures;
}

/** 2 (K and V) x layers x KV heads x head dim x bytes per element. */
export function kvBytesPerToken(a: Architecture, dtypeBytes: number): number {
  return 2 * a.layers * a.kvHeads * a.headDim * dtypeBytes;
}

/**
 * Weights of a safetensors checkpoint in GPU memory, as vLLM reports them ("Loading model weights
 * took 14.9595 GB" for Meta-Llama-3-8B, "0.9276 GB" for Qwen2.5-0.5B): parameters x 2 bytes, plus
 * the rotary cos/sin cache of max_position x head_dim float32 values.
 */
export function loadedWeightsBytes(a: Architecture): number {
  return a.params * 2 + a.maxPosition * a.headDim * 4;
}

/**
 * vLLM's profiling peak per GPU: one forward pass of max_num_batched_tokens (activations of the
 * attention and MLP blocks in bf16) and the sampler's float32 logits for max_num_seqs sequences
 * (vllm/v1/worker/gpu_model_runner.py profile_run). Measured: 1.44 GiB for Qwen2.5-0.5B with
 * 32768 batched tokens and 256 sequences (vLLM 0.6 log, "PyTorch activation peak memory takes").
 */
export function vllmActivationBytes(
  a: Architecture,
  batchedTokens: number,
  maxSeqs: number,
  tp: number,
): number {
  const perToken = 2 * (4 * a.hidden + (3 * a.intermediate) / tp);
  return batchedTokens * perToken + maxSeqs * a.vocab * 4;
}

/**
 * CUDA graphs of the decode batch sizes: 0.13 GiB for Qwen2.5-0.5B (24 layers of 896, vLLM log
 * "Graph capturing finished in 37 secs, took 0.13 GiB"), growing with layers x hidden size.
 */
export function vllmGraphBytes(a: Architecture | undefined): number {
  if (a === undefined) return 0.5 * GiB;
  return 0.13 * GiB * ((a.layers * a.hidden) / (24 * 896)) ** 0.5;
}

/**
 * llama.cpp's compute buffer: the graph of one n_ubatch forward pass, dominated by the logits of
 * n_ubatch tokens (n_vocab float32 each) plus the FFN activations (src/llama-context.cpp reserves
 * it at start: "CPU compute buffer size = ... MiB").
 */
export function llamacppComputeBytes(a: Architecture, ubatch: number): number {
  return ubatch * a.vocab * 4 + ubatch * (a.hidden + a.intermediate) * 4;
}

/** Host memory of each server process apart from weights and KV (interpreter, CUDA libraries). */
const HOST_PROCESS: Record<Runtime, { cpu: number; gpu: number }> = {
  // vLLM V1 runs two Python processes (API server and EngineCore) with torch and CUDA loaded.
  vllm: { cpu: 2.5 * GiB, gpu: 2.5 * GiB },
  // text-generation-launcher (Rust) and one Python shard per GPU.
  tgi: { cpu: 1.5 * GiB, gpu: 1.5 * GiB },
  // llama-server: a C++ binary; the CUDA build maps the CUDA runtime and cuBLAS.
  llamacpp: { cpu: 64 * MiB, gpu: 400 * MiB },
  // The Ollama server (Go) plus its llama runner process.
  ollama: { cpu: 256 * MiB, gpu: 600 * MiB },
};

/**
 * After the weights are in: vLLM profiles, compiles (torch.compile) and captures CUDA graphs ("init
 * engine (profile, create kv cache, warmup model) took 45.60 seconds" for Qwen2.5-0.5B on a T4,
 * 37 s of it graph capture); TGI warms up its prefill and captures a few graphs; llama.cpp runs one
 * empty batch.
 */
const WARMUP_SECONDS: Record<Runtime, number> = { vllm: 40, tgi: 15, llamacpp: 1, ollama: 1 };

/** CUDA context per GPU: PyTorch with cuBLAS/cuDNN handles, or ggml's CUDA backend. */
const CUDA_CONTEXT: Record<Runtime, number> = {
  vllm: 512 * MiB,
  tgi: 512 * MiB,
  llamacpp: 320 * MiB,
  ollama: 320 * MiB,
};

/** vLLM "non_torch_memory takes 0.11GiB" (Qwen2.5-0.5B, one GPU); NCCL buffers add to it with TP. */
const VLLM_NON_TORCH = 0.11 * GiB;
const NCCL_BUFFERS = 0.25 * GiB;

/**
 * The reference for a server whose model is known. `gpus` is what the container was given; a
 * runtime uses what its flags say (vLLM's tensor parallel size), at most that.
 */
export function referenceOf(
  served: Served,
  arch: Architecture | undefined,
  fileBytes: number | undefined,
  gpus: number,
): Reference {
  const r = served.runtime;
  const tp = Math.max(1, served.tensorParallel);
  const onGpu = gpus > 0 && served.gpuLayers > 0;
  const params: Partial<LlmParams> = {
    maxSequences: Math.max(1, served.maxSequences ?? 1),
    gpuMemoryUtilization: Math.min(1, Math.max(0.01, served.gpuMemoryUtilization)),
    // Each runtime allocates its whole KV pool at start (vLLM and TGI blocks, llama.cpp's n_ctx
    // buffer, cleared, so resident).
    preallocateKvCache: true,
    // Pages read once while loading sit on the inactive file list: not in the working set.
    pageCacheFraction: 0,
    warmupSeconds: WARMUP_SECONDS[r],
  };
  const figures: RuntimeFigures = {
    runtime: r,
    fileBytes: fileBytes ?? 0,
    cudaContextBytes: onGpu ? CUDA_CONTEXT[r] : 0,
    gpuBufferBytes: 0,
    activationPeakBytes: 0,
    cudaGraphBytes: 0,
    device: onGpu ? 'gpu' : 'cpu',
    tensorParallel: r === 'vllm' || r === 'tgi' ? tp : 1,
  };
  let hostExtra = 0;
  if (arch !== undefined) {
    const ctx = served.contextLength ?? arch.maxPosition;
    params.contextLength = Math.max(16, ctx);
    params.kvBytesPerToken = kvBytesPerToken(arch, served.kvDtypeBytes);
    figures.maxPosition = arch.maxPosition;
    switch (r) {
      case 'vllm':
      case 'tgi': {
        params.weightsBytes = loadedWeightsBytes(arch);
        figures.fileBytes = fileBytes ?? safetensorsBytes(arch);
        const tokens = served.batchedTokens ?? 2048;
        figures.activationPeakBytes = vllmActivationBytes(arch, tokens, params.maxSequences!, tp);
        figures.gpuBufferBytes = VLLM_NON_TORCH + (tp > 1 ? NCCL_BUFFERS : 0);
        figures.cudaGraphBytes = served.eager ? 0 : vllmGraphBytes(arch);
        break;
      }
      case 'llamacpp':
      case 'ollama': {
        // mmap'd GGUF: the tensors are the file less its metadata (a few MB).
        params.weightsBytes = fileBytes ?? arch.params * 2;
        figures.fileBytes = fileBytes ?? arch.params * 2;
        // llama.cpp and Ollama size the KV cache for every slot: n_ctx tokens in all.
        const compute = llamacppComputeBytes(arch, served.batchedTokens ?? 512);
        if (onGpu) figures.gpuBufferBytes = compute;
        else hostExtra = compute;
        break;
      }
    }
  } else if (served.contextLength !== undefined) {
    params.contextLength = Math.max(16, served.contextLength);
  }
  params.runtimeMemoryBytes = Math.round((onGpu ? HOST_PROCESS[r].gpu : HOST_PROCESS[r].cpu) + hostExtra);
  return { params, figures };
}
