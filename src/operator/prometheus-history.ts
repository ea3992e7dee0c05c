// Usage history from Prometheus for the policies with `history.source: Prometheus`: when a
// (Prometheus, namespace) pair is first wanted, the policy's whole window is read at once (weeks, as
// VPA's and KRR's Prometheus modes do at start-up) into the same UsageHistory the metrics.k8s.io
// poll fills, then only the steps since the last read, every interval.
//
// Why read Prometheus incrementally rather than rely on the metrics.k8s.io poll after the backfill:
// a cluster may have Prometheus and no metrics-server, and the minutes must keep coming either way.
// The poll still runs for every pod (it is the planner's "used now", and the same working set and
// CPU): a minute seen by both keeps the higher value of each, which is the same measurement.
//
// A Prometheus that cannot be read is a state (Unavailable, with the URL and error) the controller
// puts on the policy as a condition; reads retry with exponential backoff; nothing is thrown.
import type { Logger } from 'pino';
import type * as k8s from '@kubernetes/client-node';
import { describe } from '../errors.ts';
import type { HistoryGuard } from './history-guard.ts';
import type { UsageHistory, OomRecord, UsageRecord } from '../sources/history.ts';
import { PrometheusClient, readPrometheusHistory } from '../sources/prometheus.ts';
import { namespaces as scopeOf } from '../sources/scope.ts';
import { inferWorkloadFromPodName, workloadKey, type WorkloadRef } from '../sources/workloads.ts';

export interface PrometheusFeedSettings {
  /** How often the steps since the last read are read. Default 60 s. */
  readonly intervalMs?: number;
  /** Step of the range queries (one point per container per step). Default 60 s: the store keeps minutes. */
  readonly stepSeconds?: number;
  /** CPU rate window; at least two scrapes must fall in it. Default max(60 s, step). */
  readonly rateWindowSeconds?: number;
  /** First retry after a failed read; doubles up to retryMaxMs. Default 5 s and 5 min. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Per request. Default 60 s. */
  readonly timeoutMs?: number;
  /** Tests: a fake Prometheus. */
  readonly fetch?: typeof fetch;
}

export interface PrometheusFeedOptions extends PrometheusFeedSettings {
  readonly history: UsageHistory;
  /** When given, writes go through it: a store failure is counted and holds shrinks (the read is retried). */
  readonly guard?: HistoryGuard;
  /** The live pods (the pod cache), to map Prometheus series to workloads. */
  readonly pods: () => readonly k8s.V1Pod[];
  readonly resolve: (pod: k8s.V1Pod) => Promise<WorkloadRef>;
  /** For policies without history.prometheusURL (the operator's --prometheus-url). */
  readonly defaultUrl?: string | undefined;
  readonly now: () => number;
  readonly log: Logger;
}

/** What a policy's history from Prometheus is at now. */
export type PrometheusHistoryState =
  | { readonly kind: 'Ready'; readonly url: string }
  | { readonly kind: 'Pending'; readonly url: string; readonly message: string }
  | { readonly kind: 'Unavailable'; readonly url: string; readonly message: string }
  | { readonly kind: 'NoURL'; readonly message: string };

interface Target {
  readonly url: string;
  readonly namespace: string;
  windowSeconds: number;
  /** End of the last successful read; undefined until the window has been read once. */
  readThrough: number | undefined;
  failures: number;
  nextAttemptAt: number;
  lastError: string | undefined;
  wantedAt: number;
}

/** A pair no policy has asked about for this long is dropped (policy deleted or moved to MetricsServer). */
const FORGET_AFTER_SECONDS = 30 * 60;

export class PrometheusFeed {
  private readonly targets = new Map<string, Target>();
  private readonly clients = new Map<string, PrometheusClient>();
  private readonly listeners = new Set<(namespaces: ReadonlySet<string>) => void>();
  private readonly intervalSeconds: number;
  private readonly step: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly o: PrometheusFeedOptions) {
    this.intervalSeconds = (o.intervalMs ?? 60_000) / 1000;
    this.step = o.stepSeconds ?? 60;
  }

  start(): void {
    this.started = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Called after each read (or failed read) with the namespaces it was for. */
  onUpdate(fn: (namespaces: ReadonlySet<string>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * A policy in `namespace` reads its history from `url` (else the default URL) over `windowSeconds`:
   * starts reading it if new (or re-reads a longer window), and says where that stands.
   */
  want(url: string | undefined, namespace: string, windowSeconds: number): PrometheusHistoryState {
    const base = url ?? this.o.defaultUrl;
    if (!base) {
      return {
        kind: 'NoURL',
        message:
          'history.source is Prometheus, but the policy has no history.prometheusURL and the operator no --prometheus-url',
      };
    }
    const now = this.o.now();
    const key = `${base} ${namespace}`;
    let t = this.targets.get(key);
    if (!t) {
      t = {
        url: base,
        namespace,
        windowSeconds,
        readThrough: undefined,
        failures: 0,
        nextAttemptAt: now,
        lastError: undefined,
        wantedAt: now,
      };
      this.targets.set(key, t);
      this.schedule(0);
    } else if (windowSeconds > t.windowSeconds) {
      // A longer window: read it whole again (minutes already stored merge, keeping the higher value).
      t.windowSeconds = windowSeconds;
      t.readThrough = undefined;
      this.schedule(0);
    }
    t.wantedAt = now;
    return stateOf(t, now);
  }

  private schedule(ms: number): void {
    if (!this.started || this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick()
        .catch((err: unknown) => this.o.log.warn({ err: describe(err) }, 'Prometheus history read failed'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.nextDelayMs());
        });
    }, ms);
  }

  private nextDelayMs(): number {
    const now = this.o.now();
    let next = now + this.intervalSeconds;
    for (const t of this.targets.values()) {
      const due =
        t.readThrough === undefined || t.lastError !== undefined
          ? t.nextAttemptAt
          : Math.max(t.nextAttemptAt, t.readThrough + Math.max(this.intervalSeconds, this.step));
      next = Math.min(next, due);
    }
    return Math.max(100, (next - now) * 1000);
  }

  /**
   * Reads every due pair. Pairs at the same URL share the queries: the first reads of the same
   * window together, and the incremental reads together from the earliest point any of them has
   * reached (a minute read twice keeps its peaks: the store keeps the higher value).
   */
  private async tick(): Promise<void> {
    const now = this.o.now();
    const groups = new Map<string, Target[]>();
    for (const [key, t] of this.targets) {
      if (now - t.wantedAt > FORGET_AFTER_SECONDS) {
        this.targets.delete(key);
        continue;
      }
      if (t.nextAttemptAt > now) continue;
      if (t.readThrough !== undefined && t.lastError === undefined) {
        if (now - t.readThrough < Math.max(this.intervalSeconds, this.step)) continue;
      }
      const phase = t.readThrough === undefined ? `window ${t.windowSeconds}` : 'since';
      const g = `${t.url} ${phase}`;
      groups.set(g, [...(groups.get(g) ?? []), t]);
    }
    for (const targets of groups.values()) {
      if (this.stopped) return;
      await this.read(targets);
    }
  }

  private async read(targets: readonly Target[]): Promise<void> {
    const first = targets[0]!;
    const url = first.url;
    const end = this.o.now();
    // The first step's window, (start - step, start], begins where the last read ended.
    const start =
      first.readThrough === undefined
        ? end - first.windowSeconds
        : Math.min(...targets.map((t) => t.readThrough ?? end)) + this.step;
    const nss = new Set(targets.map((t) => t.namespace));
    try {
      const workloadOf = await this.podMapper(nss);
      let client = this.clients.get(url);
      if (!client) {
        client = new PrometheusClient({
          baseUrl: url,
          timeoutMs: this.o.timeoutMs ?? 60_000,
          ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
        });
        this.clients.set(url, client);
      }
      let points = 0;
      const result = await readPrometheusHistory(client, {
        scope: scopeOf(...nss),
        start,
        end,
        stepSeconds: this.step,
        rateWindowSeconds: this.o.rateWindowSeconds ?? Math.max(60, this.step),
        onChunk: (chunk, ooms) => {
          const records: UsageRecord[] = [];
          for (const p of chunk) {
            const workload = workloadOf(p.namespace, p.pod);
            if (workload) records.push({ ...p, workload });
          }
          points += records.length;
          const kills: OomRecord[] = [];
          for (const e of ooms) {
            const workload = workloadOf(e.namespace, e.pod);
            if (workload) kills.push({ ...e, workload });
          }
          this.write((h) => {
            h.record(records);
            // The pod status may have shown the same kill already, a step apart: one kill, not two.
            h.recordOoms(kills, 90);
          });
        },
      });
      for (const t of targets) {
        if (t.readThrough === undefined)
          this.o.log.info(
            {
              prometheus: url,
              namespace: t.namespace,
              windowSeconds: t.windowSeconds,
              points,
              ooms: result.ooms,
            },
            'usage history read from Prometheus',
          );
        t.readThrough = end;
        t.failures = 0;
        t.lastError = undefined;
        t.nextAttemptAt = end;
      }
    } catch (err) {
      const now = this.o.now();
      for (const t of targets) {
        t.failures++;
        const delayMs = Math.min(
          (this.o.retryBaseMs ?? 5000) * 2 ** (t.failures - 1),
          this.o.retryMaxMs ?? 5 * 60_000,
        );
        // The message only: the error's hint speaks of the CLI's flag.
        const m = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
        t.lastError = m.includes(url) ? m : `Prometheus at ${url}: ${m}`;
        t.nextAttemptAt = now + delayMs / 1000;
      }
      this.o.log.warn(
        { prometheus: url, namespaces: [...nss], err: describe(err), failures: first.failures },
        'Prometheus history read failed; retrying with backoff',
      );
    }
    for (const fn of this.listeners) fn(nss);
  }

  /** One write into the store; a failure (counted by the guard) fails this read, which is retried. */
  private write(fn: (h: UsageHistory) => void): void {
    if (!this.o.guard) return fn(this.o.history);
    const r = this.o.guard.run('prometheus', fn);
    if (!r.ok) throw new Error(`the usage history store fails: ${r.error}`);
  }

  /** Maps (namespace, pod) to its workload: live pods exactly, gone ones by the shape of their name. */
  private async podMapper(
    nss: ReadonlySet<string>,
  ): Promise<(namespace: string, pod: string) => WorkloadRef | undefined> {
    const byPod = new Map<string, WorkloadRef>();
    const known = new Map<string, WorkloadRef>();
    for (const pod of this.o.pods()) {
      const ns = pod.metadata?.namespace ?? '';
      if (!nss.has(ns)) continue;
      try {
        const w = await this.o.resolve(pod);
        byPod.set(`${ns}/${pod.metadata?.name}`, w);
        known.set(workloadKey(w), w);
      } catch {
        // an owner that cannot be read now: its pods are matched by name below, or next time
      }
    }
    const workloads = [...known.values()];
    return (namespace, pod) =>
      byPod.get(`${namespace}/${pod}`) ?? inferWorkloadFromPodName(namespace, pod, workloads);
  }
}

function stateOf(t: Target, now: number): PrometheusHistoryState {
  if (t.lastError !== undefined) {
    const retry = Math.max(0, Math.round(t.nextAttemptAt - now));
    return {
      kind: 'Unavailable',
      url: t.url,
      message:
        `history from Prometheus unavailable: ${t.lastError}; retrying in ${retry}s ` +
        `(${t.failures} failed read${t.failures === 1 ? '' : 's'}). No recommendation is applied until it answers.`,
    };
  }
  if (t.readThrough === undefined) {
    return {
      kind: 'Pending',
      url: t.url,
      message: `reading ${Math.round(t.windowSeconds / 3600)}h of usage history from Prometheus at ${t.url}`,
    };
  }
  return { kind: 'Ready', url: t.url };
}
