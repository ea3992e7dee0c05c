// The slow estimator: a decayed histogram of interval peaks (or samples), read at a high percentile
// for what recurs and at the median for the pod's typical level.
import { addToHistogram, histogramPercentile, type DecayingHistogram } from './histogram.ts';
import type { Aggregation } from './config.ts';
import type { PeakChange } from './interval-peaks.ts';
import type { UsageSample } from './types.ts';

export function feedSlowHistogram(
  h: DecayingHistogram,
  aggregation: Aggregation,
  sample: UsageSample,
  change: PeakChange,
  /** A sample's weight (1 unless it stands for part of a minute's spread); a peak always weighs 1. */
  weight = 1,
): void {
  switch (aggregation) {
    case 'Sample':
      addToHistogram(h, sample.value, weight, sample.t);
      return;
    case 'IntervalPeak':
      switch (change.kind) {
        case 'NewInterval':
          addToHistogram(h, change.peak, 1, change.start);
          return;
        case 'Raised':
          // An interval holds one peak: the old one leaves as the new one comes in (as in the VPA).
          addToHistogram(h, change.from, -1, change.start);
          addToHistogram(h, change.to, 1, change.start);
          return;
        case 'Unchanged':
          return;
      }
  }
}

export interface SlowEstimate {
  /** The configured high percentile; 0 when the histogram is empty. */
  readonly high: number;
  /** The median: the pod's typical level. */
  readonly median: number;
}

export function slowEstimate(h: DecayingHistogram, percentile: number): SlowEstimate {
  return { high: histogramPercentile(h, percentile) ?? 0, median: histogramPercentile(h, 0.5) ?? 0 };
}
