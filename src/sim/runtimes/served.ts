// What an inference server container serves and with which settings, read as the server itself
// reads them: its command line and environment, with each runtime's own defaults. Annotations
// Tailor writes are never looked at.
import type * as k8s from '@kubernetes/client-node';
import { envValue, expandedWords, flagValue, hasFlag, runtimeOf, type Runtime } from './identify.ts';
import { architectureOf, ggufOf, type Architecture, type GgufFile } from './models.ts';

/** The model named on the command line, and what the simulator knows of it. */
export type ModelRef =
  | { kind: 'Safetensors'; name: string; arch: Architecture }
  | { kind: 'Gguf'; name: string; file: GgufFile; arch: Architecture }
  | { kind: 'Unknown'; name: string }
  | { kind: 'NotNamed' };

export interface Served {
  runtime: Runtime;
  model: ModelRef;
  /** Tokens one sequence may hold (vLLM max_model_len, llama.cpp n_ctx / n_parallel, TGI max-total-tokens). */
  contextLength?: number;
  /** Sequences batched at once (vLLM max_num_seqs, llama.cpp slots, Ollama OLLAMA_NUM_PARALLEL). */
  maxSequences?: number;
  /** vLLM gpu_memory_utilization, TGI cuda-memory-fraction. */
  gpuMemoryUtilization: number;
  tensorParallel: number;
  /** Tokens of one forward pass at most (vLLM max_num_batched_tokens, llama.cpp n_ubatch, TGI prefill tokens). */
  batchedTokens?: number;
  /** Bytes per KV-cache element (fp16/bf16: 2, fp8: 1). */
  kvDtypeBytes: number;
  /** llama.cpp: layers offloaded to the GPU (-ngl); all for the other runtimes. */
  gpuLayers: number;
  /** vLLM --enforce-eager: no CUDA graphs. */
  eager: boolean;
}

const ALL_LAYERS = 1_000_000;

function int(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A model path or id to what the simulator knows: a GGUF file by its name; a safetensors folder by
 * the repository at the end of its path (/models/hf/Qwen/Qwen2.5-0.5B-Instruct, a hub snapshot
 * models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/..., or the bare id).
 */
export function modelRefOf(name: string | undefined): ModelRef {
  if (name === undefined || name === '') return { kind: 'NotNamed' };
  if (/\.gguf$/i.test(name)) {
    const file = ggufOf(name);
    const arch = file ? architectureOf(file.base) : undefined;
    return file && arch ? { kind: 'Gguf', name, file, arch } : { kind: 'Unknown', name };
  }
  const snapshot = /models--([^/]+)--([^/]+)/.exec(name);
  if (snapshot) {
    const arch = architectureOf(`${snapshot[1]}/${snapshot[2]}`);
    return arch ? { kind: 'Safetensors', name, arch } : { kind: 'Unknown', name };
  }
  const parts = name.replace(/\/+$/, '').split('/');
  for (let i = Math.max(0, parts.length - 2); i >= 0; i--) {
    const arch = architectureOf(parts.slice(i, i + 2).join('/'));
    if (arch) return { kind: 'Safetensors', name, arch };
  }
  return { kind: 'Unknown', name };
}

/** An Ollama reference (hf.co/<repo>:<quant>, or a library tag) to a GGUF file. */
function ollamaRef(ref: string | undefined): ModelRef {
  if (ref === undefined) return { kind: 'NotNamed' };
  const m = /^(?:hf\.co|huggingface\.co)\/([^:]+)(?::(.+))?$/i.exec(ref);
  // Ollama pulls Q4_K_M when the tag names no quantisation.
  const file = m ? ggufOf(m[1]!, m[2] ?? 'Q4_K_M') : undefined;
  const arch = file ? architectureOf(file.base) : undefined;
  return file && arch ? { kind: 'Gguf', name: ref, file, arch } : { kind: 'Unknown', name: ref };
}

/** The server a container runs and its settings; undefined for a container that runs none. */
export function servedOf(c: k8s.V1Container, gpus: number, gpuMemoryBytesPerGpu: number): Served | undefined {
  const runtime = runtimeOf(c);
  if (runtime === undefined) return undefined;
  const kvFp8 = /^fp8/.test(flagValue(c, '--kv-cache-dtype') ?? '');
  switch (runtime) {
    case 'vllm': {
      // `vllm serve MODEL` or --model (vllm/entrypoints/cli/serve.py).
      const words = [...(c.command ?? []), ...(c.args ?? [])];
      const serve = words.indexOf('serve');
      const positional =
        serve >= 0 && words[serve + 1] && !words[serve + 1]!.startsWith('-') ? words[serve + 1] : undefined;
      // vllm/engine/arg_utils.py: on a GPU under 70 GiB `vllm serve` batches 2048 tokens and 256
      // sequences at most; above, 8192 tokens and 1024 sequences.
      const big = gpuMemoryBytesPerGpu >= 70 * 2 ** 30;
      return {
        runtime,
        model: modelRefOf(flagValue(c, '--model') ?? positional),
        ...opt('contextLength', int(flagValue(c, '--max-model-len'))),
        maxSequences: int(flagValue(c, '--max-num-seqs')) ?? (big ? 1024 : 256),
        gpuMemoryUtilization: num(flagValue(c, '--gpu-memory-utilization')) ?? 0.9,
        tensorParallel: int(flagValue(c, '--tensor-parallel-size', '-tp')) ?? 1,
        batchedTokens: int(flagValue(c, '--max-num-batched-tokens')) ?? (big ? 8192 : 2048),
        kvDtypeBytes: kvFp8 ? 1 : 2,
        gpuLayers: ALL_LAYERS,
        eager: hasFlag(c, '--enforce-eager'),
      };
    }
    case 'llamacpp': {
      // tools/server (common/arg.cpp): each flag also reads a LLAMA_ARG_* variable; -c is the whole
      // context, shared by the -np slots; n_ctx defaults to 4096, one slot, no layers on the GPU.
      const ctx = int(flagValue(c, '-c', '--ctx-size') ?? envValue(c, 'LLAMA_ARG_CTX_SIZE')) ?? 4096;
      const slots = int(flagValue(c, '-np', '--parallel') ?? envValue(c, 'LLAMA_ARG_N_PARALLEL')) ?? 1;
      const ngl = int(
        flagValue(c, '-ngl', '--gpu-layers', '--n-gpu-layers') ?? envValue(c, 'LLAMA_ARG_N_GPU_LAYERS'),
      );
      const kvType = flagValue(c, '-ctk', '--cache-type-k') ?? 'f16';
      return {
        runtime,
        model: modelRefOf(flagValue(c, '-m', '--model') ?? envValue(c, 'LLAMA_ARG_MODEL')),
        ...(ctx > 0 ? { contextLength: Math.max(1, Math.floor(ctx / Math.max(1, slots))) } : {}),
        maxSequences: Math.max(1, slots),
        gpuMemoryUtilization: 1,
        tensorParallel: 1,
        batchedTokens: int(flagValue(c, '-ub', '--ubatch-size')) ?? 512,
        kvDtypeBytes: kvType === 'q8_0' ? 1.0625 : kvType === 'q4_0' ? 0.5625 : kvType === 'f32' ? 4 : 2,
        gpuLayers: gpus > 0 ? (ngl ?? 0) : 0,
        eager: true,
      };
    }
    case 'tgi': {
      // text-generation-launcher (launcher/src/main.rs): every flag also reads its env variable.
      const total = int(flagValue(c, '--max-total-tokens') ?? envValue(c, 'MAX_TOTAL_TOKENS'));
      const input = int(flagValue(c, '--max-input-tokens') ?? envValue(c, 'MAX_INPUT_TOKENS'));
      return {
        runtime,
        model: modelRefOf(flagValue(c, '--model-id') ?? envValue(c, 'MODEL_ID')),
        ...opt('contextLength', total),
        maxSequences:
          int(flagValue(c, '--max-concurrent-requests') ?? envValue(c, 'MAX_CONCURRENT_REQUESTS')) ?? 128,
        gpuMemoryUtilization:
          num(flagValue(c, '--cuda-memory-fraction') ?? envValue(c, 'CUDA_MEMORY_FRACTION')) ?? 1,
        tensorParallel: int(flagValue(c, '--num-shard') ?? envValue(c, 'NUM_SHARD')) ?? Math.max(1, gpus),
        batchedTokens:
          int(flagValue(c, '--max-batch-prefill-tokens') ?? envValue(c, 'MAX_BATCH_PREFILL_TOKENS')) ??
          (input !== undefined ? input + 50 : 4096),
        kvDtypeBytes: kvFp8 ? 1 : 2,
        gpuLayers: ALL_LAYERS,
        eager: false,
      };
    }
    case 'ollama': {
      // envconfig/config.go: OLLAMA_CONTEXT_LENGTH (4096) per sequence, OLLAMA_NUM_PARALLEL slots.
      const words = expandedWords(c);
      const at = words.findIndex(
        (w, i) => (w === 'pull' || w === 'run') && /ollama$/.test(words[i - 1] ?? ''),
      );
      return {
        runtime,
        model: ollamaRef(at >= 0 ? words[at + 1] : undefined),
        contextLength: int(envValue(c, 'OLLAMA_CONTEXT_LENGTH')) ?? 4096,
        maxSequences: int(envValue(c, 'OLLAMA_NUM_PARALLEL')) ?? 1,
        gpuMemoryUtilization: 1,
        tensorParallel: 1,
        batchedTokens: 512,
        kvDtypeBytes: envValue(c, 'OLLAMA_KV_CACHE_TYPE') === 'q8_0' ? 1.0625 : 2,
        gpuLayers: gpus > 0 ? ALL_LAYERS : 0,
        eager: true,
      };
    }
  }
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}
