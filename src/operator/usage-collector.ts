// Polls metrics.k8s.io every interval into the usage history (SQLite), per workload and container,
// and keeps each live pod's latest sample in memory: the "used now" floor under any memory change,
// and the way to tell a pod with metrics from one without.
import type { Logger } from 'pino';
import type * as k8s from '@kubernetes/client-node';
import { MetricsPoller, type ContainerSample } from '../sources/metrics-api.ts';
import type { Scope } from '../sources/scope.ts';
import type { WorkloadRef } from '../sources/workloads.ts';
import type { SharedWatch } from '../kube/shared-watch.ts';
import { describe } from '../errors.ts';
import { RepeatLog } from '../logging/repeat-log.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { HistoryGuard } from './history-guard.ts';
import type { UsageRecord } from '../sources/history.ts';

export interface LatestSample {
  readonly t: number;
  readonly cpuCores: number;
  readonly memoryBytes: number;
}

export interface UsageCollectorOptions {
  readonly custom: k8s.CustomObjectsApi;
  readonly scope: Scope;
  /** The usage history, through the guard that catches and counts its failures. */
  readonly history: HistoryGuard;
  readonly pods: SharedWatch<k8s.V1Pod>;
  readonly resolve: (pod: k8s.V1Pod) => Promise<WorkloadRef>;
  readonly intervalMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: OperatorMetrics;
}

export class UsageCollector {
  private readonly latest = new Map<string, Map<string, LatestSample>>();
  private readonly listeners = new Set<(namespaces: ReadonlySet<string>) => void>();
  private readonly poller: MetricsPoller;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** A poll failing every interval (metrics-server down) is one line per few minutes, not per poll. */
  private readonly failures: RepeatLog;

  constructor(private readonly o: UsageCollectorOptions) {
    this.poller = new MetricsPoller(o.custom, o.scope, o.now);
    this.failures = new RepeatLog(o.log);
  }

  /** How often metrics.k8s.io is polled: a sample older than a few of these is stale. */
  get intervalMs(): number {
    return this.o.intervalMs;
  }

  /** Polls at once, then every interval (again after a stop). */
  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.pollOnce()
        .catch((err: unknown) => {
          // pollOnce handles what it expects (the API, the store); anything else is logged, not
          // thrown into the timer, and the next poll runs as usual.
          this.o.metrics.polls.inc({ result: 'error' });
          this.failures.failed(
            'unexpected',
            err,
            'metrics poll failed unexpectedly; next poll retries',
            {},
            'error',
          );
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.o.intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Called after each poll with the namespaces that had new samples. */
  onSamples(fn: (namespaces: ReadonlySet<string>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The pod's latest sample per container; undefined: metrics.k8s.io has not reported it. */
  latestOf(namespace: string, pod: string): ReadonlyMap<string, LatestSample> | undefined {
    return this.latest.get(`${namespace}/${pod}`);
  }

  forgetPod(namespace: string, pod: string): void {
    this.latest.delete(`${namespace}/${pod}`);
  }

  async pollOnce(): Promise<void> {
    let samples: ContainerSample[];
    try {
      samples = await this.poller.poll();
      this.o.metrics.polls.inc({ result: 'ok' });
      this.failures.succeeded('poll', 'metrics.k8s.io poll works again');
    } catch (err) {
      this.o.metrics.polls.inc({ result: 'error' });
      this.failures.failed('poll', err, 'metrics.k8s.io poll failed; next poll retries');
      return;
    }
    const records: UsageRecord[] = [];
    const touched = new Set<string>();
    for (const s of samples) {
      // A working set of zero is a container not running yet (or just restarted), not its usage:
      // taken as usage it would size memory to nothing.
      if (!(s.memoryBytes > 0)) continue;
      const pod = this.o.pods.get(s.pod, s.namespace);
      // A pod not in the cache yet (or gone) cannot be mapped to its workload; the next poll has it.
      if (!pod) continue;
      let workload: WorkloadRef;
      try {
        workload = await this.o.resolve(pod);
      } catch (err) {
        this.o.log.debug({ err: describe(err), pod: `${s.namespace}/${s.pod}` }, 'workload not resolved');
        continue;
      }
      records.push({ ...s, workload });
      const key = `${s.namespace}/${s.pod}`;
      let mine = this.latest.get(key);
      if (!mine) this.latest.set(key, (mine = new Map<string, LatestSample>()));
      mine.set(s.container, { t: s.t, cpuCores: s.cpuCores, memoryBytes: s.memoryBytes });
      touched.add(s.namespace);
    }
    // A store that fails is caught, counted and remembered by the guard (the sizing controller then
    // holds every shrink); the samples above are still the pods' "used now", and the listeners are
    // still told, so the policies show the failure and OOM raises keep their fresh floor.
    const h = this.o.history;
    h.retryPending();
    h.run('record', (s) => s.record(records));
    h.run('maintain', (s) => s.maintain(this.o.now()));
    if (touched.size > 0) for (const fn of this.listeners) fn(touched);
  }
}
