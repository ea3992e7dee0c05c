// Whether a pod's requests and limits may go down now (the planner's ShrinkGate), and how a hold
// shows on the policy: a shrink needs a working history store, a "used now" younger than three
// polls for every container it sizes, and a history spanning min(window, 24 h). Raises never wait.
// Why: docs/decisions/0004-holding-still.md.
import type { ShrinkGate, ShrinkHoldReason } from '../../core/resize/index.ts';
import { historyUnavailableMessage, type HistoryHealth } from '../../operator/history-guard.ts';
import type { LatestSample } from '../../operator/usage-collector.ts';
import type { WantedCondition } from './status.ts';

/** A "used now" sample older than this many poll intervals is stale: no shrink stands on it. */
export const STALE_AFTER_POLLS = 3;

/** The most history a shrink waits for, whatever the window: one daily cycle. */
export const MAX_REQUIRED_SPAN_SECONDS = 86_400;

/** The span a series must cover before its container is shrunk: min(window, 24 h), unless the operator says otherwise. */
export function requiredSpanSeconds(windowSeconds: number, override?: number): number {
  return override ?? Math.min(windowSeconds, MAX_REQUIRED_SPAN_SECONDS);
}

/** One container the planner may size: its latest sample and how long its history is known to span. */
export interface GatedContainer {
  readonly name: string;
  /** Undefined: metrics.k8s.io has not reported it. */
  readonly latest: LatestSample | undefined;
  /**
   * Seconds of history behind its recommendation, within the window. The store's own span today; a
   * source that knows the series for longer (a durable checkpoint after a lost disk) passes the
   * larger of the two.
   */
  readonly spanSeconds: number;
}

export interface GateInput {
  readonly store: HistoryHealth;
  /** Seconds since the epoch. */
  readonly now: number;
  readonly pollIntervalSeconds: number;
  readonly requiredSpanSeconds: number;
  /** The containers that have a recommendation (the only ones the planner could lower). */
  readonly containers: readonly GatedContainer[];
}

/** The gate for one pod: the first of HistoryUnavailable, StaleUsage, ShortHistory that holds, else Allowed. */
export function shrinkGate(i: GateInput): ShrinkGate {
  if (i.store.kind === 'Failing')
    return { kind: 'Held', reason: 'HistoryUnavailable', message: historyUnavailableMessage(i.store) };
  const staleAfter = STALE_AFTER_POLLS * i.pollIntervalSeconds;
  for (const c of i.containers) {
    if (!c.latest)
      return held(
        'StaleUsage',
        `container ${c.name} has no usage sample from metrics.k8s.io: its memory in use is unknown`,
      );
    const age = i.now - c.latest.t;
    if (age > staleAfter)
      return held(
        'StaleUsage',
        `the latest usage sample of container ${c.name} is ${Math.round(age)}s old ` +
          `(stale after ${STALE_AFTER_POLLS} polls, ${Math.round(staleAfter)}s): metrics.k8s.io may be down`,
      );
  }
  return spanGate(i.containers, i.requiredSpanSeconds);
}

/** The history-span half of the gate alone: every container's history spans at least `required` seconds. */
export function spanGate(
  containers: readonly Pick<GatedContainer, 'name' | 'spanSeconds'>[],
  required: number,
): ShrinkGate {
  for (const c of containers) {
    if (c.spanSeconds < required)
      return held(
        'ShortHistory',
        `the usage history of container ${c.name} spans ${span(c.spanSeconds)} of the ${span(required)} a shrink needs`,
      );
  }
  return { kind: 'Allowed' };
}

function held(reason: ShrinkHoldReason, message: string): ShrinkGate {
  return { kind: 'Held', reason, message };
}

function span(seconds: number): string {
  if (seconds >= 2 * 86_400) return `${(seconds / 86_400).toFixed(1)} d`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.floor(seconds / 60)} min`;
}

/**
 * The policy's conditions with a failing store said on Ready (False, HistoryUnavailable), and other
 * holds named on a Ready=True message by reason only (a message that changed every pass would be a
 * status write every pass).
 */
export function withHolds(
  conditions: readonly WantedCondition[],
  store: HistoryHealth,
  gates: readonly ShrinkGate[],
): WantedCondition[] {
  return conditions.map((c) => {
    if (c.type !== 'Ready') return c;
    if (store.kind === 'Failing')
      return {
        ...c,
        status: 'False',
        reason: 'HistoryUnavailable',
        message: historyUnavailableMessage(store),
      };
    if (c.status !== 'True') return c;
    const reasons = new Map<ShrinkHoldReason, number>();
    for (const g of gates) if (g.kind === 'Held') reasons.set(g.reason, (reasons.get(g.reason) ?? 0) + 1);
    if (reasons.size === 0) return c;
    const said = [...reasons].map(([r, n]) => `${n} pod${n === 1 ? '' : 's'} ${holdWords(r)}`).join(', ');
    return { ...c, message: `${c.message}; shrinks held (raises still go out): ${said}` };
  });
}

function holdWords(r: ShrinkHoldReason): string {
  switch (r) {
    case 'StaleUsage':
      return 'without a recent usage sample (StaleUsage)';
    case 'ShortHistory':
      return 'with a history shorter than min(window, 24 h) (ShortHistory)';
    case 'HistoryUnavailable':
      return 'whose history cannot be read (HistoryUnavailable)';
  }
}
