// What the sizing controller tells notifications after each pass of a policy: the pods it could not
// change as planned (resize Infeasible or Deferred, eviction held by a PodDisruptionBudget). Kept
// here with the time each was first seen in consecutive passes, so "for a long time" is measured.
import type { StuckKind, StuckPod } from './alerts.ts';

export interface StuckReport {
  readonly pod: string;
  readonly kind: StuckKind;
  readonly message: string;
}

/** What the sizing controller calls; it never waits on anything behind it. */
export interface SizingSignals {
  /** After a pass of `policy` (namespace/name): the pods stuck now (empty: none). */
  passed(policy: string, stuck: readonly StuckReport[]): void;
  /** The policy is gone. */
  forget(policy: string): void;
}

/** A stuck pod, and how many passes in a row have not seen it stuck (0 or 1). */
type StuckEntry = StuckPod & { missed: number };

export class StuckPods implements SizingSignals {
  private readonly byPolicy = new Map<string, Map<string, StuckEntry>>();

  /** `now` in seconds since the epoch. */
  constructor(private readonly now: () => number) {}

  passed(policy: string, stuck: readonly StuckReport[]): void {
    const before = this.byPolicy.get(policy);
    const next = new Map<string, StuckEntry>();
    const t = this.now();
    // Bounded by the policy's pods; a pod stuck in two ways is two entries.
    for (const s of stuck.slice(0, 1000)) {
      const k = `${s.kind}/${s.pod}`;
      next.set(k, {
        policy,
        pod: s.pod,
        kind: s.kind,
        since: before?.get(k)?.since ?? t,
        message: s.message,
        missed: 0,
      });
    }
    // One pass without a pod is not enough to call it unstuck: a pass may lack its metrics for a
    // moment and decide nothing about it. Without this the alert would resolve and fire again
    // (a flap, and a second page); the second pass in a row without it ends it.
    for (const [k, e] of before ?? []) if (!next.has(k) && e.missed === 0) next.set(k, { ...e, missed: 1 });
    if (next.size === 0) this.byPolicy.delete(policy);
    else this.byPolicy.set(policy, next);
  }

  forget(policy: string): void {
    this.byPolicy.delete(policy);
  }

  list(): StuckPod[] {
    return [...this.byPolicy.values()].flatMap((m) => [...m.values()].map(({ missed: _, ...pod }) => pod));
  }
}
