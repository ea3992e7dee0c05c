// A per-key work queue, as controller-runtime's: a key queued many times is reconciled once; a key
// never runs twice at once (queued again while running, it runs once more after); failures retry
// with per-key exponential backoff; `addAfter` schedules a later look (cooldowns, polls).

export interface WorkQueueOptions {
  /** Keys reconciled at the same time (different keys only). */
  readonly concurrency?: number;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface ReconcileResult {
  /** Look at this key again after this long, even if nothing changes. */
  readonly requeueAfterMs?: number;
}

export type ReconcileFn = (key: string) => Promise<ReconcileResult | void>;

/** What a queue tells its metrics (client-go's workqueue metrics): kube/ stays free of prom-client. */
export interface QueueObserver {
  /** A key went into the queue (one already waiting is not added again). */
  added(): void;
  /** A key left the queue for its reconcile after waiting this long. */
  started(waitedSeconds: number): void;
  /** A reconcile failed; the key comes back after its backoff. */
  retried(): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while running: they go back in the queue when their run ends. */
  private readonly dirty = new Set<string>();
  private readonly urgentDirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout & { dueAt?: number }>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** When each waiting key went in, for the time it waited. */
  private readonly enqueuedAt = new Map<string, number>();
  private observer: QueueObserver | undefined;

  constructor(
    private readonly reconcile: ReconcileFn,
    private readonly onError: (key: string, err: unknown, retryInMs: number) => void,
    private readonly options: WorkQueueOptions = {},
  ) {}

  /**
   * Queues the key. `urgent` puts it at the front (ahead of a full pass already queued): an OOM
   * kill's raise must not wait behind a thousand routine reconciles.
   */
  add(key: string, opts: { urgent?: boolean } = {}): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      if (opts.urgent) this.urgentDirty.add(key);
      return;
    }
    if (this.queued.has(key)) {
      if (!opts.urgent) return;
      this.queue.splice(this.queue.indexOf(key), 1);
    }
    if (!this.queued.has(key)) {
      this.enqueuedAt.set(key, Date.now());
      this.observer?.added();
    }
    this.queued.add(key);
    if (opts.urgent) this.queue.unshift(key);
    else this.queue.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending schedule for the key wins (the look happens sooner). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const existing = this.timers.get(key);
    const dueAt = Date.now() + ms;
    if (existing?.dueAt !== undefined && existing.dueAt <= dueAt) return;
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms) as NodeJS.Timeout & { dueAt?: number };
    t.dueAt = dueAt;
    t.unref();
    this.timers.set(key, t);
  }

  /** Reports adds, waits and retries from now on (the operator's metrics). */
  observe(observer: QueueObserver): void {
    this.observer = observer;
  }

  /** Keys waiting or running. */
  get depth(): number {
    return this.queue.length + this.running.size;
  }

  /** Resolves when nothing is queued or running (scheduled `addAfter`s do not count). */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.enqueuedAt.clear();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 4;
    while (!this.stopped && this.active < limit && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      const at = this.enqueuedAt.get(key);
      this.enqueuedAt.delete(key);
      if (at !== undefined) this.observer?.started((Date.now() - at) / 1000);
      this.running.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.depth === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.reconcile(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const wait = Math.min(
        (this.options.baseBackoffMs ?? 200) * 2 ** (n - 1),
        this.options.maxBackoffMs ?? 60_000,
      );
      this.observer?.retried();
      this.onError(key, err, wait);
      this.addAfter(key, wait);
    } finally {
      this.running.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key, { urgent: this.urgentDirty.delete(key) });
      this.pump();
    }
  }
}
