// Which failures of a loop (a watch, a poll, a Prometheus read) are worth a log line: the first, a
// changed one, and then one summary per interval with how often it repeated. Pure: times are given.

/** What to do with one failure. */
export type RepeatVerdict =
  /** Log it; `repeated` failures with the same message were held back since `sinceMs` (0: none). */
  | { readonly kind: 'Log'; readonly repeated: number; readonly sinceMs: number }
  /** The same failure as the last line said, within the interval: count it, say nothing. */
  | { readonly kind: 'Hold' };

/** When a failing loop works again: how many failures were never logged. */
export interface Recovery {
  readonly held: number;
  readonly sinceMs: number;
}

interface Entry {
  message: string;
  lastLoggedMs: number;
  held: number;
  firstHeldMs: number;
}

/** One summary per 5 minutes at most for a failure that repeats (every 15 s, 20 lines become one). */
export const DEFAULT_REPEAT_INTERVAL_MS = 5 * 60_000;

export class RepeatLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly intervalMs = DEFAULT_REPEAT_INTERVAL_MS) {}

  /** A failure of `key` (what failed) with `message` (why), at `nowMs`. */
  failed(key: string, message: string, nowMs: number): RepeatVerdict {
    const e = this.entries.get(key);
    if (e === undefined || e.message !== message) {
      // New, or failing differently now: that is news.
      this.entries.set(key, { message, lastLoggedMs: nowMs, held: 0, firstHeldMs: nowMs });
      return { kind: 'Log', repeated: 0, sinceMs: 0 };
    }
    if (e.held === 0) e.firstHeldMs = nowMs;
    e.held++;
    if (nowMs - e.lastLoggedMs < this.intervalMs) return { kind: 'Hold' };
    const verdict: RepeatVerdict = { kind: 'Log', repeated: e.held, sinceMs: nowMs - e.lastLoggedMs };
    e.lastLoggedMs = nowMs;
    e.held = 0;
    return verdict;
  }

  /**
   * `key` worked: forgets it, so its next failure is logged at once. Returns the failures held back
   * since the last line (worth a line of their own), or undefined when there were none.
   */
  succeeded(key: string, nowMs: number): Recovery | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    return e.held > 0 ? { held: e.held, sinceMs: nowMs - e.lastLoggedMs } : undefined;
  }
}

/** "3m", "45s", "2h": how long, for a log line. */
export function shortDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.round(m / 60)}h`;
}

/** The suffix a logged repeat carries: " (repeated 12 times in 3m)", or "" for a first failure. */
export function repeatSuffix(v: RepeatVerdict): string {
  if (v.kind !== 'Log' || v.repeated === 0) return '';
  return ` (repeated ${v.repeated} time${v.repeated === 1 ? '' : 's'} in ${shortDuration(v.sinceMs)})`;
}
