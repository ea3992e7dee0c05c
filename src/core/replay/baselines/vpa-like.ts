// Baseline: the Kubernetes VPA recommender's memory estimate, as REPLAY.md describes it: the peak of
// each 24 h interval in a histogram decaying with a 24 h half-life, its p90 at a 5% bucket edge, +15%.
import { addToHistogram, createHistogram, histogramPercentile } from '../../recommend/histogram.ts';
import type { Recommender, SeriesUnit } from '../protocol.ts';

export interface VpaLikeOptions {
  readonly intervalSeconds: number;
  readonly halfLifeSeconds: number;
  readonly percentile: number;
  readonly marginFraction: number;
  readonly bucketRatio: number;
}

export const VPA_LIKE_DEFAULTS: VpaLikeOptions = {
  intervalSeconds: 86400,
  halfLifeSeconds: 86400,
  percentile: 0.9,
  marginFraction: 0.15,
  bucketRatio: 1.05,
};

/**
 * Where the bucket grid starts. The description does not say; edges at 0.001 x 1.05^k for
 * fractions and 1 byte x 1.05^k for bytes are the ones that reproduce REPLAY.md's figures.
 */
export function firstBucketEdge(unit: SeriesUnit): number {
  switch (unit) {
    case 'fraction':
      return 1e-3;
    case 'bytes':
      return 1;
  }
}

export function vpaLike(options: VpaLikeOptions = VPA_LIKE_DEFAULTS): Recommender {
  return {
    kind: 'causal',
    name: 'VPA-like',
    start: (ctx) => {
      const hist = createHistogram(
        {
          firstEdge: firstBucketEdge(ctx.unit),
          ratio: options.bucketRatio,
          halfLifeSeconds: options.halfLifeSeconds,
        },
        0,
      );
      let origin: number | undefined;
      let interval = -1;
      let peak = 0;
      return {
        observe: (s) => {
          origin ??= s.t;
          const i = Math.floor((s.t - origin) / options.intervalSeconds);
          const intervalStart = origin + i * options.intervalSeconds;
          if (i !== interval) {
            interval = i;
            peak = s.value;
            addToHistogram(hist, peak, 1, intervalStart);
          } else if (s.value > peak) {
            // Like the VPA: the interval holds one peak, replaced as it grows.
            addToHistogram(hist, peak, -1, intervalStart);
            peak = s.value;
            addToHistogram(hist, peak, 1, intervalStart);
          }
        },
        propose: () => (histogramPercentile(hist, options.percentile) ?? 0) * (1 + options.marginFraction),
        onOom: () => undefined,
      };
    },
  };
}
