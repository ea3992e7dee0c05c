// A decaying histogram with exponentially growing buckets (the VPA's shape): old samples fade with a
// half-life, percentiles are answered at bucket upper edges. Plain data, so it can be persisted.

export interface HistogramOptions {
  /** Upper edge of bucket 0; everything at or below it lands there. */
  readonly firstEdge: number;
  /** Each bucket's upper edge is this many times the previous one (1.05: 5% buckets). */
  readonly ratio: number;
  /** A sample this much older than another weighs half as much. */
  readonly halfLifeSeconds: number;
}

export interface DecayingHistogram {
  readonly options: HistogramOptions;
  /** Weights are stored relative to this time, rebased when they would grow too large. */
  referenceTime: number;
  /** Dense bucket weights, index = bucket number; grows on demand. */
  weights: number[];
  totalWeight: number;
}

/** Rebase before weights leave the comfortable range of a double (2^40 is far below 2^1023). */
const MAX_EXPONENT = 40;
/** Below this total the histogram counts as empty (everything decayed away or was subtracted). */
const EPSILON = 1e-12;

export function createHistogram(options: HistogramOptions, referenceTime: number): DecayingHistogram {
  if (!(options.firstEdge > 0) || !(options.ratio > 1) || !(options.halfLifeSeconds > 0)) {
    throw new RangeError(`histogram options out of range: ${JSON.stringify(options)}`);
  }
  return { options, referenceTime, weights: [], totalWeight: 0 };
}

export function bucketOf(options: HistogramOptions, value: number): number {
  if (!(value > options.firstEdge)) return 0;
  // The small epsilon keeps values that sit exactly on an edge in the bucket that edge closes.
  return Math.max(0, Math.ceil(Math.log(value / options.firstEdge) / Math.log(options.ratio) - 1e-9));
}

export function upperEdge(options: HistogramOptions, bucket: number): number {
  return options.firstEdge * options.ratio ** bucket;
}

/** Adds `weight` (at time t, so later samples weigh more); a negative weight subtracts. */
export function addToHistogram(h: DecayingHistogram, value: number, weight: number, t: number): void {
  let exponent = (t - h.referenceTime) / h.options.halfLifeSeconds;
  if (exponent > MAX_EXPONENT) {
    rebase(h, t);
    exponent = 0;
  }
  const b = bucketOf(h.options, value);
  while (h.weights.length <= b) h.weights.push(0);
  const w = weight * 2 ** exponent;
  h.weights[b] = Math.max(0, h.weights[b]! + w);
  h.totalWeight = Math.max(0, h.totalWeight + w);
}

/** The upper edge of the bucket where the cumulative weight reaches `q` (0..1); undefined when empty. */
export function histogramPercentile(h: DecayingHistogram, q: number): number | undefined {
  if (h.totalWeight < EPSILON) return undefined;
  const threshold = q * h.totalWeight;
  let sum = 0;
  for (let b = 0; b < h.weights.length; b++) {
    sum += h.weights[b]!;
    if (sum >= threshold - EPSILON * h.totalWeight && h.weights[b]! > 0) return upperEdge(h.options, b);
  }
  // Rounding left the threshold just above the sum: the answer is the last non-empty bucket.
  for (let b = h.weights.length - 1; b >= 0; b--) if (h.weights[b]! > 0) return upperEdge(h.options, b);
  return undefined;
}

export function isEmpty(h: DecayingHistogram): boolean {
  return h.totalWeight < EPSILON;
}

function rebase(h: DecayingHistogram, t: number): void {
  const factor = 2 ** -((t - h.referenceTime) / h.options.halfLifeSeconds);
  h.weights = h.weights.map((w) => w * factor);
  h.totalWeight *= factor;
  h.referenceTime = t;
}
