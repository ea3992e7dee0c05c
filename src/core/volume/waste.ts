// Volume waste: claims whose use stayed well under their capacity for the whole window, and the
// size a new volume for the same data would need. Pure: the samples and the clock come in.
import type { VolumeSample, VolumeWaste } from './types.ts';
import { DEFAULT_VOLUME_RULES, GiB, roundUpGiB } from './rules.ts';

const DAY = 86_400;

export interface WasteRules {
  /**
   * A claim is wasteful when every sample of the window used less than this share of its capacity.
   * 0.5: a volume never even half full is twice the size its data needs (after the room below);
   * under that the saving is worth a migration, above it the room is what the expander keeps anyway.
   */
  usedBelowFraction: number;
  /** Share of the window the samples must cover; less is "not enough history" and no verdict. */
  minCoverage: number;
  /**
   * A gap between two samples longer than this does not count as covered (the kubelet reports about
   * once a minute and Prometheus scrapes every 15 to 60 s; ten minutes is several missed scrapes).
   */
  maxGapSeconds: number;
  /**
   * Free room a new volume keeps above its peak, as a share of its size: the expander's default
   * threshold (10% free, DEFAULT_VOLUME_RULES), so a volume sized this way is not expanded at once.
   */
  freeFraction: number;
  /**
   * The window's growth is carried forward this long: a month, the unit the cost is quoted in. A
   * volume sized for today's peak alone would be expanded within days on a growing claim; one month
   * of growth at the observed rate leaves the expander (which grows it before full) to take over.
   */
  growthSeconds: number;
}

export const DEFAULT_WASTE_RULES: WasteRules = {
  usedBelowFraction: 0.5,
  minCoverage: 0.9,
  maxGapSeconds: 600,
  // The expander's own free room (its default threshold), so a new volume of this size is not grown at once.
  freeFraction:
    'percent' in DEFAULT_VOLUME_RULES.threshold ? DEFAULT_VOLUME_RULES.threshold.percent / 100 : 0.1,
  growthSeconds: 30 * DAY,
};

export interface WasteInput {
  /** Seconds since the epoch: the window is [now - windowSeconds, now]. */
  now: number;
  windowSeconds: number;
  /** Samples keyed `namespace/claim` (VolumeStatsSource.read). */
  samples: ReadonlyMap<string, readonly VolumeSample[]>;
  rules?: Partial<WasteRules>;
}

/** Why a claim got no verdict, or was not found wasteful: shown as a count in notes. */
export type WasteVerdict =
  /** Used under the fraction of capacity for the whole window. */
  | 'Wasted'
  /** Some sample used the fraction or more. */
  | 'WellUsed'
  /** The samples cover too little of the window (a young claim, a gappy source): no verdict. */
  | 'ShortHistory'
  /** A new volume for its data and a month's growth would be no smaller. */
  | 'NoSmaller';

export interface WasteFinding {
  namespace: string;
  claim: string;
  verdict: WasteVerdict;
  /** Set when verdict is Wasted. */
  waste?: VolumeWaste;
}

/**
 * Every claim's verdict over the window, sorted by namespace and claim. Only samples inside the
 * window count; capacity is each sample's own (a claim expanded during the window is judged
 * against what it had at the time) and the suggestion is bounded by the latest capacity.
 */
export function judgeVolumes(input: WasteInput): WasteFinding[] {
  const rules = { ...DEFAULT_WASTE_RULES, ...input.rules };
  const start = input.now - input.windowSeconds;
  const out: WasteFinding[] = [];
  for (const [key, all] of input.samples) {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const claim = key.slice(slash + 1);
    const samples = all.filter((s) => s.at >= start && s.at <= input.now).sort((a, b) => a.at - b.at);
    out.push({ namespace, claim, ...judge(namespace, claim, samples, input, rules) });
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.claim.localeCompare(b.claim));
}

/** The wasted claims alone (judgeVolumes' Wasted findings). */
export function findWaste(input: WasteInput): VolumeWaste[] {
  return judgeVolumes(input).flatMap((f) => (f.waste ? [f.waste] : []));
}

/**
 * Seconds the samples cover up to `until`: each sample stands until the next one (or `until`),
 * unless that is more than maxGap later (then the gap is not covered at all).
 */
export function coveredSeconds(
  samples: readonly VolumeSample[],
  maxGapSeconds: number,
  until?: number,
): number {
  let covered = 0;
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? samples[i + 1]!.at : until;
    if (next === undefined) continue;
    const gap = next - samples[i]!.at;
    if (gap <= maxGapSeconds) covered += Math.max(0, gap);
  }
  return covered;
}

/** Whole GiB at or above `bytes` (at least 1 GiB: no cloud sells less). */
export function wholeGiB(bytes: number): number {
  return Math.max(GiB, roundUpGiB(bytes));
}

function judge(
  namespace: string,
  claim: string,
  samples: readonly VolumeSample[],
  { now, windowSeconds }: Pick<WasteInput, 'now' | 'windowSeconds'>,
  rules: WasteRules,
): Pick<WasteFinding, 'verdict' | 'waste'> {
  if (
    samples.length < 2 ||
    coveredSeconds(samples, rules.maxGapSeconds, now) < rules.minCoverage * windowSeconds
  )
    return { verdict: 'ShortHistory' };
  if (samples.some((s) => s.capacityBytes <= 0 || s.usedBytes >= rules.usedBelowFraction * s.capacityBytes))
    return { verdict: 'WellUsed' };
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const peak = Math.max(...samples.map((s) => s.usedBytes));
  // Growth from the window's ends, not its peak: a cache that filled and was cleaned is not growing.
  const span = last.at - first.at;
  const rate = span > 0 ? Math.max(0, (last.usedBytes - first.usedBytes) / span) : 0;
  const need = (peak + rate * rules.growthSeconds) / (1 - rules.freeFraction);
  const capacity = last.capacityBytes;
  const suggested = Math.min(capacity, wholeGiB(need));
  if (suggested >= capacity) return { verdict: 'NoSmaller' };
  return {
    verdict: 'Wasted',
    waste: {
      namespace,
      claim,
      capacityBytes: capacity,
      peakUsedBytes: peak,
      suggestedBytes: suggested,
      windowSeconds,
    },
  };
}
