// A rolling window over a volume stats source, for the standing report: the first read takes the
// whole window (7 days), later ones only what is new since the last read (plus an overlap for
// samples that arrive late), so the report rebuilt every minute no longer re-reads a week of stats.
import type { VolumeSample } from '../../core/volume/types.ts';
import type { ClaimKey, VolumeStatsSource } from '../volume-stats.ts';

export interface RollingWindowOptions {
  /** Seconds since the epoch. */
  readonly now: () => number;
  /**
   * Re-read: samples taken up to this long before the last read are read again, since a sample
   * can reach the source after its own time (a scrape's lag, Prometheus' staleness). Default 10 min.
   */
  readonly overlapSeconds?: number;
  /** Read the whole window again this often, so nothing stays wrong for long. Default 1 h. */
  readonly fullReadEverySeconds?: number;
}

interface Window {
  since: number;
  readAt: number;
  fullReadAt: number;
  samples: Map<ClaimKey, VolumeSample[]>;
}

export function rollingWindow(source: VolumeStatsSource, o: RollingWindowOptions): VolumeStatsSource {
  const overlap = o.overlapSeconds ?? 600;
  const fullEvery = o.fullReadEverySeconds ?? 3600;
  const windows = new Map<string, Window>();
  return {
    name: source.name,
    async read(since, namespaces) {
      const key = namespaces ? [...namespaces].sort().join(',') : '*';
      const t = o.now();
      const w = windows.get(key);
      // 1. A first read, a window reaching further back, or an hour since the last full read: all of it.
      if (!w || since < w.since || t - w.fullReadAt >= fullEvery) {
        const samples = await source.read(since, namespaces);
        windows.set(key, { since, readAt: t, fullReadAt: t, samples });
        return copy(samples);
      }
      // 2. Otherwise only what is new; a failed read throws before the window changes (the
      // caller says the source was not read, as before).
      const from = Math.max(since, w.readAt - overlap);
      const fresh = await source.read(from, namespaces);
      // 3. Keep the old samples still inside the window and before `from`; the fresh ones replace
      // the rest (the overlap is read again, not added twice).
      const merged = new Map<ClaimKey, VolumeSample[]>();
      for (const [claim, old] of w.samples) {
        const kept = old.filter((s) => s.at >= since && s.at < from);
        if (kept.length > 0) merged.set(claim, kept);
      }
      for (const [claim, samples] of fresh) merged.set(claim, [...(merged.get(claim) ?? []), ...samples]);
      windows.set(key, { since, readAt: t, fullReadAt: w.fullReadAt, samples: merged });
      return copy(merged);
    },
  };
}

/** The caller may keep or change what it gets: the window's own arrays stay as they are. */
function copy(m: Map<ClaimKey, VolumeSample[]>): Map<ClaimKey, VolumeSample[]> {
  return new Map([...m].map(([k, v]) => [k, [...v]]));
}
