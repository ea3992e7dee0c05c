// A signal shared across pods: when several pods of a fleet that run at a pod's level rise well above
// their own peaks within minutes, that pod is likely next (in the GenTD26 trace groups of alike pods
// doubled their memory within half an hour, twice a day). Rises are detected per pod; the fleet is a
// time-ordered list of them; a surge among alike pods raises the others' floor before their own kill.
import type { Recommendation, UsageSample } from './types.ts';

export interface FleetSurgeOptions {
  /** A pod rises when a sample exceeds its own peak so far by at least this fraction... */
  readonly riseFraction: number;
  /** ...once it has this much history (before that every sample may be a new peak). */
  readonly minHistorySeconds: number;
  /** Pods are alike when their peaks (before a rise) are within this factor of each other. */
  readonly alikeRatio: number;
  /** Rises of this many distinct alike pods within `windowSeconds` make a surge. */
  readonly minPods: number;
  readonly windowSeconds: number;
  /** The floor a surge sets lasts this long after the last rise that made it. */
  readonly holdSeconds: number;
  /** The floor is the pod's peak times the largest rise of the surge, at most this much... */
  readonly maxHeadroom: number;
  /** ...plus this margin (a follower may rise further than the leaders). */
  readonly margin: number;
}

/** No fleet signal at all (CPU). */
export const FLEET_SURGE_OFF: FleetSurgeOptions = {
  riseFraction: Number.POSITIVE_INFINITY,
  minHistorySeconds: 0,
  alikeRatio: 1,
  minPods: Number.POSITIVE_INFINITY,
  windowSeconds: 0,
  holdSeconds: 0,
  maxHeadroom: 1,
  margin: 0,
};

/** One pod's new high: `ratio` times its peak `before`. */
export interface Rise {
  readonly t: number;
  readonly pod: string;
  readonly before: number;
  readonly ratio: number;
}

/** Per pod: what its rises are measured against. Plain data. */
export interface RiseDetector {
  firstSampleTime: number | undefined;
  peak: number;
}

export function createRiseDetector(): RiseDetector {
  return { firstSampleTime: undefined, peak: 0 };
}

/** Feeds one sample; returns the rise it makes, if any. */
export function observeRise(
  d: RiseDetector,
  pod: string,
  sample: UsageSample,
  options: FleetSurgeOptions,
): Rise | undefined {
  d.firstSampleTime ??= sample.t;
  const before = d.peak;
  d.peak = Math.max(d.peak, sample.value);
  if (sample.t - d.firstSampleTime < options.minHistorySeconds || !(before > 0)) return undefined;
  const ratio = sample.value / before;
  return ratio >= 1 + options.riseFraction ? { t: sample.t, pod, before, ratio } : undefined;
}

/** What one pod is told of its fleet: its name and the fleet's rises so far (time-ordered). */
export interface FleetView {
  readonly pod: string;
  readonly rises: readonly Rise[];
}

export const NO_FLEET: FleetView = { pod: '', rises: [] };

export type FleetSurge =
  | { readonly kind: 'Calm' }
  /** Alike pods rose since `since`; the floor is the pod's peak times `headroom` (margin included). */
  | { readonly kind: 'Surge'; readonly since: number; readonly pods: number; readonly headroom: number };

export const CALM: FleetSurge = { kind: 'Calm' };

/**
 * The surge a pod whose peak is `peak` sees at `now`: some window of `windowSeconds`, ending within
 * the last `holdSeconds`, held rises of at least `minPods` pods alike to it. A pod that rose with
 * them already shows the new level in its own peaks (and OOM floor), so it is calm.
 */
export function surgeFor(
  fleet: FleetView,
  peak: number,
  now: number,
  options: FleetSurgeOptions,
): FleetSurge {
  if (!Number.isFinite(options.minPods) || !(peak > 0)) return CALM;
  const from = now - options.windowSeconds - options.holdSeconds;
  const recent: Rise[] = [];
  for (let i = upperIndex(fleet.rises, now) - 1; i >= 0 && fleet.rises[i]!.t > from; i--) {
    const r = fleet.rises[i]!;
    if (r.pod === fleet.pod) return CALM;
    if (r.before <= peak * options.alikeRatio && r.before * options.alikeRatio >= peak) recent.push(r);
  }
  if (recent.length < options.minPods) return CALM;
  recent.reverse();
  let best: { since: number; ratios: Map<string, number> } | undefined;
  for (let end = 0; end < recent.length; end++) {
    const tEnd = recent[end]!.t;
    if (tEnd <= now - options.holdSeconds) continue;
    const ratios = new Map<string, number>();
    let since = tEnd;
    for (let i = end; i >= 0 && recent[i]!.t > tEnd - options.windowSeconds; i--) {
      const r = recent[i]!;
      ratios.set(r.pod, Math.max(ratios.get(r.pod) ?? 0, r.ratio));
      since = r.t;
    }
    if (ratios.size >= options.minPods) best = { since, ratios };
  }
  if (!best) return CALM;
  return {
    kind: 'Surge',
    since: best.since,
    pods: best.ratios.size,
    headroom: Math.min(options.maxHeadroom, Math.max(1, ...best.ratios.values())) * (1 + options.margin),
  };
}

/**
 * Decorates a pod's own recommendation with the fleet's surge: target and lower bound at least the
 * pod's peak times the surge's head-room (clamped by `clamp`), so a limit below it is raised at the
 * next decision instead of after the pod's own kill. Calm leaves the recommendation as it is.
 */
export function withFleetSurge(
  rec: Recommendation,
  surge: FleetSurge,
  peak: number,
  clamp: (value: number) => number,
): Recommendation {
  switch (surge.kind) {
    case 'Calm':
      return rec;
    case 'Surge': {
      const floor = clamp(peak * surge.headroom);
      if (!(floor > rec.target)) return { ...rec, lowerBound: Math.max(rec.lowerBound, floor) };
      return {
        target: floor,
        lowerBound: floor,
        upperBound: Math.max(rec.upperBound, floor),
        reason: 'FleetSurge',
      };
    }
  }
}

/** Index of the first rise after `t` (rises are time-ordered). */
function upperIndex(rises: readonly Rise[], t: number): number {
  let lo = 0;
  let hi = rises.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rises[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
