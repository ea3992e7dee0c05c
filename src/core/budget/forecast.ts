// A tenant's month against its caps, purely: the calendar month (UTC) `now` falls in, the forecast to
// its end (spend to date plus the current monthly rate for the hours left), and the recommendations
// that would bring the forecast under every cap, largest saving first. No clock, no I/O.
import { HOURS_PER_MONTH } from '../cost/index.ts';

/** Money (in the prices' currency) and kilograms of CO2e. */
export interface Money {
  readonly cost: number;
  readonly co2eKg: number;
}

/** The caps a budget sets; at least one of them. */
export interface Caps {
  readonly cost?: number;
  readonly co2eKg?: number;
}

/** A recommendation and what applying it saves per month (at HOURS_PER_MONTH, as the report says). */
export interface Saving<T> {
  /** Stable and unique: ties in saving are broken by it, so the ranking never depends on input order. */
  readonly key: string;
  readonly item: T;
  readonly perMonth: Money;
}

export interface BudgetInput<T> {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly caps: Caps;
  /** Spent since the month began. */
  readonly spent: Money;
  /** What the tenant's current requests cost per month (HOURS_PER_MONTH hours). */
  readonly ratePerMonth: Money;
  readonly savings: readonly Saving<T>[];
}

/** A calendar month in UTC: [start, end) in seconds since the epoch, and its label, "2026-12". */
export interface Month {
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

/** One recommendation picked, with what it saves between now and the end of the month. */
export interface Picked<T> extends Saving<T> {
  readonly toMonthEnd: Money;
}

/** Which cap a forecast is over. */
export type CapKind = 'cost' | 'co2e';

interface Common {
  readonly month: Month;
  readonly forecast: Money;
}

/** Closed: every caller switches on `kind`. */
export type BudgetVerdict<T> =
  | (Common & { readonly kind: 'WithinBudget' })
  | (Common & {
      /** Applying `picked` now brings the forecast under every cap. */
      readonly kind: 'OverBudget';
      readonly over: readonly CapKind[];
      readonly picked: readonly Picked<T>[];
      readonly forecastIfApplied: Money;
    })
  | (Common & {
      /** Even every recommendation applied now leaves the forecast over a cap (`picked` is all of them). */
      readonly kind: 'OverBudgetEvenIfApplied';
      readonly over: readonly CapKind[];
      readonly picked: readonly Picked<T>[];
      readonly forecastIfApplied: Money;
    });

export function monthOf(now: number): Month {
  const d = new Date(now * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return {
    start: Date.UTC(y, m, 1) / 1000,
    end: Date.UTC(y, m + 1, 1) / 1000,
    label: `${y}-${String(m + 1).padStart(2, '0')}`,
  };
}

// Cents and milligrams: a forecast of 500.004 against a cap of 500 is within it, as shown.
const cents = (v: number) => Math.round(v * 100) / 100;
const grams = (v: number) => Math.round(v * 1000) / 1000;
const money = (cost: number, co2eKg: number): Money => ({ cost: cents(cost), co2eKg: grams(co2eKg) });

function overCaps(m: Money, caps: Caps): CapKind[] {
  return [
    ...(caps.cost !== undefined && m.cost > caps.cost ? (['cost'] as const) : []),
    ...(caps.co2eKg !== undefined && m.co2eKg > caps.co2eKg ? (['co2e'] as const) : []),
  ];
}

/**
 * The month's forecast against the caps and, when over, the fewest recommendations that bring it
 * under: ranked by their saving on the cap that is over (cost first when both are), taken largest
 * first until the forecast fits. Largest-first is the fewest for one cap; for two it may take one
 * more than the least possible, which is the price of a ranking a person can follow.
 */
export function judgeBudget<T>(input: BudgetInput<T>): BudgetVerdict<T> {
  const month = monthOf(input.now);
  const hoursLeft = Math.max(0, (month.end - input.now) / 3600);
  const share = hoursLeft / HOURS_PER_MONTH;
  const forecast = money(
    input.spent.cost + input.ratePerMonth.cost * share,
    input.spent.co2eKg + input.ratePerMonth.co2eKg * share,
  );
  const over = overCaps(forecast, input.caps);
  if (over.length === 0) return { kind: 'WithinBudget', month, forecast };

  const byCost = over.includes('cost');
  const ranked = input.savings
    .filter((s) => s.perMonth.cost > 0 || s.perMonth.co2eKg > 0)
    .slice()
    .sort((a, b) => {
      const [pa, sa] = byCost ? [a.perMonth.cost, a.perMonth.co2eKg] : [a.perMonth.co2eKg, a.perMonth.cost];
      const [pb, sb] = byCost ? [b.perMonth.cost, b.perMonth.co2eKg] : [b.perMonth.co2eKg, b.perMonth.cost];
      return pb - pa || sb - sa || a.key.localeCompare(b.key);
    });
  const picked: Picked<T>[] = [];
  let after = forecast;
  for (const s of ranked) {
    if (overCaps(after, input.caps).length === 0) break;
    const toMonthEnd = money(s.perMonth.cost * share, s.perMonth.co2eKg * share);
    picked.push({ ...s, toMonthEnd });
    after = money(after.cost - toMonthEnd.cost, after.co2eKg - toMonthEnd.co2eKg);
  }
  const fits = overCaps(after, input.caps).length === 0;
  return {
    kind: fits ? 'OverBudget' : 'OverBudgetEvenIfApplied',
    month,
    forecast,
    over,
    picked,
    forecastIfApplied: after,
  };
}
