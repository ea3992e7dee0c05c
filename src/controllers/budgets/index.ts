// The budgets controller (issue 15): per-tenant monthly cost and CO2e caps, judged every minute.
export {
  BUDGETS_CONTROLLER,
  budgetsController,
  type BudgetsDeps,
  type BudgetsOptions,
} from './controller.ts';
export { budgetStatus, capsOf, type BudgetOutcome, type Crossing } from './status.ts';
