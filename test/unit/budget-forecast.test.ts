// The budget core: the UTC calendar month, the forecast to its end from spend to date and the current
// rate, and the recommendations that bring a tenant under its caps, largest saving first, fewest taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgeBudget,
  monthOf,
  type BudgetInput,
  type Money,
  type Saving,
} from '../../src/core/budget/index.ts';

const at = (iso: string) => Date.parse(iso) / 1000;
/** 15 days before the end of a 30-day month: 360 hours left, of the report's 730.5-hour month. */
const MID_NOVEMBER = at('2026-11-16T00:00:00Z');

const money = (cost: number, co2eKg = 0): Money => ({ cost, co2eKg });
const saving = (key: string, cost: number, co2eKg = 0): Saving<string> => ({
  key,
  item: key,
  perMonth: money(cost, co2eKg),
});

function budget(over: Partial<BudgetInput<string>> = {}): BudgetInput<string> {
  return {
    now: MID_NOVEMBER,
    caps: { cost: 1000 },
    spent: money(400, 40),
    ratePerMonth: money(1461, 73.05),
    savings: [],
    ...over,
  };
}

void test('the month is the UTC calendar month now falls in, whatever its length', () => {
  const cases: [string, string, string, string][] = [
    ['2026-12-02T20:40:00Z', '2026-12', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['2028-02-29T23:59:59Z', '2028-02', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z'],
    ['2026-01-01T00:00:00Z', '2026-01', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'],
  ];
  for (const [now, label, start, end] of cases) {
    const m = monthOf(at(now));
    assert.equal(m.label, label, now);
    assert.equal(m.start, at(start), `${now}: start`);
    assert.equal(m.end, at(end), `${now}: end`);
  }
});

void test('forecast: spent to date plus the monthly rate for the hours left in the month', () => {
  const v = judgeBudget(budget({ caps: { cost: 5000 } }));
  assert.equal(v.kind, 'WithinBudget');
  // 1461 per 730.5 h is 2 per hour; 360 h left.
  assert.deepEqual(v.forecast, money(400 + 720, 40 + 36));
  assert.equal(v.month.label, '2026-11');
  // The last second of the month: the forecast is what was spent.
  assert.deepEqual(judgeBudget(budget({ now: at('2026-11-30T23:59:59Z') })).forecast.cost, 400.0);
});

void test('a forecast on the cap is within it; a cent over is over', () => {
  assert.equal(judgeBudget(budget({ caps: { cost: 1120 } })).kind, 'WithinBudget');
  assert.equal(judgeBudget(budget({ caps: { cost: 1119.99 } })).kind, 'OverBudgetEvenIfApplied');
});

void test('over the cost cap: the largest savings first, only as many as bring the forecast under', () => {
  const v = judgeBudget(
    budget({
      caps: { cost: 1000 },
      savings: [
        saving('small', 73.05),
        saving('large', 292.2),
        saving('middle', 146.1),
        saving('tiny', 7.305),
      ],
    }),
  );
  assert.equal(v.kind, 'OverBudget');
  assert.deepEqual(v.over, ['cost']);
  // 120 over; "large" saves 292.2 * 360/730.5 = 144 by month end: enough alone.
  assert.deepEqual(
    v.picked.map((p) => [p.key, p.toMonthEnd.cost]),
    [['large', 144]],
  );
  assert.deepEqual(v.forecastIfApplied, money(976, 76));
});

void test('several needed: taken in order of saving until the forecast fits, ties by key', () => {
  const v = judgeBudget(
    budget({
      caps: { cost: 1050 },
      savings: [saving('b', 73.05), saving('a', 73.05), saving('c', 14.61)],
    }),
  );
  // 70 over; each of a and b saves 36 by month end: both, not c.
  assert.equal(v.kind, 'OverBudget');
  assert.deepEqual(
    v.picked.map((p) => p.key),
    ['a', 'b'],
  );
  assert.equal(v.forecastIfApplied.cost, 1048);
});

void test('not enough even with every recommendation: all of them, ranked, and the state says so', () => {
  const v = judgeBudget(budget({ caps: { cost: 500 }, savings: [saving('x', 14.61), saving('y', 146.1)] }));
  assert.equal(v.kind, 'OverBudgetEvenIfApplied');
  assert.deepEqual(
    v.picked.map((p) => p.key),
    ['y', 'x'],
  );
  assert.equal(v.forecastIfApplied.cost, 1120 - 72 - 7.2);
  // Spent already above the cap: nothing to pick can help, and nothing is dropped silently.
  const spentOver = judgeBudget(budget({ caps: { cost: 300 }, savings: [saving('x', 14.61)] }));
  assert.equal(spentOver.kind, 'OverBudgetEvenIfApplied');
});

void test('over the CO2e cap only: ranked by CO2e saved, not by money', () => {
  const v = judgeBudget(
    budget({
      caps: { cost: 5000, co2eKg: 70 },
      savings: [saving('cheap-but-dirty', 10, 29.22), saving('dear-but-clean', 400, 1.461)],
    }),
  );
  assert.equal(v.kind, 'OverBudget');
  assert.deepEqual(v.over, ['co2e']);
  assert.deepEqual(
    v.picked.map((p) => p.key),
    ['cheap-but-dirty'],
  );
  assert.deepEqual(v.forecastIfApplied, money(1115.07, 61.6));
});

void test('both caps over: picks until both fit, money ranking first', () => {
  const v = judgeBudget(
    budget({
      caps: { cost: 1100, co2eKg: 70 },
      savings: [saving('money', 73.05, 0), saving('carbon', 14.61, 14.61)],
    }),
  );
  assert.equal(v.kind, 'OverBudget');
  assert.deepEqual(v.over, ['cost', 'co2e']);
  assert.deepEqual(
    v.picked.map((p) => p.key),
    ['money', 'carbon'],
  );
});

void test('recommendations saving nothing are never listed', () => {
  const v = judgeBudget(budget({ caps: { cost: 500 }, savings: [saving('none', 0, 0)] }));
  assert.equal(v.kind, 'OverBudgetEvenIfApplied');
  assert.deepEqual(v.picked, []);
});
