// The contract between the simulated kubelet and the usage profiles it plays for each container.

/** What one container uses at one instant of simulated time. */
export interface UsageSample {
  /** CPU the container wants, in cores (before throttling by its limit). */
  cpuCores: number;
  /** Working-set memory in bytes (what the OOM killer compares with the limit). */
  memoryBytes: number;
  /** GPU framebuffer in use, bytes (0 without a GPU). */
  gpuMemoryBytes: number;
  /** GPU duty cycle, 0..100. */
  gpuUtilPercent: number;
  /** Serving figures of an LLM server, as vLLM exports them; undefined for other profiles. */
  llm?: { requestsRunning: number; requestsWaiting: number; kvCacheUsage: number; tokensPerSecond: number };
}

export type ProfileKind = 'llm' | 'web' | 'batch' | 'idle' | 'replay';

/** Everything a profile may depend on; time and randomness come in, never from the clock. */
export interface ProfileContext {
  /** Stable per container (pod uid + container name): same seed, same series. */
  seed: string;
  /** Simulated seconds (epoch) at which the container (re)started: loading starts again after an OOM kill. */
  startedAt: number;
  /** When the pod started: volumes keep what was written across container restarts. Default startedAt. */
  podStartedAt?: number;
  /** GPUs the container was given (nvidia.com/gpu), and the memory of one. */
  gpus: number;
  gpuMemoryBytesPerGpu: number;
  /** CPU the container is guaranteed at start (its request): an LLM loads faster with more. */
  cpuCores?: number;
}

export interface UsageProfile {
  readonly kind: ProfileKind;
  /** Seconds from container start until it reports Ready (an LLM loads its weights first). */
  readonly startupSeconds: number;
  /** The process exits by itself this long after it started (a server that cannot start), if ever. */
  readonly exit?: ProcessExit;
  /** Usage at simulated time t (epoch seconds, t >= startedAt). Pure in t. */
  sample(t: number): UsageSample;
  /** Bytes the pod writes to its volumes by time t (a model cache fills as weights download). */
  volumeBytes(t: number): number;
}

/** How a container's process ends by itself: what the kubelet records as its terminated state. */
export interface ProcessExit {
  afterSeconds: number;
  reason: 'Error';
  exitCode: number;
  /** The last line it printed (terminationMessagePolicy FallbackToLogsOnError shows it). */
  message: string;
}
