// The storage controller's view of volume usage: samples per claim over the forecast's day, read
// from the VolumeStatsSource incrementally (the last few minutes again, not the whole day, on each
// pass), one read per namespace per pass however many policies it has.
import type { VolumeSample } from '../../core/volume/index.ts';
import type { ClaimKey, VolumeStatsSource } from '../../sources/volume-stats.ts';

export interface UsageReadOk {
  readonly ok: true;
  readonly samples: (claim: string) => readonly VolumeSample[];
}
export interface UsageReadFailed {
  readonly ok: false;
  readonly error: unknown;
}
export type UsageRead = UsageReadOk | UsageReadFailed;

export interface UsageOptions {
  /** How far back samples are kept (the forecast's longest window). Default 24 h. */
  readonly windowSeconds?: number;
  /** A read also covers this much before the last one (late scrapes). Default 5 min. */
  readonly overlapSeconds?: number;
  /** A namespace read this recently is not read again (several policies, one pass). Default 20 s. */
  readonly reuseSeconds?: number;
}

export class VolumeUsage {
  private readonly window: number;
  private readonly overlap: number;
  private readonly reuse: number;
  private readonly byNamespace = new Map<string, { readAt: number; claims: Map<ClaimKey, VolumeSample[]> }>();

  constructor(
    private readonly source: VolumeStatsSource,
    o: UsageOptions = {},
  ) {
    this.window = o.windowSeconds ?? 24 * 3600;
    this.overlap = o.overlapSeconds ?? 300;
    this.reuse = o.reuseSeconds ?? 20;
  }

  get sourceName(): string {
    return this.source.name;
  }

  /** The namespace's samples as of `now`; a failed read is returned, never thrown (the caller holds still). */
  async read(namespace: string, now: number): Promise<UsageRead> {
    let entry = this.byNamespace.get(namespace);
    if (!entry || now - entry.readAt >= this.reuse) {
      const since = entry ? Math.max(now - this.window, entry.readAt - this.overlap) : now - this.window;
      let fresh: Map<ClaimKey, VolumeSample[]>;
      try {
        fresh = await this.source.read(since, [namespace]);
      } catch (error) {
        return { ok: false, error };
      }
      const claims = entry?.claims ?? new Map<ClaimKey, VolumeSample[]>();
      for (const [key, samples] of fresh)
        claims.set(key, merge(claims.get(key) ?? [], samples, now - this.window));
      for (const [key, samples] of claims) {
        const kept = samples.filter((s) => s.at >= now - this.window);
        if (kept.length === 0) claims.delete(key);
        else claims.set(key, kept);
      }
      entry = { readAt: now, claims };
      this.byNamespace.set(namespace, entry);
    }
    const claims = entry.claims;
    return { ok: true, samples: (claim) => claims.get(`${namespace}/${claim}`) ?? [] };
  }

  forget(namespace: string): void {
    this.byNamespace.delete(namespace);
  }
}

/** Old and new samples by time, one per timestamp (the newer read wins), oldest first. */
function merge(old: readonly VolumeSample[], fresh: readonly VolumeSample[], since: number): VolumeSample[] {
  const byTime = new Map<number, VolumeSample>();
  for (const s of old) if (s.at >= since) byTime.set(s.at, s);
  for (const s of fresh) if (s.at >= since) byTime.set(s.at, s);
  return [...byTime.values()].sort((a, b) => a.at - b.at);
}
