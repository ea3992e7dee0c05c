// The TenantBudget status a pass wants, from the report's figures and the core's verdict: figures as
// strings, the recommendations to apply, the conditions, and whether this pass is a crossing (the
// forecast went over a cap since the last status said otherwise): the controller tells that once.
import type { Opportunity } from '../../core/report/model.ts';
import type { BudgetState, TenantBudget, TenantBudgetStatus } from '../../api/index.ts';
import type { BudgetVerdict, Caps, Money } from '../../core/budget/index.ts';
import { formatBytes, formatCpu } from '../../core/quantity.ts';
import { apiTime } from '../../kube/time.ts';
import { mergeConditions, type WantedCondition } from '../sizing/status.ts';

export type BudgetConditionType = 'Ready' | 'WithinBudget';
type Wanted = WantedCondition<BudgetConditionType>;

/** What a pass found, before it is status. */
export type BudgetOutcome =
  | {
      readonly kind: 'Judged';
      readonly currency: string;
      readonly spent: Money;
      /** Whether any workload of the namespace is covered by a SizingPolicy (else nothing is counted). */
      readonly covered: boolean;
      readonly verdict: BudgetVerdict<Opportunity>;
    }
  /** spec.currency is not the prices' currency: nothing can be compared. */
  | { readonly kind: 'CurrencyMismatch'; readonly wanted: string; readonly prices: string }
  /** The report could not be built (the API unreachable); the last figures stay. */
  | { readonly kind: 'ReportFailed'; readonly error: string };

/** Whether this pass starts a new time over budget (told once), ends one, or neither. */
export type Crossing = 'WentOver' | 'CameBack' | 'None';

export interface BudgetStatusResult {
  readonly status: TenantBudgetStatus;
  readonly crossing: Crossing;
}

const cost = (v: number) => v.toFixed(2);
const kg = (v: number) => v.toFixed(3);
const figure = (m: Money) => ({ cost: cost(m.cost), co2eKg: kg(m.co2eKg) });

export function capsOf(b: Pick<TenantBudget, 'spec'>): Caps {
  const n = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const c = n(b.spec.monthlyCost);
  const k = n(b.spec.monthlyCO2eKg);
  return { ...(c !== undefined ? { cost: c } : {}), ...(k !== undefined ? { co2eKg: k } : {}) };
}

export function describeOpportunity(o: Opportunity): string {
  return `${o.workload} ${o.container} ${o.resource}`;
}

const amount = (o: Opportunity, v: number) => (o.resource === 'memory' ? formatBytes(v) : formatCpu(v));

export function budgetStatus(budget: TenantBudget, outcome: BudgetOutcome, now: number): BudgetStatusResult {
  const previous = budget.status;
  const wasOver = previous?.conditions?.find((c) => c.type === 'WithinBudget')?.status === 'False';
  const generation = budget.metadata.generation;
  const at = new Date(now * 1000);
  const caps = capsOf(budget);
  switch (outcome.kind) {
    case 'CurrencyMismatch': {
      const message =
        `spec.currency: ${outcome.wanted} is not the currency of Tailor's prices (${outcome.prices}); no exchange ` +
        `rate is applied: write the cap in ${outcome.prices}, or set the currency in the prices ConfigMap`;
      const wanted: Wanted[] = [
        { type: 'Ready', status: 'False', reason: 'CurrencyMismatch', message },
        { type: 'WithinBudget', status: 'Unknown', reason: 'CurrencyMismatch', message },
      ];
      return {
        status: {
          ...(generation !== undefined ? { observedGeneration: generation } : {}),
          conditions: mergeConditions(previous?.conditions, wanted, generation, at),
        },
        crossing: 'None',
      };
    }
    case 'ReportFailed': {
      // The figures of the last pass stay; only Ready says they are not current.
      const wanted: Wanted[] = [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ReportFailed',
          message: `the namespace's spend could not be read: ${outcome.error}; trying again`,
        },
        ...(previous?.conditions ?? [])
          .filter((c) => c.type === 'WithinBudget')
          .map((c) => ({
            type: 'WithinBudget' as const,
            status: c.status,
            reason: c.reason,
            message: c.message,
          })),
      ];
      return {
        status: { ...previous, conditions: mergeConditions(previous?.conditions, wanted, generation, at) },
        crossing: 'None',
      };
    }
    case 'Judged': {
      const v = outcome.verdict;
      const over = v.kind !== 'WithinBudget';
      const state: BudgetState = v.kind;
      const money = (x: number) => `${cost(x)} ${outcome.currency}`;
      const against = [
        ...(caps.cost !== undefined ? [`${money(v.forecast.cost)} of ${money(caps.cost)}`] : []),
        ...(caps.co2eKg !== undefined ? [`${kg(v.forecast.co2eKg)} of ${kg(caps.co2eKg)} kg CO2e`] : []),
      ].join(', ');
      const message = (() => {
        switch (v.kind) {
          case 'WithinBudget':
            return `${v.month.label} forecast ${against}`;
          case 'OverBudget':
            return `${v.month.label} forecast ${against}: applying the ${v.picked.length} recommendation${v.picked.length === 1 ? '' : 's'} in status.recommendations now brings it under`;
          case 'OverBudgetEvenIfApplied':
            return `${v.month.label} forecast ${against}: even every recommendation applied now leaves ${cost(v.forecastIfApplied.cost)} ${outcome.currency}, ${kg(v.forecastIfApplied.co2eKg)} kg CO2e; lower the requests or raise the cap`;
        }
      })();
      const wanted: Wanted[] = [
        outcome.covered
          ? { type: 'Ready', status: 'True', reason: 'Evaluated', message: 'spend and forecast are current' }
          : {
              type: 'Ready',
              status: 'True',
              reason: 'NothingCovered',
              message:
                'no workload of the namespace is covered by a SizingPolicy: spend and forecast count nothing ' +
                'until one is (create a SizingPolicy, mode Recommend is enough)',
            },
        { type: 'WithinBudget', status: over ? 'False' : 'True', reason: state, message },
      ];
      const crossing: Crossing = over && !wasOver ? 'WentOver' : !over && wasOver ? 'CameBack' : 'None';
      const overSince = over
        ? crossing === 'WentOver' || !previous?.overBudgetSince
          ? apiTime(at)
          : previous.overBudgetSince
        : undefined;
      return {
        status: {
          ...(generation !== undefined ? { observedGeneration: generation } : {}),
          month: v.month.label,
          currency: outcome.currency,
          spent: figure(outcome.spent),
          forecast: figure(v.forecast),
          state,
          ...(v.kind !== 'WithinBudget'
            ? {
                forecastIfApplied: figure(v.forecastIfApplied),
                recommendations: v.picked.slice(0, 32).map((p) => ({
                  workload: p.item.workload,
                  container: p.item.container,
                  resource: p.item.resource,
                  requested: amount(p.item, p.item.requested),
                  recommended: amount(p.item, p.item.recommended),
                  savingPerMonth: figure(p.perMonth),
                  savingToMonthEnd: figure(p.toMonthEnd),
                })),
              }
            : { recommendations: [] }),
          ...(overSince ? { overBudgetSince: overSince } : {}),
          conditions: mergeConditions(previous?.conditions, wanted, generation, at),
        },
        crossing,
      };
    }
  }
}
