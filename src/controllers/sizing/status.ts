// The SizingPolicy status the controller wants, built from what one pass found, and whether it
// differs from the stored one: status is only written when something a reader would see changed.
import type { Condition, ContainerRecommendation, SizingPolicyStatus } from '../../api/index.ts';
import { parseQuantity } from '../../core/quantity.ts';
import { apiTime } from '../../kube/time.ts';

export type ConditionType =
  'Ready' | 'TargetFound' | 'RecommendationsAvailable' | 'Conflict' | 'HPAConflict' | 'EvictionsBlocked';

/** A condition as a controller wants it; `T` the controller's closed set of types (sizing's by default). */
export interface WantedCondition<T extends string = ConditionType> {
  readonly type: T;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
 * Conditions as metav1 wants them: lastTransitionTime moves only when the status flips, so a reason
 * or message update is not a transition (and `kubectl wait` sees the real one).
 */
export function mergeConditions<T extends string>(
  previous: readonly Condition[] | undefined,
  wanted: readonly WantedCondition<T>[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  return wanted.map((w) => {
    const prev = previous?.find((c) => c.type === w.type);
    const lastTransitionTime = prev && prev.status === w.status ? prev.lastTransitionTime : apiTime(now);
    return {
      type: w.type,
      status: w.status,
      reason: w.reason,
      message: w.message.slice(0, 32_768),
      lastTransitionTime,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

/**
 * Keeps the stored recommendation of a container whose every value moved by less than `tolerance`
 * (relative): a young history's margin fades a little on each pass, and rewriting status for that
 * would be one write per policy per poll for nothing.
 */
export function settleRecommendations(
  previous: readonly ContainerRecommendation[] | undefined,
  next: readonly ContainerRecommendation[],
  tolerance: number,
): ContainerRecommendation[] {
  return next.map((n) => {
    const p = previous?.find((x) => x.name === n.name);
    if (!p) return n;
    const close = (
      a: Record<string, string | number> | undefined,
      b: Record<string, string | number> | undefined,
    ) => {
      const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
      for (const k of keys) {
        const x = parseQuantity(a?.[k]);
        const y = parseQuantity(b?.[k]);
        if (x === undefined || y === undefined || !relativelyClose(x, y, tolerance)) return false;
      }
      return true;
    };
    const sameShape =
      (n.uncappedTarget === undefined) === (p.uncappedTarget === undefined) &&
      (n.peak === undefined) === (p.peak === undefined);
    // A higher peak is a floor for new pods: written at once, not held back by the tolerance.
    const peakRose = (parseQuantity(n.peak?.memory) ?? 0) > (parseQuantity(p.peak?.memory) ?? 0);
    return sameShape &&
      !peakRose &&
      close(p.peak, n.peak) &&
      close(p.target, n.target) &&
      close(p.lowerBound, n.lowerBound) &&
      close(p.upperBound, n.upperBound) &&
      close(p.uncappedTarget, n.uncappedTarget)
      ? withNotApplied(
          { ...p, ...(n.basis !== undefined ? { basis: basisKept(p.basis, n.basis) } : {}) },
          n.notApplied,
        )
      : n;
  });
}

/** notApplied is what the new pass says (an HPA may have come or gone), whatever the numbers did. */
function withNotApplied(r: ContainerRecommendation, notApplied: string | undefined): ContainerRecommendation {
  const rest = { ...r };
  delete rest.notApplied;
  return notApplied !== undefined ? { ...rest, notApplied } : rest;
}

type Savings = NonNullable<SizingPolicyStatus['estimatedMonthlySavings']>;

/**
 * Keeps the stored savings estimate while the new one is within `tolerance` (relative) of it, cost
 * and CO2e alike, in the same currency: the estimate follows the recommendations, which move a
 * little with every minute of usage, and at 2,000 policies a rewrite for a cent was most of the
 * operator's status writes. A sign change, or an estimate that appears or goes, is written at once.
 */
export function settleSavings(
  previous: Savings | undefined,
  next: Savings | undefined,
  tolerance: number,
): Savings | undefined {
  if (!previous || !next || previous.currency !== next.currency) return next;
  const close = (a: string | undefined, b: string | undefined) => {
    if (a === undefined || b === undefined) return a === b;
    const x = Number(a);
    const y = Number(b);
    if (!Number.isFinite(x) || !Number.isFinite(y) || Math.sign(x) !== Math.sign(y)) return a === b;
    return relativelyClose(x, y, tolerance);
  };
  return close(previous.cost, next.cost) && close(previous.co2eKg, next.co2eKg) ? previous : next;
}

/** x and y differ by at most `tolerance` of the larger magnitude (two zeros are close). */
function relativelyClose(x: number, y: number, tolerance: number): boolean {
  const scale = Math.max(Math.abs(x), Math.abs(y));
  return scale === 0 || Math.abs(x - y) / scale <= tolerance;
}

/** The basis text changes with every sample; only its first words (the kind of data) matter for a rewrite. */
function basisKept(previous: string | undefined, next: string): string {
  return previous !== undefined && kindOfBasis(previous) === kindOfBasis(next) ? previous : next;
}

function kindOfBasis(b: string): string {
  return b.replace(/[0-9.,]+/g, '#');
}

/** True when the two statuses differ in anything but key order. */
export function statusChanged(stored: SizingPolicyStatus | undefined, wanted: SizingPolicyStatus): boolean {
  return canonical(stored ?? {}) !== canonical(wanted);
}

function canonical(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v instanceof Date ? apiTime(v) : v;
}
