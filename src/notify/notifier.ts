// The notifications shell in the operator: reads the ConfigMap and the Secrets it names (operator's
// namespace only), watches pods for OOM kills, and every few seconds turns what the operator knows
// into the active alerts (alerts.ts) for the dispatcher; the weekly digest from a ReportProvider.
// Nothing here is awaited by sizing, and every failure is caught, logged and counted: a broken
// configuration or receiver turns notifications off or delays them, never the operator.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { SizingPolicy } from '../api/index.ts';
import type { Clients } from '../kube/client.ts';
import { classify } from '../kube/errors.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { SharedWatch } from '../kube/shared-watch.ts';
import type { ReportProvider } from '../core/report/model.ts';
import type { WorkloadRef } from '../sources/workloads.ts';
import { describe, TailorError } from '../errors.ts';
import { OomTracker } from '../controllers/sizing/oom.ts';
import { activeAlerts, digestAlert, type OomSeen, type StoreHealth } from './alerts.ts';
import { CONFIG_KEY, isHttpUrl, parseNotifyConfig, type NotifyConfig, type SecretRef } from './config.ts';
import { Dispatcher, type DispatcherSettings } from './dispatcher.ts';
import type { Clock } from './clock.ts';
import type { Fetch } from './receivers/http.ts';
import type { Receiver } from './receivers/receiver.ts';
import { slackReceiver } from './receivers/slack.ts';
import { pagerDutyReceiver } from './receivers/pagerduty.ts';
import { webhookReceiver } from './receivers/webhook.ts';
import { StuckPods, type SizingSignals } from './signals.ts';
import type { Alert, DeliveryResult } from './types.ts';

export const DEFAULT_NOTIFICATIONS_CONFIGMAP = { namespace: 'tailor-system', name: 'tailor-notifications' };

export interface NotifierMetrics {
  readonly notifications: { inc(labels: { receiver: string; result: DeliveryResult }): void };
  readonly notificationConfigErrors: { inc(): void };
}

export interface NotifierOptions {
  readonly clients: Clients;
  /** The ConfigMap; its Secrets are read in the same namespace (the operator's), never elsewhere. */
  readonly configMap: { readonly namespace: string; readonly name: string };
  readonly log: Logger;
  readonly events: EventRecorder;
  /** Seconds since the epoch. */
  readonly now: () => number;
  readonly pods: SharedWatch<k8s.V1Pod>;
  readonly policies: () => readonly SizingPolicy[];
  readonly resolve: (pod: k8s.V1Pod) => Promise<WorkloadRef>;
  readonly history: () => StoreHealth;
  readonly metrics: NotifierMetrics;
  /** The weekly digest's figures; without it, no digest. */
  readonly report?: ReportProvider;
  /** How often alerts are evaluated. Default 10 s. */
  readonly evaluateEveryMs?: number;
  /** How often the ConfigMap and Secrets are read again (a changed Secret is picked up then). Default 30 s. */
  readonly reloadEveryMs?: number;
  /** Tests: shorter retries, repeat interval and rate limits than the ConfigMap's or the defaults. */
  readonly dispatch?: Partial<DispatcherSettings>;
  readonly clock?: Clock;
  readonly fetch?: Fetch;
}

export type NotifierState =
  | { readonly kind: 'Starting' }
  /** No ConfigMap: notifications off, as configured. */
  | { readonly kind: 'Absent' }
  /** The ConfigMap or a Secret it names is wrong: notifications off until it is fixed. */
  | { readonly kind: 'Invalid'; readonly error: string }
  | { readonly kind: 'On'; readonly receivers: readonly string[] };

/** OOM kills kept for the loop alert: at most this many, none older than a day. */
const MAX_OOMS = 10_000;
/** One-off messages held while notifications start. */
const MAX_PENDING = 100;

export class Notifier {
  readonly signals: SizingSignals;
  private readonly stuck: StuckPods;
  private readonly oomTracker = new OomTracker();
  private ooms: OomSeen[] = [];
  private config: NotifyConfig | undefined;
  private dispatcher: Dispatcher | undefined;
  /** resourceVersions of the ConfigMap and its Secrets the running dispatcher was built from. */
  private built = '';
  /** The last error said (logged, Event, counted), so it is said once per change, not every reload. */
  private said = '';
  private current: NotifierState = { kind: 'Starting' };
  private nextDigestAt: number | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private loading: Promise<void> = Promise.resolve();
  private stopped = false;
  /** One-off messages announced before the configuration was first read. */
  private pending: Alert[] = [];

  constructor(private readonly o: NotifierOptions) {
    this.stuck = new StuckPods(o.now);
    this.signals = this.stuck;
  }

  state(): NotifierState {
    return this.current;
  }

  async start(): Promise<void> {
    this.unsubscribe = this.o.pods.subscribe({
      add: (p) => this.onPod(p),
      update: (p) => this.onPod(p),
      delete: (p) => this.oomTracker.forget(p.metadata?.uid ?? ''),
    });
    for (const p of this.o.pods.list()) this.onPod(p);
    await this.reload();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.reloadEveryMs ?? 30_000, () => void this.reload());
    every(this.o.evaluateEveryMs ?? 10_000, () => this.evaluate());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.unsubscribe?.();
    await this.loading;
    await this.dispatcher?.stop();
    this.dispatcher = undefined;
  }

  /** Evaluates the alerts now and hands them to the dispatcher (the timer does this every few seconds). */
  evaluate(): void {
    try {
      if (!this.dispatcher || !this.config) return;
      const now = this.o.now();
      this.ooms = this.ooms.filter(
        (k) => k.t >= now - Math.max(86_400, this.config!.alerts.oomLoop.withinSeconds),
      );
      const alerts = activeAlerts(
        {
          now,
          ooms: this.ooms,
          stuck: this.stuck.list(),
          history: this.o.history(),
          policies: this.o.policies().map((p) => ({
            namespace: p.metadata.namespace ?? '',
            name: p.metadata.name ?? '',
            conditions: p.status?.conditions ?? [],
          })),
        },
        this.config.alerts,
      );
      this.dispatcher.update(alerts);
      if (this.nextDigestAt !== undefined && now >= this.nextDigestAt) {
        this.nextDigestAt = now + this.config.digestEverySeconds;
        void this.sendDigest();
      }
    } catch (err) {
      this.o.log.error({ err: describe(err) }, 'notifications: evaluating alerts failed');
    }
  }

  /**
   * A one-off message (a budget's forecast crossing its cap): queued now, or, while the
   * configuration is still being read at start, as soon as it is on. With notifications off, dropped.
   */
  announce(alert: Alert): void {
    if (this.dispatcher) this.dispatcher.announce(alert);
    else if (this.current.kind === 'Starting') this.pending = [...this.pending, alert].slice(-MAX_PENDING);
  }

  /** Builds the digest from the report provider and queues it (weekly from the timer; tests call it). */
  async sendDigest(): Promise<boolean> {
    const d = this.dispatcher;
    const c = this.config;
    if (!d || !c || !this.o.report) return false;
    try {
      const report = await this.o.report({ sinceSeconds: c.digestEverySeconds || 7 * 86_400 });
      d.announce(digestAlert(report, this.o.now()));
      return true;
    } catch (err) {
      this.o.log.warn(
        { err: describe(err) },
        'notifications: the savings digest could not be built; next one at its time',
      );
      return false;
    }
  }

  /** Reads the ConfigMap and its Secrets again; rebuilds the dispatcher when either changed. */
  reload(): Promise<void> {
    const next = this.loading
      .then(() => this.load())
      .catch((err: unknown) => {
        this.o.log.error({ err: describe(err) }, 'notifications: reloading the configuration failed');
      });
    this.loading = next;
    return next;
  }

  private async load(): Promise<void> {
    if (this.stopped) return;
    const { namespace, name } = this.o.configMap;
    const where = `ConfigMap ${namespace}/${name}`;
    let cm: k8s.V1ConfigMap;
    try {
      cm = await this.o.clients.core.readNamespacedConfigMap({ name, namespace });
    } catch (err) {
      const f = classify(err);
      if (f.kind === 'NotFound')
        return this.off({ kind: 'Absent' }, `${where} not found: notifications are off`);
      // Said once (the RBAC denial is counted too): the Role is not bound there, or names another ConfigMap.
      if (f.kind === 'Forbidden')
        return this.off(
          { kind: 'Absent' },
          `${where} may not be read (bind the Role tailor-operator-notifications there): notifications are off`,
        );
      // Unreachable apiserver: keep what runs (or nothing); the next reload tries again.
      this.o.log.warn(
        { err: f.message },
        `notifications: ${where} could not be read; keeping the current configuration`,
      );
      return;
    }
    let config: NotifyConfig;
    let receivers: Receiver[];
    let version: string;
    try {
      const text = cm.data?.[CONFIG_KEY];
      if (text === undefined)
        throw new TailorError('InvalidInput', `${where}: ${CONFIG_KEY}: the key is missing`, {
          hint: `put the notifications YAML under data.${CONFIG_KEY} (see examples/notifications.yaml)`,
        });
      config = parseNotifyConfig(text, where);
      const secrets = await this.readSecrets(config, namespace);
      version = [cm.metadata?.resourceVersion, ...[...secrets.versions].sort()].join('/');
      receivers = this.receivers(config, secrets.values, where);
    } catch (err) {
      if (!(err instanceof TailorError) || err.code !== 'InvalidInput') {
        this.o.log.warn(
          { err: describe(err) },
          `notifications: ${where}'s Secrets could not be read; keeping the current configuration`,
        );
        return;
      }
      const message = err.message;
      await this.off({ kind: 'Invalid', error: message }, message);
      if (this.said !== message) {
        this.said = message;
        this.o.metrics.notificationConfigErrors.inc();
        this.o.log.error(
          { err: message },
          'notifications: the configuration is refused; notifications are off until it is fixed',
        );
        this.o.events.record(
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: cm.metadata ?? { name, namespace } },
          'Warning',
          'InvalidNotificationConfig',
          `${message}; notifications are off until this is fixed (sizing is not affected)`,
        );
      }
      return;
    }
    this.said = '';
    if (version === this.built && this.dispatcher) return;
    const old = this.dispatcher;
    this.dispatcher = undefined;
    await old?.stop();
    if (this.stopped) return;
    this.config = config;
    this.built = version;
    this.dispatcher = new Dispatcher({
      receivers,
      routes: config.routes,
      settings: { ...config.dispatch, ...this.o.dispatch },
      ...(this.o.clock ? { clock: this.o.clock } : {}),
      count: (receiver, result) => this.o.metrics.notifications.inc({ receiver, result }),
      log: (level, fields, msg) => this.o.log[level](fields, `notifications: ${msg}`),
    });
    this.nextDigestAt =
      this.o.report && config.digestEverySeconds > 0 ? this.o.now() + config.digestEverySeconds : undefined;
    this.current = { kind: 'On', receivers: receivers.map((r) => r.name) };
    for (const a of this.pending.splice(0)) this.dispatcher.announce(a);
    this.o.log.info(
      { receivers: receivers.map((r) => `${r.name} (${r.type})`) },
      `notifications: on, from ${where}`,
    );
    this.evaluate();
  }

  private async off(state: NotifierState, why: string): Promise<void> {
    if (this.current.kind !== state.kind) this.o.log.info(`notifications: ${why}`);
    this.current = state;
    this.pending = [];
    this.built = '';
    const old = this.dispatcher;
    this.dispatcher = undefined;
    this.config = undefined;
    await old?.stop();
  }

  /** Each Secret the config names, read once, in the operator's namespace only. */
  private async readSecrets(
    config: NotifyConfig,
    namespace: string,
  ): Promise<{ values: Map<string, k8s.V1Secret | null>; versions: string[] }> {
    const names = new Set<string>();
    for (const r of config.receivers) {
      if (r.type === 'pagerduty') {
        names.add(r.routingKey.secret);
        if (r.url) names.add(r.url.secret);
      } else names.add(r.url.secret);
    }
    const values = new Map<string, k8s.V1Secret | null>();
    const versions: string[] = [];
    for (const name of names) {
      try {
        const s = await this.o.clients.core.readNamespacedSecret({ name, namespace });
        values.set(name, s);
        versions.push(`${name}@${s.metadata?.resourceVersion}`);
      } catch (err) {
        const f = classify(err);
        if (f.kind !== 'NotFound' && f.kind !== 'Forbidden') throw err;
        values.set(name, null);
        versions.push(`${name}@${f.kind}`);
      }
    }
    return { values, versions };
  }

  private receivers(
    config: NotifyConfig,
    secrets: Map<string, k8s.V1Secret | null>,
    where: string,
  ): Receiver[] {
    const namespace = this.o.configMap.namespace;
    const value = (ref: SecretRef, path: string, kind: 'url' | 'key'): string => {
      const s = secrets.get(ref.secret);
      const fail = (problem: string, hint: string): never => {
        throw new TailorError('InvalidInput', `${where}: ${path}: ${problem}`, { hint });
      };
      if (!s)
        return fail(
          `Secret ${namespace}/${ref.secret} cannot be read (missing, or the operator's Role does not name it)`,
          `create it in ${namespace} and add its name to the Role tailor-operator-notifications (deploy/rbac/operator.yaml)`,
        );
      const raw = s.data?.[ref.key];
      if (raw === undefined)
        return fail(
          `Secret ${namespace}/${ref.secret} has no key ${ref.key}`,
          `kubectl -n ${namespace} create secret generic ${ref.secret} --from-literal=${ref.key}=...`,
        );
      const v = Buffer.from(raw, 'base64').toString('utf8').trim();
      if (kind === 'url' && !isHttpUrl(v))
        return fail(
          `Secret ${namespace}/${ref.secret} key ${ref.key} is not an http(s) URL without user:password@`,
          "put the receiver's full URL there, e.g. the Slack incoming-webhook URL",
        );
      if (kind === 'key' && (v.length === 0 || v.length > 1024 || /\s/.test(v)))
        return fail(
          `Secret ${namespace}/${ref.secret} key ${ref.key} is not a routing key`,
          'the 32-character integration key of a PagerDuty Events API v2 integration',
        );
      return v;
    };
    return config.receivers.map((r, i) => {
      const o = { timeoutMs: config.timeoutMs, ...(this.o.fetch ? { fetch: this.o.fetch } : {}) };
      switch (r.type) {
        case 'slack':
          return slackReceiver(r.name, value(r.url, `receivers[${i}].slack.url`, 'url'), o);
        case 'webhook':
          return webhookReceiver(r.name, value(r.url, `receivers[${i}].webhook.url`, 'url'), {
            ...o,
            externalURL: config.externalURL,
          });
        case 'pagerduty':
          return pagerDutyReceiver(
            r.name,
            value(r.routingKey, `receivers[${i}].pagerduty.routingKey`, 'key'),
            {
              ...o,
              source: config.clusterName,
              ...(r.url ? { url: value(r.url, `receivers[${i}].pagerduty.url`, 'url') } : {}),
            },
          );
      }
    });
  }

  private onPod(pod: k8s.V1Pod): void {
    const kills = this.oomTracker.fresh(pod);
    if (kills.length === 0) return;
    void this.o
      .resolve(pod)
      .then((w) => {
        for (const k of kills)
          this.ooms.push({
            namespace: w.namespace,
            workload: `${w.kind === 'Custom' ? (w.ownerKind ?? w.kind) : w.kind}/${w.name}`,
            container: k.container,
            pod: pod.metadata?.name ?? '',
            t: k.t,
          });
        if (this.ooms.length > MAX_OOMS) this.ooms = this.ooms.slice(-MAX_OOMS);
      })
      .catch((err: unknown) =>
        this.o.log.debug({ err: describe(err) }, 'notifications: pod not mapped to a workload'),
      );
  }
}
