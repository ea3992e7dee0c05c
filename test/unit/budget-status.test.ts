// A TenantBudget's status from one pass: figures as strings, the picked recommendations, conditions,
// and the crossing the controller tells once (went over, came back, or neither); the notification's
// text and key; and the spec's offline validation naming the field as the apiserver does.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import assert from 'node:assert/strict';
import { problems, TenantBudgetSchema, type TenantBudget } from '../../src/api/index.ts';
import { judgeBudget } from '../../src/core/budget/index.ts';
import type { Opportunity } from '../../src/core/report/model.ts';
import { budgetStatus, type BudgetOutcome } from '../../src/controllers/budgets/index.ts';
import { budgetAlert } from '../../src/notify/budget-alert.ts';

const NOW = Date.parse('2026-11-16T00:00:00Z') / 1000;

const opportunity = (workload: string, resource: 'cpu' | 'memory', cost: number): Opportunity => ({
  namespace: 'team-a',
  workload,
  container: 'app',
  resource,
  requested: resource === 'cpu' ? 1 : 2 ** 30,
  recommended: resource === 'cpu' ? 0.25 : 2 ** 28,
  saving: { cost, currency: 'USD', co2eKg: cost / 10 },
});

function budget(monthlyCost: string, status?: TenantBudget['status']): TenantBudget {
  return {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'TenantBudget',
    metadata: { name: 'monthly', namespace: 'team-a', generation: 2 },
    spec: { currency: 'USD', monthlyCost },
    ...(status ? { status } : {}),
  };
}

function judged(cap: number): BudgetOutcome {
  const ops = [opportunity('Deployment/web', 'cpu', 73.05), opportunity('Deployment/batch', 'memory', 292.2)];
  return {
    kind: 'Judged',
    currency: 'USD',
    spent: { cost: 400, co2eKg: 40 },
    covered: true,
    verdict: judgeBudget({
      now: NOW,
      caps: { cost: cap },
      spent: { cost: 400, co2eKg: 40 },
      ratePerMonth: { cost: 1461, co2eKg: 73.05 },
      savings: ops.map((o) => ({ key: `${o.workload}/${o.resource}`, item: o, perMonth: o.saving })),
    }),
  };
}

void test('over the cap: figures as strings, the picked recommendations, WithinBudget=False, a crossing', () => {
  const { status, crossing } = budgetStatus(budget('1000'), judged(1000), NOW);
  assert.equal(crossing, 'WentOver');
  assert.equal(status.state, 'OverBudget');
  assert.equal(status.month, '2026-11');
  assert.deepEqual(status.spent, { cost: '400.00', co2eKg: '40.000' });
  assert.deepEqual(status.forecast, { cost: '1120.00', co2eKg: '76.000' });
  assert.deepEqual(
    status.recommendations?.map((r) => [r.workload, r.resource, r.requested, r.recommended]),
    [['Deployment/batch', 'memory', '1Gi', '256Mi']],
  );
  assert.equal(status.overBudgetSince, '2026-11-16T00:00:00Z');
  assert.equal(status.observedGeneration, 2);
  const within = status.conditions?.find((c) => c.type === 'WithinBudget');
  assert.equal(within?.status, 'False');
  assert.match(
    within.message,
    /2026-11 forecast 1120\.00 USD of 1000\.00 USD: applying the 1 recommendation/,
  );
});

void test('still over on the next pass: no new crossing, the crossing time kept', () => {
  const first = budgetStatus(budget('1000'), judged(1000), NOW).status;
  const next = budgetStatus(budget('1000', first), judged(1000), NOW + 60);
  assert.equal(next.crossing, 'None');
  assert.equal(next.status.overBudgetSince, first.overBudgetSince);
});

void test('back under: a crossing back, no recommendations, no crossing time', () => {
  const over = budgetStatus(budget('1000'), judged(1000), NOW).status;
  const back = budgetStatus(budget('5000', over), judged(5000), NOW + 60);
  assert.equal(back.crossing, 'CameBack');
  assert.equal(back.status.state, 'WithinBudget');
  assert.deepEqual(back.status.recommendations, []);
  assert.equal(back.status.overBudgetSince, undefined);
  // A first pass within the cap is no crossing at all.
  assert.equal(budgetStatus(budget('5000'), judged(5000), NOW).crossing, 'None');
});

void test('a report that fails keeps the last figures and says so in Ready', () => {
  const over = budgetStatus(budget('1000'), judged(1000), NOW).status;
  const r = budgetStatus(
    budget('1000', over),
    { kind: 'ReportFailed', error: 'connection refused' },
    NOW + 60,
  );
  assert.equal(r.crossing, 'None');
  assert.deepEqual(r.status.forecast, over.forecast);
  const ready = r.status.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.reason, 'ReportFailed');
  assert.equal(r.status.conditions?.find((c) => c.type === 'WithinBudget')?.status, 'False');
});

void test('the notification names the budget, the forecast against the cap, and the recommendations; keyed by its crossing', () => {
  const o = judged(1000);
  assert.ok(o.kind === 'Judged' && o.verdict.kind !== 'WithinBudget');
  const a = budgetAlert({
    namespace: 'team-a',
    budget: 'monthly',
    currency: 'USD',
    caps: { cost: 1000 },
    since: NOW,
    verdict: o.verdict,
    describe: (x) => `${x.workload} ${x.resource}`,
  });
  assert.equal(a.kind, 'BudgetForecastOverCap');
  assert.equal(a.key, 'BudgetForecastOverCap/team-a/monthly/2026-11-16T00:00:00Z');
  assert.equal(
    a.summary,
    'TenantBudget team-a/monthly: 2026-11 forecast 1120.00 USD against a cap of 1000.00 USD; applying 1 recommendation now brings it under',
  );
  assert.deepEqual(a.labels, { namespace: 'team-a', budget: 'monthly' });
  assert.equal(a.details.recommendations, 'Deployment/batch memory: 292.20 USD/month');
});

void test('offline validation names the field as the apiserver does', () => {
  const spec = (s: Record<string, unknown>) =>
    problems(TenantBudgetSchema, {
      apiVersion: 'tailor.dev/v1alpha1',
      kind: 'TenantBudget',
      metadata: { name: 'b' },
      spec: s,
    }).map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(spec({ monthlyCost: '500' }), []);
  assert.deepEqual(spec({ monthlyCost: '-1' }), [
    'spec.monthlyCost: monthlyCost -1 is negative: a cap is the most the namespace may reach per month, such as "500.00" (0 allows nothing)',
  ]);
  assert.deepEqual(spec({ currency: 'ABC', monthlyCO2eKg: '10' }), [
    'spec.currency: currency ABC is not an ISO 4217 currency code: write one such as USD or EUR',
  ]);
  assert.deepEqual(spec({}), [
    'spec: set monthlyCost, monthlyCO2eKg or both: a budget without a cap has nothing to hold',
  ]);
});

void test('examples/tenant-budget.yaml is valid', () => {
  assert.deepEqual(
    problems(TenantBudgetSchema, parse(readFileSync('examples/tenant-budget.yaml', 'utf8'))),
    [],
  );
});

void test('a namespace without covered workloads: within budget, and Ready says nothing is counted', () => {
  const o = judged(5000);
  assert.ok(o.kind === 'Judged');
  const { status } = budgetStatus(budget('5000'), { ...o, covered: false }, NOW);
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.reason, 'NothingCovered');
  assert.match(ready.message, /no workload of the namespace is covered by a SizingPolicy/);
});
