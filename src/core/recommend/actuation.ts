// Whether to change a running value given a recommendation: outside [lowerBound, upperBound] it moves
// to the target, else it stays, so small drifts cost no resize. A raise is at least `minStep`, so it
// clears a resize threshold instead of landing just under it.
import type { Recommendation } from './types.ts';

export type LimitOutcome = 'Keep' | 'Raise' | 'Lower';

export interface LimitDecision {
  readonly outcome: LimitOutcome;
  readonly value: number;
}

export function decideLimit(current: number, rec: Recommendation, minStep = 0): LimitDecision {
  if (!(current > 0) || !Number.isFinite(current)) return { outcome: 'Raise', value: rec.target };
  if (current < rec.lowerBound) {
    return { outcome: 'Raise', value: Math.max(rec.target, current * (1 + minStep)) };
  }
  if (current > rec.upperBound) return { outcome: 'Lower', value: rec.target };
  return { outcome: 'Keep', value: current };
}
