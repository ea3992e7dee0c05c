// What one stored minute of CPU feeds the slow histogram. The usage history keeps one row per
// workload, container and minute (not per pod): the busiest sample, and the count, sum and sum of
// squares of every sample of every pod. Fed only the busiest sample, the p90 of CPU was the p90 of
// each minute's maximum over all replicas and samples, far above the p90 of what a replica uses
// (with 4 replicas sampled 4 times a minute, about the p99). The VPA's p90 is over every sample of
// every pod. A normal spread with the minute's mean and variance stands for those samples: 19
// points of equal weight at its 5th, 10th, ..., 95th percentiles, kept within [0, busiest], so
// that the histogram's p50, p80, p90 or p95 of one minute reads that percentile of the spread
// (a percentile p of N equal points reads point ceil(pN), here the (ceil(19p) / 20)-quantile).
// Together they weigh one minute, as the busiest sample did.

export interface MinuteCpu {
  /** The busiest sample of the minute. */
  readonly max: number;
  /** Count and sum of every sample of every pod in the minute. */
  readonly n: number;
  readonly sum: number;
  /** Sum of squares of the same samples; undefined for rows stored before it was kept. */
  readonly sumSquares: number | undefined;
}

export interface WeightedValue {
  readonly value: number;
  readonly weight: number;
}

/** The standard normal's 5th, 10th, ..., 95th percentiles. */
const NORMAL_VIGINTILES: readonly number[] = [
  -1.6449, -1.2816, -1.0364, -0.8416, -0.6745, -0.5244, -0.3853, -0.2533, -0.1257, 0, 0.1257, 0.2533, 0.3853,
  0.5244, 0.6745, 0.8416, 1.0364, 1.2816, 1.6449,
];
const POINT_WEIGHT = 1 / NORMAL_VIGINTILES.length;

/**
 * The points one minute feeds, weights summing to 1. Without a spread (one sample, or a row that
 * kept no sum of squares, such as one restored from a SizingCheckpoint) the minute is its busiest
 * sample, as before: never less than what was measured when the spread is unknown.
 */
export function minuteSpread(m: MinuteCpu): readonly WeightedValue[] {
  if (!(m.n >= 2) || m.sumSquares === undefined || !Number.isFinite(m.sumSquares)) {
    return [{ value: m.max, weight: 1 }];
  }
  const mean = m.sum / m.n;
  const variance = m.sumSquares / m.n - mean * mean;
  const within = (v: number) => Math.min(m.max, Math.max(0, v));
  // Equal samples leave rounding noise in the variance (E[x^2] - E[x]^2): no spread.
  if (!(variance > 1e-9 * mean * mean)) return [{ value: within(mean), weight: 1 }];
  const sd = Math.sqrt(variance);
  return NORMAL_VIGINTILES.map((z) => ({ value: within(mean + z * sd), weight: POINT_WEIGHT }));
}
