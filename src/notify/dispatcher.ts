// Delivery of notifications, apart from sizing: the notifier hands over the alerts active now
// (`update`, synchronous, never awaited by anything that sizes) and one queue per receiver sends
// them in the background. Alertmanager's rules: one notification per alert key and receiver until
// it resolves or `repeatInterval` passes (its repeat_interval, 4h by default), a resolve when the
// alert goes; per receiver a token-bucket rate limit, retries with exponential backoff on timeouts,
// refused connections, 408, 429 (Retry-After honoured) and 5xx, and a bounded queue (the oldest
// dropped, counted) so an unreachable endpoint costs memory it cannot grow and delays only itself.
import type { Alert, AlertKind, DeliveryResult, Notification, SendResult } from './types.ts';
import type { Receiver } from './receivers/receiver.ts';
import { realClock, type Clock } from './clock.ts';
import { TokenBucket, type RateLimit } from './rate-limit.ts';

export interface Route {
  readonly alerts: readonly AlertKind[];
  readonly receivers: readonly string[];
  /** Only alerts about these namespaces (cluster-wide alerts always match); absent: all. */
  readonly namespaces?: readonly string[];
}

export interface RetrySettings {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Attempts in all, the first included; then the notification is counted failed and dropped. */
  readonly maxAttempts: number;
}

export interface DispatcherSettings {
  readonly repeatIntervalMs: number;
  readonly rate: RateLimit;
  readonly retry: RetrySettings;
  readonly queueSize: number;
}

export const DEFAULT_DISPATCH: DispatcherSettings = {
  repeatIntervalMs: 4 * 3600_000,
  rate: { perMinute: 30, burst: 10 },
  retry: { baseMs: 1000, maxMs: 5 * 60_000, maxAttempts: 8 },
  queueSize: 1000,
};

export interface DispatcherOptions {
  readonly receivers: readonly Receiver[];
  readonly routes: readonly Route[];
  readonly settings?: Partial<DispatcherSettings>;
  readonly clock?: Clock;
  /** tailor_notifications_total{receiver,result}. */
  readonly count?: (receiver: string, result: DeliveryResult) => void;
  readonly log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

interface Job {
  readonly n: Notification;
  attempts: number;
}

interface Lane {
  readonly receiver: Receiver;
  readonly queue: Job[];
  readonly bucket: TokenBucket;
  /** Alert key -> when it was last queued firing to this receiver (ms). */
  readonly firing: Map<string, { at: number; alert: Alert }>;
  wake?: () => void;
  running: Promise<void>;
}

/** The backoff before attempt `attempt + 1` (attempt counts from 1): base, 2 base, 4 base, ... capped. */
export function backoffMs(attempt: number, r: RetrySettings, retryAfterMs?: number): number {
  const exp = Math.min(r.maxMs, r.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.min(r.maxMs * 2, Math.max(exp, retryAfterMs ?? 0));
}

export class Dispatcher {
  private readonly s: DispatcherSettings;
  private readonly clock: Clock;
  private readonly lanes = new Map<string, Lane>();
  private readonly stopping = new AbortController();

  constructor(private readonly o: DispatcherOptions) {
    this.s = { ...DEFAULT_DISPATCH, ...o.settings };
    this.clock = o.clock ?? realClock;
    for (const r of o.receivers) {
      const lane: Lane = {
        receiver: r,
        queue: [],
        bucket: new TokenBucket(this.s.rate, this.clock.now()),
        firing: new Map(),
        running: Promise.resolve(),
      };
      this.lanes.set(r.name, lane);
      lane.running = this.run(lane);
    }
  }

  /**
   * The alerts active now. New ones fire, ones already told fire again only after the repeat
   * interval, ones gone resolve. Returns at once: delivery happens on the receivers' queues.
   */
  update(active: readonly Alert[]): void {
    const now = this.clock.now();
    for (const lane of this.lanes.values()) {
      const mine = active.filter((a) => a.kind !== 'SavingsDigest' && this.routed(a, lane.receiver.name));
      const keys = new Set(mine.map((a) => a.key));
      for (const a of mine) {
        const told = lane.firing.get(a.key);
        if (told && now - told.at < this.s.repeatIntervalMs) continue;
        lane.firing.set(a.key, { at: now, alert: a });
        this.enqueue(lane, { status: 'firing', alert: a });
      }
      for (const [key, told] of lane.firing) {
        if (keys.has(key)) continue;
        lane.firing.delete(key);
        this.enqueue(lane, { status: 'resolved', alert: told.alert, endedAt: now / 1000 });
      }
    }
  }

  /** A one-off message (the savings digest): queued once for each receiver its routes name. */
  announce(alert: Alert): void {
    for (const lane of this.lanes.values())
      if (this.routed(alert, lane.receiver.name)) this.enqueue(lane, { status: 'firing', alert });
  }

  /** Notifications waiting per receiver (tests, and the operator's log on stop). */
  pending(): Record<string, number> {
    return Object.fromEntries([...this.lanes].map(([name, l]) => [name, l.queue.length]));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    for (const l of this.lanes.values()) l.wake?.();
    await Promise.all([...this.lanes.values()].map((l) => l.running));
  }

  private routed(a: Alert, receiver: string): boolean {
    return this.o.routes.some(
      (r) =>
        r.alerts.includes(a.kind) &&
        r.receivers.includes(receiver) &&
        (r.namespaces === undefined ||
          a.labels.namespace === undefined ||
          r.namespaces.includes(a.labels.namespace)),
    );
  }

  private enqueue(lane: Lane, n: Notification): void {
    lane.queue.push({ n, attempts: 0 });
    while (lane.queue.length > this.s.queueSize) {
      const dropped = lane.queue.shift()!;
      this.o.count?.(lane.receiver.name, 'dropped');
      this.o.log?.(
        'warn',
        { receiver: lane.receiver.name, key: dropped.n.alert.key, status: dropped.n.status },
        'notification dropped: the receiver queue is full (the endpoint has been failing)',
      );
    }
    lane.wake?.();
  }

  private async run(lane: Lane): Promise<void> {
    const signal = this.stopping.signal;
    const aborted = new Promise<undefined>((resolve) =>
      signal.addEventListener('abort', () => resolve(undefined), { once: true }),
    );
    const name = lane.receiver.name;
    while (!signal.aborted) {
      const job = lane.queue[0];
      if (!job) {
        await new Promise<void>((resolve) => (lane.wake = resolve));
        lane.wake = undefined;
        continue;
      }
      const wait = lane.bucket.take(this.clock.now());
      if (wait > 0) {
        this.o.count?.(name, 'rate_limited');
        await this.clock.sleep(wait, signal);
        continue;
      }
      job.attempts++;
      let r: SendResult | undefined;
      try {
        // Stopping does not wait for a request in flight (it has its own timeout anyway).
        r = await Promise.race([lane.receiver.send(job.n), aborted]);
      } catch (err) {
        r = { kind: 'Retry' as const, reason: err instanceof Error ? err.message : String(err) };
      }
      if (signal.aborted || !r) return;
      const fields = { receiver: name, key: job.n.alert.key, status: job.n.status, attempt: job.attempts };
      switch (r.kind) {
        case 'Delivered':
          this.o.count?.(name, 'delivered');
          this.done(lane, job);
          break;
        case 'Failed':
          this.o.count?.(name, 'failed');
          this.o.log?.(
            'warn',
            { ...fields, reason: r.reason },
            'notification refused by the receiver; not retried',
          );
          this.done(lane, job);
          break;
        case 'Retry': {
          if (job.attempts >= this.s.retry.maxAttempts) {
            this.o.count?.(name, 'failed');
            this.o.log?.('warn', { ...fields, reason: r.reason }, 'notification given up after its retries');
            this.done(lane, job);
            break;
          }
          this.o.count?.(name, 'retried');
          const ms = backoffMs(job.attempts, this.s.retry, r.retryAfterMs);
          this.o.log?.(
            'warn',
            { ...fields, reason: r.reason, retryInMs: ms },
            'notification failed; retrying with backoff',
          );
          await this.clock.sleep(ms, signal);
          break;
        }
      }
    }
  }

  private done(lane: Lane, job: Job): void {
    const i = lane.queue.indexOf(job);
    if (i >= 0) lane.queue.splice(i, 1);
  }
}
