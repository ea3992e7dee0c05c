// Tailor's recommender for one container resource: an incremental, serialisable state fed with
// samples and OOM kills, read as { target, lowerBound, upperBound } at a time the caller passes in.
import type { RecommenderConfig } from './config.ts';
import { createHistogram, type DecayingHistogram } from './histogram.ts';
import { createPeakWindow, observePeak, recentPeak, type PeakWindow } from './interval-peaks.ts';
import { feedSlowHistogram, slowEstimate } from './slow-percentile.ts';
import { burstClass, burstHeadroom } from './burst.ts';
import { shortHistoryMargin } from './short-history.ts';
import { floorAt, recordOom, type OomFloor } from './oom.ts';
import { NO_FLEET, surgeFor, withFleetSurge, type FleetView } from './fleet-surge.ts';
import type { OomEvent, Recommendation, TargetReason, UsageSample } from './types.ts';
import type { WeightedValue } from './minute-spread.ts';

/** Plain data (JSON round-trips it), so a controller can persist it and resume after a restart. */
export interface RecommenderState {
  readonly version: 1;
  firstSampleTime: number | undefined;
  lastSampleTime: number | undefined;
  sampleCount: number;
  slow: DecayingHistogram;
  peaks: PeakWindow;
  oom: OomFloor | undefined;
}

export function createState(config: RecommenderConfig): RecommenderState {
  return {
    version: 1,
    firstSampleTime: undefined,
    lastSampleTime: undefined,
    sampleCount: 0,
    // The reference time only scales weights; 0 is rebased on the first sample.
    slow: createHistogram(config.histogram, 0),
    peaks: createPeakWindow(),
    oom: undefined,
  };
}

export function addSample(state: RecommenderState, sample: UsageSample, config: RecommenderConfig): void {
  addSpread(state, sample.t, [{ value: sample.value, weight: 1 }], config);
}

/**
 * One observation at `t` given as weighted values (weights summing to 1), such as a stored minute's
 * spread (minute-spread.ts): it counts as one sample; the histogram of samples takes each value at
 * its weight, the peaks take the highest.
 */
export function addSpread(
  state: RecommenderState,
  t: number,
  points: readonly WeightedValue[],
  config: RecommenderConfig,
): void {
  if (!Number.isFinite(t) || points.length === 0 || !points.every((p) => Number.isFinite(p.value))) return;
  if (state.sampleCount === 0) state.slow.referenceTime = t;
  state.firstSampleTime = Math.min(state.firstSampleTime ?? t, t);
  state.lastSampleTime = Math.max(state.lastSampleTime ?? t, t);
  state.sampleCount++;
  const keep = Math.max(config.recentWindowSeconds, config.intervalSeconds);
  for (const p of points) {
    const sample = { t, value: p.value };
    const change = observePeak(state.peaks, sample, config.intervalSeconds, keep);
    feedSlowHistogram(state.slow, config.aggregation, sample, change, p.weight);
  }
}

export function addOom(state: RecommenderState, event: OomEvent, config: RecommenderConfig): void {
  state.oom = recordOom(state.oom, event, {
    factor: config.oomBumpFactor,
    minBump: config.oomMinBump,
    halfLifeSeconds: config.oomHalfLifeSeconds,
  });
}

/**
 * The recommendation at `now`. `fleet` is what the pod's fleet has shown up to `now` (fleet-surge.ts);
 * without it the pod is sized on its own history alone.
 */
export function recommend(
  state: RecommenderState,
  now: number,
  config: RecommenderConfig,
  fleet: FleetView = NO_FLEET,
): Recommendation {
  const oomFloor = floorAt(state.oom, now, config.oomHalfLifeSeconds);
  if (state.sampleCount === 0 || state.firstSampleTime === undefined) {
    const target = clamp(oomFloor, config);
    return {
      target,
      lowerBound: target,
      upperBound: Number.POSITIVE_INFINITY,
      reason: oomFloor > 0 ? 'OomFloor' : 'NoData',
    };
  }

  const age = now - state.firstSampleTime;
  const young = shortHistoryMargin(age, config.shortHistoryMargin, config.shortHistorySeconds);
  const slow = slowEstimate(state.slow, config.percentile);
  const headroom = burstHeadroom(burstClass(slow.high, slow.median, config.burstRatio), config.burstHeadroom);
  const fromSlow = slow.high * (1 + config.margin + young) * headroom;
  const recent =
    config.recentWindowSeconds > 0
      ? recentPeak(state.peaks, now, config.recentWindowSeconds, config.intervalSeconds)
      : 0;
  const fromRecent = recent * (1 + config.recentMargin + young);

  let raw = fromSlow;
  let reason: TargetReason = 'Percentile';
  if (fromRecent > raw) {
    raw = fromRecent;
    reason = 'RecentPeak';
  }
  if (oomFloor > raw) {
    raw = oomFloor;
    reason = 'OomFloor';
  }
  const target = clamp(raw, config);
  if (target !== raw) reason = 'Clamped';

  // Never below what was just used (plus the safety margin) nor below a fresh OOM floor.
  const lowerBound = Math.min(target, Math.max(recent * (1 + config.safetyMargin), oomFloor));
  // A young pod keeps a generous value longer: the band widens with the same short-history margin.
  const upperBound = target * (1 + config.wasteTolerance + young);
  const own: Recommendation = { target, lowerBound, upperBound, reason };
  const peak = Math.max(slow.high, recent);
  return withFleetSurge(own, surgeFor(fleet, peak, now, config.fleetSurge), peak, (v) => clamp(v, config));
}

function clamp(value: number, config: RecommenderConfig): number {
  return Math.min(config.maxAllowed, Math.max(config.minAllowed, value));
}
