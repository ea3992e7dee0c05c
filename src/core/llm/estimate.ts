// The LLM estimator: model architecture + serving request -> GPU memory per GPU (for each valid
// tensor-parallel size), host memory and CPU at load and steady state, disk, and load time, each
// with a short breakdown a user can check.
import { describeKv, kvBytesForSequence, kvBytesPerToken, kvLayout, kvSharePerRank } from './kv-cache.ts';
import type { KvCacheDtype } from './kv-cache.ts';
import { countParameters, fmtParams, weightBytes } from './params.ts';
import type { GgufFileType } from './quant.ts';
import { ggufQuantization } from './quant.ts';
import type { Device, Part, ReservationRule, Runtime, RuntimeKnobs, WeightFormat } from './runtime.ts';
import {
  budgetFraction,
  checkDevice,
  checkFormat,
  cores,
  defaultKnobs,
  gpuOverhead,
  hostMemory,
  initSeconds,
  parallelism,
  reservationRule,
  slidingWindowAware,
  validGpuCounts,
} from './runtime.ts';
import type { ModelArchitecture, QuantMethod, Result, TensorDtype } from './types.ts';
import { GiB, formatBytes, ok, problem } from './types.ts';

export interface EstimateRequest {
  runtime: Runtime;
  format: WeightFormat;
  /** Longest sequence (prompt + output) to serve; default min(model maximum, 8192). */
  contextTokens?: number;
  /** Sequences served at once, each up to contextTokens long; default 1. */
  concurrency?: number;
  /** Dtype of unquantized weights; `auto` keeps the checkpoint's (float32 is served as bfloat16). */
  dtype?: 'auto' | 'bfloat16' | 'float16';
  kvCacheDtype?: KvCacheDtype;
  /** The GGUF quantization to assume when no GGUF header was read (e.g. "Q4_K_M"). */
  ggufFileType?: GgufFileType;
  /** Fix the number of GPUs per replica; otherwise every valid count is estimated. */
  tensorParallel?: number;
  device?: Device;
  gpuMemoryUtilization?: number;
  knobs?: Partial<RuntimeKnobs>;
  /** Bytes on disk when known (a safetensors index or file listing); otherwise derived. */
  checkpointBytes?: number;
  throughput?: { diskBytesPerSecond?: number; downloadBytesPerSecond?: number };
}

export interface Figure {
  value: number;
  why: string;
}

export interface GpuShape {
  /** GPUs per replica (tensor-parallel size for vLLM/TGI, layer split for llama.cpp). */
  gpus: number;
  parallelism: 'tensor' | 'layer-split';
  /** What the model needs on each GPU: weights + KV cache + runtime overhead. */
  perGpuBytes: number;
  weightsBytes: number;
  kvCacheBytes: number;
  overheadBytes: number;
  /** KV cache one token adds on each GPU, for capacity arithmetic. */
  kvBytesPerTokenPerGpu: number;
  parts: Part[];
  why: string;
}

export interface Estimate {
  model: {
    name?: string;
    architecture: string;
    modelType: string;
    params: number;
    activeParams: number;
    maxContext: number;
    quantization: string;
    /** Set when the linear layers are quantized; GPUs without the kernels for it are ruled out. */
    quantMethod?: QuantMethod;
    bitsPerWeight: number;
  };
  runtime: Runtime;
  format: WeightFormat;
  device: Device;
  contextTokens: number;
  concurrency: number;
  dtype: TensorDtype;
  weights: Figure;
  checkpoint: Figure;
  kvCache: {
    /** Every layer, every token: the figure model cards quote. */
    bytesPerToken: number;
    /** One sequence of contextTokens, sliding windows applied as the runtime does. */
    bytesPerSequence: number;
    /** concurrency x bytesPerSequence. */
    totalBytes: number;
    why: string;
  };
  gpu: {
    rule: ReservationRule;
    /** Share of a GPU's usable memory the runtime may plan into (vLLM's gpu_memory_utilization). */
    budgetFraction: number;
    /** One entry per valid GPU count, smallest first; empty on CPU. */
    shapes: GpuShape[];
    /** The count the headline figures use: the requested one, else 1. */
    gpus: number;
  };
  /** Per GPU, at gpu.gpus GPUs; 0 on CPU. */
  gpuMemoryBytes: Figure;
  cpuMemoryBytes: { load: Figure; steady: Figure };
  cpuCores: { load: Figure; steady: Figure };
  diskBytes: Figure;
  loadSeconds: { warm: Figure; cold: Figure };
  notes: string[];
}

const DEFAULT_CONTEXT = 8192;
const DEFAULT_DISK_BPS = 250e6;
const DEFAULT_DOWNLOAD_BPS = 100e6;

function servingDtype(
  a: ModelArchitecture,
  requested: EstimateRequest['dtype'],
  notes: string[],
): TensorDtype {
  if (requested !== undefined && requested !== 'auto') return requested;
  if (a.dtype === 'float32') {
    notes.push('checkpoint is float32; runtimes serve it as bfloat16 unless told otherwise');
    return 'bfloat16';
  }
  return a.dtype;
}

/** Applies the GGUF quantization to an architecture read from config.json when no header was read. */
function withGgufQuant(a: ModelArchitecture, req: EstimateRequest): ModelArchitecture {
  if (req.format !== 'gguf' || a.source === 'gguf') return a;
  return { ...a, quantization: ggufQuantization(req.ggufFileType ?? 'Q4_K_M'), dtype: 'float16' };
}

export function estimate(model: ModelArchitecture, req: EstimateRequest): Result<Estimate> {
  const fmt = checkFormat(req.runtime, req.format);
  if (fmt.kind === 'problem') return fmt;
  const device = req.device ?? 'gpu';
  const dev = checkDevice(req.runtime, device);
  if (dev.kind === 'problem') return dev;

  const notes: string[] = [];
  const a = withGgufQuant(model, req);
  if (req.format === 'gguf' && model.source !== 'gguf') {
    notes.push(
      `no GGUF header read: weights assume ${req.ggufFileType ?? 'Q4_K_M'} at its nominal bits per weight`,
    );
  }
  const concurrency = req.concurrency ?? 1;
  const context = req.contextTokens ?? Math.min(a.maxContext, DEFAULT_CONTEXT);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    return problem(
      'InvalidRequest',
      `concurrency ${concurrency} is not a positive integer`,
      'set concurrency (concurrent sequences) to 1 or more',
    );
  }
  if (!Number.isInteger(context) || context < 1) {
    return problem(
      'InvalidRequest',
      `context length ${context} is not a positive integer`,
      'set the context length in tokens, e.g. 8192',
    );
  }
  if (context > a.maxContext) {
    return problem(
      'ContextTooLong',
      `context length ${context} is longer than the ${a.maxContext} tokens the model supports (max_position_embeddings)`,
      `set the context length to ${a.maxContext} or less, or use a long-context variant of the model`,
    );
  }
  const util = req.gpuMemoryUtilization;
  if (util !== undefined && !(util > 0 && util <= 1)) {
    return problem(
      'InvalidRequest',
      `gpuMemoryUtilization ${util} is outside (0, 1]`,
      'use a fraction such as 0.9',
    );
  }
  const counts = validGpuCounts(req.runtime, a);
  if (req.tensorParallel !== undefined && device === 'gpu' && !counts.includes(req.tensorParallel)) {
    return problem(
      'InvalidRequest',
      `${req.tensorParallel} GPUs cannot split this model (${a.attentionHeads} attention heads, ${a.kvHeads} KV heads)`,
      `use one of: ${counts.join(', ')}`,
    );
  }

  const knobs: RuntimeKnobs = { ...defaultKnobs(req.runtime), ...req.knobs };
  const dtype = servingDtype(a, req.dtype, notes);
  const params = countParameters(a);
  const w = weightBytes(a, dtype);
  const ckpt = checkpointBytes(a, req, w.bytes);

  const kvDtype = req.kvCacheDtype ?? 'auto';
  const layout = kvLayout(a, kvDtype);
  const aware = slidingWindowAware(req.runtime);
  const perToken = kvBytesPerToken(layout);
  const perSeq = kvBytesForSequence(layout, context, aware);
  const kvTotal = perSeq * concurrency;
  if (a.mla !== undefined)
    notes.push(
      'MLA: the KV cache holds a compressed latent per token, replicated on every tensor-parallel rank',
    );
  if (a.slidingWindow !== undefined && context > a.slidingWindow.window) {
    notes.push(
      aware
        ? `${a.slidingWindow.slidingLayers} sliding-window layers keep only the last ${a.slidingWindow.window} tokens`
        : `${req.runtime} keeps every token in sliding-window layers too, so the cache is sized as if there were no window`,
    );
  }
  if (a.moe !== undefined) {
    notes.push(
      `mixture of experts: all ${a.moe.experts} experts are loaded; ${fmtParams(params.active)} parameters are active per token`,
    );
  }

  const shapes: GpuShape[] = [];
  if (device === 'gpu') {
    const wanted = req.tensorParallel !== undefined ? [req.tensorParallel] : counts;
    for (const n of wanted)
      shapes.push(
        gpuShape(
          req.runtime,
          a,
          knobs,
          n,
          concurrency,
          context,
          w.bytes,
          w.tokenEmbeddingBytes,
          kvTotal,
          layout,
        ),
      );
  }
  const headline = shapes[0];
  const gpus = headline?.gpus ?? 0;

  const cpuCompute =
    device === 'cpu'
      ? (gpuOverhead(req.runtime, a, knobs, 1, concurrency, context * concurrency).parts[0]?.bytes ?? 0)
      : 0;
  const host = hostMemory(req.runtime, device, {
    weightsBytes: w.bytes,
    checkpointBytes: ckpt,
    kvBytes: kvTotal,
    computeBytes: cpuCompute,
    tokenEmbeddingBytes: w.tokenEmbeddingBytes,
    gpus: Math.max(1, gpus),
    vision: (a.visionParams ?? 0) > 0,
  });
  const c = cores(req.runtime, device, Math.max(1, gpus), concurrency);

  const diskBps = req.throughput?.diskBytesPerSecond ?? DEFAULT_DISK_BPS;
  const downloadBps = req.throughput?.downloadBytesPerSecond ?? DEFAULT_DOWNLOAD_BPS;
  const init = initSeconds(req.runtime);
  const readSeconds = ckpt / diskBps;
  const warm = readSeconds + init.seconds;
  const cold = warm + ckpt / downloadBps;
  const disk = Math.ceil((ckpt * 1.05 + 1 * GiB) / GiB) * GiB;

  const est: Estimate = {
    model: {
      architecture: a.architecture,
      modelType: a.modelType,
      params: params.total,
      activeParams: params.active,
      maxContext: a.maxContext,
      quantization: a.quantization?.label ?? dtype,
      bitsPerWeight: w.bitsPerWeight,
    },
    runtime: req.runtime,
    format: req.format,
    device,
    contextTokens: context,
    concurrency,
    dtype,
    weights: { value: w.bytes, why: `${formatBytes(w.bytes)}: ${w.why}` },
    checkpoint: { value: ckpt, why: `${formatBytes(ckpt)} on disk` },
    kvCache: {
      bytesPerToken: perToken,
      bytesPerSequence: perSeq,
      totalBytes: kvTotal,
      why: `${formatBytes(perToken)}/token = ${describeKv(layout, a)}; x ${context} tokens x ${concurrency} sequence${concurrency > 1 ? 's' : ''} = ${formatBytes(kvTotal)}`,
    },
    gpu: {
      rule: reservationRule(req.runtime),
      budgetFraction: budgetFraction(req.runtime, util),
      shapes,
      gpus,
    },
    gpuMemoryBytes: headline
      ? { value: headline.perGpuBytes, why: headline.why }
      : { value: 0, why: `runs on CPU: weights and KV cache live in host memory` },
    cpuMemoryBytes: {
      load: { value: host.load, why: `${formatBytes(host.load)}: ${host.whyLoad}` },
      steady: { value: host.steady, why: `${formatBytes(host.steady)}: ${host.whySteady}` },
    },
    cpuCores: {
      load: { value: c.load, why: c.whyLoad },
      steady: { value: c.steady, why: c.whySteady },
    },
    diskBytes: {
      value: disk,
      why: `${formatBytes(ckpt)} checkpoint + 5% + 1 GiB for tokenizer, configs and compile caches, rounded up`,
    },
    loadSeconds: {
      warm: {
        value: warm,
        why: `${formatBytes(ckpt)} read at ${(diskBps / 1e6).toFixed(0)} MB/s (${readSeconds.toFixed(0)} s) + ${init.seconds} s ${init.why}`,
      },
      cold: {
        value: cold,
        why: `download at ${(downloadBps / 1e6).toFixed(0)} MB/s (${(ckpt / downloadBps).toFixed(0)} s) + warm start (${warm.toFixed(0)} s)`,
      },
    },
    notes,
  };
  if (a.name !== undefined) est.model.name = a.name;
  if (a.quantization !== undefined) est.model.quantMethod = a.quantization.method;
  return ok(est);
}

function checkpointBytes(a: ModelArchitecture, req: EstimateRequest, servingBytes: number): number {
  if (req.checkpointBytes !== undefined) return req.checkpointBytes;
  if (req.format === 'gguf' || a.exact !== undefined) return servingBytes;
  return weightBytes(a, a.dtype).bytes;
}

function gpuShape(
  runtime: Runtime,
  a: ModelArchitecture,
  knobs: RuntimeKnobs,
  n: number,
  concurrency: number,
  context: number,
  weights: number,
  tokenEmbedding: number,
  kvTotal: number,
  layout: ReturnType<typeof kvLayout>,
): GpuShape {
  const mode = parallelism(runtime);
  // llama.cpp keeps the input embedding table in host memory; everything else goes to the GPUs.
  const onGpu = mode === 'layer-split' ? weights - (a.tieWordEmbeddings ? 0 : tokenEmbedding) : weights;
  const weightsPerGpu = onGpu / n;
  const share = mode === 'tensor' ? kvSharePerRank(layout, n) : 1 / n;
  const kvPerGpu = kvTotal * share;
  const perTokenFull = layout.perLayerPerToken * (layout.fullLayers + layout.slidingLayers);
  const overhead = gpuOverhead(runtime, a, knobs, n, concurrency, context * concurrency);
  const parts: Part[] = [
    { label: n > 1 ? `weights / ${n} GPUs` : 'weights', bytes: weightsPerGpu },
    { label: n > 1 ? `KV cache, this GPU's share` : 'KV cache', bytes: kvPerGpu },
    ...overhead.parts,
  ];
  const total = weightsPerGpu + kvPerGpu + overhead.bytes;
  return {
    gpus: n,
    parallelism: mode,
    perGpuBytes: total,
    weightsBytes: weightsPerGpu,
    kvCacheBytes: kvPerGpu,
    overheadBytes: overhead.bytes,
    kvBytesPerTokenPerGpu: perTokenFull * share,
    parts,
    why:
      `${formatBytes(total)} per GPU = ` + parts.map((p) => `${formatBytes(p.bytes)} ${p.label}`).join(' + '),
  };
}

/** Per-GPU bytes of a shape with a different KV cache size: for capacity questions (fit, advice). */
export function perGpuWithKv(shape: GpuShape, kvBytesPerGpu: number): number {
  return shape.weightsBytes + shape.overheadBytes + kvBytesPerGpu;
}
