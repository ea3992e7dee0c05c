// The sizing controller: keeps every SizingPolicy's status (recommendations, pod counts, savings,
// conditions) current from the usage history and, in InPlace and Auto, resizes the pods it covers in
// place (Auto also evicts what cannot fit), reacting to OOM kills as soon as the pod update arrives.
import type * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  VERSION,
  parseDuration,
  SizingPolicySpec,
  WORKLOAD_KINDS,
  validate,
  type SizingPolicy,
} from '../../api/index.ts';
import type { SizingPolicyStatus } from '../../api/index.ts';
import type { Controller, OperatorContext } from '../controller.ts';
import { mergePatch } from '../../kube/client.ts';
import { classify, errorLine } from '../../kube/errors.ts';
import { RepeatLog } from '../../logging/repeat-log.ts';
import { WorkQueue, type ReconcileResult } from '../../kube/workqueue.ts';
import { describe } from '../../errors.ts';
import {
  frozenByHpas,
  boundByNodes,
  evictionGate,
  lastResizeTime,
  planResize,
  planRollout,
  podView,
  type ContainerUsage,
  type FrozenResource,
  type PlanSettings,
  type ReplacementSizing,
  type ResizePlan,
  type RolloutCandidate,
} from '../../core/resize/index.ts';
import { decimal, monthlySaving, type PriceSheet } from '../../core/cost/price.ts';
import type { SeriesKey } from '../../sources/history.ts';
import { configsFor } from '../../core/recommend/tuning.ts';
import { atClockSpeed } from '../../core/recommend/config.ts';
import type { PrometheusFeed, PrometheusHistoryState } from '../../operator/prometheus-history.ts';
import type { WorkloadRef } from '../../sources/workloads.ts';
import type { ClusterCaches } from '../../operator/caches.ts';
import type { OperatorMetrics } from '../../operator/metrics.ts';
import { sizingMetrics } from '../../operator/sizing-metrics.ts';
import type { UsageCollector } from '../../operator/usage-collector.ts';
import type { HistoryGuard, HistoryHealth } from '../../operator/history-guard.ts';
import { actuator, podRef, policyRef, type Actuator } from './actuate.ts';
import { conflictConditions, conflictEvents, markNotApplied } from './conflicts.ts';
import {
  controllingPolicy,
  inStartupBoost,
  isLive,
  policyCovers,
  selectorMatches,
  targetLabel,
  type Selector,
} from './matching.ts';
import { OomTracker } from './oom.ts';
import { PassTimer } from './pass.ts';
import { PodChanges } from './pod-changes.ts';
import { checkpoints } from './checkpoint.ts';
import { sizingLedgers } from './ledger.ts';
import { evictionGuard, type EvictionGuard } from './eviction-guard.ts';
import { mergeConditions, settleRecommendations, settleSavings, statusChanged } from './status.ts';
import { readSeries, seriesKeyString, type SeriesView } from './usage.ts';
import { requiredSpanSeconds, shrinkGate, withHolds } from './shrink-gate.ts';
import { declaredRequests, noSeries, statusRecommendations, type CoveredPod } from './recommendations.ts';
import { evictionConditions, wantedConditions } from './conditions.ts';
import type { SizingSignals, StuckReport } from '../../notify/signals.ts';

export interface SizingOptions {
  /**
   * Nothing is lowered until a series' history spans this long (raises, OOM raises first, do not
   * wait): the first hours of a workload are rarely its daily peak. Default min(history.window,
   * 24 h) per policy; tests lower it.
   */
  readonly minHistorySeconds?: number;
  /** Every policy is reconciled at least this often, new samples or not. Default 5 minutes. */
  readonly resyncMs?: number;
  /** How soon to look again while a resize is waiting (Deferred, in progress) or an eviction is held. Default 5 s. */
  readonly busyRequeueMs?: number;
  /** A stored recommendation is kept while the new one is within this relative distance. Default 0.02. */
  readonly statusTolerance?: number;
  readonly prices?: PriceSheet;
  readonly plan?: Partial<PlanSettings>;
  readonly concurrency?: number;
  /** At most one periodic SizingCheckpoint write per policy this often (evictions and resizes write at once). Default 60. */
  readonly checkpointIntervalSeconds?: number;
  /**
   * Development only: the cluster is a simulation whose clock runs this many times faster than the
   * wall clock, and the recommender's spans (half-lives, windows) are divided by it (atClockSpeed).
   * Default 1.
   */
  readonly clockSpeed?: number;
}

export interface SizingDeps {
  readonly caches: ClusterCaches;
  /** The usage history, through the guard that catches its failures (a failing store holds every shrink). */
  readonly history: HistoryGuard;
  readonly usage: UsageCollector;
  readonly metrics: OperatorMetrics;
  readonly resolve: (pod: k8s.V1Pod) => Promise<WorkloadRef>;
  readonly options?: SizingOptions;
  /** History from Prometheus for policies with history.source Prometheus; without it they get a condition. */
  readonly prometheus?: PrometheusFeed;
  /** This process serves and registers the webhook: until its registration is seen, evictions wait quietly. */
  readonly ownWebhook?: boolean;
  /** Told after each pass which pods are stuck (resize infeasible or deferred, eviction held): notifications. */
  readonly signals?: SizingSignals;
}

export const SIZING_CONTROLLER = 'sizing';

export type { PodSkip } from './recommendations.ts';

export function sizingController(ctx: OperatorContext, deps: SizingDeps): Controller {
  const o = deps.options ?? {};
  const resyncMs = o.resyncMs ?? 5 * 60_000;
  const busyMs = o.busyRequeueMs ?? 5_000;
  const tolerance = o.statusTolerance ?? 0.02;
  const { caches, history, metrics } = deps;
  const log = ctx.log.child({ controller: SIZING_CONTROLLER });
  const watchFailures = new RepeatLog(log);
  const changes = new PodChanges();
  const ooms = new OomTracker();
  const act: Actuator = actuator(ctx, metrics, changes);
  const exported = sizingMetrics(metrics);
  /** Pods whose eviction is held, so the hold is said once, not on every pass. */
  const held = new Set<string>();
  /** Tailor's savings records per policy (what the pods held, used, were recommended), checkpointed too. */
  const ledgers = sizingLedgers(changes);
  /** The recommender state and eviction/change times, kept in a SizingCheckpoint per policy. */
  const cps = checkpoints(ctx, history, changes, {
    ...(o.checkpointIntervalSeconds !== undefined ? { intervalSeconds: o.checkpointIntervalSeconds } : {}),
    ledger: ledgers,
  });
  /** The webhook registration and the nodes, watched from start(). */
  let guard: EvictionGuard | undefined;
  /** Policies told (Event) that Auto cannot evict without the webhook, so it is said once. */
  const toldNoWebhook = new Set<string>();
  /** What --dry-run last said per pod, so a plan is logged when it changes, not on every pass. */
  const dryRunSaid = new Map<string, string>();
  /** The Conflict / HPAConflict messages last said as an Event, per policy and condition. */
  const conflictSaid = new Map<string, string>();
  const unsubscribe: (() => void)[] = [];

  const passes = new PassTimer();
  const passEnded = (ms: number | undefined) => {
    if (ms === undefined) return;
    const seconds = ms / 1000;
    metrics.fullPassSeconds.observe({ controller: SIZING_CONTROLLER }, seconds);
    metrics.lastFullPassSeconds.set({ controller: SIZING_CONTROLLER }, seconds);
    log.debug({ seconds }, 'full pass over the queued policies done');
  };

  const queue = new WorkQueue(
    async (key) => {
      const began = Date.now();
      const end = metrics.passSeconds.startTimer({ controller: SIZING_CONTROLLER });
      try {
        const stuck: StuckReport[] = [];
        const r = await reconcile(key, stuck);
        metrics.reconciles.inc({ controller: SIZING_CONTROLLER, result: 'ok' });
        deps.signals?.passed(key, stuck);
        return r;
      } catch (err) {
        metrics.reconciles.inc({ controller: SIZING_CONTROLLER, result: 'error' });
        throw err;
      } finally {
        end();
        passEnded(passes.done(key, began, Date.now()));
      }
    },
    (key, err, retryInMs) => {
      metrics.apiErrors.inc({ kind: classify(err).kind });
      log.warn({ policy: key, err: errorLine(err), retryInMs }, 'reconcile failed; retrying with backoff');
    },
    { concurrency: o.concurrency ?? 4, baseBackoffMs: 500, maxBackoffMs: 30_000 },
  );

  const keyOf = (p: { metadata?: k8s.V1ObjectMeta }) => `${p.metadata?.namespace}/${p.metadata?.name}`;
  const policiesIn = (namespace: string) => caches.policies.inNamespace(namespace);
  /** Each policy's last seen generation: a spec change (not a status write) requeues its neighbours. */
  const generations = new Map<string, number | undefined>();
  const hpaGenerations = new Map<string, number | undefined>();
  const hpaChanged = (h: k8s.V2HorizontalPodAutoscaler, gone: boolean) => {
    const k = keyOf(h);
    if (gone) hpaGenerations.delete(k);
    else if (hpaGenerations.has(k) && hpaGenerations.get(k) === h.metadata?.generation) return;
    else hpaGenerations.set(k, h.metadata?.generation);
    for (const p of policiesIn(h.metadata?.namespace ?? '')) queue.add(keyOf(p));
  };
  const neighbours = (p: SizingPolicy) => {
    queue.add(keyOf(p));
    for (const x of policiesIn(p.metadata.namespace ?? '')) queue.add(keyOf(x));
  };

  /** The policies covering a pod; a policy that does not validate covers nothing. */
  async function policiesOf(pod: k8s.V1Pod): Promise<SizingPolicy[]> {
    const mine = policiesIn(pod.metadata?.namespace ?? '');
    if (mine.length === 0) return [];
    const workload = await deps.resolve(pod);
    return mine.filter((p) =>
      policyCovers({ namespace: p.metadata.namespace ?? '', spec: p.spec }, pod, workload),
    );
  }

  function onPod(pod: k8s.V1Pod, isUpdate: boolean): void {
    void (async () => {
      const kills = ooms.fresh(pod);
      let workload: WorkloadRef | undefined;
      if (kills.length > 0) {
        workload = await deps.resolve(pod);
        // Recorded at once, not at the next poll: the recommender's OOM floor and the planner's
        // bump both start from here. A store that refuses it keeps it for a retry; the raise below
        // goes out either way.
        history.recordOoms(
          kills.flatMap((k) =>
            k.usageBytes
              ? [
                  {
                    workload: workload!,
                    container: k.container,
                    pod: pod.metadata?.name ?? '',
                    t: k.t,
                    usageBytes: k.usageBytes,
                  },
                ]
              : [],
          ),
        );
        if (isUpdate) {
          exported.oomKills(workload, kills.length);
          log.info({ pod: keyOf(pod), kills }, 'OOM kill seen: reconciling its policy now');
        }
      }
      for (const p of await policiesOf(pod)) queue.add(keyOf(p), { urgent: kills.length > 0 && isUpdate });
    })().catch((err: unknown) => log.warn({ pod: keyOf(pod), err: errorLine(err) }, 'pod event not mapped'));
  }

  /** `stuck` collects the pods this pass could not change as planned (for notifications). */
  async function reconcile(key: string, stuck: StuckReport[]): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const policy = caches.policies.get(name, namespace);
    if (!policy) {
      exported.forget(key);
      return {}; // deleted: nothing to undo (pods keep their sizes), no status to write
    }
    const now = ctx.now();
    const generation = policy.metadata.generation;
    const plog = log.child({ policy: key });
    plog.debug({ generation }, 'reconcile');

    // 1. The spec as the planner reads it. The apiserver validated it at admission, but a CRD
    //    older or newer than this operator may not match: then say so, and change nothing.
    let spec: SizingPolicySpec;
    try {
      spec = validate(SizingPolicySpec, policy.spec, `SizingPolicy ${key}`);
    } catch (err) {
      await writeStatus(policy, {
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        conditions: mergeConditions(
          policy.status?.conditions,
          [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: describe(err) }],
          generation,
          new Date(now * 1000),
        ),
      });
      return { requeueAfterMs: resyncMs };
    }
    const target = targetLabel(spec);

    // 2. The target. A missing workload is a condition, not an error: the user may create it later
    //    (the policy update or the pods' events bring us back), and nothing else may happen first.
    const template = spec.targetRef
      ? workloadTemplate(namespace, spec.targetRef.kind, spec.targetRef.name)
      : undefined;
    if (spec.targetRef && template === null) {
      const message = `${target} not found in namespace ${namespace}`;
      await writeStatus(policy, {
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        target,
        pods: { targeted: 0, withoutMetrics: 0, upToDate: 0, skipped: 0 },
        conditions: mergeConditions(
          policy.status?.conditions,
          [
            { type: 'Ready', status: 'False', reason: 'TargetNotFound', message },
            { type: 'TargetFound', status: 'False', reason: 'TargetNotFound', message },
            { type: 'RecommendationsAvailable', status: 'False', reason: 'TargetNotFound', message },
          ],
          generation,
          new Date(now * 1000),
        ),
        ...(policy.status?.lastApplied ? { lastApplied: policy.status.lastApplied } : {}),
      });
      return { requeueAfterMs: resyncMs };
    }

    // 3. The pods and their usage. A pod without metrics gets no recommendation (never a shrink on
    //    missing data); one in its start-up boost belongs to that controller for now.
    //    A pod another policy controls (the one rule the webhook follows too) is left to it.
    const covered: CoveredPod[] = [];
    const lostTo = new Map<string, string[]>();
    const frozen: FrozenResource[] = [];
    for (const pod of caches.pods.inNamespace(namespace)) {
      if (!isLive(pod)) continue;
      const workload = await deps.resolve(pod);
      if (!policyCovers({ namespace, spec }, pod, workload)) continue;
      const control = controllingPolicy(pod, workload, policiesIn(namespace));
      if (control.kind === 'Controlled' && control.policy.metadata.name !== name) {
        const winner = control.policy.metadata.name ?? '';
        lostTo.set(winner, [...(lostTo.get(winner) ?? []), pod.metadata?.name ?? '']);
        covered.push({ pod, workload, skip: 'OverlappingPolicy' });
        continue;
      }
      covered.push({ pod, workload, ...(inStartupBoost(pod) ? { skip: 'StartupBoost' as const } : {}) });
    }
    const windowSeconds = (parseDuration(spec.history.window) ?? 8 * 86_400_000) / 1000;
    // The policy's profile and overrides as recommender configs (Balanced alone: the defaults).
    const tuned = configsFor(spec.recommendation);
    const speed = o.clockSpeed ?? 1;
    const configs = { cpu: atClockSpeed(tuned.cpu, speed), memory: atClockSpeed(tuned.memory, speed) };
    // Before the history is read: what an earlier process (maybe on another disk) knew comes back first.
    const view = { configs, windowSeconds };
    await cps.load(policy, view);
    // With source Prometheus, nothing is applied (OOM raises excepted) until its history is read:
    // the metrics.k8s.io minutes alone are not the window the policy asked for.
    const fromPrometheus: PrometheusHistoryState | undefined =
      spec.history.source !== 'Prometheus'
        ? undefined
        : (deps.prometheus?.want(spec.history.prometheus, namespace, windowSeconds) ?? {
            kind: 'NoSource',
            message: 'history.source is Prometheus, but this operator reads no Prometheus',
          });
    const historyReady = fromPrometheus === undefined || fromPrometheus.kind === 'Ready';
    const series = new Map<string, SeriesView>();
    /** A read of this pass that failed: every shrink of this policy holds, and status keeps its recommendations. */
    let readFailed: HistoryHealth | undefined;
    const seriesOf = (key: SeriesKey) => {
      const k = seriesKeyString(key);
      let s = series.get(k);
      if (!s) {
        const r = history.run('read', (h) => readSeries(h, key, now, windowSeconds, configs));
        if (r.ok) {
          // The series this policy reads keep its window (in its namespace only: covered pods' series).
          history.run('retain', (h) => h.retainSeries(key, windowSeconds, now));
        } else readFailed ??= { kind: 'Failing', op: 'read', error: r.error, since: now };
        series.set(k, (s = r.ok ? r.value : noSeries(key)));
      }
      return s;
    };
    for (const c of covered)
      for (const ct of c.pod.spec?.containers ?? []) seriesOf({ workload: c.workload, container: ct.name });
    const store = readFailed ?? history.health();
    const minSpan = requiredSpanSeconds(windowSeconds, o.minHistorySeconds);
    const gates: ReturnType<typeof shrinkGate>[] = [];
    let withoutMetrics = 0;
    const plans: { c: CoveredPod; plan: ResizePlan; input: Parameters<typeof planResize>[0] }[] = [];
    const savings: {
      current: { cpuCores: number; memoryBytes: number };
      recommended: { cpuCores: number; memoryBytes: number };
    }[] = [];
    for (const c of covered) {
      const view = podView(c.pod);
      const latest = deps.usage.latestOf(namespace, view.name);
      if (!latest) withoutMetrics++;
      const recommendations: Record<string, ReturnType<typeof seriesOf>['recommendation']> = {};
      const usage: Record<string, ContainerUsage> = {};
      for (const ct of view.containers) {
        const s = seriesOf({ workload: c.workload, container: ct.name });
        const now_ = latest?.get(ct.name);
        usage[ct.name] = {
          ...(s.memoryPeak !== undefined ? { memoryPeak: s.memoryPeak } : {}),
          ...(now_ ? { memoryNow: now_.memoryBytes } : {}),
        };
        // Applied only with this pod's own metrics; shrinks only past the gate below.
        if (latest && historyReady) recommendations[ct.name] = s.recommendation;
        if (latest && historyReady && c.skip !== 'OverlappingPolicy') {
          const cur = ct.spec.requests;
          // Against what the workload declares (its pod template), so a pod Tailor already resized
          // still counts what it saves; a selector policy has no template, so the pod's own requests.
          const declared = template ? declaredRequests(template, ct.name) : undefined;
          savings.push({
            current: {
              cpuCores: declared?.cpu ?? cur.cpu ?? 0,
              memoryBytes: declared?.memory ?? cur.memory ?? 0,
            },
            recommended: {
              cpuCores:
                s.recommendation.cpu && cur.cpu !== undefined ? s.recommendation.cpu.target : (cur.cpu ?? 0),
              memoryBytes:
                s.recommendation.memory && cur.memory !== undefined
                  ? Math.max(s.recommendation.memory.target, s.memoryPeak ?? 0)
                  : (cur.memory ?? 0),
            },
          });
        }
      }
      if (c.skip === 'OverlappingPolicy') continue;
      // Resources an HPA scales on by utilisation keep their requests (see core/resize/hpa.ts).
      const podFrozen = frozenByHpas(caches.hpas.inNamespace(namespace), c.workload);
      frozen.push(...podFrozen);
      if (c.skip) continue;
      const uid = c.pod.metadata?.uid ?? '';
      const lastChange = maxDefined(changes.lastChange(uid), lastResizeTime(c.pod));
      const lastAttempt = changes.lastAttempt(uid);
      const shrink = shrinkGate({
        store,
        now,
        pollIntervalSeconds: deps.usage.intervalMs / 1000,
        requiredSpanSeconds: minSpan,
        containers: Object.keys(recommendations).map((name) => ({
          name,
          latest: latest?.get(name),
          spanSeconds: seriesOf({ workload: c.workload, container: name }).ageSeconds,
        })),
      });
      gates.push(shrink);
      const input = {
        pod: view,
        recommendations,
        usage,
        policy: spec,
        shrink,
        ...(lastChange !== undefined ? { lastChange } : {}),
        changesLastHour: changes.changesSince(uid, now - 3600),
        ...(lastAttempt ? { lastAttempt } : {}),
        ...(podFrozen.length > 0 ? { frozen: podFrozen } : {}),
        now,
        ...(o.plan ? { settings: o.plan } : {}),
      };
      plans.push({ c, plan: planResize(input), input });
    }

    ledgers.record(key, {
      now,
      covered,
      template: template ?? undefined,
      seriesOf,
      recommendationsReady: historyReady && !readFailed,
      latestOf: (pod) => deps.usage.latestOf(namespace, pod.metadata?.name ?? ''),
      freshSeconds: (3 * deps.usage.intervalMs) / 1000,
    });

    // 4. Status before any pod is touched: the recommendations are published even when acting fails,
    //    and a reader sees what Tailor is about to do. Written only when it changed.
    const recs = markNotApplied(
      historyReady && !readFailed
        ? statusRecommendations(
            covered,
            seriesOf,
            Math.max(configs.cpu.shortHistorySeconds, configs.memory.shortHistorySeconds),
            fromPrometheus?.kind === 'Ready' ? `Prometheus source '${fromPrometheus.source}'` : undefined,
          )
        : (policy.status?.recommendations ?? []),
      frozen,
    );
    const upToDate = plans.filter(
      (p) =>
        deps.usage.latestOf(namespace, p.c.pod.metadata?.name ?? '') &&
        !p.plan.containers.some((c) => c.triggered),
    ).length;
    const saving = monthlySaving(savings, o.prices);
    const estimatedMonthlySavings = settleSavings(
      policy.status?.estimatedMonthlySavings,
      savings.length > 0
        ? { cost: decimal(saving.cost), currency: saving.currency, co2eKg: decimal(saving.co2eKg, 3) }
        : undefined,
      tolerance,
    );
    const podCounts = {
      targeted: covered.length,
      withoutMetrics,
      upToDate,
      skipped: covered.filter((c) => c.skip).length,
    };
    const conflicts = conflictConditions({ lostTo, frozen });
    const replacement = replacementSizing(namespace);
    const conditions = [
      ...withHolds(
        wantedConditions(
          spec,
          target,
          covered.length,
          recs.length,
          withoutMetrics,
          ctx.dryRun,
          fromPrometheus,
        ),
        store,
        spec.mode === 'InPlace' || spec.mode === 'Auto' ? gates : [],
      ),
      ...conflicts,
      ...evictionConditions(spec.mode, replacement),
    ];
    const base = (lastApplied: SizingPolicyStatus['lastApplied']): SizingPolicyStatus => ({
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      target,
      pods: podCounts,
      conditions: mergeConditions(policy.status?.conditions, conditions, generation, new Date(now * 1000)),
      recommendations: settleRecommendations(policy.status?.recommendations, recs, tolerance),
      ...(estimatedMonthlySavings ? { estimatedMonthlySavings } : {}),
      ...(lastApplied ? { lastApplied } : {}),
    });
    const stored = await writeStatus(policy, base(policy.status?.lastApplied));
    exported.publish(key, covered, stored.recommendations ?? []);
    for (const e of conflictEvents(key, policy.status?.conditions, conflicts, conflictSaid))
      ctx.events.record(policyRef(policy), 'Warning', e.reason, e.message);
    const seriesKeys = covered.flatMap((c) =>
      (c.pod.spec?.containers ?? []).map((ct) => ({ workload: c.workload, container: ct.name })),
    );
    const uids = covered.map((c) => c.pod.metadata?.uid ?? '');
    await cps.save(policy, view, seriesKeys, uids);
    if (spec.mode === 'Auto' && replacement === 'NoWebhook' && !toldNoWebhook.has(key)) {
      toldNoWebhook.add(key);
      const gate = evictionGate({ now, evictions: [], cooldownSeconds: 0, maxPerHour: 1, replacement });
      if (gate.kind === 'NoAdmissionWebhook')
        ctx.events.record(policyRef(policy), 'Warning', 'NoAdmissionWebhook', gate.message);
    } else if (replacement !== 'NoWebhook') toldNoWebhook.delete(key);

    // 5. Only InPlace and Auto touch running pods; Recommend, Initial (the webhook's) and Off never do.
    switch (spec.mode) {
      case 'Off':
      case 'Recommend':
      case 'Initial':
        return { requeueAfterMs: resyncMs };
      case 'InPlace':
      case 'Auto':
        break;
    }

    // 6. Which pods change now: a bounded number across the workload, OOM raises first, evictions one
    //    at a time and only when the PodDisruptionBudgets allow one.
    // An eviction for a size no node can allocate only makes a Pending pod: Infeasible instead.
    const nodes = guard?.nodes() ?? [];
    for (const p of plans) p.plan = boundByNodes(p.plan, nodes);
    const candidates: RolloutCandidate[] = plans.map((p) => ({ pod: p.input.pod, plan: p.plan }));
    const rollout = planRollout({
      candidates,
      maxPodsAtOnce: spec.update.maxPodsAtOnce,
      ...disruptionsAllowed(
        namespace,
        plans.filter((p) => p.plan.decision.kind === 'Evict').map((p) => p.c.pod),
      ),
    });
    for (const { c, plan } of plans) {
      const d = plan.decision;
      if (d.kind === 'Infeasible' || d.kind === 'Deferred')
        stuck.push({
          pod: c.pod.metadata?.name ?? '',
          kind: d.kind === 'Infeasible' ? 'ResizeInfeasible' : 'ResizeDeferred',
          message: d.message,
        });
    }
    let busy = false;
    let again = false;
    const applied: ResizePlan[] = [];
    for (const [i, { action }] of rollout.actions.entries()) {
      const { c, plan, input } = plans[i]!;
      const podKey = keyOf(c.pod);
      const d = plan.decision;
      if (d.kind === 'Deferred' || (d.kind === 'Skip' && d.reason === 'ResizeInProgress')) busy = true;
      switch (action.kind) {
        case 'Nothing':
          if (d.kind === 'Infeasible')
            plog.debug({ pod: podKey, message: d.message }, 'resize infeasible, reported');
          if (d.kind === 'Infeasible' && spec.mode === 'Auto' && !held.has(`nofit/${podKey}`)) {
            held.add(`nofit/${podKey}`);
            ctx.events.record(podRef(c.pod), 'Warning', 'EvictionInfeasible', d.message);
          }
          break;
        case 'Hold':
          busy = true;
          if (action.reason === 'PdbBlocks')
            stuck.push({ pod: c.pod.metadata?.name ?? '', kind: 'EvictionHeld', message: d.message });
          if (action.reason === 'PdbBlocks' && !held.has(podKey)) {
            held.add(podKey);
            plog.info({ pod: podKey }, 'eviction held: the PodDisruptionBudget allows no disruption now');
            const message = `${d.message}; held: a PodDisruptionBudget allows no disruption now`;
            ctx.events.record(podRef(c.pod), 'Normal', 'EvictionHeld', message);
            ctx.events.record(
              policyRef(policy),
              'Normal',
              'EvictionHeld',
              `pod ${c.pod.metadata?.name}: ${message}`,
            );
          }
          break;
        case 'Resize': {
          if (ctx.dryRun) {
            // Said once per plan, not on every poll.
            if (dryRunSaid.get(podKey) !== plan.summary) {
              dryRunSaid.set(podKey, plan.summary);
              const before = plan.containers.map((x) => ({ name: x.name, ...x.before }));
              const after = plan.containers.map((x) => ({ name: x.name, ...x.after }));
              plog.info({ pod: podKey, before, after }, `dry run: would resize in place: ${plan.summary}`);
            }
            break;
          }
          // Without the pod's state the planner would repeat itself; with it, a patch the node
          // cannot fit comes back as Evict (Auto) or Infeasible (InPlace) on the next look.
          const r = await act.resize(policy, input, c.pod);
          switch (r.kind) {
            case 'Applied':
              exported.applied(c.workload, r.plan);
              applied.push(r.plan);
              cps.changed(key);
              busy = true;
              break;
            case 'Failed':
              if (r.outcome.kind === 'Infeasible') again = true;
              else busy = true;
              break;
            case 'Replanned':
              busy = true;
              break;
            case 'Gone':
              break;
          }
          break;
        }
        case 'Evict': {
          if (ctx.dryRun) {
            if (dryRunSaid.get(podKey) !== `evict ${d.message}`) {
              dryRunSaid.set(podKey, `evict ${d.message}`);
              plog.info({ pod: podKey, decision: d }, 'dry run: would evict');
            }
            break;
          }
          // One eviction per policy per cooldown: a replacement created with the same requests (no
          // webhook, or Initial not in use) would not fit either, and evicting it again at once
          // would be a restart loop, not a right-sizing.
          // Capped per hour (update.maxEvictionsPerHour), and never without the webhook to size the
          // replacement; the times come from the checkpoint too, so a restart does not reset them.
          const cooldownSeconds = (parseDuration(spec.update.cooldown) ?? 300_000) / 1000;
          // Without the node list (not in yet) nothing is evicted: boundByNodes could not check the size.
          const gate =
            nodes.length === 0
              ? undefined
              : evictionGate({
                  now,
                  evictions: cps.evictions(key),
                  cooldownSeconds,
                  maxPerHour: spec.update.maxEvictionsPerHour,
                  replacement,
                });
          if (gate?.kind !== 'Allowed') {
            busy = true;
            // The node cannot fit the resize and the eviction that would fix it waits: stuck all the same.
            stuck.push({
              pod: c.pod.metadata?.name ?? '',
              kind: 'ResizeInfeasible',
              message: gate ? `${d.message}; eviction held: ${gate.message}` : d.message,
            });
            if (
              gate &&
              gate.kind !== 'NoAdmissionWebhook' &&
              gate.kind !== 'WebhookRegistering' &&
              !held.has(`gate/${podKey}/${gate.kind}`)
            ) {
              held.add(`gate/${podKey}/${gate.kind}`);
              plog.info({ pod: podKey, gate: gate.kind }, `eviction held: ${gate.message}`);
            }
            break;
          }
          const why = `${d.message}${plan.summary ? ` (${plan.summary})` : ''}`;
          const r = await act.evict(policy, c.pod, why);
          busy = true;
          if (r === 'Blocked')
            stuck.push({ pod: c.pod.metadata?.name ?? '', kind: 'EvictionHeld', message: why });
          if (r === 'Evicted') {
            held.delete(podKey);
            cps.evicted(key, now);
          }
          break;
        }
      }
    }

    // 7. What was done is durable before anything else happens: an eviction or a resize writes the
    //    checkpoint now, not at the next interval.
    await cps.save(policy, view, seriesKeys, uids);

    // 8. What was applied, for `kubectl get` readers: a second write only when something changed.
    if (applied.length > 0) {
      const lastApplied = {
        time: new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        pods: applied.length,
        summary: applied
          .map((p) => `${p.pod}: ${p.summary}`)
          .join('; ')
          .slice(0, 1024),
      };
      await writeStatus({ ...policy, status: stored }, base(lastApplied));
    }
    if (again) queue.add(key);
    return { requeueAfterMs: busy ? busyMs : resyncMs };
  }

  /**
   * The workload's pod template from the watch cache; null when the workload does not exist (or
   * its add has not arrived yet: its add event requeues the policy).
   */
  function workloadTemplate(namespace: string, kind: string, name: string): k8s.V1PodTemplateSpec | null {
    switch (kind) {
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
      case 'ReplicaSet': {
        const w = caches.workloads[kind].get(name, namespace);
        return w ? (w.spec?.template ?? {}) : null;
      }
      default:
        return null;
    }
  }

  /** Whether the replacement of a pod evicted in this namespace would be sized by Tailor's webhook. */
  function replacementSizing(namespace: string): ReplacementSizing {
    if (guard?.webhookCovers(namespace)) return 'Webhook';
    return deps.ownWebhook ? 'Registering' : 'NoWebhook';
  }

  /** The smallest disruptionsAllowed among the PDBs covering any of these pods; undefined when none does. */
  function disruptionsAllowed(
    namespace: string,
    pods: readonly k8s.V1Pod[],
  ): { disruptionsAllowed?: number } {
    if (pods.length === 0) return {};
    let min: number | undefined;
    for (const pdb of caches.pdbs.inNamespace(namespace)) {
      if (!pdb.spec?.selector) continue;
      const sel = pdb.spec.selector as Selector;
      if (!pods.some((p) => selectorMatches(sel, p.metadata?.labels ?? {}))) continue;
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      min = min === undefined ? allowed : Math.min(min, allowed);
    }
    return min === undefined ? {} : { disruptionsAllowed: min };
  }

  /** Writes status through the status subresource when it differs from the stored one; returns what is stored. */
  async function writeStatus(policy: SizingPolicy, wanted: SizingPolicyStatus): Promise<SizingPolicyStatus> {
    const stored = policy.status;
    // Target not found, invalid spec: no recommendations, so no series either.
    if (!wanted.recommendations) exported.forget(keyOf(policy));
    if (!statusChanged(stored, wanted)) return wanted;
    // A merge patch keeps fields it does not name: clear the ones this status no longer has.
    const cleared = Object.fromEntries(
      Object.keys(stored ?? {})
        .filter((k) => !(k in wanted))
        .map((k) => [k, null]),
    );
    await ctx.clients.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: policy.metadata.namespace ?? '',
        plural: 'sizingpolicies',
        name: policy.metadata.name ?? '',
        body: { status: { ...cleared, ...wanted } },
        fieldManager: ctx.fieldManager,
      },
      mergePatch,
    );
    return wanted;
  }

  return {
    name: SIZING_CONTROLLER,
    queue,
    async start() {
      unsubscribe.push(
        // A policy that comes, goes or changes its spec may take pods from, or give pods back to,
        // the others of its namespace (controllingPolicy): they look again too.
        caches.policies.subscribe({
          add: (p) => {
            generations.set(keyOf(p), p.metadata.generation);
            neighbours(p);
          },
          update: (p) => {
            if (generations.get(keyOf(p)) === p.metadata.generation) return queue.add(keyOf(p));
            generations.set(keyOf(p), p.metadata.generation);
            neighbours(p);
          },
          delete: (p) => {
            // Nothing to undo: pods keep the sizes they have; the checkpoint goes with the policy (owner).
            log.info({ policy: keyOf(p) }, 'policy deleted');
            cps.forget(keyOf(p));
            deps.signals?.forget(keyOf(p));
            ledgers.forget(keyOf(p));
            toldNoWebhook.delete(keyOf(p));
            passEnded(passes.forget(keyOf(p), Date.now()));
            generations.delete(keyOf(p));
            neighbours(p);
          },
        }),
        caches.pods.subscribe({
          add: (p) => onPod(p, false),
          update: (p) => onPod(p, true),
          delete: (p) => {
            const uid = p.metadata?.uid ?? '';
            changes.forget(uid);
            ooms.forget(uid);
            held.delete(keyOf(p));
            for (const h of held)
              if (h.endsWith(`/${keyOf(p)}`) || h.includes(`/${keyOf(p)}/`)) held.delete(h);
            dryRunSaid.delete(keyOf(p));
            deps.usage.forgetPod(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
            void policiesOf(p).then(
              (ps) => ps.forEach((x) => queue.add(keyOf(x))),
              () => {},
            );
          },
        }),
        // A target that appears, changes its template or goes: its policies look again.
        ...WORKLOAD_KINDS.map((kind) => {
          const targeting = (w: k8s.KubernetesObject) =>
            policiesIn(w.metadata?.namespace ?? '')
              .filter((p) => p.spec.targetRef?.kind === kind && p.spec.targetRef.name === w.metadata?.name)
              .forEach((p) => queue.add(keyOf(p)));
          return caches.workloads[kind].subscribe({ add: targeting, update: targeting, delete: targeting });
        }),
        // An HPA that appears, changes its spec or goes: the policies of its namespace look again
        // (not on its status writes, every 15 s).
        caches.hpas.subscribe({
          add: (h) => hpaChanged(h, false),
          update: (h) => hpaChanged(h, false),
          delete: (h) => hpaChanged(h, true),
        }),
        caches.pdbs.subscribe({
          add: (b) => policiesIn(b.metadata?.namespace ?? '').forEach((p) => queue.add(keyOf(p))),
          update: (b) => policiesIn(b.metadata?.namespace ?? '').forEach((p) => queue.add(keyOf(p))),
        }),
        deps.usage.onSamples((nss) => {
          const keys = [...nss].flatMap((ns) => policiesIn(ns).map(keyOf));
          passes.begin(keys, Date.now());
          for (const k of keys) queue.add(k);
        }),
        deps.prometheus?.onUpdate((nss) => {
          for (const ns of nss) for (const p of policiesIn(ns)) queue.add(keyOf(p));
        }) ?? (() => {}),
      );
      guard = evictionGuard(
        ctx.clients,
        // A webhook registered or removed: Auto policies look again.
        () => caches.policies.list().forEach((p) => p.spec.mode === 'Auto' && queue.add(keyOf(p))),
        (what, err) => {
          metrics.apiErrors.inc({ kind: classify(err).kind });
          watchFailures.failed(what, err, `watch of ${what} failed; it restarts with backoff`, {
            watch: what,
          });
        },
      );
      await caches.synced;
      await guard.synced;
      for (const pod of caches.pods.list()) ooms.fresh(pod);
      const all = caches.policies.list().map(keyOf);
      passes.begin(all, Date.now());
      for (const k of all) queue.add(k);
    },
    async stop() {
      for (const u of unsubscribe.splice(0)) u();
      queue.stop();
      await queue.idle();
      await guard?.stop();
    },
  };
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
