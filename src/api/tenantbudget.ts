// The TenantBudget kind (tailor.dev/v1alpha1): a monthly cost and CO2e cap for the namespace it lives
// in, and its status (spend to date, forecast to month end, the recommendations that would bring the
// tenant under). docs/decisions/0024-tenant-budgets.md says why a kind rather than annotations.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { ISO_4217 } from '../core/cost/currencies.ts';
import {
  API_VERSION,
  Conditions,
  EXPECTED,
  Enum,
  ObjectMeta,
  Timestamp,
  closed,
  withRules,
} from './common.ts';
import type { KindDefinition } from './common.ts';

// A decimal amount as a string (Kubernetes APIs avoid floats), with an optional leading minus so
// that a negative cap reaches its own rule and is refused by name rather than as "not a number".
const AMOUNT = '^-?[0-9]{1,12}(\\.[0-9]{1,6})?$';
const AMOUNT_RE = new RegExp(AMOUNT);

/** A cap: a non-negative decimal string, each way of being wrong with its own message. */
function Cap(field: string, unit: string, example: string, description: string) {
  const expected = `a decimal number of ${unit} written as a string, such as "${example}"`;
  return withRules(
    Type.String({ maxLength: 20, minLength: 1, [EXPECTED]: expected, description }),
    {
      rule: `self.matches(r'${AMOUNT}')`,
      message: `${field} must be ${expected}`,
      messageExpression: `'${field} ' + self + ' is not a number: write ${expected}'`,
      explain: (s) => `${field} ${s} is not a number: write ${expected}`,
      check: (s) => AMOUNT_RE.test(s),
    },
    {
      rule: `!self.matches(r'${AMOUNT}') || !self.startsWith('-')`,
      message: `${field} must not be negative`,
      messageExpression: `'${field} ' + self + ' is negative: a cap is the most the namespace may reach per month, such as "${example}" (0 allows nothing)'`,
      explain: (s) =>
        `${field} ${s} is negative: a cap is the most the namespace may reach per month, such as "${example}" (0 allows nothing)`,
      check: (s) => !AMOUNT_RE.test(s) || !s.startsWith('-'),
    },
  );
}

const CURRENCIES = [...ISO_4217].sort();

export const TenantBudgetSpec = withRules(
  Type.Object(
    {
      currency: withRules(
        Type.String({
          maxLength: 3,
          minLength: 3,
          default: 'USD',
          [EXPECTED]: 'an ISO 4217 code such as USD or EUR',
          description:
            "ISO 4217 code of monthlyCost, e.g. USD (the default). Must be the currency of Tailor's prices " +
            '(USD unless the prices ConfigMap sets another): no exchange rates are applied.',
        }),
        {
          rule: `self in [${CURRENCIES.map((c) => `'${c}'`).join(', ')}]`,
          message: 'currency must be an ISO 4217 code such as USD or EUR',
          messageExpression: `'currency ' + self + ' is not an ISO 4217 currency code: write one such as USD or EUR'`,
          explain: (s) => `currency ${s} is not an ISO 4217 currency code: write one such as USD or EUR`,
          check: (s) => ISO_4217.has(s),
        },
      ),
      monthlyCost: Type.Optional(
        Cap(
          'monthlyCost',
          'currency units',
          '500.00',
          'The most the namespace may cost per calendar month (UTC), in currency, e.g. "500.00".',
        ),
      ),
      monthlyCO2eKg: Type.Optional(
        Cap(
          'monthlyCO2eKg',
          'kilograms of CO2e',
          '120',
          'The most CO2e the namespace may emit per calendar month (UTC), in kilograms, e.g. "120".',
        ),
      ),
    },
    { ...closed, description: 'The caps of the namespace this budget lives in.' },
  ),
  {
    rule: 'has(self.monthlyCost) || has(self.monthlyCO2eKg)',
    message: 'set monthlyCost, monthlyCO2eKg or both: a budget without a cap has nothing to hold',
    check: (s) => s.monthlyCost !== undefined || s.monthlyCO2eKg !== undefined,
  },
);
export type TenantBudgetSpec = Static<typeof TenantBudgetSpec>;

/** Where a tenant stands against its caps (closed: switched exhaustively). */
export const BUDGET_STATES = [
  /** The forecast to month end is within every cap. */
  'WithinBudget',
  /** The forecast is over a cap; applying the listed recommendations now brings it under. */
  'OverBudget',
  /** The forecast is over a cap even with every recommendation applied now. */
  'OverBudgetEvenIfApplied',
] as const;
export type BudgetState = (typeof BUDGET_STATES)[number];

const Money = Type.Object(
  {
    cost: Type.String({ maxLength: 32, description: 'In status.currency, e.g. "123.45".' }),
    co2eKg: Type.String({ maxLength: 32, description: 'Kilograms of CO2e, e.g. "12.3".' }),
  },
  { description: 'Money and CO2e.' },
);

const BudgetRecommendation = Type.Object({
  workload: Type.String({ maxLength: 512, description: 'Kind/name of the workload, e.g. Deployment/web.' }),
  container: Type.String({ maxLength: 253 }),
  resource: Type.String({ maxLength: 64, description: 'cpu or memory.' }),
  requested: Type.String({ maxLength: 64, description: 'What the pods request now (summed over them).' }),
  recommended: Type.String({ maxLength: 64, description: 'What the SizingPolicy recommends instead.' }),
  savingPerMonth: Money,
  savingToMonthEnd: Type.Object(
    {
      cost: Type.String({ maxLength: 32 }),
      co2eKg: Type.String({ maxLength: 32 }),
    },
    { description: 'What applying it now saves between now and the end of the month.' },
  ),
});

export const TenantBudgetStatus = Type.Object({
  observedGeneration: Type.Optional(
    Type.Integer({
      minimum: 0,
      format: 'int64',
      description: 'The .metadata.generation this status is about.',
    }),
  ),
  month: Type.Optional(Type.String({ maxLength: 7, description: 'The calendar month (UTC), e.g. 2026-12.' })),
  currency: Type.Optional(Type.String({ maxLength: 3, description: "The currency of Tailor's prices." })),
  spent: Type.Optional(
    Type.Object(
      { cost: Type.String({ maxLength: 32 }), co2eKg: Type.String({ maxLength: 32 }) },
      {
        description:
          "Spend since the month began: the namespace's covered pods' requests over Tailor's records, priced.",
      },
    ),
  ),
  forecast: Type.Optional(
    Type.Object(
      { cost: Type.String({ maxLength: 32 }), co2eKg: Type.String({ maxLength: 32 }) },
      { description: 'Spend to date plus the current requests until the end of the month.' },
    ),
  ),
  forecastIfApplied: Type.Optional(
    Type.Object(
      { cost: Type.String({ maxLength: 32 }), co2eKg: Type.String({ maxLength: 32 }) },
      { description: 'The forecast if the listed recommendations were applied now.' },
    ),
  ),
  state: Type.Optional(Enum(BUDGET_STATES, { description: 'Where the tenant stands against its caps.' })),
  overBudgetSince: Type.Optional(
    Timestamp({
      description: 'When the forecast last crossed a cap (the notification names this crossing).',
    }),
  ),
  recommendations: Type.Optional(
    Type.Array(BudgetRecommendation, {
      maxItems: 32,
      'x-kubernetes-list-type': 'atomic',
      description:
        'The recommendations that bring the forecast under the caps, largest saving first (all of them when ' +
        'even all are not enough); empty when within budget.',
    }),
  ),
  conditions: Type.Optional(Conditions()),
});
export type TenantBudgetStatus = Static<typeof TenantBudgetStatus>;

export const TenantBudgetSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('TenantBudget'),
    metadata: ObjectMeta,
    spec: TenantBudgetSpec,
    status: Type.Optional(TenantBudgetStatus),
  },
  {
    description:
      'A monthly cost and CO2e cap for the namespace it lives in: status shows the spend to date, the ' +
      'forecast to month end and the recommendations that would bring the tenant under its cap.',
  },
);
/** As read from the API: metadata is the full ObjectMeta the apiserver fills in. */
export type TenantBudget = Omit<Static<typeof TenantBudgetSchema>, 'metadata'> & { metadata: V1ObjectMeta };

export const TenantBudgetKind: KindDefinition<typeof TenantBudgetSchema> = {
  kind: 'TenantBudget',
  plural: 'tenantbudgets',
  singular: 'tenantbudget',
  shortNames: ['tb'],
  categories: ['tailor'],
  schema: TenantBudgetSchema,
  description: TenantBudgetSchema.description ?? '',
  printerColumns: [
    { name: 'Cap', type: 'string', jsonPath: '.spec.monthlyCost', description: 'Monthly cost cap.' },
    { name: 'Spent', type: 'string', jsonPath: '.status.spent.cost', description: 'Spent this month.' },
    {
      name: 'Forecast',
      type: 'string',
      jsonPath: '.status.forecast.cost',
      description: 'Forecast to month end.',
    },
    { name: 'Currency', type: 'string', jsonPath: '.status.currency' },
    {
      name: 'CO2e-Cap',
      type: 'string',
      jsonPath: '.spec.monthlyCO2eKg',
      description: 'Monthly CO2e cap, kg.',
      priority: 1,
    },
    {
      name: 'CO2e-Forecast',
      type: 'string',
      jsonPath: '.status.forecast.co2eKg',
      description: 'CO2e forecast to month end, kg.',
      priority: 1,
    },
    { name: 'State', type: 'string', jsonPath: '.status.state' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
  ],
};
