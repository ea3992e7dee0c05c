// The operator's own Prometheus metrics (/metrics), one registry per running operator so several can
// run in one process (tests, benchmarks) without clashing.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ResizeOutcome } from '../core/resize/index.ts';

export type EvictionResult = 'Evicted' | 'Blocked' | 'Failed';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly resizes: Counter<'outcome'>;
  readonly evictions: Counter<'result'>;
  readonly oomReactions: Counter<string>;
  readonly apiErrors: Counter<'kind'>;
  /** Requests RBAC refused, by verb and resource: a rule the operator's role lacks (0 when the role is right). */
  readonly rbacDenied: Counter<'verb' | 'resource'>;
  readonly passSeconds: Histogram<'controller'>;
  readonly polls: Counter<'result'>;
  /** Calls into the usage history store (SQLite) that failed, by what the operator was doing. */
  readonly historyErrors: Counter<'op'>;
  /** Requests the operator's clients sent, by verb and resource (watch starts as verb "watch"). */
  readonly apiRequests: Counter<'verb' | 'resource'>;
  /** One full pass: every policy queued together (a poll's samples, start-up) until each has been reconciled. */
  readonly fullPassSeconds: Histogram<'controller'>;
  readonly lastFullPassSeconds: Gauge<'controller'>;
  /** Notifications by receiver and result (delivered, retried, failed, dropped, rate_limited): src/notify. */
  readonly notifications: Counter<'receiver' | 'result'>;
  /** Notification configurations refused (ConfigMap or a Secret it names): notifications are off until fixed. */
  readonly notificationConfigErrors: Counter<string>;
}

export function operatorMetrics(defaults = true): OperatorMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'tailor_operator_' });
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: 'tailor_reconciles_total',
      help: 'Reconcile passes by controller and result (ok or error).',
      labelNames: ['controller', 'result'],
      registers,
    }),
    resizes: new Counter({
      name: 'tailor_resizes_total',
      help: 'pods/resize patches sent, by outcome (Applied, Infeasible, Rejected, Error, ...).',
      labelNames: ['outcome'],
      registers,
    }),
    evictions: new Counter({
      name: 'tailor_evictions_total',
      help: 'Evictions through the Eviction API, by result (Evicted, Blocked by a PodDisruptionBudget, Failed).',
      labelNames: ['result'],
      registers,
    }),
    oomReactions: new Counter({
      name: 'tailor_oom_reactions_total',
      help: 'OOM kills seen in pod status and reacted to (recorded, policy reconciled at once).',
      registers,
    }),
    apiErrors: new Counter({
      name: 'tailor_api_errors_total',
      help: 'Kubernetes API errors, by kind (NotFound, Conflict, Unavailable, ...).',
      labelNames: ['kind'],
      registers,
    }),
    rbacDenied: new Counter({
      name: 'tailor_rbac_denied_total',
      help: 'Requests the apiserver refused for lack of an RBAC rule, by verb and resource: deploy/rbac/operator.yaml misses it.',
      labelNames: ['verb', 'resource'],
      registers,
    }),
    passSeconds: new Histogram({
      name: 'tailor_reconcile_duration_seconds',
      help: 'Duration of one reconcile pass of one key.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    }),
    polls: new Counter({
      name: 'tailor_usage_polls_total',
      help: 'metrics.k8s.io polls into the usage history, by result.',
      labelNames: ['result'],
      registers,
    }),
    historyErrors: new Counter({
      name: 'tailor_history_errors_total',
      help: 'Usage history store (SQLite) calls that failed, by op (record, maintain, recordOoms, read, retain, prometheus); shrinks are held while it fails.',
      labelNames: ['op'],
      registers,
    }),
    apiRequests: new Counter({
      name: 'tailor_api_requests_total',
      help: 'Kubernetes API requests sent, by verb and resource (watch starts: verb "watch").',
      labelNames: ['verb', 'resource'],
      registers,
    }),
    fullPassSeconds: new Histogram({
      name: 'tailor_sizing_pass_seconds',
      help: 'Duration of one full pass: the policies queued together (after a poll, at start) all reconciled.',
      labelNames: ['controller'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    lastFullPassSeconds: new Gauge({
      name: 'tailor_sizing_last_pass_seconds',
      help: 'Duration of the last full pass.',
      labelNames: ['controller'],
      registers,
    }),
    notifications: new Counter({
      name: 'tailor_notifications_total',
      help: 'Notification attempts by receiver and result: delivered, retried (backoff), failed (refused or out of retries), dropped (queue full), rate_limited (waited for the rate limit).',
      labelNames: ['receiver', 'result'],
      registers,
    }),
    notificationConfigErrors: new Counter({
      name: 'tailor_notification_config_errors_total',
      help: 'Notification configurations refused (the ConfigMap, or a Secret it names); notifications are off until fixed.',
      registers,
    }),
  };
}

export function outcomeLabel(o: ResizeOutcome): string {
  switch (o.kind) {
    case 'Rejected':
      return `Rejected:${o.reason}`;
    case 'Applied':
    case 'InProgress':
    case 'Deferred':
    case 'Infeasible':
    case 'Error':
      return o.kind;
  }
}
