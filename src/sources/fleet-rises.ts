// The fleet signal as the operator sees it (core/recommend/fleet-surge.ts): each series' memory
// rises, kept per namespace for as long as a surge can still matter. A namespace is one tenant, and
// tenants are hostile to each other: a workload's surge warns only the workloads of its own
// namespace, so no tenant can inflate another's requests by spiking its own usage.
//
// In memory only. After a restart the detectors start over: a series needs the signal's minimum
// history again before its rises count. The signal only ever raises a recommendation, so losing it
// for an hour sizes on each workload's own history, as before the signal existed.
import {
  createRiseDetector,
  observeRise,
  type FleetSurgeOptions,
  type FleetView,
  type Rise,
  type RiseDetector,
} from '../core/recommend/fleet-surge.ts';

export interface RiseSample {
  readonly namespace: string;
  /** The series, unique in the store (workload and container). */
  readonly series: string;
  readonly t: number;
  readonly memoryBytes: number;
}

interface Detector extends RiseDetector {
  lastT: number;
}

export class FleetRises {
  private readonly detectors = new Map<string, Detector>();
  /** Per namespace: rises, time-ordered, none older than `keepSeconds` before the latest sample. */
  private readonly rises = new Map<string, Rise[]>();
  private readonly keepSeconds: number;

  constructor(readonly options: FleetSurgeOptions) {
    this.keepSeconds = options.windowSeconds + options.holdSeconds;
  }

  /** Whether the signal is on at all (CPU and GPU have none). */
  get enabled(): boolean {
    return Number.isFinite(this.options.minPods) && Number.isFinite(this.options.riseFraction);
  }

  /**
   * Feeds samples (any order within the batch; a sample older than its series' last one is skipped,
   * as a backfill of old minutes says nothing of a surge now).
   */
  observe(samples: readonly RiseSample[]): void {
    if (!this.enabled || samples.length === 0) return;
    const sorted = [...samples].sort((a, b) => a.t - b.t);
    const touched = new Set<string>();
    for (const s of sorted) {
      if (!Number.isFinite(s.t) || !(s.memoryBytes > 0)) continue;
      let d = this.detectors.get(s.series);
      if (!d) this.detectors.set(s.series, (d = { ...createRiseDetector(), lastT: -Infinity }));
      if (s.t < d.lastT) continue;
      d.lastT = s.t;
      const rise = observeRise(d, s.series, { t: s.t, value: s.memoryBytes }, this.options);
      if (!rise) continue;
      let list = this.rises.get(s.namespace);
      if (!list) this.rises.set(s.namespace, (list = []));
      list.push(rise);
      touched.add(s.namespace);
    }
    for (const ns of touched) {
      const list = this.rises.get(ns)!;
      list.sort((a, b) => a.t - b.t);
      const from = list[list.length - 1]!.t - this.keepSeconds;
      const first = list.findIndex((r) => r.t > from);
      if (first > 0) list.splice(0, first);
    }
  }

  /** What one series is told of its namespace's fleet. */
  viewOf(namespace: string, series: string): FleetView {
    return { pod: series, rises: this.rises.get(namespace) ?? [] };
  }

  /** Forgets series without a sample since `before` (their workloads went), and rises too old to matter. */
  forget(before: number, now: number): void {
    for (const [k, d] of this.detectors) if (d.lastT < before) this.detectors.delete(k);
    for (const [ns, list] of this.rises) {
      const kept = list.filter((r) => r.t > now - this.keepSeconds);
      if (kept.length === 0) this.rises.delete(ns);
      else this.rises.set(ns, kept);
    }
  }

  /** Series with a detector (for tests and the footprint). */
  get size(): number {
    return this.detectors.size;
  }
}
