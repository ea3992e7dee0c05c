// Shared shapes of the recommender core: usage samples in, recommendations out. Time is always
// seconds since the epoch, passed in by the caller.

export interface UsageSample {
  /** Seconds since the epoch. */
  readonly t: number;
  /** Bytes for memory, cores for CPU, or a fraction of a limit: the core does not care which. */
  readonly value: number;
}

export interface OomEvent {
  readonly t: number;
  /** Usage when the container was killed (at least the limit it hit). */
  readonly usage: number;
}

/** Why the target is what it is: which estimator won, for status messages and debugging. */
export type TargetReason =
  /** No samples yet: the configured minimum (or nothing to say). */
  | 'NoData'
  /** The slow, decayed percentile of interval peaks plus margin. */
  | 'Percentile'
  /** The recent maximum: usage is above what the slow estimate has caught up with. */
  | 'RecentPeak'
  /** A recent OOM kill holds the target up. */
  | 'OomFloor'
  /** Several pods of the fleet just rose well above their peaks: this one is held above its own. */
  | 'FleetSurge'
  /** Clamped to the configured minimum or maximum. */
  | 'Clamped';

export interface Recommendation {
  /** What to set. */
  readonly target: number;
  /** Below this the current value is unsafe: raise it. */
  readonly lowerBound: number;
  /** Above this the current value wastes enough to be worth a change: lower it. */
  readonly upperBound: number;
  readonly reason: TargetReason;
}
