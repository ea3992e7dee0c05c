// The operator's own Prometheus metrics (/metrics), one registry per running operator so several can
// run in one process (tests, benchmarks) without clashing. Names follow Prometheus's conventions
// (base units in the name, `_total` counters, one value per label); why: docs/decisions/0015-metrics.md.
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectReason, ResizeOutcome } from '../core/resize/index.ts';
import { packingGauges, type PackingGauges } from './packing-metrics.ts';

export type EvictionResult = 'Evicted' | 'Blocked' | 'Failed';

/** Labels of one container's resource series: a `unit` label as kube-state-metrics has (core, byte). */
export type ResourceLabels = 'namespace' | 'workload' | 'container' | 'resource' | 'unit';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'controller' | 'result'>;
  /** pods/resize patches sent: `result` the outcome's kind, `reason` why a Rejected one was ("" otherwise). */
  readonly resizes: Counter<'result' | 'reason'>;
  readonly evictions: Counter<'result'>;
  /** OOM kills seen in pod status (the sizing controller reacts to each at once). */
  readonly oomKills: Counter<'namespace' | 'workload'>;
  /** Memory raises sent in place because of an OOM kill. */
  readonly oomRaises: Counter<'namespace' | 'workload'>;
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
  readonly buildInfo: Gauge<'version' | 'node_version'>;
  /** client-go's workqueue metrics, per controller (see queue-metrics.ts). */
  readonly workqueue: {
    readonly depth: Gauge<'controller'>;
    readonly adds: Counter<'controller'>;
    readonly retries: Counter<'controller'>;
    readonly queueSeconds: Histogram<'controller'>;
  };
  /** What each SizingPolicy publishes per container (see recommendation-metrics.ts). */
  readonly recommendation: {
    readonly target: Gauge<ResourceLabels>;
    readonly lowerBound: Gauge<ResourceLabels>;
    readonly upperBound: Gauge<ResourceLabels>;
    readonly requests: Gauge<ResourceLabels>;
  };
  /** The savings report's figures per namespace (see report-metrics.ts). */
  readonly report: {
    readonly savingsAvailable: Gauge<'namespace' | 'currency'>;
    readonly savingsRealised: Gauge<'namespace' | 'currency'>;
    readonly cost: Gauge<'namespace' | 'state' | 'currency'>;
    readonly co2e: Gauge<'namespace' | 'state'>;
    readonly co2eSavingsAvailable: Gauge<'namespace'>;
    readonly co2eSavingsRealised: Gauge<'namespace'>;
    readonly rangeSeconds: Gauge;
    readonly timestampSeconds: Gauge;
    /** A wasted claim's capacity beyond what a new volume would need (the report's volumes section). */
    readonly volumeWasteBytes: Gauge<'namespace' | 'persistentvolumeclaim'>;
    readonly volumeWasteMonthlyCost: Gauge<'namespace' | 'persistentvolumeclaim' | 'currency'>;
    /** The packing what-if (report-metrics.ts, src/core/packing): nodes and GPUs the recommendations free. */
    readonly packing: PackingGauges;
  };
  /** Notifications by receiver and result (delivered, retried, failed, dropped, rate_limited): src/notify. */
  readonly notifications: Counter<'receiver' | 'result'>;
  /** Notification configurations refused (ConfigMap or a Secret it names): notifications are off until fixed. */
  readonly notificationConfigErrors: Counter<string>;
}

/** package.json's version: two folders up from this file in src/ and in dist/ alike. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const CONTAINER_LABELS: ResourceLabels[] = ['namespace', 'workload', 'container', 'resource', 'unit'];
const PER_NAMESPACE =
  'One series per namespace (tenant); the cluster is their sum (no cluster series, so sum() does not count twice).';

/**
 * `defaults`: Node's process metrics (process_cpu_seconds_total, process_resident_memory_bytes,
 * nodejs_*), unprefixed so stock Node.js dashboards work; off when several operators share a process.
 */
export function operatorMetrics(defaults = true): OperatorMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const buildInfo = new Gauge({
    name: 'tailor_build_info',
    help: 'Always 1: the version of Tailor and of Node.js this operator runs.',
    labelNames: ['version', 'node_version'],
    registers,
  });
  buildInfo.set({ version: packageVersion(), node_version: process.version }, 1);
  const resource = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: CONTAINER_LABELS, registers });
  const m: OperatorMetrics = {
    registry,
    buildInfo,
    reconciles: new Counter({
      name: 'tailor_reconciles_total',
      help: 'Reconcile passes by controller and result (ok or error).',
      labelNames: ['controller', 'result'],
      registers,
    }),
    resizes: new Counter({
      name: 'tailor_resizes_total',
      help: 'pods/resize patches sent, by result (Applied, Infeasible, Rejected, Error, ...) and, for Rejected, reason (QosClassChange, Invalid, Forbidden, NotFound).',
      labelNames: ['result', 'reason'],
      registers,
    }),
    evictions: new Counter({
      name: 'tailor_evictions_total',
      help: 'Evictions through the Eviction API, by result (Evicted, Blocked by a PodDisruptionBudget, Failed).',
      labelNames: ['result'],
      registers,
    }),
    oomKills: new Counter({
      name: 'tailor_oom_kills_total',
      help: 'OOM kills seen in pod status, by namespace and workload (name); each is reacted to at once.',
      labelNames: ['namespace', 'workload'],
      registers,
    }),
    oomRaises: new Counter({
      name: 'tailor_oom_raises_total',
      help: 'Memory raises sent in place because of an OOM kill, by namespace and workload (name).',
      labelNames: ['namespace', 'workload'],
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
    workqueue: {
      depth: new Gauge({
        name: 'tailor_workqueue_depth',
        help: "Keys waiting or being reconciled in a controller's work queue (client-go's workqueue_depth).",
        labelNames: ['controller'],
        registers,
      }),
      adds: new Counter({
        name: 'tailor_workqueue_adds_total',
        help: "Keys added to a controller's work queue (a key already waiting is not counted again).",
        labelNames: ['controller'],
        registers,
      }),
      retries: new Counter({
        name: 'tailor_workqueue_retries_total',
        help: 'Reconciles that failed and were queued again with backoff, by controller.',
        labelNames: ['controller'],
        registers,
      }),
      queueSeconds: new Histogram({
        name: 'tailor_workqueue_queue_duration_seconds',
        help: 'How long a key waited in the work queue before its reconcile started.',
        labelNames: ['controller'],
        buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60],
        registers,
      }),
    },
    recommendation: {
      target: resource(
        'tailor_recommendation_target',
        "What Tailor recommends one replica's container requests (SizingPolicy status target), in the unit label's unit (core, byte).",
      ),
      lowerBound: resource(
        'tailor_recommendation_lower_bound',
        'Below this the container is likely starved or killed (status lowerBound), in the unit label.',
      ),
      upperBound: resource(
        'tailor_recommendation_upper_bound',
        'Above this resources are likely wasted (status upperBound), in the unit label.',
      ),
      requests: resource(
        'tailor_resource_requests',
        "What one replica's container requests now (the largest among the workload's covered pods), in the unit label.",
      ),
    },
    report: {
      savingsAvailable: new Gauge({
        name: 'tailor_savings_available_per_month',
        help: `Money per month applying the current recommendations would save (requested - recommended; negative: they cost more). ${PER_NAMESPACE}`,
        labelNames: ['namespace', 'currency'],
        registers,
      }),
      savingsRealised: new Gauge({
        name: 'tailor_savings_realised_in_range',
        help: `Money Tailor's applied changes saved, integrated over the report's range (tailor_report_range_seconds; negative: raises cost more). ${PER_NAMESPACE}`,
        labelNames: ['namespace', 'currency'],
        registers,
      }),
      cost: new Gauge({
        name: 'tailor_cost_per_month',
        help: `Money per month of what the pods request now, what the recommendations would request, and what they used on average over the report's range (state). ${PER_NAMESPACE}`,
        labelNames: ['namespace', 'state', 'currency'],
        registers,
      }),
      co2e: new Gauge({
        name: 'tailor_co2e_grams_per_month',
        help: `Grams of CO2-equivalent per month of what is requested, recommended and used (state). ${PER_NAMESPACE}`,
        labelNames: ['namespace', 'state'],
        registers,
      }),
      co2eSavingsAvailable: new Gauge({
        name: 'tailor_co2e_savings_available_grams_per_month',
        help: `Grams of CO2e per month applying the current recommendations would save. ${PER_NAMESPACE}`,
        labelNames: ['namespace'],
        registers,
      }),
      co2eSavingsRealised: new Gauge({
        name: 'tailor_co2e_savings_realised_grams_in_range',
        help: `Grams of CO2e Tailor's applied changes saved over the report's range. ${PER_NAMESPACE}`,
        labelNames: ['namespace'],
        registers,
      }),
      rangeSeconds: new Gauge({
        name: 'tailor_report_range_seconds',
        help: 'Length of the range the exported report covers (until - since): the range of the *_in_range gauges.',
        registers,
      }),
      timestampSeconds: new Gauge({
        name: 'tailor_report_timestamp_seconds',
        help: 'When the exported report was generated, seconds since the epoch.',
        registers,
      }),
      volumeWasteBytes: new Gauge({
        name: 'tailor_volume_waste_bytes',
        help: "Capacity of a PersistentVolumeClaim never half full over the report's range beyond what a new volume would need (peak used and a month of growth, 10% free, whole GiB). Only wasted claims have a series.",
        labelNames: ['namespace', 'persistentvolumeclaim'],
        registers,
      }),
      packing: packingGauges(registers),
      volumeWasteMonthlyCost: new Gauge({
        name: 'tailor_volume_waste_monthly_cost',
        help: 'Money per month the wasted capacity of a PersistentVolumeClaim costs (tailor_volume_waste_bytes at its StorageClass price).',
        labelNames: ['namespace', 'persistentvolumeclaim', 'currency'],
        registers,
      }),
    },
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
  // The outcomes a patch can have start at 0, so a rate() over them (and the alerts) has a series
  // before the first failure rather than "no data".
  for (const o of PATCH_OUTCOMES) m.resizes.inc(outcomeLabels(o), 0);
  for (const result of ['Evicted', 'Blocked', 'Failed'] satisfies EvictionResult[])
    m.evictions.inc({ result }, 0);
  return m;
}

/** Every kind (and rejection reason) a pods/resize patch's answer can be (core/resize/outcome.ts). */
const PATCH_OUTCOMES: ResizeOutcome[] = [
  { kind: 'Applied', message: '' },
  { kind: 'Infeasible', message: '' },
  { kind: 'Error', retryable: true, message: '' },
  ...(['QosClassChange', 'Invalid', 'Forbidden', 'NotFound'] satisfies RejectReason[]).map(
    (reason): ResizeOutcome => ({ kind: 'Rejected', reason, message: '' }),
  ),
];

/** The labels of a resize outcome: its kind, and for a rejection why (one value per label). */
export function outcomeLabels(o: ResizeOutcome): { result: ResizeOutcome['kind']; reason: string } {
  switch (o.kind) {
    case 'Rejected':
      return { result: o.kind, reason: o.reason };
    case 'Applied':
    case 'InProgress':
    case 'Deferred':
    case 'Infeasible':
    case 'Error':
      return { result: o.kind, reason: '' };
  }
}
