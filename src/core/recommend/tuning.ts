// A SizingPolicy's `recommendation` (profile, per-resource percentile and headroom) as recommender
// configs. Pure: the same spec always gives the same config, so the history can key checkpoints by it.
import { DEFAULT_CONFIG, type RecommenderConfig } from './config.ts';

export type TunedResource = 'cpu' | 'memory';
export type TuningProfile = 'Conservative' | 'Balanced' | 'Aggressive';

/** The shape of SizingPolicy spec.recommendation (structural, so core/ does not import api/). */
export interface RecommendationTuning {
  readonly profile: TuningProfile;
  readonly cpu?: { readonly percentile?: number; readonly headroomPercent?: number } | undefined;
  readonly memory?: { readonly percentile?: number; readonly headroomPercent?: number } | undefined;
}

/** How a profile moves the shipped defaults: deltas, so a re-tuned default moves every profile with it. */
export interface ProfileAdjustment {
  /** Added to the default percentile (a fraction), kept within 0.5..1. */
  readonly percentile: number;
  /** Added to the default margin over that percentile, kept at 0 or more. */
  readonly margin: number;
  /** Added to the default margin over the last hour's peak (memory's envelope), kept at 0 or more. */
  readonly recentMargin: number;
}

const NONE: ProfileAdjustment = { percentile: 0, margin: 0, recentMargin: 0 };

/**
 * Balanced is the shipped defaults, unchanged (they were tuned by the replay benchmark):
 *   CPU p90 of samples +15%; memory the decayed peak of 5-minute peaks +0%, and never below the
 *   last hour's peak +3%.
 * Conservative: CPU p95 +25%; memory peak +15%, last hour's peak +15%.
 * Aggressive: CPU p80 +10%; memory p95 of the 5-minute peaks +0%, last hour's peak +1%.
 * Every profile keeps the OOM floor, the short-history margin, the burst rule and the bounds.
 */
export const PROFILE_ADJUSTMENTS: Readonly<
  Record<TuningProfile, Readonly<Record<TunedResource, ProfileAdjustment>>>
> = {
  Conservative: {
    cpu: { percentile: 0.05, margin: 0.1, recentMargin: 0 },
    memory: { percentile: 0, margin: 0.15, recentMargin: 0.12 },
  },
  Balanced: { cpu: NONE, memory: NONE },
  Aggressive: {
    cpu: { percentile: -0.1, margin: -0.05, recentMargin: 0 },
    memory: { percentile: -0.05, margin: 0, recentMargin: -0.02 },
  },
};

/**
 * The recommender config for one resource of a policy: the resource's defaults, moved by the
 * profile (PROFILE_ADJUSTMENTS), then `percentile` (50..100) replacing the percentile and
 * `headroomPercent` replacing the margin over it. For memory the last hour's peak plus the
 * profile's recent margin stays a floor under the target whatever the overrides say: a target
 * below what was just used is an OOM kill. Balanced without overrides is exactly DEFAULT_CONFIG.
 */
export function configFor(
  rec: RecommendationTuning | undefined,
  resource: TunedResource,
  base: RecommenderConfig = DEFAULT_CONFIG[resource],
): RecommenderConfig {
  const profile = rec?.profile ?? 'Balanced';
  const adj = PROFILE_ADJUSTMENTS[profile][resource];
  const override = rec?.[resource];
  if (adj === NONE && override?.percentile === undefined && override?.headroomPercent === undefined)
    return base;
  const percentile =
    override?.percentile !== undefined
      ? override.percentile / 100
      : clamp(round(base.percentile + adj.percentile), 0.5, 1);
  const margin =
    override?.headroomPercent !== undefined
      ? override.headroomPercent / 100
      : Math.max(0, round(base.margin + adj.margin));
  const recentMargin =
    base.recentWindowSeconds > 0
      ? Math.max(0, round(base.recentMargin + adj.recentMargin))
      : base.recentMargin;
  return { ...base, percentile, margin, recentMargin };
}

/** Both resources' configs of a policy. */
export function configsFor(rec: RecommendationTuning | undefined): Record<TunedResource, RecommenderConfig> {
  return { cpu: configFor(rec, 'cpu'), memory: configFor(rec, 'memory') };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** 0.9 + 0.05 is 0.9500000000000001: round so equal tunings fingerprint the same. */
function round(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}
