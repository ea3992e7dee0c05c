// `tailor operator` as a function: the composition root that builds the shared context, caches, usage
// history and metrics once, starts every controller on them, and serves /healthz, /readyz, /metrics.
import { pino, type Logger } from 'pino';
import type * as k8s from '@kubernetes/client-node';
import type { Controller, OperatorContext } from '../controllers/controller.ts';
import { sizingController, type SizingOptions } from '../controllers/sizing/controller.ts';
import { modelControllers, type ModelsOptions } from '../controllers/models/index.ts';
import { storageController, type StorageOptions } from '../controllers/storage/index.ts';
import { budgetsController, type BudgetsOptions } from '../controllers/budgets/index.ts';
import type { VolumeStatsSource } from '../sources/volume-stats.ts';
import { volumeStatsSource } from './volume-stats-source.ts';
import { makeClients, observeApiRequests, observeRbacDenials, type Clients } from '../kube/client.ts';
import { classify, errorLine } from '../kube/errors.ts';
import { eventRecorder } from '../kube/events.ts';
import { UsageHistory } from '../sources/history.ts';
import { ALL_NAMESPACES, namespaces } from '../sources/scope.ts';
import { WorkloadResolver, apiOwnerFetcher, controllerOf } from '../sources/workloads.ts';
import { RepeatLog } from '../logging/repeat-log.ts';
import { installCrds } from '../api/install.ts';
import { clusterCaches, type ClusterCaches } from './caches.ts';
import { serveOperatorHttp, type OperatorHttp, type Readiness } from './http.ts';
import { operatorMetrics, type OperatorMetrics } from './metrics.ts';
import { instrumentQueues } from './queue-metrics.ts';
import { UsageCollector } from './usage-collector.ts';
import { HistoryGuard } from './history-guard.ts';
import { startWebhook, type StartWebhookOptions, type WebhookHandle } from '../webhook/index.ts';
import { PrometheusFeed, type PrometheusFeedSettings } from './prometheus-history.ts';
import { resolveSources, type PrometheusSourceConfig } from './prometheus-sources.ts';
import { exportReport } from './report-metrics.ts';
import { Notifier, type NotifierOptions } from '../notify/notifier.ts';
import { reportSource, type ReportSourceOptions } from './report-source.ts';
import type { ReportProvider } from '../core/report/model.ts';
import { LeaderElector, electionConfig, type OperatorLeaderElectionOptions } from './leader-election.ts';

export const FIELD_MANAGER = 'tailor';

export interface OperatorOptions {
  readonly kc: k8s.KubeConfig;
  /** SQLite file of the usage history (survives restarts), or ':memory:'. */
  readonly historyPath: string;
  /** How often metrics.k8s.io is polled. Default 15 s. */
  readonly pollIntervalMs?: number;
  /** host:port of /metrics, /healthz, /readyz; port 0 picks one; undefined: no HTTP server. */
  readonly metricsAddr?: string;
  /** Compute, log and write status; never resize or evict. */
  readonly dryRun?: boolean;
  /** Watch and act in this namespace only (tests, or a tenant's own operator); default every namespace. */
  readonly namespace?: string;
  readonly log?: Logger;
  /** Seconds since the epoch. */
  readonly now?: () => number;
  readonly sizing?: SizingOptions;
  /** Create or update Tailor's CRDs before watching (needs RBAC on customresourcedefinitions). */
  readonly installCrds?: boolean;
  /** Register the process metrics (CPU, memory, event loop) too; off when several operators share a process. */
  readonly processMetrics?: boolean;
  /**
   * Serve the admission webhook (new pods start with their recommendation) and register it. Left
   * out: no webhook. With `namespace`, the registration covers that namespace only.
   */
  readonly webhook?: OperatorWebhookOptions;
  /** The ModelDeployment and start-up boost controllers (default on); false leaves them out. */
  readonly models?: Omit<ModelsOptions, 'namespaces'> | false;
  /**
   * The Prometheus servers policies may read (history.prometheus names one; `default` serves those
   * naming none). Checked at start: a bad one fails startOperator.
   */
  readonly prometheusSources?: readonly PrometheusSourceConfig[];
  /** How Prometheus history is read (steps, intervals, retries); tests shorten them. */
  readonly prometheus?: PrometheusFeedSettings;
  /** The savings report served at /ui (with metricsAddr); absent: /ui answers 503. */
  readonly report?: ReportProvider;
  /**
   * Notifications (src/notify), configured by a ConfigMap in the operator's namespace and the
   * Secrets it names; no ConfigMap, no notifications. Left out: not even looked for.
   */
  readonly notifications?: OperatorNotificationsOptions;
  /** Called with each standing savings report (every `reportIntervalMs`, default 60 s). */
  readonly onReport?: ReportSourceOptions['onReport'];
  readonly reportIntervalMs?: number;
  /** The prices ConfigMap (default tailor-system/tailor-prices). */
  readonly pricesConfigMap?: ReportSourceOptions['pricesConfigMap'];
  /**
   * Run the controllers only while this replica holds the Lease (several replicas; every one serves
   * the webhook, /healthz, /readyz, /metrics). Left out: no election, the controllers run at once.
   */
  readonly leaderElection?: OperatorLeaderElectionOptions;
  /**
   * The storage controller (VolumePolicies, pvc-autoresizer annotations); false leaves it out. Its
   * usage comes from `volumeStats`, else the Prometheus source "default", else the kubelets.
   */
  readonly storage?: StorageOptions | false;
  readonly volumeStats?: VolumeStatsSource;
  /** The budgets controller (TenantBudgets: monthly cost and CO2e caps per namespace); false leaves it out. */
  readonly budgets?: BudgetsOptions | false;
  /** Without Prometheus, volume usage comes from the kubelets: do not verify their certificates. */
  readonly kubeletInsecureTls?: boolean;
}

export type OperatorNotificationsOptions = Pick<NotifierOptions, 'configMap'> &
  Partial<
    Pick<NotifierOptions, 'report' | 'evaluateEveryMs' | 'reloadEveryMs' | 'dispatch' | 'clock' | 'fetch'>
  >;

export type OperatorWebhookOptions = Omit<StartWebhookOptions, 'clients' | 'log' | 'actuation'> & {
  /** Delete the MutatingWebhookConfiguration on stop (default true; pods pass unchanged either way). */
  readonly unregisterOnStop?: boolean;
};

export interface RunningOperator {
  readonly ctx: OperatorContext;
  readonly caches: ClusterCaches;
  readonly history: UsageHistory;
  /** Every call into `history` goes through it: failures are caught, counted and hold shrinks. */
  readonly historyGuard: HistoryGuard;
  readonly usage: UsageCollector;
  readonly metrics: OperatorMetrics;
  readonly controllers: readonly Controller[];
  /** Undefined without `metricsAddr`. */
  readonly http?: OperatorHttp;
  /** Undefined without `webhook`. */
  readonly webhook?: WebhookHandle;
  /** Undefined without `notifications`. */
  readonly notifier?: Notifier;
  /** The savings report on demand (same code as `tailor report`), within the operator's scope. */
  readonly report: ReportProvider;
  /** Undefined without `leaderElection`. */
  readonly elector?: LeaderElector;
  stop(): Promise<void>;
}

/** Everything a controller may be built from; the one list below decides which run. */
export interface OperatorParts {
  readonly ctx: OperatorContext;
  readonly caches: ClusterCaches;
  readonly history: HistoryGuard;
  readonly usage: UsageCollector;
  readonly metrics: OperatorMetrics;
  readonly resolve: (pod: k8s.V1Pod) => ReturnType<WorkloadResolver['resolve']>;
  readonly options: OperatorOptions;
  readonly prometheus?: PrometheusFeed;
  readonly notifier?: Notifier;
  readonly volumeStats?: VolumeStatsSource;
  /** The savings report on demand (budgets read their namespace's spend from it). */
  readonly report: ReportProvider;
}

/**
 * The controllers the operator runs. Add a controller here (e.g. `modelsController(p.ctx, ...)`);
 * each gets the same context, caches and metrics.
 */
function controllersOf(p: OperatorParts): Controller[] {
  return [
    sizingController(p.ctx, {
      caches: p.caches,
      history: p.history,
      usage: p.usage,
      metrics: p.metrics,
      resolve: p.resolve,
      ...(p.options.sizing ? { options: p.options.sizing } : {}),
      ...(p.prometheus ? { prometheus: p.prometheus } : {}),
      ownWebhook: p.options.webhook !== undefined,
      ...(p.notifier ? { signals: p.notifier.signals } : {}),
    }),
    ...(p.options.storage === false || !p.volumeStats
      ? []
      : [
          storageController(p.ctx, {
            metrics: p.metrics,
            source: p.volumeStats,
            ...(p.options.namespace ? { namespace: p.options.namespace } : {}),
            ...(p.options.storage ? { options: p.options.storage } : {}),
          }),
        ]),
    ...(p.options.budgets === false
      ? []
      : [
          budgetsController(p.ctx, {
            metrics: p.metrics,
            report: p.report,
            ...(p.notifier ? { announce: (a) => p.notifier!.announce(a) } : {}),
            ...(p.options.namespace ? { namespace: p.options.namespace } : {}),
            ...(p.options.budgets ? { options: p.options.budgets } : {}),
          }),
        ]),
    ...(p.options.models === false
      ? []
      : modelControllers(p.ctx, {
          // The storage controller's usage source: a new revision's room is judged on the same figures.
          ...(p.volumeStats ? { volumeStats: p.volumeStats } : {}),
          ...p.options.models,
          ...(p.options.namespace ? { namespaces: [p.options.namespace] } : {}),
        })),
  ];
}

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.log ?? pino({ name: 'tailor-operator' });
  const now = options.now ?? (() => Date.now() / 1000);
  // A bad Prometheus source stops the start here, before anything is opened or watched.
  resolveSources(options.prometheusSources ?? []);
  const clients: Clients = makeClients(options.kc);
  const metrics = operatorMetrics(options.processMetrics ?? false);
  const unobserve = observeApiRequests(options.kc, (r) => metrics.apiRequests.inc({ ...r }));
  // A refused request is a rule missing from the role: counted and logged loudly, whatever the caller then does with the error.
  const undeny = observeRbacDenials(options.kc, (d) => {
    metrics.rbacDenied.inc({ verb: d.verb, resource: d.resource });
    log.error(
      { verb: d.verb, resource: d.resource, err: d.message },
      'RBAC refused a request: the role lacks this rule',
    );
  });
  if (options.installCrds) {
    try {
      await installCrds(clients.ext);
    } catch (err) {
      if (unobserve) unobserve();
      if (undeny) undeny();
      throw err;
    }
  }
  const ctx: OperatorContext = {
    clients,
    log,
    events: eventRecorder(clients, 'tailor', (m) => log.warn(m)),
    now,
    dryRun: options.dryRun ?? false,
    fieldManager: FIELD_MANAGER,
  };
  const history = UsageHistory.open(options.historyPath);
  const historyGuard = new HistoryGuard(history, { metrics, log: log.child({ component: 'history' }), now });
  // A watch that keeps failing (an API group gone, RBAC) is one line per few minutes with a count.
  const watchFailures = new RepeatLog(log);
  const caches = clusterCaches(clients, options.namespace, (what, err) => {
    metrics.apiErrors.inc({ kind: classify(err).kind });
    watchFailures.failed(what, err, `watch of ${what} failed; it restarts with backoff`, { watch: what });
  });
  // A ReplicaSet's owner from the watch cache; the API only for one the cache has not seen yet
  // (created a moment ago) or a Job.
  const fromApi = apiOwnerFetcher(clients);
  const resolver = new WorkloadResolver({
    fetchOwner: (namespace, kind, name) => {
      const cached = kind === 'ReplicaSet' ? caches.workloads.ReplicaSet.get(name, namespace) : undefined;
      return cached ? Promise.resolve(controllerOf(cached) ?? null) : fromApi(namespace, kind, name);
    },
  });
  const usage = new UsageCollector({
    custom: clients.custom,
    scope: options.namespace ? namespaces(options.namespace) : ALL_NAMESPACES,
    history: historyGuard,
    pods: caches.pods,
    resolve: (pod) => resolver.resolve(pod),
    intervalMs: options.pollIntervalMs ?? 15_000,
    now,
    log: log.child({ component: 'usage' }),
    metrics,
  });
  // Reads nothing until a policy with history.source Prometheus asks for it.
  const prometheus = new PrometheusFeed({
    ...options.prometheus,
    history,
    guard: historyGuard,
    pods: () => caches.pods.list(),
    resolve: (pod) => resolver.resolve(pod),
    ...(options.prometheusSources ? { sources: options.prometheusSources } : {}),
    now,
    log: log.child({ component: 'prometheus' }),
  });
  /** Whether the controllers run: at once without election, on winning the Lease with it. */
  let leading = false;
  // The savings report: same gather + build as `tailor report`, for /ui, the metrics and the digest.
  // Volume usage, for the storage controller and the report's volume waste: one source for both.
  const volume = volumeStatsSource(options, clients, now, log);
  const reports = reportSource({
    clients,
    caches,
    resolve: (pod) => resolver.resolve(pod),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    log,
    now,
    ...(options.reportIntervalMs !== undefined ? { intervalMs: options.reportIntervalMs } : {}),
    ...(options.pricesConfigMap ? { pricesConfigMap: options.pricesConfigMap } : {}),
    // Volume waste in the report (and tailor_volume_waste_*) when volume usage has a source.
    ...(volume.volumeStats ? { volumeStats: volume.volumeStats } : {}),
    // The savings gauges follow every standing report, on the leader only (with several replicas,
    // sum() over the gauges must not count a namespace twice); then the caller's hook.
    onReport: (r) => {
      if (leading || !options.leaderElection) exportReport(metrics, r);
      options.onReport?.(r);
    },
  });
  // Beside sizing, never in its way: the controller only tells it which pods are stuck.
  const notifier = options.notifications
    ? new Notifier({
        report: reports.report,
        ...options.notifications,
        clients,
        log: log.child({ component: 'notify' }),
        events: ctx.events,
        now,
        pods: caches.pods,
        policies: () => caches.policies.list(),
        resolve: (pod) => resolver.resolve(pod),
        history: () => historyGuard.health(),
        metrics,
      })
    : undefined;
  const parts: OperatorParts = {
    ctx,
    caches,
    history: historyGuard,
    usage,
    metrics,
    resolve: (pod) => resolver.resolve(pod),
    options,
    prometheus,
    ...(notifier ? { notifier } : {}),
    ...volume,
    report: reports.report,
  };
  const controllers = controllersOf(parts);
  instrumentQueues(metrics, controllers);
  let ready = false;
  let http: OperatorHttp | undefined;
  let webhook: WebhookHandle | undefined;
  let elector: LeaderElector | undefined;
  let starting: Promise<void> | undefined;
  const startLeading = () =>
    (starting ??= (async () => {
      leading = true;
      // Usage first: the controllers' first passes find the samples of the first poll.
      usage.start();
      prometheus.start();
      await Promise.all(controllers.map((c) => c.start()));
      await notifier?.start();
    })());
  const stopAll = async () => {
    ready = false;
    // No more attempts (a leader stops renewing); the Lease is given up once the controllers stopped.
    await elector?.stop();
    // A stop during the leader's start waits for it: a part started after its stop would run on.
    await starting?.catch(() => {});
    // The webhook first: pods created while the rest stops pass unchanged rather than time out.
    await stopWebhook(webhook, options.webhook, clients, log);
    await notifier?.stop();
    await reports.stop();
    await usage.stop();
    await prometheus.stop();
    await Promise.all(controllers.map((c) => c.stop()));
    // Only now: a successor must not act while this replica still might.
    await elector?.release();
    await caches.stop();
    await http?.close();
    history.close();
    if (unobserve) unobserve();
    if (undeny) undeny();
  };
  try {
    if (options.metricsAddr !== undefined)
      http = await serveOperatorHttp(
        options.metricsAddr,
        metrics.registry,
        // A replica waiting for the Lease is ready too: it serves the webhook.
        () => readiness(ready, caches, leading ? controllers : []),
        options.report ?? reports.report,
      );
    await caches.synced;
    if (!options.leaderElection) await startLeading();
    // The webhook after the controllers: it sizes new pods from the policies' status, which the
    // controllers (the leader's, with election) keep current.
    if (options.webhook) webhook = await startWebhook(webhookOptions(options, clients, log, caches));
    reports.start();
    ready = true;
    if (options.leaderElection) {
      const election = options.leaderElection;
      elector = new LeaderElector(clients, electionConfig(election), {
        log: log.child({ component: 'leader-election' }),
        registry: metrics.registry,
        onStartedLeading: () => {
          startLeading().catch((err: unknown) => {
            log.error({ err: errorLine(err) }, 'the controllers failed to start');
            lost();
          });
        },
        onLostLeadership: () => lost(),
      });
      // Never two leaders acting: a replica that lost the Lease stops every controller (the command exits).
      const lost = () => {
        if (election.onLost) election.onLost();
        else void stop();
      };
      elector.start();
    }
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
  log.info(
    {
      controllers: controllers.map((c) => c.name),
      namespace: options.namespace ?? '(all)',
      history: history.path,
      dryRun: ctx.dryRun,
      ...(http ? { metrics: `${http.host}:${http.port}` } : {}),
      ...(webhook ? { webhook: webhook.url } : {}),
      ...(elector
        ? {
            leaderElection: `${elector.config.namespace}/${elector.config.name}`,
            identity: elector.config.identity,
          }
        : {}),
    },
    'operator started',
  );
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopAll());
  return {
    ctx,
    caches,
    history,
    historyGuard,
    usage,
    metrics,
    controllers,
    ...(http ? { http } : {}),
    ...(webhook ? { webhook } : {}),
    ...(notifier ? { notifier } : {}),
    report: reports.report,
    ...(elector ? { elector } : {}),
    stop,
  };
}

/** Not ready before start, nor while a required watch is down: its cache may be stale until it relists. */
function readiness(started: boolean, caches: ClusterCaches, controllers: readonly Controller[]): Readiness {
  if (!started) return { kind: 'Starting' };
  const down = [
    ...caches.unsynced(),
    ...controllers.flatMap((c) => (c.unsynced?.() ?? []).map((w) => `${c.name}/${w}`)),
  ];
  return down.length > 0 ? { kind: 'WatchesDown', watches: down } : { kind: 'Ready' };
}

function webhookOptions(
  options: OperatorOptions,
  clients: Clients,
  log: Logger,
  caches: ClusterCaches,
): StartWebhookOptions {
  const w = options.webhook!;
  const register = w.register ?? {};
  return {
    ...w,
    clients,
    log: log.child({ component: 'webhook' }),
    actuation: options.dryRun ? 'ReportOnly' : 'Patch',
    // New pods are held above the peak by the margin running pods are.
    ...(options.sizing?.plan?.peakMargin !== undefined ? { peakMargin: options.sizing.plan.peakMargin } : {}),
    // The operator's own SizingPolicy watch, not a second one.
    policies: { policiesIn: (ns) => caches.policies.inNamespace(ns), synced: caches.policies.synced },
    hpas: { hpasIn: (ns) => caches.hpas.inNamespace(ns), synced: caches.hpas.synced },
    register: {
      ...register,
      // One namespace's operator registers for that namespace only, under a name of its own
      // (the configuration is cluster-scoped: two such operators must not replace each other's).
      ...(options.namespace && !register.namespaces
        ? { namespaces: { kind: 'Only', namespaces: [options.namespace] } }
        : {}),
      ...(options.namespace && !register.name ? { name: `tailor-webhook-${options.namespace}` } : {}),
    },
  };
}

async function stopWebhook(
  webhook: WebhookHandle | undefined,
  options: OperatorWebhookOptions | undefined,
  clients: Clients,
  log: Logger,
): Promise<void> {
  if (!webhook) return;
  // Removed only by the last replica standing (replicas.ts): a rolling update keeps it.
  if (webhook.configuration && (options?.unregisterOnStop ?? true))
    await webhook
      .unregister()
      .catch((err: unknown) =>
        log.warn({ err: errorLine(err) }, 'webhook: could not delete its configuration'),
      );
  await webhook.stop();
}
