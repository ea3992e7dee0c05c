// The one-off message sent when a tenant's forecast crosses its budget's cap (src/controllers/budgets):
// pure, from the budget's name, the crossing time and the verdict. Its key names the crossing, so
// a crossing is told once; the next crossing (after the forecast came back under) is a new message.
import type { BudgetVerdict, CapKind, Caps } from '../core/budget/index.ts';
import type { Alert } from './types.ts';
import { iso } from './alerts.ts';

export interface BudgetCrossing<T> {
  readonly namespace: string;
  readonly budget: string;
  readonly currency: string;
  readonly caps: Caps;
  /** Seconds since the epoch: when the forecast went over (status.overBudgetSince). */
  readonly since: number;
  readonly verdict: Exclude<BudgetVerdict<T>, { kind: 'WithinBudget' }>;
  /** How each recommendation reads in the message, e.g. "Deployment/web app cpu". */
  readonly describe: (item: T) => string;
}

export function budgetAlert<T>(c: BudgetCrossing<T>): Alert {
  const v = c.verdict;
  const money = (x: number) => `${x.toFixed(2)} ${c.currency}`;
  const kg = (x: number) => `${x.toFixed(1)} kg CO2e`;
  const against = (k: CapKind) =>
    k === 'cost'
      ? `${money(v.forecast.cost)} against a cap of ${money(c.caps.cost ?? 0)}`
      : `${kg(v.forecast.co2eKg)} against a cap of ${kg(c.caps.co2eKg ?? 0)}`;
  const fix =
    v.kind === 'OverBudget'
      ? `applying ${v.picked.length} recommendation${v.picked.length === 1 ? '' : 's'} now brings it under`
      : 'even every recommendation applied now leaves it over';
  return {
    kind: 'BudgetForecastOverCap',
    key: `BudgetForecastOverCap/${c.namespace}/${c.budget}/${iso(c.since)}`.slice(0, 255),
    severity: 'warning',
    summary: `TenantBudget ${c.namespace}/${c.budget}: ${v.month.label} forecast ${v.over.map(against).join(' and ')}; ${fix}`,
    labels: { namespace: c.namespace, budget: c.budget },
    details: {
      month: v.month.label,
      forecastCost: money(v.forecast.cost),
      forecastCo2e: kg(v.forecast.co2eKg),
      ...(c.caps.cost !== undefined ? { capCost: money(c.caps.cost) } : {}),
      ...(c.caps.co2eKg !== undefined ? { capCo2e: kg(c.caps.co2eKg) } : {}),
      forecastIfApplied: `${money(v.forecastIfApplied.cost)}, ${kg(v.forecastIfApplied.co2eKg)}`,
      ...(v.picked.length > 0
        ? {
            recommendations: v.picked
              .slice(0, 10)
              .map((p) => `${c.describe(p.item)}: ${money(p.perMonth.cost)}/month`)
              .join('; '),
          }
        : {}),
    },
    since: c.since,
  };
}
