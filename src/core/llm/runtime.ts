// What each serving runtime adds on top of weights and KV cache: the formats it loads, how it
// reserves GPU memory, its activation/compute buffers, host memory, CPU and start-up time.
import type { ModelArchitecture, Result } from './types.ts';
import { GiB, MiB, formatBytes, ok, problem } from './types.ts';

export type Runtime = 'vllm' | 'llamacpp' | 'ollama' | 'tgi';
export type WeightFormat = 'safetensors' | 'gguf';
export type Device = 'gpu' | 'cpu';
/** vLLM (and TGI) take a fraction of the GPU up front and fill it with KV cache; llama.cpp allocates what it needs. */
export type ReservationRule = 'FractionOfGpu' | 'Exact';

export const RUNTIMES: readonly Runtime[] = ['vllm', 'llamacpp', 'ollama', 'tgi'];

export function runtimeFormats(r: Runtime): readonly WeightFormat[] {
  switch (r) {
    case 'vllm':
    case 'tgi':
      return ['safetensors'];
    case 'llamacpp':
    case 'ollama':
      return ['gguf'];
  }
}

export function checkFormat(r: Runtime, f: WeightFormat): Result<void> {
  if (runtimeFormats(r).includes(f)) return ok(undefined);
  const hint =
    f === 'gguf'
      ? `serve GGUF files with runtime llamacpp or ollama, or point ${r} at the model's safetensors repository`
      : `${r} loads GGUF files: pick a GGUF repository (e.g. a *-GGUF repo) or serve safetensors with vllm or tgi`;
  return problem('FormatUnsupportedByRuntime', `runtime ${r} cannot load ${f} weights`, hint);
}

export function checkDevice(r: Runtime, d: Device): Result<void> {
  if (d === 'gpu' || r === 'llamacpp' || r === 'ollama') return ok(undefined);
  return problem(
    'InvalidRequest',
    `runtime ${r} needs a GPU`,
    'use runtime llamacpp or ollama to serve on CPU, or request a GPU',
  );
}

export function reservationRule(r: Runtime): ReservationRule {
  switch (r) {
    case 'vllm':
    case 'tgi':
      return 'FractionOfGpu';
    case 'llamacpp':
    case 'ollama':
      return 'Exact';
  }
}

/**
 * Share of a GPU's usable memory the runtime may plan into. vLLM takes gpu_memory_utilization
 * (0.9 by default); TGI takes nearly all of it; llama.cpp needs headroom for the CUDA context.
 */
export function budgetFraction(r: Runtime, gpuMemoryUtilization?: number): number {
  switch (r) {
    case 'vllm':
      return gpuMemoryUtilization ?? 0.9;
    case 'tgi':
      return gpuMemoryUtilization ?? 0.95;
    case 'llamacpp':
    case 'ollama':
      return 0.95;
  }
}

/** Whether GPUs are combined by tensor parallelism (shards every layer) or by splitting layers. */
export function parallelism(r: Runtime): 'tensor' | 'layer-split' {
  switch (r) {
    case 'vllm':
    case 'tgi':
      return 'tensor';
    case 'llamacpp':
    case 'ollama':
      return 'layer-split';
  }
}

/** vLLM/TGI: heads must split evenly; more ranks than KV heads replicate the KV heads. */
export function validGpuCounts(r: Runtime, a: ModelArchitecture, max = 8): number[] {
  const counts = [1, 2, 4, 8].filter((n) => n <= max);
  if (parallelism(r) === 'layer-split') return counts.filter((n) => n <= a.layers);
  return counts.filter(
    (n) => a.attentionHeads % n === 0 && (a.mla !== undefined || a.kvHeads % n === 0 || n % a.kvHeads === 0),
  );
}

/** Runtimes that keep only the window in sliding-window layers (vLLM's hybrid KV manager, llama.cpp's SWA cache). */
export function slidingWindowAware(r: Runtime): boolean {
  switch (r) {
    case 'vllm':
    case 'llamacpp':
    case 'ollama':
      return true;
    case 'tgi':
      return false;
  }
}

export interface RuntimeKnobs {
  /** vLLM --max-num-batched-tokens: the prefill batch its memory profile runs. */
  maxNumBatchedTokens: number;
  /** llama.cpp -ub: the micro-batch its compute buffer is sized for. */
  ubatch: number;
  flashAttention: boolean;
  enforceEager: boolean;
}

export function defaultKnobs(r: Runtime): RuntimeKnobs {
  return {
    // vLLM defaults to 2048-16384 depending on version and GPU; 8192 keeps the profile peak conservative.
    maxNumBatchedTokens: r === 'tgi' ? 4096 : 8192,
    ubatch: 512,
    // llama-server turns flash attention on where supported (-fa auto); Ollama leaves it off unless told.
    flashAttention: r === 'llamacpp',
    enforceEager: false,
  };
}

export interface Part {
  label: string;
  bytes: number;
}

export interface Overhead {
  bytes: number;
  parts: Part[];
}

function mlpWidth(a: ModelArchitecture): number {
  const moe = a.moe;
  if (moe === undefined) return a.intermediateSize;
  return moe.expertsPerToken * moe.expertIntermediateSize + moe.sharedExperts * moe.sharedIntermediateSize;
}

/**
 * GPU memory besides weights and KV cache, per GPU.
 * vLLM: the activation peak of its profile run (a prefill of max_num_batched_tokens: residual
 * stream plus MLP intermediates, sharded by tensor parallelism, plus fp32 logits for every sequence),
 * non-torch memory (CUDA context, cuBLAS workspaces; NCCL buffers when tensor parallel) and CUDA
 * graphs. vLLM logs these at start-up ("model weights take ...; non_torch_memory ...; PyTorch
 * activation peak memory ...").
 * llama.cpp: the compute buffer its graph allocator reserves, dominated by the attention scores
 * (ubatch x context x heads x fp32, absent with flash attention) or the logits (ubatch x vocab x fp32).
 */
export function gpuOverhead(
  r: Runtime,
  a: ModelArchitecture,
  knobs: RuntimeKnobs,
  tensorParallel: number,
  concurrency: number,
  contextTokensTotal: number,
): Overhead {
  const parts: Part[] = [];
  const mats = 3;
  switch (r) {
    case 'vllm':
    case 'tgi': {
      const t = knobs.maxNumBatchedTokens;
      const activations = 2 * t * (3 * a.hiddenSize + (mats * mlpWidth(a)) / tensorParallel);
      const logits = Math.min(concurrency, t) * a.vocabSize * 4 * 2;
      parts.push({ label: `activation peak (prefill of ${t} tokens)`, bytes: activations });
      parts.push({ label: `logits for ${concurrency} sequences (fp32)`, bytes: logits });
      parts.push({ label: 'CUDA context and workspaces', bytes: 0.5 * GiB });
      if (tensorParallel > 1) parts.push({ label: 'NCCL / all-reduce buffers', bytes: 2 * GiB });
      if (!knobs.enforceEager)
        parts.push({ label: 'CUDA graphs', bytes: r === 'vllm' ? 1 * GiB : 0.5 * GiB });
      break;
    }
    case 'llamacpp':
    case 'ollama': {
      const u = knobs.ubatch;
      const logits = u * a.vocabSize * 4;
      const scores = knobs.flashAttention ? 0 : u * contextTokensTotal * a.attentionHeads * 4;
      const mlp = u * 4 * mats * mlpWidth(a);
      const residual = u * a.hiddenSize * 4 * 4;
      parts.push({
        label: `compute buffer (ubatch ${u}: max of logits, ${knobs.flashAttention ? 'MLP' : 'attention scores, MLP'})`,
        bytes: Math.max(logits, scores, mlp) + residual,
      });
      parts.push({ label: 'CUDA context', bytes: 0.3 * GiB });
      break;
    }
  }
  return { bytes: parts.reduce((s, p) => s + p.bytes, 0), parts };
}

export interface HostMemory {
  load: number;
  steady: number;
  whyLoad: string;
  whySteady: string;
}

/**
 * Host (pod) memory. Page cache counts against the container's memory cgroup: reading a
 * checkpoint fills it while loading (reclaimable, but the limit must leave room or reads thrash),
 * and llama.cpp maps its weights so on CPU they stay resident for as long as it serves.
 */
export function hostMemory(
  r: Runtime,
  device: Device,
  input: {
    weightsBytes: number;
    checkpointBytes: number;
    kvBytes: number;
    computeBytes: number;
    tokenEmbeddingBytes: number;
    gpus: number;
    vision: boolean;
  },
): HostMemory {
  switch (r) {
    case 'vllm':
    case 'tgi': {
      const perWorker = 1.5 * GiB;
      const server = 1 * GiB;
      const mmCache = input.vision && r === 'vllm' ? 4 * GiB : 0;
      const steady = server + input.gpus * perWorker + mmCache;
      const steadyWhy =
        `${formatBytes(server)} API server + ${input.gpus} x ${formatBytes(perWorker)} GPU worker processes (Python, PyTorch, CUDA libraries)` +
        (mmCache > 0 ? ` + ${formatBytes(mmCache)} multimodal input cache` : '');
      return {
        steady,
        load: steady + input.checkpointBytes,
        whySteady: steadyWhy,
        whyLoad: `${steadyWhy} + ${formatBytes(input.checkpointBytes)} page cache while the checkpoint is read`,
      };
    }
    case 'llamacpp':
    case 'ollama': {
      const base = (r === 'ollama' ? 0.5 : 0.2) * GiB;
      const baseWhy = `${formatBytes(base)} ${r === 'ollama' ? 'Ollama server and runner' : 'llama-server'}`;
      if (device === 'cpu') {
        const steady = base + input.weightsBytes + input.kvBytes + input.computeBytes;
        const why = `${baseWhy} + ${formatBytes(input.weightsBytes)} memory-mapped weights (page cache, resident while serving) + ${formatBytes(input.kvBytes)} KV cache + ${formatBytes(input.computeBytes)} compute buffer`;
        return { steady, load: steady, whySteady: why, whyLoad: why };
      }
      const hostBuffers = input.tokenEmbeddingBytes + 64 * MiB;
      const steady = base + hostBuffers;
      const whySteady = `${baseWhy} + ${formatBytes(input.tokenEmbeddingBytes)} token embeddings (kept in host memory) + 64 MiB host compute/output buffers`;
      return {
        steady,
        load: steady + input.weightsBytes,
        whySteady,
        whyLoad: `${whySteady} + ${formatBytes(input.weightsBytes)} memory-mapped weights in page cache while they are copied to the GPU`,
      };
    }
  }
}

export interface Cores {
  load: number;
  steady: number;
  whyLoad: string;
  whySteady: string;
}

/**
 * CPU cores. GPU runtimes are mostly idle on the CPU once loaded, but vLLM's engine core and each
 * worker busy-poll one core; loading deserializes tensors, compiles (torch.compile) and captures
 * graphs, which parallelizes. On CPU, llama.cpp's decode is memory-bound and prefill compute-bound:
 * a few threads per concurrent sequence, up to what memory bandwidth rewards.
 */
export function cores(r: Runtime, device: Device, gpus: number, concurrency: number): Cores {
  switch (r) {
    case 'vllm':
      return {
        steady: 1 + gpus,
        load: Math.max(4, 2 + 2 * gpus),
        whySteady: `1 core API server + ${gpus} busy-polling engine/worker process${gpus > 1 ? 'es' : ''}`,
        whyLoad: 'tensor deserialization, torch.compile and CUDA-graph capture run in parallel while loading',
      };
    case 'tgi':
      return {
        steady: 1 + 0.5 * gpus,
        load: 2 + gpus,
        whySteady: `router + ${gpus} shard process${gpus > 1 ? 'es' : ''}`,
        whyLoad: 'safetensors loading and warm-up per shard',
      };
    case 'llamacpp':
    case 'ollama': {
      if (device === 'cpu') {
        const threads = Math.min(16, 4 + 2 * (concurrency - 1));
        return {
          steady: threads,
          load: Math.max(2, Math.min(threads, 4)),
          whySteady: `${threads} threads: 4 for one sequence, +2 per extra concurrent sequence, capped at 16 (decode is memory-bandwidth bound)`,
          whyLoad: 'memory-mapping is I/O bound; a few cores fault the pages in',
        };
      }
      return {
        steady: 1,
        load: 2,
        whySteady: 'all layers on the GPU: one core for HTTP, tokenization and sampling',
        whyLoad: 'reading the file and copying tensors to the GPU',
      };
    }
  }
}

/** Seconds from weights read to Ready: compilation, graph capture, warm-up. */
export function initSeconds(r: Runtime): { seconds: number; why: string } {
  switch (r) {
    case 'vllm':
      return { seconds: 45, why: 'torch.compile (first start; cached after) and CUDA-graph capture' };
    case 'tgi':
      return { seconds: 30, why: 'warm-up prefill and CUDA-graph capture' };
    case 'llamacpp':
      return { seconds: 3, why: 'context and compute-buffer allocation' };
    case 'ollama':
      return { seconds: 5, why: 'runner start, context and compute-buffer allocation' };
  }
}
