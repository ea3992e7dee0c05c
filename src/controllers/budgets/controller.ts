// The budgets controller (issue 15): per TenantBudget, every minute and on every change, the savings
// report of its namespace since the month began (the same cost and carbon models as `tailor report`),
// judged against its caps by src/core/budget; status, conditions and, when the forecast crosses a cap,
// one Warning Event and one notification for that crossing (not one per pass).
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/index.ts';
import type { TenantBudget } from '../../api/index.ts';
import { judgeBudget, monthOf, type BudgetVerdict } from '../../core/budget/index.ts';
import type { Opportunity, ReportProvider } from '../../core/report/model.ts';
import { describe } from '../../errors.ts';
import { classify, errorLine } from '../../kube/errors.ts';
import { sharedWatch } from '../../kube/shared-watch.ts';
import { WorkQueue } from '../../kube/workqueue.ts';
import { budgetAlert } from '../../notify/budget-alert.ts';
import type { Alert } from '../../notify/types.ts';
import type { OperatorMetrics } from '../../operator/metrics.ts';
import type { Controller, OperatorContext } from '../controller.ts';
import { writeStatus } from '../write-status.ts';
import { budgetStatus, capsOf, describeOpportunity, type BudgetOutcome } from './status.ts';

export const BUDGETS_CONTROLLER = 'budgets';
const PLURAL = 'tenantbudgets';

export interface BudgetsOptions {
  /** Every budget is judged again this often (the forecast moves with time). Default 60 s. */
  readonly resyncMs?: number;
}

export interface BudgetsDeps {
  readonly metrics: OperatorMetrics;
  /** The operator's savings report: the same gather and build as `tailor report`. */
  readonly report: ReportProvider;
  /** Where a crossing is told (the operator's notifications); absent: Events only. */
  readonly announce?: (alert: Alert) => void;
  /** Watch this namespace only; default every namespace. */
  readonly namespace?: string;
  readonly options?: BudgetsOptions;
}

export function budgetsController(ctx: OperatorContext, deps: BudgetsDeps): Controller {
  const resyncMs = deps.options?.resyncMs ?? 60_000;
  const log = ctx.log.child({ controller: BUDGETS_CONTROLLER });
  const { clients } = ctx;
  const ns = deps.namespace;
  const budgets = sharedWatch<TenantBudget>(
    clients.kc,
    ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
    async (page) =>
      (ns
        ? await clients.custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: ns,
            plural: PLURAL,
            ...page,
          })
        : await clients.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            ...page,
          })) as k8s.KubernetesListObject<TenantBudget>,
    (err) => {
      deps.metrics.apiErrors.inc({ kind: classify(err).kind });
      log.warn({ watch: PLURAL, err: errorLine(err) }, `watch of ${PLURAL} failed; it restarts with backoff`);
    },
  );

  const queue = new WorkQueue(
    async (key) => {
      const end = deps.metrics.passSeconds.startTimer({ controller: BUDGETS_CONTROLLER });
      try {
        await reconcile(key);
        deps.metrics.reconciles.inc({ controller: BUDGETS_CONTROLLER, result: 'ok' });
      } catch (err) {
        deps.metrics.reconciles.inc({ controller: BUDGETS_CONTROLLER, result: 'error' });
        throw err;
      } finally {
        end();
      }
    },
    (key, err, retryInMs) => {
      deps.metrics.apiErrors.inc({ kind: classify(err).kind });
      log.warn({ key, err: errorLine(err), retryInMs }, 'reconcile failed; retrying with backoff');
    },
    { concurrency: 1, baseBackoffMs: 500, maxBackoffMs: 30_000 },
  );

  const ref = (b: TenantBudget): k8s.KubernetesObject => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'TenantBudget',
    metadata: b.metadata,
  });

  async function judge(budget: TenantBudget, now: number): Promise<BudgetOutcome> {
    const namespace = budget.metadata.namespace ?? '';
    const month = monthOf(now);
    let report;
    try {
      report = await deps.report({ namespaces: [namespace], sinceSeconds: Math.max(1, now - month.start) });
    } catch (err) {
      return { kind: 'ReportFailed', error: describe(err) };
    }
    if (budget.spec.currency !== report.currency)
      return { kind: 'CurrencyMismatch', wanted: budget.spec.currency, prices: report.currency };
    const mine = report.namespaces.find((n) => n.namespace === namespace);
    const zero = { cost: 0, co2eKg: 0 };
    const spent = mine?.spent ?? zero;
    const rate = mine?.figures.requested ?? zero;
    const verdict: BudgetVerdict<Opportunity> = judgeBudget({
      now,
      caps: capsOf(budget),
      spent: { cost: spent.cost, co2eKg: spent.co2eKg },
      ratePerMonth: { cost: rate.cost, co2eKg: rate.co2eKg },
      savings: report.opportunities
        .filter((o) => o.namespace === namespace)
        .map((o) => ({
          key: `${o.workload}/${o.container}/${o.resource}`,
          item: o,
          perMonth: { cost: o.saving.cost, co2eKg: o.saving.co2eKg },
        })),
    });
    return {
      kind: 'Judged',
      currency: report.currency,
      spent: { cost: spent.cost, co2eKg: spent.co2eKg },
      covered: mine !== undefined && mine.workloads.length > 0,
      verdict,
    };
  }

  async function reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const budget = budgets.get(name, namespace);
    if (!budget) return;
    const now = ctx.now();
    const outcome = await judge(budget, now);
    const { status, crossing } = budgetStatus(budget, outcome, now);
    await writeStatus(ctx, PLURAL, budget, status);
    if (outcome.kind !== 'Judged') return;
    const v = outcome.verdict;
    switch (crossing) {
      case 'WentOver': {
        if (v.kind === 'WithinBudget') return; // a crossing is over by definition
        const alert = budgetAlert({
          namespace,
          budget: name,
          currency: outcome.currency,
          caps: capsOf(budget),
          since: Date.parse(status.overBudgetSince ?? '') / 1000 || now,
          verdict: v,
          describe: describeOpportunity,
        });
        ctx.events.record(ref(budget), 'Warning', 'BudgetForecastOverCap', alert.summary);
        deps.announce?.(alert);
        log.info({ budget: key, forecast: v.forecast }, 'forecast crossed the cap');
        return;
      }
      case 'CameBack':
        ctx.events.record(
          ref(budget),
          'Normal',
          'BudgetForecastWithinCap',
          `TenantBudget ${key}: ${v.month.label} forecast is within the caps again`,
        );
        return;
      case 'None':
        return;
    }
  }

  const keyOf = (b: TenantBudget) => `${b.metadata.namespace}/${b.metadata.name}`;
  const everything = () => {
    for (const b of budgets.list()) queue.add(keyOf(b));
  };
  /** The generation each budget was last queued for. */
  const generations = new Map<string, number | undefined>();
  let resync: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  return {
    name: BUDGETS_CONTROLLER,
    queue,
    async start() {
      unsubscribe = budgets.subscribe({
        add: (b) => {
          generations.set(keyOf(b), b.metadata.generation);
          queue.add(keyOf(b));
        },
        // A status write of our own comes back as an update: judged again only when the spec moved.
        update: (b) => {
          if (generations.get(keyOf(b)) === b.metadata.generation) return;
          generations.set(keyOf(b), b.metadata.generation);
          queue.add(keyOf(b));
        },
        delete: (b) => generations.delete(keyOf(b)),
      });
      await budgets.synced;
      everything();
      resync = setInterval(everything, resyncMs);
      resync.unref();
    },
    async stop() {
      if (resync) clearInterval(resync);
      unsubscribe?.();
      queue.stop();
      await queue.idle();
      await budgets.stop();
    },
    unsynced() {
      return budgets.health() === 'Synced' ? [] : [PLURAL];
    },
  };
}
