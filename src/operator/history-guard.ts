// Every call the operator makes into the usage history store (SQLite) goes through here: an error
// (disk full, I/O error, a lock held past busy_timeout) is caught, counted in
// tailor_history_errors_total{op}, logged and remembered, so the sizing controller holds every
// shrink until the store works again; nothing is thrown into a timer or an event handler.
import type { Logger } from 'pino';
import { describe } from '../errors.ts';
import type { OomRecord, UsageHistory } from '../sources/history.ts';
import type { OperatorMetrics } from './metrics.ts';

/** What the operator was doing with the store; the `op` label of tailor_history_errors_total. */
export type HistoryOp =
  /** The metrics.k8s.io poll's samples. */
  | 'record'
  /** Pruning and checkpointing after a poll. */
  | 'maintain'
  /** OOM kills seen in pod status. */
  | 'recordOoms'
  /** A policy's series read for its recommendations and memory floor. */
  | 'read'
  /** Keeping a policy's series for its window. */
  | 'retain'
  /** History read from Prometheus, written into the store. */
  | 'prometheus'
  /** A SizingCheckpoint's series restored into the store, or the store's series snapshotted for one. */
  | 'checkpoint';

export type HistoryHealth =
  | { readonly kind: 'Ok' }
  | {
      readonly kind: 'Failing';
      readonly op: HistoryOp;
      /** The store's error, e.g. "SQLITE_FULL: database or disk is full". */
      readonly error: string;
      /** Seconds since the epoch of the first failure of this op since it last worked. */
      readonly since: number;
    };

export type Attempt<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface HistoryGuardOptions {
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  /** Seconds since the epoch. */
  readonly now: () => number;
}

/** Every op, so each starts at 0 on /metrics: a rate() over it, and the alert on it, has a series before the first failure. */
const HISTORY_OPS: Record<HistoryOp, true> = {
  record: true,
  maintain: true,
  recordOoms: true,
  read: true,
  retain: true,
  prometheus: true,
  checkpoint: true,
};

/** OOM kills kept for a retry while the store fails; beyond this the oldest are dropped (and logged). */
const MAX_PENDING_OOMS = 10_000;

export class HistoryGuard {
  /** Per op: its last failure, until the same op works again. */
  private readonly failing = new Map<HistoryOp, { error: string; since: number }>();
  /** OOM kills the store refused: written before anything else at the next chance, never lost quietly. */
  private pendingOoms: OomRecord[] = [];

  constructor(
    readonly store: UsageHistory,
    private readonly o: HistoryGuardOptions,
  ) {
    for (const op of Object.keys(HISTORY_OPS)) o.metrics.historyErrors.inc({ op }, 0);
  }

  /** Runs one call into the store; a throw comes back as `{ ok: false }`, counted and remembered. */
  run<T>(op: HistoryOp, fn: (store: UsageHistory) => T): Attempt<T> {
    try {
      const value = fn(this.store);
      if (this.failing.delete(op)) this.o.log.info({ op }, 'usage history store works again');
      return { ok: true, value };
    } catch (err) {
      const error = storeError(err);
      this.o.metrics.historyErrors.inc({ op });
      const was = this.failing.get(op);
      this.failing.set(op, { error, since: was?.since ?? this.o.now() });
      // Once per failure, then at debug: a full disk fails every poll.
      if (was) this.o.log.debug({ op, err: error }, 'usage history store still failing');
      else
        this.o.log.error(
          { op, err: describe(err) },
          'usage history store failed: shrinks are held until it works again; OOM raises still go out',
        );
      return { ok: false, error };
    }
  }

  /**
   * Records OOM kills, with any the store refused before. Refused ones are kept for the next try
   * (`retryPending`): a lost kill would let the recommender forget it and shrink back below it.
   */
  recordOoms(events: readonly OomRecord[], mergeWithinSeconds = 0): Attempt<number> {
    const all = [...this.pendingOoms, ...events];
    if (all.length === 0) return { ok: true, value: 0 };
    const r = this.run('recordOoms', (s) => s.recordOoms(all, mergeWithinSeconds));
    if (r.ok) this.pendingOoms = [];
    else {
      this.pendingOoms = all.slice(-MAX_PENDING_OOMS);
      if (all.length > MAX_PENDING_OOMS)
        this.o.log.warn({ dropped: all.length - MAX_PENDING_OOMS }, 'OOM kills dropped: the store fails');
    }
    return r;
  }

  /** Writes OOM kills the store refused before; cheap when there are none. */
  retryPending(): void {
    if (this.pendingOoms.length > 0) this.recordOoms([]);
  }

  /** The oldest failure not yet followed by a success of the same op, or Ok. */
  health(): HistoryHealth {
    let worst: HistoryHealth = { kind: 'Ok' };
    for (const [op, f] of this.failing) {
      if (worst.kind === 'Ok' || f.since < worst.since) worst = { kind: 'Failing', op, ...f };
    }
    return worst;
  }
}

/** A SQLite error as "SQLITE_FULL: database or disk is full"; anything else by its message. */
function storeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The condition message for a failing store, naming what failed and what is held. */
export function historyUnavailableMessage(h: Extract<HistoryHealth, { kind: 'Failing' }>): string {
  const at = new Date(h.since * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    `the usage history store fails (${h.op}: ${h.error}) since ${at}: ` +
    'shrinks are held until it works again; OOM raises still go out'
  );
}
