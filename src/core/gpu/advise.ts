// Advice from live serving metrics: a smaller GPU or MIG slice when the KV cache sits mostly empty,
// a different gpu_memory_utilization, or more sequences per replica when requests queue.
import type { Estimate, GpuShape } from '../llm/estimate.ts';
import { formatBytes } from '../llm/types.ts';
import type { GpuModel } from './catalogue.ts';
import { GPU_CATALOGUE, findGpu } from './catalogue.ts';
import { supportsWeights } from './fit.ts';

export interface LiveMetrics {
  /**
   * p95 of the KV-cache usage fraction, 0..1, by the runtime's own series (../llm/runtime-metrics.ts);
   * undefined when the runtime exports none (llama-server).
   */
  kvCacheUsageP95?: number;
  /** p95 of requests waiting for a slot (vLLM num_requests_waiting, llama.cpp requests_deferred, TGI tgi_queue_size). */
  requestsWaitingP95: number;
  /** Peak framebuffer memory used per GPU (DCGM_FI_DEV_FB_USED), when known. */
  gpuMemoryUsedBytes?: number;
}

export interface CurrentDeployment {
  /** Catalogue id of the GPU (or slice) the replica runs on. */
  gpu: string;
  gpus: number;
  gpuMemoryUtilization?: number;
  /** vLLM --max-num-seqs / llama.cpp -np. */
  maxNumSeqs?: number;
}

export type AdviceKind =
  | 'SmallerGpu'
  | 'MigSlice'
  | 'LowerGpuMemoryUtilization'
  | 'RaiseGpuMemoryUtilization'
  | 'MoreSequencesPerReplica'
  | 'MoreReplicas'
  | 'EstimateBelowUsage';

export interface Advice {
  kind: AdviceKind;
  message: string;
  gpu?: string;
  gpus?: number;
  gpuMemoryUtilization?: number;
  maxNumSeqs?: number;
  /** USD per hour saved per replica (negative: extra cost). */
  hourlySaving?: number;
}

/** KV headroom kept above the observed p95 when shrinking. */
const HEADROOM = 1.25;
const IDLE_KV = 0.5;
const FULL_KV = 0.9;
const MAX_UTIL = 0.95;

export function advise(
  e: Estimate,
  live: LiveMetrics,
  current: CurrentDeployment,
  catalogue: readonly GpuModel[] = GPU_CATALOGUE,
): Advice[] {
  const gpu = findGpu(current.gpu, catalogue);
  const shape = e.gpu.shapes.find((s) => s.gpus === current.gpus);
  if (gpu === undefined || shape === undefined) return [];
  const fraction = current.gpuMemoryUtilization ?? e.gpu.budgetFraction;
  const budget = fraction * gpu.usableBytes;
  // What the KV cache can hold now: vLLM fills its budget; llama.cpp holds what -c allocated.
  const kvCapacity =
    e.gpu.rule === 'FractionOfGpu'
      ? Math.max(0, budget - shape.weightsBytes - shape.overheadBytes)
      : shape.kvCacheBytes;
  const kvP95 = live.kvCacheUsageP95;
  const oneSequence = (e.kvCache.bytesPerSequence * shape.kvCacheBytes) / Math.max(1, e.kvCache.totalBytes);
  const kvNeeded = Math.max((kvP95 ?? 1) * kvCapacity * HEADROOM, oneSequence);
  const neededPerGpu =
    e.gpu.rule === 'FractionOfGpu' ? shape.weightsBytes + shape.overheadBytes + kvNeeded : shape.perGpuBytes;
  const price = gpu.hourlyPrice * current.gpus;
  const advice: Advice[] = [];

  if (live.gpuMemoryUsedBytes !== undefined) {
    const planned = e.gpu.rule === 'FractionOfGpu' ? budget : shape.perGpuBytes;
    if (live.gpuMemoryUsedBytes > planned * 1.05 + 0.5 * 1024 ** 3) {
      advice.push({
        kind: 'EstimateBelowUsage',
        message: `GPU memory in use (${formatBytes(live.gpuMemoryUsedBytes)}) exceeds the planned ${formatBytes(planned)}: leave more headroom before shrinking`,
      });
    }
  }

  // Without the KV cache's fill there is no telling memory from sequences as the bottleneck, nor
  // how much of the GPU sits idle: only the memory check above holds.
  if (kvP95 === undefined) return advice;
  const queued = live.requestsWaitingP95 >= 1;
  if (queued && kvP95 < FULL_KV) {
    // Requests wait while KV cache is free: the sequence limit, not memory, is the bottleneck.
    const factor = Math.min(4, FULL_KV / Math.max(kvP95, 0.05));
    const seqs =
      current.maxNumSeqs !== undefined
        ? Math.max(current.maxNumSeqs + 1, Math.floor(current.maxNumSeqs * factor))
        : undefined;
    advice.push({
      kind: 'MoreSequencesPerReplica',
      message:
        `requests queue (p95 ${live.requestsWaitingP95}) while the KV cache is ${pct(kvP95)} full: raise the concurrent sequences` +
        (seqs !== undefined ? ` from ${current.maxNumSeqs} to ${seqs}` : ''),
      ...(seqs !== undefined ? { maxNumSeqs: seqs } : {}),
    });
    return advice;
  }
  if (queued) {
    if (e.gpu.rule === 'FractionOfGpu' && fraction < MAX_UTIL - 0.01) {
      advice.push({
        kind: 'RaiseGpuMemoryUtilization',
        message: `requests queue with the KV cache ${pct(kvP95)} full: raise gpu_memory_utilization from ${fraction} to ${MAX_UTIL} for ${formatBytes((MAX_UTIL - fraction) * gpu.usableBytes)} more KV cache per GPU`,
        gpuMemoryUtilization: MAX_UTIL,
      });
    } else {
      advice.push({
        kind: 'MoreReplicas',
        message: `requests queue with the KV cache ${pct(kvP95)} full and no memory left to give it: add a replica`,
        hourlySaving: -price,
      });
    }
    return advice;
  }

  if (kvP95 >= IDLE_KV) return advice;
  const smaller = cheapestHolding(e, shape, neededPerGpu, fraction, catalogue, price);
  if (smaller !== undefined) {
    const { option, count } = smaller;
    const saving = Math.round((price - option.hourlyPrice * count) * 1000) / 1000;
    advice.push({
      kind: option.mig !== undefined ? 'MigSlice' : 'SmallerGpu',
      message:
        `KV cache p95 is ${pct(kvP95)} of ${formatBytes(kvCapacity)}: ${count} x ${option.id} holds the weights, overhead and ` +
        `${formatBytes(kvNeeded)} of KV cache (p95 + 25%) for $${saving}/h less per replica`,
      gpu: option.id,
      gpus: count,
      hourlySaving: saving,
    });
    return advice;
  }
  if (e.gpu.rule === 'FractionOfGpu') {
    const util = Math.ceil((neededPerGpu / gpu.usableBytes) * 100) / 100;
    if (util < fraction - 0.05) {
      advice.push({
        kind: 'LowerGpuMemoryUtilization',
        message: `KV cache p95 is ${pct(kvP95)}: gpu_memory_utilization ${util} instead of ${fraction} frees ${formatBytes((fraction - util) * gpu.usableBytes)} per GPU for other work`,
        gpuMemoryUtilization: util,
      });
    }
  }
  return advice;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The cheapest GPU type and count, cheaper than now, whose budget holds `neededPerGpu` at the same split. */
function cheapestHolding(
  e: Estimate,
  shape: GpuShape,
  neededPerGpu: number,
  fraction: number,
  catalogue: readonly GpuModel[],
  currentPrice: number,
): { option: GpuModel; count: number } | undefined {
  const count = shape.gpus;
  return catalogue
    .filter((g) => (g.mig === undefined ? g.maxPerNode >= count : count === 1))
    .filter((g) => supportsWeights(e, g) && fraction * g.usableBytes >= neededPerGpu)
    .filter((g) => g.hourlyPrice * count < currentPrice - 1e-9)
    .sort((a, b) => a.hourlyPrice - b.hourlyPrice)
    .map((g) => ({ option: g, count }))[0];
}
