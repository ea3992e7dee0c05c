// Baseline: Google Autopilot's moving-window memory recommender (EuroSys 2020) as REPLAY.md describes
// it: p98 of all samples weighted by a 48 h half-life decay, +10%, and at least the last hour's peak.
import type { UsageSample } from '../../recommend/types.ts';
import type { Recommender } from '../protocol.ts';

export interface AutopilotOptions {
  readonly halfLifeSeconds: number;
  readonly percentile: number;
  readonly marginFraction: number;
  readonly peakWindowSeconds: number;
}

export const AUTOPILOT_DEFAULTS: AutopilotOptions = {
  halfLifeSeconds: 48 * 3600,
  percentile: 0.98,
  marginFraction: 0.1,
  peakWindowSeconds: 3600,
};

export function autopilotMovingWindow(options: AutopilotOptions = AUTOPILOT_DEFAULTS): Recommender {
  return {
    kind: 'causal',
    name: 'Autopilot moving window',
    start: () => {
      // Samples kept sorted by value, so a weighted percentile is one pass (exact, no buckets).
      const byValue: UsageSample[] = [];
      const recent: UsageSample[] = [];
      return {
        observe: (s) => {
          byValue.splice(upperIndex(byValue, s.value), 0, s);
          recent.push(s);
        },
        propose: (now) => {
          while (recent.length > 0 && recent[0]!.t <= now - options.peakWindowSeconds) recent.shift();
          const peak = recent.reduce((m, s) => Math.max(m, s.value), 0);
          return Math.max(weightedPercentile(byValue, now, options) * (1 + options.marginFraction), peak);
        },
        onOom: () => undefined,
      };
    },
  };
}

function weightedPercentile(sorted: readonly UsageSample[], now: number, o: AutopilotOptions): number {
  if (sorted.length === 0) return 0;
  const weights = sorted.map((s) => 2 ** ((s.t - now) / o.halfLifeSeconds));
  const threshold = o.percentile * weights.reduce((a, w) => a + w, 0);
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) {
    sum += weights[i]!;
    if (sum >= threshold) return sorted[i]!.value;
  }
  return sorted[sorted.length - 1]!.value;
}

function upperIndex(sorted: readonly UsageSample[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.value <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
