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
// Policies name a source (the operator's configuration, prometheus-sources.ts), never a URL. Each
// source has its own reader (queue, timer, client): a slow or dead one delays no other source. A
// source that cannot be read is a state (Unavailable, with the source's name and a reason built from
// the failure's kind: "HTTP 502", "timeout after 30s", never the answer's text) the controller puts on
// the policy as a condition; reads retry with exponential backoff; nothing is thrown.
import type { Logger } from 'pino';
import type * as k8s from '@kubernetes/client-node';
import { RepeatLog } from '../logging/repeat-log.ts';
import type { HistoryGuard } from './history-guard.ts';
import type { UsageHistory, OomRecord, UsageRecord } from '../sources/history.ts';
import {
  PrometheusClient,
  describeFailure,
  failureOf,
  readPrometheusHistory,
} from '../sources/prometheus.ts';
import {
  DEFAULT_SOURCE,
  allowedIn,
  clientOptionsOf,
  resolveSources,
  type PrometheusSource,
  type PrometheusSourceConfig,
} from './prometheus-sources.ts';
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
  /** The operator's sources (--prometheus NAME=URL, --prometheus-config); `default` serves policies naming none. */
  readonly sources?: readonly PrometheusSourceConfig[];
  readonly now: () => number;
  readonly log: Logger;
}

/** What a policy's history from Prometheus is at now. */
export type PrometheusHistoryState =
  | { readonly kind: 'Ready'; readonly source: string }
  | { readonly kind: 'Pending'; readonly source: string; readonly message: string }
  | { readonly kind: 'Unavailable'; readonly source: string; readonly message: string }
  /** The policy names no source and the operator has no `default`. */
  | { readonly kind: 'NoSource'; readonly message: string }
  /** The policy names a source the operator does not have. */
  | { readonly kind: 'UnknownSource'; readonly message: string };

/** The RecommendationsAvailable reason of a state that is not Ready. */
export function prometheusReason(kind: Exclude<PrometheusHistoryState['kind'], 'Ready'>): string {
  switch (kind) {
    case 'Pending':
      return 'ReadingPrometheus';
    case 'Unavailable':
      return 'PrometheusUnavailable';
    case 'NoSource':
      return 'NoPrometheusSource';
    case 'UnknownSource':
      return 'UnknownPrometheusSource';
  }
}

interface Target {
  readonly source: string;
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
  private readonly readers = new Map<string, SourceReader>();
  private readonly listeners = new Set<(namespaces: ReadonlySet<string>) => void>();

  /** Throws InvalidInput for a bad source (name, URL, files): the operator does not start. */
  constructor(o: PrometheusFeedOptions) {
    const notify = (nss: ReadonlySet<string>) => {
      for (const fn of this.listeners) fn(nss);
    };
    for (const source of resolveSources(o.sources ?? [])) {
      this.readers.set(source.name, new SourceReader(source, o, notify));
    }
  }

  /** The configured source names, sorted. */
  get sources(): string[] {
    return [...this.readers.keys()].sort();
  }

  start(): void {
    for (const r of this.readers.values()) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.readers.values()].map((r) => r.stop()));
  }

  /** Called after each read (or failed read) with the namespaces it was for. */
  onUpdate(fn: (namespaces: ReadonlySet<string>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * A policy in `namespace` reads its history from the source named `source` (left out: the
   * `default` source) over `windowSeconds`: starts reading it if new (or re-reads a longer
   * window), and says where that stands.
   */
  want(source: string | undefined, namespace: string, windowSeconds: number): PrometheusHistoryState {
    // Only the names this namespace may read: another team's source is not even named to it.
    const usable = [...this.readers.values()]
      .filter((r) => allowedIn(r.source, namespace))
      .sort((a, b) => a.source.name.localeCompare(b.source.name));
    const list = usable.length > 0 ? usable.map((r) => `'${r.source.name}'`).join(', ') : 'none';
    const name = source ?? DEFAULT_SOURCE;
    const r = this.readers.get(name);
    if (r && allowedIn(r.source, namespace)) return r.want(namespace, windowSeconds);
    if (source === undefined) {
      return {
        kind: 'NoSource',
        message:
          `history.source is Prometheus, but the policy names no history.prometheus and the operator has no ` +
          `'${DEFAULT_SOURCE}' source for this namespace; set history.prometheus to one of the operator's sources (${list})`,
      };
    }
    const withDefault = usable.some((u) => u.source.name === DEFAULT_SOURCE);
    return {
      kind: 'UnknownSource',
      message:
        `history.prometheus '${source}' is not one of the operator's Prometheus sources for this namespace (${list}); ` +
        `name one of them` +
        (withDefault ? `, or leave history.prometheus out for '${DEFAULT_SOURCE}'` : ''),
    };
  }
}

/**
 * One source's reads: its own targets, timer and client, so a source that answers slowly (or not at
 * all, until its timeout) holds up only the policies that name it.
 */
class SourceReader {
  private readonly targets = new Map<string, Target>();
  private readonly client: PrometheusClient;
  private readonly intervalSeconds: number;
  private readonly step: number;
  private readonly abort = new AbortController();
  /** A source down for an hour is a line per few minutes with a count, not one per retry. */
  private readonly failures: RepeatLog;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(
    readonly source: PrometheusSource,
    private readonly o: PrometheusFeedOptions,
    private readonly notify: (namespaces: ReadonlySet<string>) => void,
  ) {
    this.intervalSeconds = (o.intervalMs ?? 60_000) / 1000;
    this.step = o.stepSeconds ?? 60;
    this.failures = new RepeatLog(o.log);
    this.client = new PrometheusClient({
      ...clientOptionsOf(source),
      signal: this.abort.signal,
      ...(o.fetch ? { fetch: o.fetch } : {}),
    });
  }

  start(): void {
    this.started = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A read in flight ends now rather than at its timeout.
    this.abort.abort();
    await this.running;
  }

  want(namespace: string, windowSeconds: number): PrometheusHistoryState {
    const now = this.o.now();
    let t = this.targets.get(namespace);
    if (!t) {
      t = {
        source: this.source.name,
        namespace,
        windowSeconds,
        readThrough: undefined,
        failures: 0,
        nextAttemptAt: now,
        lastError: undefined,
        wantedAt: now,
      };
      this.targets.set(namespace, t);
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
        .catch((err: unknown) =>
          this.failures.failed('tick', err, 'Prometheus history read failed', {
            prometheus: this.source.name,
          }),
        )
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
   * Reads every due namespace. Namespaces share the queries: the first reads of the same window
   * together, and the incremental reads together from the earliest point any of them has reached
   * (a minute read twice keeps its peaks: the store keeps the higher value).
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
      const g = t.readThrough === undefined ? `window ${t.windowSeconds}` : 'since';
      groups.set(g, [...(groups.get(g) ?? []), t]);
    }
    for (const targets of groups.values()) {
      if (this.stopped) return;
      await this.read(targets);
    }
  }

  private async read(targets: readonly Target[]): Promise<void> {
    const first = targets[0]!;
    const end = this.o.now();
    // The first step's window, (start - step, start], begins where the last read ended.
    const start =
      first.readThrough === undefined
        ? end - first.windowSeconds
        : Math.min(...targets.map((t) => t.readThrough ?? end)) + this.step;
    const nss = new Set(targets.map((t) => t.namespace));
    try {
      const workloadOf = await this.podMapper(nss);
      let points = 0;
      const result = await readPrometheusHistory(this.client, {
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
      this.failures.succeeded(`read ${[...nss].sort().join(',')}`, 'Prometheus history read works again', {
        prometheus: this.source.name,
      });
      for (const t of targets) {
        if (t.readThrough === undefined)
          this.o.log.info(
            {
              prometheus: this.source.name,
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
      if (this.stopped) return;
      const now = this.o.now();
      // The status gets the failure's kind only ("HTTP 502", "timeout after 30s"): whatever the
      // server wrote stays in the log.
      const f = failureOf(err);
      const reason = f ? describeFailure(f) : 'read failed (see the operator log)';
      for (const t of targets) {
        t.failures++;
        const delayMs = Math.min(
          (this.o.retryBaseMs ?? 5000) * 2 ** (t.failures - 1),
          this.o.retryMaxMs ?? 5 * 60_000,
        );
        t.lastError = reason;
        t.nextAttemptAt = now + delayMs / 1000;
      }
      this.failures.failed(
        `read ${[...nss].sort().join(',')}`,
        err,
        'Prometheus history read failed; retrying with backoff',
        {
          prometheus: this.source.name,
          url: this.source.url,
          namespaces: [...nss],
          failures: first.failures,
        },
      );
    }
    this.notify(nss);
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
      source: t.source,
      message:
        `Prometheus source '${t.source}' unavailable: ${t.lastError}; retrying in ${retry}s ` +
        `(${t.failures} failed read${t.failures === 1 ? '' : 's'}). No recommendation is applied until it answers.`,
    };
  }
  if (t.readThrough === undefined) {
    return {
      kind: 'Pending',
      source: t.source,
      message: `reading ${Math.round(t.windowSeconds / 3600)}h of usage history from Prometheus source '${t.source}'`,
    };
  }
  return { kind: 'Ready', source: t.source };
}
