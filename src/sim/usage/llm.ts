// The llm profile: a vLLM-like server that first loads its weights (CPU-heavy, host memory rising
// to the weights plus page cache, GPU memory rising to the weights), then serves a request trace.
// With loadBytesPerSecondPerCore set, more CPU loads faster, up to the disk or network bound.
// A runtime's start-up rules (src/sim/runtimes/startup.ts) may say it dies instead: then the
// process exits with the runtime's own error once it reaches the failing step.
import type { ProcessExit, ProfileContext, UsageProfile, UsageSample } from './types.ts';
import type { LlmSpec } from './params.ts';
import type { TraceLibrary } from './traces.ts';
import { hash2, hashString, smoothNoise } from './prng.ts';
import { servedTrace, type ServedTrace } from './server.ts';

/** How a server start fails: at which step, and what it prints last. */
export interface ServerExit {
  /** Starting: argument and config checks; Loading: part-way through the weights; Warmup: profiling. */
  phase: 'Starting' | 'Loading' | 'Warmup';
  reason: 'Error';
  exitCode: number;
  message: string;
  /** Share of the weights read when a Loading failure happens. */
  loadedFraction: number;
}

/** What the runtime's rules decided for this server (src/sim/runtimes/startup.ts). */
export interface ServerTruth {
  device: 'gpu' | 'cpu';
  kvCapacityTokens: number;
  /** GPU memory (all GPUs) held beside weights and KV: CUDA contexts, buffers, CUDA graphs. */
  gpuResidentBytes: number;
  /** The profiling pass's peak (all GPUs), during warm-up only. */
  gpuPeakBytes: number;
  /** Bytes of the model's files (what a download writes). */
  downloadBytes: number;
  exit?: ServerExit;
}

/**
 * Seconds to read the weights and to warm up at `cores` cores: reading is bound by the disk, or by
 * the CPU when each core decodes so many bytes per second; warm-up stretches below loadCpuCores.
 */
export function loadTiming(spec: LlmSpec, bytes: number, cores: number): { read: number; total: number } {
  const c = Math.max(0.001, cores);
  const perCore = spec.loadBytesPerSecondPerCore;
  const rate = perCore > 0 ? Math.min(spec.loadBytesPerSecond, perCore * c) : spec.loadBytesPerSecond;
  const read = bytes / rate;
  const warmup = perCore > 0 ? spec.warmupSeconds * Math.max(1, spec.loadCpuCores / c) : spec.warmupSeconds;
  return { read, total: read + warmup };
}

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

/**
 * The profile of one server process. Without `truth` (an llm profile declared by a scenario, not
 * told by a runtime's reference) the server is vLLM-like and dies of a CUDA OOM when its weights
 * exceed the GPU memory it may use.
 */
export function llmProfile(
  spec: LlmSpec,
  ctx: ProfileContext,
  traces: TraceLibrary,
  truth?: ServerTruth,
): LlmProfile {
  const seed = hashString(ctx.seed);
  const cpuSeed = hash2(seed, 0x11);
  const onGpu = truth ? truth.device === 'gpu' : ctx.gpus > 0 && ctx.gpuMemoryBytesPerGpu > 0;
  const usable = ctx.gpus * ctx.gpuMemoryBytesPerGpu * spec.gpuMemoryUtilization;
  const fitsGpu = truth ? truth.exit === undefined : !onGpu || usable > spec.weightsBytes;
  // Without a GPU the KV cache lives in host memory and only the batch limits bound it. With a GPU,
  // a server whose weights leave no room still gets one sequence's worth, so the series stay finite.
  const kvCapacityTokens =
    truth?.kvCapacityTokens ??
    (onGpu
      ? Math.max(spec.contextLength, Math.floor((usable - spec.weightsBytes) / spec.kvBytesPerToken))
      : spec.maxSequences * spec.contextLength);
  const failure: ServerExit | undefined =
    truth?.exit ??
    (fitsGpu
      ? undefined
      : {
          phase: 'Loading',
          reason: 'Error',
          exitCode: 1,
          message: `torch.OutOfMemoryError: CUDA out of memory (weights of ${(spec.weightsBytes / 2 ** 30).toFixed(2)} GiB on ${ctx.gpus} GPU(s) of ${(ctx.gpuMemoryBytesPerGpu / 2 ** 30).toFixed(2)} GiB at gpu_memory_utilization ${spec.gpuMemoryUtilization})`,
          loadedFraction: Math.min(1, usable / spec.weightsBytes),
        });
  const gpuResident = truth?.gpuResidentBytes ?? 0;
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
  const timing = loadTiming(
    spec,
    spec.weightsBytes,
    // No request (BestEffort) is no guarantee either way: play it at the cores loading wants.
    ctx.cpuCores !== undefined && ctx.cpuCores > 0 ? ctx.cpuCores : spec.loadCpuCores,
  );
  const loadSeconds = timing.read;
  const readyAfter = timing.total;
  // When the process dies: a few seconds in for a bad argument, part-way through the weights, or
  // at the end of warm-up (profiling), before it ever answers its health path.
  const crash: ProcessExit | undefined = failure && {
    afterSeconds:
      failure.phase === 'Starting'
        ? Math.min(5, loadSeconds)
        : failure.phase === 'Loading'
          ? loadSeconds * Math.max(0, Math.min(1, failure.loadedFraction))
          : readyAfter,
    reason: failure.reason,
    exitCode: failure.exitCode,
    message: failure.message,
  };
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
        gpuMemoryBytes: onGpu ? gpuResident + p * spec.weightsBytes : 0,
        gpuUtilPercent: onGpu ? 5 : 0,
        llm: { ...idle },
      };
    }
    if (since < readyAfter) {
      // Warm-up: graph capture and a profiling pass; the staging copies of the weights are freed.
      return {
        cpuCores: ((spec.loadCpuCores + spec.servingCpuCores) / 2) * jitter,
        memoryBytes:
          spec.runtimeMemoryBytes +
          pageCache +
          (onGpu ? 0 : spec.weightsBytes + (spec.preallocateKvCache ? kvCapacityBytes : 0)),
        gpuMemoryBytes: onGpu
          ? gpuResident + spec.weightsBytes + (spec.preallocateKvCache ? kvCapacityBytes : 0)
          : 0,
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
      memoryBytes:
        spec.runtimeMemoryBytes +
        pageCache +
        (onGpu ? 0 : spec.weightsBytes + (spec.preallocateKvCache ? kvCapacityBytes : kvBytes)),
      gpuMemoryBytes: onGpu
        ? gpuResident + spec.weightsBytes + (spec.preallocateKvCache ? kvCapacityBytes : kvBytes)
        : 0,
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

  const cacheBytes = truth?.downloadBytes || spec.weightsBytes;
  return {
    kind: 'llm',
    // A server that dies never answers its health path.
    startupSeconds: crash ? Number.POSITIVE_INFINITY : Math.ceil(readyAfter),
    loadSeconds,
    kvCapacityTokens,
    fitsGpu,
    modelCacheBytes: spec.modelCacheOnVolume ? cacheBytes : 0,
    ...(crash ? { exit: crash } : {}),
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
        cacheBytes,
        Math.max(0, t - (ctx.podStartedAt ?? ctx.startedAt)) * (cacheBytes / Math.max(1e-9, loadSeconds)),
      );
    },
  };
}
