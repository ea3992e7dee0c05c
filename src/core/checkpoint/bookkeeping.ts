// What Tailor did recently, as a checkpoint keeps it: the policy's eviction times (cooldown and the
// hourly cap) and each pod's change times (cooldown and maxChangesPerHour). Merging two versions
// (ours and one written meanwhile) is a union: a newer eviction or change is never lost.

export interface PodChangeTimes {
  readonly uid: string;
  /** Seconds since the epoch, oldest first. */
  readonly changes: readonly number[];
}

export interface Bookkeeping {
  /** When the policy evicted a pod, seconds since the epoch, oldest first. */
  readonly evictions: readonly number[];
  readonly pods: readonly PodChangeTimes[];
}

/** Times older than this are of no use to an hourly budget. */
const KEEP_SECONDS = 3600;
/** Beyond the hour, the latest time of each list is kept: a cooldown may be longer than an hour. */
export const MAX_EVICTIONS_KEPT = 100;
export const MAX_PODS_KEPT = 5000;

export const EMPTY_BOOKKEEPING: Bookkeeping = { evictions: [], pods: [] };

/** Only what a budget still needs at `now`: the last hour, and the latest time whatever its age. */
export function trimTimes(times: readonly number[], now: number, max: number): number[] {
  const sorted = [...new Set(times.filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  const last = sorted[sorted.length - 1];
  const recent = sorted.filter((t) => t >= now - KEEP_SECONDS);
  const out = recent.length === 0 && last !== undefined ? [last] : recent;
  return out.slice(-max);
}

export function mergeBookkeeping(a: Bookkeeping, b: Bookkeeping, now: number): Bookkeeping {
  const pods = new Map<string, number[]>();
  for (const p of [...a.pods, ...b.pods]) {
    if (!p.uid) continue;
    pods.set(p.uid, [...(pods.get(p.uid) ?? []), ...p.changes]);
  }
  const merged = [...pods]
    .map(([uid, changes]) => ({ uid, changes: trimTimes(changes, now, 60) }))
    .filter((p) => p.changes.length > 0)
    // The most recently changed pods first when the list must be cut.
    .sort((x, y) => y.changes[y.changes.length - 1]! - x.changes[x.changes.length - 1]!)
    .slice(0, MAX_PODS_KEPT)
    .sort((x, y) => x.uid.localeCompare(y.uid));
  return {
    evictions: trimTimes([...a.evictions, ...b.evictions], now, MAX_EVICTIONS_KEPT),
    pods: merged,
  };
}

/** Same content (order-insensitive), so an unchanged checkpoint is not written again. */
export function sameBookkeeping(a: Bookkeeping, b: Bookkeeping): boolean {
  const key = (x: Bookkeeping) =>
    JSON.stringify({
      e: [...x.evictions].sort((p, q) => p - q),
      p: [...x.pods].map((p) => [p.uid, [...p.changes].sort((u, v) => u - v)]).sort(),
    });
  return key(a) === key(b);
}

/**
 * Keeps the bookkeeping under `maxBytes` of JSON (the object as a whole must stay under the
 * apiserver's 1.5 MiB): the eviction times always, then the most recently changed pods first.
 */
export function capBookkeeping(b: Bookkeeping, maxBytes: number): Bookkeeping {
  // A time is written as RFC 3339 with milliseconds: about 27 bytes in JSON.
  const size = (p: PodChangeTimes) => p.uid.length + 30 + p.changes.length * 27;
  let used = b.evictions.length * 27;
  const pods: PodChangeTimes[] = [];
  const latest = (p: PodChangeTimes) => p.changes[p.changes.length - 1] ?? 0;
  for (const p of [...b.pods].sort((x, y) => latest(y) - latest(x))) {
    if (used + size(p) > maxBytes) break;
    used += size(p);
    pods.push(p);
  }
  return { evictions: b.evictions, pods: pods.sort((x, y) => x.uid.localeCompare(y.uid)) };
}
