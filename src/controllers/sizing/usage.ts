// A policy's view of the usage history: per workload and container, the recommendation in numbers
// (for the planner) and in quantities (for status), and the memory floor facts the planner needs.
import type { ContainerRecommendation as StatusRecommendation } from '../../api/index.ts';
import { format, roundUp, type Bounds, type ContainerRecommendation } from '../../core/resize/index.ts';
import type { Recommendation } from '../../core/recommend/types.ts';
import {
  DEFAULT_RESOURCE_CONFIGS,
  type ResourceConfigs,
  type SeriesKey,
  type UsageHistory,
} from '../../sources/history.ts';
import { workloadKey } from '../../sources/workloads.ts';

export interface SeriesView {
  readonly key: SeriesKey;
  /** Numbers for the planner; empty without data. */
  readonly recommendation: ContainerRecommendation;
  /** Highest memory working set of any pod of the workload in the window, bytes. */
  readonly memoryPeak: number | undefined;
  readonly samples: number;
  /** Seconds between the first sample and now (0 without data). */
  readonly ageSeconds: number;
  readonly ooms: number;
}

export function readSeries(
  history: UsageHistory,
  key: SeriesKey,
  now: number,
  windowSeconds: number,
  configs: ResourceConfigs = DEFAULT_RESOURCE_CONFIGS,
): SeriesView {
  // The policy's tuning and window: minutes older than the window do not count.
  const rec = history.recommend(key, now, configs, windowSeconds);
  const minutes = history.minutes(key, now - windowSeconds);
  let memoryPeak: number | undefined;
  for (const m of minutes) {
    if (m.memoryMax !== undefined) memoryPeak = Math.max(memoryPeak ?? 0, m.memoryMax);
  }
  const recommendation: ContainerRecommendation = {
    ...(rec.cpu.recommendation ? { cpu: bounds(rec.cpu.recommendation) } : {}),
    ...(rec.memory.recommendation ? { memory: bounds(rec.memory.recommendation) } : {}),
  };
  return {
    key,
    recommendation,
    memoryPeak,
    samples: Math.max(rec.cpu.samples, rec.memory.samples),
    ageSeconds: rec.info ? Math.min(windowSeconds, Math.max(0, now - rec.info.firstSample)) : 0,
    ooms: rec.ooms,
  };
}

function bounds(r: Recommendation): Bounds {
  return { target: r.target, lowerBound: r.lowerBound, upperBound: r.upperBound };
}

export function seriesKeyString(key: SeriesKey): string {
  return `${workloadKey(key.workload)}/${key.container}`;
}

/** The status entry for one container: quantities rounded as the planner rounds, an open bound left out. */
export function statusRecommendation(
  name: string,
  s: SeriesView,
  pods: number,
  shortHistorySeconds: number,
  /** Where the history came from when not the metrics.k8s.io poll, e.g. "Prometheus http://...". */
  source?: string,
): StatusRecommendation | undefined {
  const r = s.recommendation;
  if (!r.cpu && !r.memory) return undefined;
  const pick = (f: (b: Bounds) => number) => {
    const out: Record<string, string> = {};
    for (const res of ['cpu', 'memory'] as const) {
      const b = r[res];
      if (!b) continue;
      const v = f(b);
      if (Number.isFinite(v) && v > 0) out[res] = format(res, roundUp(res, v));
    }
    return out;
  };
  const upper = pick((b) => b.upperBound);
  const hours = s.ageSeconds / 3600;
  const span =
    hours >= 48
      ? `${(hours / 24).toFixed(1)} days`
      : hours >= 1
        ? `${hours.toFixed(1)} h`
        : `${Math.round(s.ageSeconds / 60)} min`;
  const basis =
    `${s.samples} one-minute sample${s.samples === 1 ? '' : 's'} from ${pods} pod${pods === 1 ? '' : 's'} over ${span}` +
    (s.ageSeconds < shortHistorySeconds ? ' (short history: wider margin)' : '') +
    (s.ooms > 0 ? `; ${s.ooms} OOM kill${s.ooms === 1 ? '' : 's'}` : '') +
    (source ? `; history from ${source}` : '');
  return {
    name,
    target: pick((b) => b.target),
    lowerBound: pick((b) => b.lowerBound),
    ...(Object.keys(upper).length > 0 ? { upperBound: upper } : {}),
    // The floor a new pod needs too (the webhook sizes it with the same rules as a running pod).
    ...(s.memoryPeak !== undefined && s.memoryPeak > 0
      ? { peak: { memory: format('memory', roundUp('memory', s.memoryPeak)) } }
      : {}),
    basis,
  };
}
