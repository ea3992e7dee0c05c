// Per-tenant budgets (issue 15): the month's forecast against its caps, and what would bring it under.
export * from './forecast.ts';
