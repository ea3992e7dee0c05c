// Runtime presets: per inference server, its image, port, arguments from the serving parameters,
// health and metrics paths, whether it needs the model downloaded first, and how user arguments
// replace the preset's.
import type { RuntimeName } from '../../api/modeldeployment.ts';

export interface ServeInput {
  /** Where the model is inside the container: a folder (safetensors) or a .gguf file. */
  modelPath: string;
  /** The Hugging Face repository, for runtimes that fetch by themselves (TGI, Ollama). */
  repo?: string;
  revision?: string;
  quantization?: string;
  servedName: string;
  contextLength: number;
  maxSequences: number;
  dtype: 'auto' | 'bfloat16' | 'float16';
  gpus: number;
  gpuMemoryUtilization: number;
}

export interface Preset {
  image: string;
  port: number;
  healthPath: string;
  /** Undefined: the server exports no Prometheus metrics (no scrape annotations). */
  metricsPath?: string;
  /** The model must be on the cache volume before the server starts (an init container downloads it). */
  needsDownload: boolean;
  command?: string[];
  args: string[];
  env: { name: string; value: string }[];
  /** vLLM and TGI share tensors between worker processes through /dev/shm. */
  sharedMemory: boolean;
}

export const MODEL_DIR = '/models';

/** The images the presets run: a ModelDeployment may name any of them in runtime.image. */
export const PRESET_IMAGES = {
  vllm: 'vllm/vllm-openai:v0.11.0',
  llamacppCuda: 'ghcr.io/ggml-org/llama.cpp:server-cuda',
  llamacpp: 'ghcr.io/ggml-org/llama.cpp:server',
  ollama: 'ollama/ollama:0.12.3',
  tgi: 'ghcr.io/huggingface/text-generation-inference:3.3.4',
} as const;

export function preset(runtime: RuntimeName, s: ServeInput): Preset {
  switch (runtime) {
    case 'vllm':
      return {
        image: PRESET_IMAGES.vllm,
        port: 8000,
        healthPath: '/health',
        metricsPath: '/metrics',
        needsDownload: true,
        args: [
          '--model',
          s.modelPath,
          '--served-model-name',
          s.servedName,
          '--port',
          '8000',
          '--max-model-len',
          String(s.contextLength),
          '--max-num-seqs',
          String(s.maxSequences),
          '--gpu-memory-utilization',
          String(s.gpuMemoryUtilization),
          '--tensor-parallel-size',
          String(Math.max(1, s.gpus)),
          '--dtype',
          s.dtype,
        ],
        env: [{ name: 'HF_HUB_OFFLINE', value: '1' }],
        sharedMemory: true,
      };
    case 'llamacpp':
      return {
        image: s.gpus > 0 ? PRESET_IMAGES.llamacppCuda : PRESET_IMAGES.llamacpp,
        port: 8080,
        healthPath: '/health',
        metricsPath: '/metrics',
        needsDownload: true,
        args: [
          '-m',
          s.modelPath,
          '--alias',
          s.servedName,
          '--host',
          '0.0.0.0',
          '--port',
          '8080',
          // llama-server splits -c across its -np slots: each sequence gets c / np tokens.
          '-c',
          String(s.contextLength * s.maxSequences),
          '-np',
          String(s.maxSequences),
          '--metrics',
          ...(s.gpus > 0 ? ['-ngl', '999'] : []),
        ],
        env: [],
        sharedMemory: false,
      };
    case 'ollama': {
      const ref = `hf.co/${s.repo ?? s.servedName}${s.quantization ? `:${s.quantization}` : ''}`;
      return {
        image: PRESET_IMAGES.ollama,
        port: 11434,
        healthPath: '/api/version',
        needsDownload: false,
        // Ollama pulls into its own store (on the cache volume) and serves what it has pulled.
        command: ['/bin/sh', '-c'],
        args: ['ollama serve & pid=$!; sleep 2; ollama pull "$TAILOR_MODEL" && wait $pid'],
        env: [
          { name: 'TAILOR_MODEL', value: ref },
          { name: 'OLLAMA_MODELS', value: `${MODEL_DIR}/ollama` },
          { name: 'OLLAMA_CONTEXT_LENGTH', value: String(s.contextLength) },
          { name: 'OLLAMA_NUM_PARALLEL', value: String(s.maxSequences) },
          { name: 'OLLAMA_KEEP_ALIVE', value: '-1' },
          { name: 'OLLAMA_HOST', value: '0.0.0.0:11434' },
        ],
        sharedMemory: false,
      };
    }
    case 'tgi':
      return {
        image: PRESET_IMAGES.tgi,
        port: 8080,
        healthPath: '/health',
        metricsPath: '/metrics',
        needsDownload: false,
        args: [
          '--model-id',
          s.repo ?? s.modelPath,
          ...(s.revision ? ['--revision', s.revision] : []),
          '--port',
          '8080',
          '--max-input-tokens',
          String(s.contextLength - 1),
          '--max-total-tokens',
          String(s.contextLength),
          '--max-concurrent-requests',
          String(s.maxSequences),
          '--num-shard',
          String(Math.max(1, s.gpus)),
          ...(s.dtype !== 'auto' ? ['--dtype', s.dtype] : []),
        ],
        env: [{ name: 'HF_HOME', value: `${MODEL_DIR}/hf` }],
        sharedMemory: true,
      };
  }
}

/** `--flag value`, `--flag=value` or a bare `--flag`: the flag's name. */
function flagName(token: string): string | undefined {
  if (!token.startsWith('-') || /^-\d/.test(token)) return undefined;
  return token.split('=')[0];
}

/** The preset's arguments with every flag the user gives removed (with its value), then the user's. */
export function mergeArgs(preset: readonly string[], user: readonly string[] = []): string[] {
  const overridden = new Set(user.map(flagName).filter((f): f is string => f !== undefined));
  const out: string[] = [];
  for (let i = 0; i < preset.length; i++) {
    const t = preset[i]!;
    const f = flagName(t);
    if (f !== undefined && overridden.has(f)) {
      const next = preset[i + 1];
      if (!t.includes('=') && next !== undefined && flagName(next) === undefined) i++;
      continue;
    }
    out.push(t);
  }
  return [...out, ...user];
}
