// Each runtime's start-up rules on the reference figures: how much KV cache it gets, or the error it
// dies with (exit code 1, the log line a real server prints) when the model does not fit.
import type { LlmSpec } from '../usage/params.ts';
import type { ServerExit, ServerTruth } from '../usage/llm.ts';
import type { RuntimeFigures } from './reference.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const gib = (b: number): string => (b / GiB).toFixed(2);
const mib = (b: number): string => (b / MiB).toFixed(2);

function exit(phase: ServerExit['phase'], message: string, loadedFraction = 1): ServerExit {
  return { phase, reason: 'Error', exitCode: 1, message, loadedFraction };
}

/** What the server does at start on `gpus` GPUs of `gpuBytes` each, with the profile's parameters. */
export function startupOf(f: RuntimeFigures, spec: LlmSpec, gpus: number, gpuBytes: number): ServerTruth {
  const onGpu = f.device === 'gpu' && gpus > 0 && gpuBytes > 0;
  const base = { device: onGpu ? ('gpu' as const) : ('cpu' as const), downloadBytes: f.fileBytes };
  if (!onGpu) {
    return {
      ...base,
      kvCapacityTokens: spec.maxSequences * spec.contextLength,
      gpuResidentBytes: 0,
      gpuPeakBytes: 0,
    };
  }
  switch (f.runtime) {
    case 'vllm':
    case 'tgi':
      return budgeted(f, spec, gpus, gpuBytes, base);
    case 'llamacpp':
    case 'ollama':
      return allocated(f, spec, gpus, gpuBytes, base);
  }
}

/**
 * vLLM V1 (vllm/v1/worker/gpu_worker.py determine_available_memory, vllm/v1/core/kv_cache_utils.py
 * check_enough_kv_cache_memory): the budget is total x gpu_memory_utilization; the KV cache gets what
 * weights, the profiling peak and non-torch memory leave; CUDA graphs come on top. TGI's
 * cuda-memory-fraction works the same way (server/text_generation_server/models/flash_causal_lm.py).
 */
function budgeted(
  f: RuntimeFigures,
  spec: LlmSpec,
  gpus: number,
  gpuBytes: number,
  base: Pick<ServerTruth, 'device' | 'downloadBytes'>,
): ServerTruth {
  const tp = Math.min(gpus, Math.max(1, f.tensorParallel));
  const weights = spec.weightsBytes / tp;
  const kvPerToken = spec.kvBytesPerToken / tp;
  const free = gpuBytes - f.cudaContextBytes;
  const requested = gpuBytes * spec.gpuMemoryUtilization;
  const resident = f.cudaContextBytes + f.gpuBufferBytes + f.cudaGraphBytes;
  const truth = (kvTokens: number, failure?: ServerExit): ServerTruth => ({
    ...base,
    kvCapacityTokens: Math.max(spec.contextLength, kvTokens),
    gpuResidentBytes: resident * tp,
    gpuPeakBytes: f.activationPeakBytes * tp,
    ...(failure ? { exit: failure } : {}),
  });
  if (f.runtime === 'vllm' && f.maxPosition !== undefined && spec.contextLength > f.maxPosition) {
    return truth(
      0,
      exit(
        'Starting',
        `ValueError: User-specified max_model_len (${spec.contextLength}) is greater than the derived max_model_len (max_position_embeddings=${f.maxPosition} or model_max_length=None in model's config.json). To allow overriding this maximum, set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1.`,
      ),
    );
  }
  if (f.runtime === 'vllm' && requested > free) {
    return truth(
      0,
      exit(
        'Starting',
        `ValueError: Free memory on device (${gib(free)}/${gib(gpuBytes)} GiB) on startup is less than desired GPU memory utilization (${spec.gpuMemoryUtilization}, ${gib(requested)} GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.`,
      ),
    );
  }
  if (weights > free) {
    // The weights do not fit the device at all: PyTorch's allocator fails part-way through loading.
    return truth(
      0,
      exit(
        'Loading',
        `torch.OutOfMemoryError: CUDA out of memory. Tried to allocate ${mib(Math.min(weights, 1 * GiB) / 4)} MiB. GPU 0 has a total capacity of ${gib(gpuBytes)} GiB of which ${mib(Math.max(0, free - weights * 0.9))} MiB is free.`,
        free / weights,
      ),
    );
  }
  const available = requested - weights - f.activationPeakBytes - f.gpuBufferBytes;
  if (f.runtime === 'tgi') {
    if (available < kvPerToken * spec.contextLength) {
      return truth(
        0,
        exit(
          'Warmup',
          `Not enough memory to handle ${spec.contextLength} prefill tokens. You need to decrease \`--max-batch-prefill-tokens\``,
        ),
      );
    }
    return truth(Math.floor(available / kvPerToken));
  }
  if (available <= 0) {
    return truth(
      0,
      exit(
        'Warmup',
        'ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.',
      ),
    );
  }
  const needed = kvPerToken * spec.contextLength;
  if (needed > available) {
    const fits = Math.floor(available / kvPerToken);
    return truth(
      0,
      exit(
        'Warmup',
        `ValueError: To serve at least one request with the models's max seq len (${spec.contextLength}), (${gib(needed)} GiB KV cache is needed, which is larger than the available KV cache memory (${gib(available)} GiB). Based on the available memory, the estimated maximum model length is ${fits}. Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`,
      ),
    );
  }
  return truth(Math.floor(available / kvPerToken));
}

/**
 * llama.cpp (and Ollama's runner): exact allocations, no budget. Weights, then the KV buffer of
 * n_ctx tokens, then the compute buffer; a cudaMalloc that fails ends the server
 * (ggml/src/ggml-cuda/ggml-cuda.cu, tools/server/server.cpp "exiting due to model loading error").
 */
function allocated(
  f: RuntimeFigures,
  spec: LlmSpec,
  gpus: number,
  gpuBytes: number,
  base: Pick<ServerTruth, 'device' | 'downloadBytes'>,
): ServerTruth {
  const tokens = spec.maxSequences * spec.contextLength;
  const kv = tokens * spec.kvBytesPerToken;
  const total = gpus * (gpuBytes - f.cudaContextBytes);
  const truth = (failure?: ServerExit): ServerTruth => ({
    ...base,
    kvCapacityTokens: tokens,
    gpuResidentBytes: gpus * f.cudaContextBytes + f.gpuBufferBytes,
    gpuPeakBytes: 0,
    ...(failure ? { exit: failure } : {}),
  });
  // Ollama schedules the layers that fit and runs the rest on the CPU rather than failing.
  if (f.runtime === 'ollama') return truth();
  const fail = (what: string, bytes: number, fraction: number): ServerTruth =>
    truth(
      exit(
        fraction < 1 ? 'Loading' : 'Warmup',
        `ggml_backend_cuda_buffer_type_alloc_buffer: allocating ${mib(bytes)} MiB on device 0: cudaMalloc failed: out of memory; ${what}; main: exiting due to model loading error`,
        fraction,
      ),
    );
  if (spec.weightsBytes > total)
    return fail(
      'llama_model_load: error loading model: unable to allocate CUDA0 buffer',
      spec.weightsBytes,
      total / spec.weightsBytes,
    );
  if (spec.weightsBytes + kv > total)
    return fail(
      'llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache',
      kv,
      1,
    );
  if (spec.weightsBytes + kv + f.gpuBufferBytes > total)
    return fail(
      'llama_init_from_model: failed to initialize the context: failed to allocate compute buffers',
      f.gpuBufferBytes,
      1,
    );
  return truth();
}
