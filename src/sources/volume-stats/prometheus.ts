// Volume usage from Prometheus: the kubelet's volume stats (kubelet_volume_stats_*), as
// pvc-autoresizer and volume-autoscaler read them, through the operator's PrometheusClient (its
// auth, size cap and failure handling).
//
// One range query (1 min step) per chunk of the window returns every statistic of every claim,
// each series labelled `stat`: a claim scraped by two jobs counts once (max by namespace,
// persistentvolumeclaim), and each sample is stamped with the time Prometheus scraped it (the
// kubelet's reading), not the evaluation step. So a kubelet that stopped answering yields no fresh
// samples: Prometheus repeats its last value for five minutes of steps, but with the old time.
import type { VolumeSample } from '../../core/volume/types.ts';
import {
  namespaceMatcher,
  queryRangeSplitting,
  type PrometheusClient,
  type RangeSeries,
} from '../prometheus.ts';
import { ALL_NAMESPACES, namespaces as named } from '../scope.ts';
import type { ClaimKey, VolumeStatsSource } from '../volume-stats.ts';

/** The statistics read, by the `stat` label each series gets, and the metric it comes from. */
export const VOLUME_STAT_METRICS = {
  used: 'kubelet_volume_stats_used_bytes',
  capacity: 'kubelet_volume_stats_capacity_bytes',
  available: 'kubelet_volume_stats_available_bytes',
  inodes: 'kubelet_volume_stats_inodes',
  inodesUsed: 'kubelet_volume_stats_inodes_used',
  inodesFree: 'kubelet_volume_stats_inodes_free',
} as const;
type Stat = keyof typeof VOLUME_STAT_METRICS | 'at';

const BY = 'namespace, persistentvolumeclaim';

/**
 * The query: each statistic (and the scrape time of used bytes, as `stat="at"`) per claim, the
 * claims of the given namespaces only (undefined: every namespace).
 */
export function volumeStatsQuery(namespaces?: readonly string[]): string {
  const sel = `{${namespaceMatcher(namespaces ? named(...namespaces) : ALL_NAMESPACES)},persistentvolumeclaim!=""}`;
  const one = (stat: Stat, expr: string) =>
    `label_replace(max by (${BY}) (${expr}), "stat", "${stat}", "", "")`;
  return [
    ...Object.entries(VOLUME_STAT_METRICS).map(([stat, metric]) => one(stat as Stat, `${metric}${sel}`)),
    one('at', `timestamp(${VOLUME_STAT_METRICS.used}${sel})`),
  ].join(' or ');
}

/**
 * The samples in a range answer: one per claim per distinct scrape time (steps that repeat an old
 * scrape collapse into it), oldest first, those scraped before `since` left out. A step without
 * used bytes, capacity or its scrape time gives no sample.
 */
export function samplesFromSeries(
  series: readonly RangeSeries[],
  since: number,
): Map<ClaimKey, VolumeSample[]> {
  // claim -> step time -> stat -> value
  const byClaim = new Map<ClaimKey, Map<number, Partial<Record<Stat, number>>>>();
  for (const s of series) {
    const { namespace, persistentvolumeclaim: claim, stat } = s.metric;
    if (!namespace || !claim || !stat) continue;
    const key = `${namespace}/${claim}`;
    let steps = byClaim.get(key);
    if (!steps) byClaim.set(key, (steps = new Map<number, Partial<Record<Stat, number>>>()));
    for (const [t, v] of s.values) {
      let row = steps.get(t);
      if (!row) steps.set(t, (row = {}));
      row[stat as Stat] = v;
    }
  }
  const out = new Map<ClaimKey, VolumeSample[]>();
  for (const [key, steps] of byClaim) {
    const samples: VolumeSample[] = [];
    for (const t of [...steps.keys()].sort((a, b) => a - b)) {
      const r = steps.get(t)!;
      if (r.at === undefined || r.used === undefined || r.capacity === undefined) continue;
      const at = Math.round(r.at * 1000) / 1000;
      if (at < since) continue;
      if (samples.length > 0 && samples[samples.length - 1]!.at >= at) continue;
      samples.push({
        at,
        usedBytes: r.used,
        capacityBytes: r.capacity,
        availableBytes: r.available ?? Math.max(0, r.capacity - r.used),
        ...(r.inodes !== undefined ? { inodes: r.inodes } : {}),
        ...(r.inodesUsed !== undefined ? { inodesUsed: r.inodesUsed } : {}),
        ...(r.inodesFree !== undefined ? { inodesFree: r.inodesFree } : {}),
      });
    }
    if (samples.length > 0) out.set(key, samples);
  }
  return out;
}

export interface PrometheusVolumeStatsOptions {
  readonly client: PrometheusClient;
  /** Seconds since the epoch; default the wall clock. */
  readonly now?: () => number;
  /** Default 60: one point per minute, as often as the kubelet refreshes its volume stats. */
  readonly stepSeconds?: number;
  /** Each range query covers at most this much (default 6 h); an answer over the client's size cap is split further. */
  readonly chunkSeconds?: number;
}

export class PrometheusVolumeStats implements VolumeStatsSource {
  readonly name = 'prometheus';
  private readonly now: () => number;
  private readonly step: number;
  private readonly chunk: number;

  constructor(private readonly o: PrometheusVolumeStatsOptions) {
    this.now = o.now ?? (() => Date.now() / 1000);
    this.step = o.stepSeconds ?? 60;
    this.chunk = Math.max(this.step, Math.floor((o.chunkSeconds ?? 6 * 3600) / this.step) * this.step);
  }

  async read(since: number, namespaces?: readonly string[]): Promise<Map<ClaimKey, VolumeSample[]>> {
    if (namespaces && namespaces.length === 0) return new Map();
    const query = volumeStatsQuery(namespaces);
    const end = Math.floor(this.now());
    // Steps end at `end`, so the freshest minute is read; a sample scraped just before `since`
    // can still be seen at the first step, and is then dropped by its own time.
    const start = end - Math.max(0, Math.floor((end - since) / this.step)) * this.step;
    const series: RangeSeries[] = [];
    for (let from = start; from <= end; from += this.chunk + this.step) {
      const to = Math.min(end, from + this.chunk);
      series.push(...(await queryRangeSplitting(this.o.client, query, from, to, this.step)));
    }
    return samplesFromSeries(series, since);
  }
}
