// The llm profile: a vLLM-like server that first loads its weights (CPU-heavy, host memory rising
// to the weights plus page cache, GPU memory rising to the weights), then serves a request trace.
// With loadBytesPerSecondPerCore set, more CPU loads faster, up to the disk or network bound.
import type { ProfileContext, UsageProfile, UsageSample } from './types.ts';
import type { LlmSpec } from './params.ts';
import type { TraceLibrary } from './traces.ts';
import { hash2, hashString, smoothNoise } from './prng.ts';
import { servedTrace, type ServedTrace } from './server.ts';
import { loadSeconds as loadTiming } from '../../core/boost/schedule.ts';

export interface LlmProfile extends UsageProfile {
  readonly kind: 'llm';
  /** Seconds the weights take to load; warm-up follows. */
  readonly loadSeconds: number;
  readonly kvCapacityTokens: number;
  /** False when the weights alone exceed the GPU memory the server may use: a real server would not start. */
  readonly fitsGpu: boolean;
  /** Bytes of model files the server keeps on its volume (modelCacheOnVolume), else 0. */
  readonly modelCacheBytes: number;
  /** The serving side, for the runtimes' own counters and histograms (../metrics/exporters/runtimes). */
  readonly serving: Serving;
}

/** The served trace this process plays, where it is in the loop, and when it started serving. */
export interface Serving {
  readonly trace: ServedTrace;
  /** Loop phase = simulated time + phaseOffset (replicas sit at different points of the trace). */
  readonly phaseOffset: number;
  /** Simulated time from which the server answers requests (after loading and warm-up). */
  readonly since: number;
  readonly kvCapacityTokens: number;
  readonly contextLength: number;
  readonly maxSequences: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeTokensPerSecond: number;
}

export function llmProfile(spec: LlmSpec, ctx: ProfileContext, traces: TraceLibrary): LlmProfile {
  const seed = hashString(ctx.seed);
  const cpuSeed = hash2(seed, 0x11);
  const onGpu = ctx.gpus > 0 && ctx.gpuMemoryBytesPerGpu > 0;
  const usable = ctx.gpus * ctx.gpuMemoryBytesPerGpu * spec.gpuMemoryUtilization;
  const fitsGpu = !onGpu || usable > spec.weightsBytes;
  // Without a GPU the KV cache lives in host memory and only the batch limits bound it. With a GPU,
  // a server whose weights leave no room still gets one sequence's worth, so the series stay finite
  // and the over-commit shows as GPU memory above the device's.
  const kvCapacityTokens = onGpu
    ? Math.max(spec.contextLength, Math.floor((usable - spec.weightsBytes) / spec.kvBytesPerToken))
    : spec.maxSequences * spec.contextLength;
  const kvCapacityBytes = kvCapacityTokens * spec.kvBytesPerToken;
  const served = servedTrace(traces, {
    trace: spec.trace,
    rateMultiplier: spec.rateMultiplier,
    maxSequences: spec.maxSequences,
    contextLength: spec.contextLength,
    decodeTokensPerSecond: spec.decodeTokensPerSecond,
    prefillTokensPerSecond: spec.prefillTokensPerSecond,
    kvCapacityTokens,
  });
  const L = served.loopSeconds;
  // Replicas of one deployment sit at different points of the trace, as if load-balanced.
  const offset = hash2(seed, 0x22) % L;
  const timing = loadTiming({
    weightsBytes: spec.weightsBytes,
    // No request (BestEffort) is no guarantee either way: play it at the cores loading wants.
    cores: ctx.cpuCores !== undefined && ctx.cpuCores > 0 ? ctx.cpuCores : spec.loadCpuCores,
    boundBytesPerSecond: spec.loadBytesPerSecond,
    bytesPerSecondPerCore: spec.loadBytesPerSecondPerCore,
    warmupSeconds: spec.warmupSeconds,
    warmupCores: spec.loadCpuCores,
  });
  const loadSeconds = timing.read;
  const readyAfter = timing.total;
  const pageCache = spec.weightsBytes * spec.pageCacheFraction;
  const idle = { requestsRunning: 0, requestsWaiting: 0, kvCacheUsage: 0, tokensPerSecond: 0 };

  function sample(t: number): UsageSample {
    const since = Math.max(0, t - ctx.startedAt);
    const jitter = 1 + 0.05 * smoothNoise(cpuSeed, t, 30);
    if (since < loadSeconds) {
      const p = since / loadSeconds;
      return {
        cpuCores: spec.loadCpuCores * jitter,
        memoryBytes: spec.runtimeMemoryBytes + p * (spec.weightsBytes + pageCache),
        gpuMemoryBytes: onGpu ? p * spec.weightsBytes : 0,
        gpuUtilPercent: onGpu ? 5 : 0,
        llm: { ...idle },
      };
    }
    if (since < readyAfter) {
      // Warm-up: graph capture and a profiling pass; the staging copies of the weights are freed.
      return {
        cpuCores: ((spec.loadCpuCores + spec.servingCpuCores) / 2) * jitter,
        memoryBytes: spec.runtimeMemoryBytes + pageCache + (onGpu ? 0 : spec.weightsBytes),
        gpuMemoryBytes: onGpu ? spec.weightsBytes + (spec.preallocateKvCache ? kvCapacityBytes : 0) : 0,
        gpuUtilPercent: onGpu ? 30 : 0,
        llm: { ...idle },
      };
    }
    const i = (Math.floor(t) + offset) % L;
    const j = i < 0 ? i + L : i;
    const running = served.running[j]!;
    const kvTokens = served.kvTokens[j]!;
    const tps = served.promptTokensPerSecond[j]! + served.generatedTokensPerSecond[j]!;
    const kvBytes = kvTokens * spec.kvBytesPerToken;
    return {
      cpuCores: (spec.servingCpuCores + (spec.cpuCoresPer1kTokens * tps) / 1000) * jitter,
      memoryBytes: spec.runtimeMemoryBytes + pageCache + (onGpu ? 0 : spec.weightsBytes + kvBytes),
      gpuMemoryBytes: onGpu ? spec.weightsBytes + (spec.preallocateKvCache ? kvCapacityBytes : kvBytes) : 0,
      // Decode kernels run back to back while any sequence is in flight, so the duty cycle is
      // close to the share of the second with work, plus a little for larger batches.
      gpuUtilPercent: onGpu
        ? Math.min(100, 90 * Math.min(1, running) + (10 * running) / spec.maxSequences)
        : 0,
      llm: {
        requestsRunning: Math.round(running),
        requestsWaiting: Math.round(served.waiting[j]!),
        kvCacheUsage: Math.min(1, kvTokens / kvCapacityTokens),
        tokensPerSecond: tps,
      },
    };
  }

  return {
    kind: 'llm',
    startupSeconds: Math.ceil(readyAfter),
    loadSeconds,
    kvCapacityTokens,
    fitsGpu,
    modelCacheBytes: spec.modelCacheOnVolume ? spec.weightsBytes : 0,
    serving: {
      trace: served,
      phaseOffset: offset,
      since: ctx.startedAt + readyAfter,
      kvCapacityTokens,
      contextLength: spec.contextLength,
      maxSequences: spec.maxSequences,
      prefillTokensPerSecond: spec.prefillTokensPerSecond,
      decodeTokensPerSecond: spec.decodeTokensPerSecond,
    },
    sample,
    volumeBytes(t: number): number {
      if (!spec.modelCacheOnVolume) return 0;
      // The cache is on the volume, so a restarted container finds what was already downloaded.
      return Math.min(
        spec.weightsBytes,
        Math.max(0, t - (ctx.podStartedAt ?? ctx.startedAt)) *
          (spec.weightsBytes / Math.max(1e-9, loadSeconds)),
      );
    },
  };
}
