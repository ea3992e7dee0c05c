// GPU fit: the cheapest GPU type and count per replica that holds the estimate (weights, KV cache
// at the requested context and concurrency, runtime overhead) within the runtime's budget; when
// nothing does, how large a context or model would.
import type { Estimate, GpuShape } from '../llm/estimate.ts';
import type { QuantMethod } from '../llm/types.ts';
import { formatBytes } from '../llm/types.ts';
import type { GpuModel } from './catalogue.ts';
import { GPU_CATALOGUE, findGpu } from './catalogue.ts';

export interface FitRequest {
  /** Only consider this GPU (catalogue id or product label). */
  gpu?: string;
  /** GPUs per replica at most; default 8 (one node). */
  maxGpus?: number;
  /** Consider MIG slices; default true. */
  allowMig?: boolean;
  /** vLLM's gpu_memory_utilization; default the estimate's budget fraction. */
  gpuMemoryUtilization?: number;
}

export type FitOutcome = 'Fits' | 'NoFit';

/** Why an option does or does not fit. */
export type OptionStatus = 'Fits' | 'NotEnoughMemory' | 'UnsupportedWeights';

export interface FitOption {
  gpu: GpuModel;
  count: number;
  /** Tensor-parallel size (vLLM/TGI); for llama.cpp the layer split across `count` GPUs. */
  tensorParallel: number;
  /** USD per hour for all `count` GPUs. */
  hourlyPrice: number;
  fits: boolean;
  status: OptionStatus;
  /** What the model needs per GPU. */
  neededPerGpuBytes: number;
  /** What the runtime may plan into per GPU. */
  budgetPerGpuBytes: number;
  /** What the runtime actually takes per GPU (vLLM takes its whole budget up front). */
  reservedPerGpuBytes: number;
  /** KV-cache tokens the budget holds after weights and overhead (per replica). */
  kvCapacityTokens: number;
  why: string;
}

export interface LargestFit {
  gpu: string;
  count: number;
  /** Longest context that fits at the requested concurrency (0 when even the weights do not). */
  maxContextTokens: number;
  /** Most full-length sequences at the requested context. */
  maxConcurrency: number;
  /** Largest weights (bytes) that fit with the requested KV cache. */
  maxWeightBytes: number;
  /** maxWeightBytes at this model's bits per weight. */
  maxParams: number;
  why: string;
}

export interface FitResult {
  outcome: FitOutcome;
  choice?: FitOption;
  reason: string;
  /** Per GPU type the smallest count that fits (or the largest tried), cheapest first. */
  alternatives: FitOption[];
  largest?: LargestFit;
}

/** Kernels each weight format needs: vLLM runs fp8/mxfp4 weights only on Ampere or newer. */
function minComputeCapability(q: QuantMethod | undefined): number {
  switch (q) {
    case 'fp8':
    case 'mxfp4':
      return 8.0;
    case 'gptq':
    case 'awq':
    case 'int4':
    case 'int8':
      return 7.5;
    case 'bitsandbytes-nf4':
    case 'bitsandbytes-int8':
    case 'gguf':
    case undefined:
      return 0;
  }
}

/** Whether the GPU has the kernels the runtime needs for these weights. */
export function supportsWeights(e: Estimate, gpu: GpuModel): boolean {
  const minCc = e.runtime === 'vllm' || e.runtime === 'tgi' ? minComputeCapability(e.model.quantMethod) : 0;
  return gpu.computeCapability >= minCc;
}

function budgetFraction(e: Estimate, req: FitRequest): number {
  if (e.runtime === 'vllm' && req.gpuMemoryUtilization !== undefined) return req.gpuMemoryUtilization;
  return e.gpu.budgetFraction;
}

function option(e: Estimate, shape: GpuShape, gpu: GpuModel, fraction: number): FitOption {
  const budget = fraction * gpu.usableBytes;
  const ccOk = supportsWeights(e, gpu);
  const status: OptionStatus = !ccOk
    ? 'UnsupportedWeights'
    : shape.perGpuBytes <= budget
      ? 'Fits'
      : 'NotEnoughMemory';
  const fits = status === 'Fits';
  const reserved = e.gpu.rule === 'FractionOfGpu' ? budget : shape.perGpuBytes;
  const kvRoom = Math.max(0, budget - shape.weightsBytes - shape.overheadBytes);
  const kvCapacityTokens =
    shape.kvBytesPerTokenPerGpu > 0 ? Math.floor(kvRoom / shape.kvBytesPerTokenPerGpu) : 0;
  const label = `${shape.gpus} x ${gpu.id}`;
  let why: string;
  if (!ccOk) {
    why = `${label}: ${e.model.quantization} weights need compute capability ${minComputeCapability(e.model.quantMethod)}+, ${gpu.id} has ${gpu.computeCapability}`;
  } else if (fits) {
    why = `${label}: needs ${formatBytes(shape.perGpuBytes)} of ${formatBytes(budget)} per GPU; KV room for ${kvCapacityTokens} tokens`;
  } else {
    why = `${label}: needs ${formatBytes(shape.perGpuBytes)} per GPU, ${formatBytes(budget)} available (${Math.round(fraction * 100)}% of ${formatBytes(gpu.usableBytes)})`;
  }
  return {
    gpu,
    count: shape.gpus,
    tensorParallel: shape.gpus,
    hourlyPrice: Math.round(gpu.hourlyPrice * shape.gpus * 1000) / 1000,
    fits,
    status,
    neededPerGpuBytes: shape.perGpuBytes,
    budgetPerGpuBytes: budget,
    reservedPerGpuBytes: reserved,
    kvCapacityTokens,
    why,
  };
}

function candidates(req: FitRequest, catalogue: readonly GpuModel[]): GpuModel[] {
  if (req.gpu !== undefined) {
    const g = findGpu(req.gpu, catalogue);
    return g === undefined ? [] : [g];
  }
  return catalogue.filter((g) => req.allowMig !== false || g.mig === undefined);
}

const cheaper = (a: FitOption, b: FitOption): number =>
  a.hourlyPrice - b.hourlyPrice || a.count - b.count || b.budgetPerGpuBytes - a.budgetPerGpuBytes;

export function fit(
  e: Estimate,
  req: FitRequest = {},
  catalogue: readonly GpuModel[] = GPU_CATALOGUE,
): FitResult {
  if (e.device === 'cpu' || e.gpu.shapes.length === 0) {
    return { outcome: 'Fits', reason: 'runs on CPU: no GPU needed', alternatives: [] };
  }
  const gpus = candidates(req, catalogue);
  if (gpus.length === 0) {
    return {
      outcome: 'NoFit',
      reason: `GPU "${req.gpu ?? ''}" is not in the catalogue; known: ${catalogue.map((g) => g.id).join(', ')}`,
      alternatives: [],
    };
  }
  const fraction = budgetFraction(e, req);
  const maxGpus = req.maxGpus ?? 8;
  const perType: FitOption[] = [];
  for (const gpu of gpus) {
    const shapes = e.gpu.shapes.filter((s) => s.gpus <= Math.min(maxGpus, gpu.mig ? 1 : gpu.maxPerNode));
    const options = shapes.map((s) => option(e, s, gpu, fraction));
    const fitting = options.filter((o) => o.fits).sort(cheaper)[0];
    const fallback = options[options.length - 1];
    const pick = fitting ?? fallback;
    if (pick !== undefined) perType.push(pick);
  }
  const alternatives = [...perType].sort((a, b) => Number(b.fits) - Number(a.fits) || cheaper(a, b));
  const choice = alternatives.find((o) => o.fits);
  if (choice !== undefined) {
    const runnerUp = alternatives.find((o) => o.fits && o !== choice);
    const vs = runnerUp
      ? `; next cheapest ${runnerUp.count} x ${runnerUp.gpu.id} at $${runnerUp.hourlyPrice}/h`
      : '';
    return {
      outcome: 'Fits',
      choice,
      reason: `cheapest fit: ${choice.count} x ${choice.gpu.id} at $${choice.hourlyPrice}/h (${choice.why})${vs}`,
      alternatives,
    };
  }
  const largest = largestFit(e, alternatives, fraction);
  return {
    outcome: 'NoFit',
    reason:
      `no GPU option fits ${e.contextTokens} tokens x ${e.concurrency} sequences of this model within ${maxGpus} GPUs per replica` +
      (largest ? `; ${largest.why}` : ''),
    alternatives,
    largest,
  };
}

/** On the roomiest option: how much context, concurrency or model would fit. */
function largestFit(e: Estimate, options: FitOption[], fraction: number): LargestFit | undefined {
  const roomiest = [...options]
    .filter((o) => o.status !== 'UnsupportedWeights')
    .sort((a, b) => b.budgetPerGpuBytes * b.count - a.budgetPerGpuBytes * a.count)[0];
  if (roomiest === undefined) return undefined;
  const shape = e.gpu.shapes.find((s) => s.gpus === roomiest.count);
  if (shape === undefined) return undefined;
  const budget = fraction * roomiest.gpu.usableBytes;
  const kvRoom = budget - shape.weightsBytes - shape.overheadBytes;
  const perSeqToken = shape.kvBytesPerTokenPerGpu;
  const maxContext =
    kvRoom > 0 && perSeqToken > 0
      ? Math.min(e.model.maxContext, Math.floor(kvRoom / (perSeqToken * e.concurrency)))
      : 0;
  const maxConcurrency =
    kvRoom > 0 && perSeqToken > 0 ? Math.floor(kvRoom / (perSeqToken * e.contextTokens)) : 0;
  const maxWeightBytes = Math.max(0, (budget - shape.kvCacheBytes - shape.overheadBytes) * shape.gpus);
  const maxParams = Math.floor((maxWeightBytes * 8) / e.model.bitsPerWeight);
  const where = `${roomiest.count} x ${roomiest.gpu.id}`;
  const why =
    maxContext > 0
      ? `on ${where} the weights fit and the longest context at concurrency ${e.concurrency} is ${maxContext} tokens` +
        ` (or ${maxConcurrency} sequences of ${e.contextTokens}); lower the context or concurrency, or quantize the KV cache`
      : `on ${where} even the weights do not fit: the largest model at ${e.model.bitsPerWeight.toFixed(1)} bits per weight with this KV cache is about ${(maxParams / 1e9).toFixed(1)}B parameters; use a quantized checkpoint or a smaller model`;
  return {
    gpu: roomiest.gpu.id,
    count: roomiest.count,
    maxContextTokens: maxContext,
    maxConcurrency,
    maxWeightBytes,
    maxParams,
    why,
  };
}
