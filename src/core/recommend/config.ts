// The recommender's knobs, one typed object per resource, with the named defaults Tailor ships.
// Units follow the resource: bytes for memory, cores for CPU.
import type { HistogramOptions } from './histogram.ts';
import { FLEET_SURGE_OFF, type FleetSurgeOptions } from './fleet-surge.ts';

/** What the slow histogram is fed: the peak of each interval (memory: a spike kills) or every sample (CPU). */
export type Aggregation = 'IntervalPeak' | 'Sample';

/** The resources with named defaults. */
export type ResourceKind = 'cpu' | 'memory' | 'gpuMemory';

export interface RecommenderConfig {
  readonly aggregation: Aggregation;
  /** Length of the intervals whose peaks are kept. */
  readonly intervalSeconds: number;
  /** Buckets and decay of the slow histogram. */
  readonly histogram: HistogramOptions;
  /** Percentile (0..1) of the slow histogram the target starts from. */
  readonly percentile: number;
  /** Relative margin on the slow percentile. */
  readonly margin: number;
  /** The recent-peak envelope looks back this far (0 turns it off). */
  readonly recentWindowSeconds: number;
  /** Relative margin on the recent peak: how far above it the target sits. */
  readonly recentMargin: number;
  /** Below the recent peak times (1 + this) the current value is unsafe (the lower bound). */
  readonly safetyMargin: number;
  /** Above target times (1 + this) the current value wastes enough to lower it (the upper bound). */
  readonly wasteTolerance: number;
  /** Extra margin for a short history, fading linearly to nothing over `shortHistorySeconds`. */
  readonly shortHistoryMargin: number;
  readonly shortHistorySeconds: number;
  /**
   * A pod whose slow percentile is more than `burstRatio` times its median interval peak is bursty:
   * its slow estimate gets `burstHeadroom` times more room, because its next burst is not yet seen.
   */
  readonly burstRatio: number;
  readonly burstHeadroom: number;
  /** After an OOM kill the target is at least max(usage x factor, usage + minBump)... */
  readonly oomBumpFactor: number;
  readonly oomMinBump: number;
  /** ...a floor that halves every this long. */
  readonly oomHalfLifeSeconds: number;
  /** When several pods of the fleet rise at once, the others get room before their own kill. */
  readonly fleetSurge: FleetSurgeOptions;
  readonly minAllowed: number;
  readonly maxAllowed: number;
}

const MiB = 2 ** 20;
const HOUR = 3600;
const DAY = 24 * HOUR;
const MINUTE = 60;

/**
 * Memory's fleet signal: 2 pods at a pod's level (peaks within x1.5) rising 25% above their own
 * peaks within 30 minutes, each with an hour of history, hold that pod at its peak times their
 * largest rise (at most x2) +30% for 2 hours. Tuned on the tuning half of the GenTD26 memory series.
 */
export const MEMORY_FLEET_SURGE: FleetSurgeOptions = {
  riseFraction: 0.25,
  minHistorySeconds: HOUR,
  alikeRatio: 1.5,
  minPods: 2,
  windowSeconds: 30 * MINUTE,
  holdSeconds: 2 * HOUR,
  maxHeadroom: 2,
  margin: 0.3,
};

/**
 * Memory: interval peaks, a recent-peak envelope with a small margin, a slow decayed percentile for
 * what recurs, more room for bursty pods and young pods, a strong, slowly fading OOM floor, and room
 * before a surge the pod's alike pods have started. Tuned on the tuning half (split.ts) of the
 * Alibaba GenTD26 memory series (bench/replay.bench.ts); see bench/results/replay.md.
 */
export const MEMORY_DEFAULTS: RecommenderConfig = {
  aggregation: 'IntervalPeak',
  intervalSeconds: 300,
  histogram: { firstEdge: MiB, ratio: 1.01, halfLifeSeconds: DAY },
  percentile: 1,
  margin: 0,
  recentWindowSeconds: HOUR,
  recentMargin: 0.03,
  safetyMargin: 0.02,
  wasteTolerance: 0.1,
  shortHistoryMargin: 0.3,
  shortHistorySeconds: 4 * HOUR,
  burstRatio: 1.3,
  burstHeadroom: 1.3,
  oomBumpFactor: 1.3,
  oomMinBump: 100 * MiB,
  oomHalfLifeSeconds: DAY,
  fleetSurge: MEMORY_FLEET_SURGE,
  minAllowed: 16 * MiB,
  maxAllowed: Number.POSITIVE_INFINITY,
};

/**
 * GPU memory moves in steps as models, adapters and caches load, many of them in a pod's first
 * hours: a short-history margin that lasts longer, 10% over the p98 of the day's interval peaks,
 * raised once usage comes within 5% of the value (steps are small, so waiting for 1% was a kill),
 * no burst rule (every GPU pod here is bursty by that measure) and no fleet signal (the GPU pods
 * here are all alike and step often: it cost more slack than the kills it saved). Tuned on the
 * tuning half of the GenTD26 GPU series.
 */
export const GPU_MEMORY_DEFAULTS: RecommenderConfig = {
  ...MEMORY_DEFAULTS,
  percentile: 0.98,
  margin: 0.1,
  recentWindowSeconds: 3 * HOUR,
  recentMargin: 0.05,
  safetyMargin: 0.05,
  shortHistoryMargin: 0.3,
  shortHistorySeconds: 8 * HOUR,
  burstRatio: Number.POSITIVE_INFINITY,
  burstHeadroom: 1,
  oomBumpFactor: 1.2,
  fleetSurge: FLEET_SURGE_OFF,
};

/**
 * CPU: the VPA's recipe (p90 of all samples, 24 h half-life, +15%) for a request, which throttles
 * rather than kills, so no envelope and no OOM floor.
 */
export const CPU_DEFAULTS: RecommenderConfig = {
  aggregation: 'Sample',
  intervalSeconds: 60,
  histogram: { firstEdge: 0.001, ratio: 1.05, halfLifeSeconds: DAY },
  percentile: 0.9,
  margin: 0.15,
  recentWindowSeconds: 0,
  recentMargin: 0,
  safetyMargin: 0,
  wasteTolerance: 0.1,
  shortHistoryMargin: 0.2,
  shortHistorySeconds: DAY,
  burstRatio: Number.POSITIVE_INFINITY,
  burstHeadroom: 1,
  oomBumpFactor: 1,
  oomMinBump: 0,
  oomHalfLifeSeconds: HOUR,
  fleetSurge: FLEET_SURGE_OFF,
  minAllowed: 0.01,
  maxAllowed: Number.POSITIVE_INFINITY,
};

export const DEFAULT_CONFIG: Readonly<Record<ResourceKind, RecommenderConfig>> = {
  cpu: CPU_DEFAULTS,
  memory: MEMORY_DEFAULTS,
  gpuMemory: GPU_MEMORY_DEFAULTS,
};

export function defaultConfig(
  kind: ResourceKind,
  overrides: Partial<RecommenderConfig> = {},
): RecommenderConfig {
  return { ...DEFAULT_CONFIG[kind], ...overrides };
}

/**
 * The config for a clock `speed` times faster than the wall clock (a simulation; see
 * docs/decisions/0023-time-at-any-clock-speed.md): every span (half-lives, intervals, windows, the
 * short history, the OOM floor's fade, the fleet signal's windows) divided by `speed`, so each
 * covers the same simulated time, as the VPA's time flags divided by the speed do. The usage
 * history stores one row a (wall) minute: an interval is kept at a row at least, and a window at
 * two (a shorter one may hold none). Speed 1 is the config itself.
 */
export function atClockSpeed(config: RecommenderConfig, speed: number): RecommenderConfig {
  if (speed === 1) return config;
  const span = (s: number) => s / speed;
  const window = (s: number) => (s > 0 ? Math.max(2 * MINUTE, s / speed) : s);
  return {
    ...config,
    intervalSeconds: Math.max(MINUTE, span(config.intervalSeconds)),
    histogram: { ...config.histogram, halfLifeSeconds: span(config.histogram.halfLifeSeconds) },
    recentWindowSeconds: window(config.recentWindowSeconds),
    shortHistorySeconds: span(config.shortHistorySeconds),
    oomHalfLifeSeconds: span(config.oomHalfLifeSeconds),
    fleetSurge: {
      ...config.fleetSurge,
      minHistorySeconds: span(config.fleetSurge.minHistorySeconds),
      windowSeconds: window(config.fleetSurge.windowSeconds),
      holdSeconds: window(config.fleetSurge.holdSeconds),
    },
  };
}
