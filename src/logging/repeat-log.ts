// A loop's failures logged through a RepeatLimiter: the first line at once, then one line per
// interval with the count ("watch of pods failed (repeated 12 times in 3m)"), and a line on recovery.
import type { Logger } from 'pino';
import { RepeatLimiter, repeatSuffix, shortDuration } from '../core/log/repeat-limiter.ts';
import { errorLine } from '../kube/errors.ts';

export class RepeatLog {
  private readonly limiter: RepeatLimiter;

  constructor(
    private readonly log: Logger,
    o: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.limiter = new RepeatLimiter(o.intervalMs);
    this.now = o.now ?? Date.now;
  }

  private readonly now: () => number;

  /**
   * `key` (what failed) failed with `err`: logged at `level` with `msg` and `fields`, unless the
   * same failure was logged within the interval. The err field is always errorLine's one line.
   */
  failed(
    key: string,
    err: unknown,
    msg: string,
    fields: Record<string, unknown> = {},
    level: 'warn' | 'error' | 'debug' = 'warn',
  ): void {
    const text = errorLine(err);
    const v = this.limiter.failed(key, text, this.now());
    if (v.kind === 'Hold') return;
    this.log[level](
      { ...fields, err: text, ...(v.repeated > 0 ? { repeated: v.repeated } : {}) },
      `${msg}${repeatSuffix(v)}`,
    );
  }

  /** `key` worked again: if failures were held back, one line says how many. */
  succeeded(key: string, msg: string, fields: Record<string, unknown> = {}): void {
    const r = this.limiter.succeeded(key, this.now());
    if (r)
      this.log.info(
        { ...fields, repeated: r.held },
        `${msg} (after ${r.held} more failure${r.held === 1 ? '' : 's'} in ${shortDuration(r.sinceMs)})`,
      );
  }
}
