// The storage controller: grows PersistentVolumeClaims before they fill. Per VolumePolicy (and per
// claim carrying pvc-autoresizer's annotations without one), every minute and on every change of a
// policy, claim or StorageClass: find the claims, read their usage, ask planExpansion, patch the
// claim's request (Auto, not --dry-run), follow the expansion through the PVC status, say it all in
// Events, status, conditions and metrics. Never shrinks a claim; holds still without fresh stats.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, VolumePolicySpec, validate } from '../../api/index.ts';
import type { VolumePolicy, VolumePolicyStatus, VolumeState, VolumeStatus } from '../../api/index.ts';
import { formatBytes, parseQuantity } from '../../core/quantity.ts';
import {
  humanSeconds,
  parseAutoresizerAnnotations,
  parseKnownGrowth,
  planExpansion,
  resolveRules,
  GiB,
  type ClaimState,
  type KnownGrowth,
  type VolumeDecision,
  type VolumeRules,
} from '../../core/volume/index.ts';
import { describe } from '../../errors.ts';
import { mergePatch } from '../../kube/client.ts';
import { classify, errorLine, isNotFound } from '../../kube/errors.ts';
import { sharedWatch, type SharedWatch } from '../../kube/shared-watch.ts';
import { apiTime } from '../../kube/time.ts';
import { WorkQueue, type ReconcileResult } from '../../kube/workqueue.ts';
import type { EventType } from '../../kube/events.ts';
import type { OperatorMetrics } from '../../operator/metrics.ts';
import { volumeMetrics } from '../../operator/volume-metrics.ts';
import type { VolumeStatsSource } from '../../sources/volume-stats.ts';
import type { Controller, OperatorContext } from '../controller.ts';
import { writeStatus } from '../write-status.ts';
import { mergeConditions, type WantedCondition } from '../sizing/status.ts';
import {
  LAST_EXPANSION_ANNOTATION,
  claimState,
  coveredClaims,
  isBound,
  resizeFailureMessage,
  targetLabel,
  type TargetWorkload,
} from './claims.ts';
import { VolumeUsage } from './usage.ts';

export const STORAGE_CONTROLLER = 'storage';
const PLURAL = 'volumepolicies';

export type StorageConditionType =
  'Ready' | 'ClaimsFound' | 'UsageAvailable' | 'ExpansionAllowed' | 'WithinMaximum';
type Wanted = WantedCondition<StorageConditionType>;
interface Startable {
  start(): void;
  stop(): void;
}

export interface StorageOptions {
  /** Every policy and annotated claim is looked at this often. Default 60 s. */
  readonly resyncMs?: number;
  /** While an expansion is under way, look this often. Default 5 s. */
  readonly busyRequeueMs?: number;
  /** The newest sample must be at most this old (planExpansion's default otherwise). */
  readonly freshSeconds?: number;
  readonly concurrency?: number;
}

export interface StorageDeps {
  readonly metrics: OperatorMetrics;
  readonly source: VolumeStatsSource;
  /** Watch and act in this namespace only; default every namespace. */
  readonly namespace?: string;
  readonly options?: StorageOptions;
}

/** Who a claim's rules come from: a VolumePolicy, or the claim's own pvc-autoresizer annotations. */
type Owner =
  { kind: 'Policy'; policy: VolumePolicy; rules: VolumeRules } | { kind: 'Annotations'; rules: VolumeRules };

const isFailed = (c: ClaimState) =>
  c.resizeStatus === 'ControllerResizeInfeasible' || c.resizeStatus === 'NodeResizeInfeasible';

export function storageController(ctx: OperatorContext, deps: StorageDeps): Controller {
  const o = deps.options ?? {};
  const resyncMs = o.resyncMs ?? 60_000;
  const busyMs = o.busyRequeueMs ?? 5_000;
  const log = ctx.log.child({ controller: STORAGE_CONTROLLER });
  const exported = volumeMetrics(deps.metrics);
  const usage = new VolumeUsage(deps.source);
  const { clients } = ctx;
  const ns = deps.namespace;
  const path = (prefix: string, plural: string) =>
    ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`;
  const watchFailed = (what: string) => (err: unknown) => {
    deps.metrics.apiErrors.inc({ kind: classify(err).kind });
    log.warn({ watch: what, err: errorLine(err) }, `watch of ${what} failed; it restarts with backoff`);
  };
  const policies: SharedWatch<VolumePolicy> = sharedWatch<VolumePolicy>(
    clients.kc,
    path(`/apis/${GROUP}/${VERSION}`, PLURAL),
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
          })) as k8s.KubernetesListObject<VolumePolicy>,
    watchFailed(PLURAL),
  );
  const pvcs = sharedWatch<k8s.V1PersistentVolumeClaim>(
    clients.kc,
    path('/api/v1', 'persistentvolumeclaims'),
    (page) =>
      ns
        ? clients.core.listNamespacedPersistentVolumeClaim({ namespace: ns, ...page })
        : clients.core.listPersistentVolumeClaimForAllNamespaces(page),
    watchFailed('persistentvolumeclaims'),
  );
  const classes = sharedWatch<k8s.V1StorageClass>(
    clients.kc,
    '/apis/storage.k8s.io/v1/storageclasses',
    (page) => clients.storage.listStorageClass(page),
    watchFailed('storageclasses'),
  );

  /** The claims each policy covered at its last pass: a claim a policy covers is not the annotations'. */
  const covered = new Map<string, Set<string>>();
  /** What was last said per subject (Events that would otherwise repeat every minute). */
  const said = new Map<string, string>();
  /** The last expansion of annotation-managed claims (their cooldown is also in the claim's annotation). */
  const annotationLast = new Map<string, VolumeStatus['lastExpansion']>();
  const unsubscribe: (() => void)[] = [];

  const queue = new WorkQueue(
    async (key) => {
      const end = deps.metrics.passSeconds.startTimer({ controller: STORAGE_CONTROLLER });
      try {
        const r = key.startsWith('p/')
          ? await reconcilePolicy(key.slice(2))
          : await reconcileClaim(key.slice(2));
        deps.metrics.reconciles.inc({ controller: STORAGE_CONTROLLER, result: 'ok' });
        return r;
      } catch (err) {
        deps.metrics.reconciles.inc({ controller: STORAGE_CONTROLLER, result: 'error' });
        throw err;
      } finally {
        end();
      }
    },
    (key, err, retryInMs) => {
      deps.metrics.apiErrors.inc({ kind: classify(err).kind });
      log.warn({ key, err: errorLine(err), retryInMs }, 'reconcile failed; retrying with backoff');
    },
    { concurrency: o.concurrency ?? 2, baseBackoffMs: 500, maxBackoffMs: 30_000 },
  );

  const keyOf = (x: { metadata?: k8s.V1ObjectMeta }) => `${x.metadata?.namespace}/${x.metadata?.name}`;
  const policiesIn = (namespace: string) => policies.inNamespace(namespace);

  function sayOnce(
    subject: string,
    text: string,
    objects: readonly k8s.KubernetesObject[],
    type: EventType,
    reason: string,
    message: string,
  ): void {
    if (said.get(subject) === text) return;
    said.set(subject, text);
    for (const obj of objects) ctx.events.record(obj, type, reason, message);
  }

  const pvcRef = (pvc: k8s.V1PersistentVolumeClaim): k8s.KubernetesObject => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: pvc.metadata ?? {},
  });
  const policyRef = (p: VolumePolicy): k8s.KubernetesObject => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'VolumePolicy',
    metadata: p.metadata,
  });

  /** Fresh read of the workload a targetRef names; null when it does not exist. */
  async function readTarget(namespace: string, spec: VolumePolicySpec): Promise<TargetWorkload | null> {
    const ref = spec.targetRef!;
    try {
      return ref.kind === 'Deployment'
        ? {
            kind: 'Deployment',
            object: await clients.apps.readNamespacedDeployment({ namespace, name: ref.name }),
          }
        : {
            kind: 'StatefulSet',
            object: await clients.apps.readNamespacedStatefulSet({ namespace, name: ref.name }),
          };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async function reconcilePolicy(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const policy = policies.get(name, namespace);
    if (!policy) {
      for (const claim of covered.get(key) ?? []) exported.forget(namespace, claim);
      covered.delete(key);
      return {};
    }
    const now = ctx.now();
    const generation = policy.metadata.generation;
    const write = (status: Omit<VolumePolicyStatus, 'conditions' | 'observedGeneration'>, wanted: Wanted[]) =>
      writeStatus(ctx, PLURAL, policy, {
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
        ...status,
        conditions: mergeConditions(policy.status?.conditions, wanted, generation, new Date(now * 1000)),
      });
    const keepVolumes = policy.status?.volumes ? { volumes: policy.status.volumes } : {};

    // 1. The spec and its rules. The apiserver refused bad values at admission; a CRD older or
    //    newer than this operator may still let one through: say so, and resize nothing.
    let spec: VolumePolicySpec;
    let rules: VolumeRules;
    try {
      spec = validate(VolumePolicySpec, policy.spec, `VolumePolicy ${key}`);
      rules = resolveRules({
        threshold: spec.threshold,
        inodesThreshold: spec.inodesThreshold,
        step: spec.step,
        maxSize: String(spec.maxSize),
        cooldown: spec.cooldown,
        ...(spec.horizon !== undefined ? { horizon: spec.horizon } : {}),
        mode: spec.mode,
      });
    } catch (err) {
      const message = `${describe(err)}: nothing is resized until the policy is fixed`;
      await write(keepVolumes, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }]);
      return { requeueAfterMs: resyncMs };
    }
    const target = targetLabel(spec);

    // 2. Its claims, in its own namespace only (a tenant never points Tailor at another's).
    const workload = spec.targetRef ? await readTarget(namespace, spec) : undefined;
    if (workload === null) {
      const message = `${target} not found in namespace ${namespace}`;
      covered.set(key, new Set());
      await write({ target, volumes: [] }, [
        { type: 'Ready', status: 'False', reason: 'TargetNotFound', message },
        { type: 'ClaimsFound', status: 'False', reason: 'TargetNotFound', message },
      ]);
      return { requeueAfterMs: resyncMs };
    }
    const claims = coveredClaims(spec, pvcs.inNamespace(namespace), workload);
    for (const gone of covered.get(key) ?? [])
      if (!claims.some((c) => c.metadata?.name === gone)) exported.forget(namespace, gone);
    covered.set(key, new Set(claims.map((c) => c.metadata?.name ?? '')));
    if (claims.length === 0) {
      const message = spec.selector
        ? `no PersistentVolumeClaim in namespace ${namespace} matches the selector (${target}): nothing to grow; check the claims' labels`
        : `${target} mounts no PersistentVolumeClaim (no persistentVolumeClaim volume, no volumeClaimTemplates with claims yet)`;
      await write({ target, volumes: [] }, [
        { type: 'Ready', status: 'False', reason: 'NoClaims', message },
        { type: 'ClaimsFound', status: 'False', reason: 'NoClaims', message },
      ]);
      return { requeueAfterMs: resyncMs };
    }
    const found: Wanted = {
      type: 'ClaimsFound',
      status: 'True',
      reason: 'Found',
      message: `${target}: ${claims.length} claim${claims.length === 1 ? '' : 's'} (${claims
        .map((c) => c.metadata?.name)
        .slice(0, 10)
        .join(', ')}${claims.length > 10 ? ', ...' : ''})`,
    };

    // 3. Usage. A source that cannot be read is a condition, and every claim holds still: the
    //    status keeps what it last said, nothing is resized on old numbers.
    const read = await usage.read(namespace, now);
    if (!read.ok) {
      const message = `volume stats from ${usage.sourceName} could not be read (${describe(read.error)}): holding still, nothing is resized without fresh stats`;
      sayOnce(`${key}#source`, message, [policyRef(policy)], 'Warning', 'UsageUnavailable', message);
      await write({ target, source: usage.sourceName, ...keepVolumes }, [
        { type: 'Ready', status: 'False', reason: 'UsageUnavailable', message },
        found,
        { type: 'UsageAvailable', status: 'False', reason: 'SourceFailed', message },
      ]);
      return { requeueAfterMs: resyncMs };
    }
    said.delete(`${key}#source`);

    // 4-7. Each claim: its state, the plan, the patch, the follow-up.
    const owner: Owner = { kind: 'Policy', policy, rules };
    const volumes: VolumeStatus[] = [];
    let busy = false;
    for (const pvc of claims) {
      const prev = policy.status?.volumes?.find((v) => v.claim === pvc.metadata?.name);
      const v = await handleClaim(
        owner,
        pvc,
        read.samples(pvc.metadata?.name ?? ''),
        prev?.lastExpansion,
        now,
      );
      volumes.push(v);
      busy ||= v.state === 'Expanding' || v.state === 'Recovering';
    }
    volumes.sort((a, b) => a.claim.localeCompare(b.claim));

    const notExpandable = claims.filter(
      (c) => volumes.find((v) => v.claim === c.metadata?.name)?.state === 'NotExpandable',
    );
    const expansion: Wanted =
      notExpandable.length > 0
        ? {
            type: 'ExpansionAllowed',
            status: 'False',
            reason: 'StorageClassDisallows',
            message: `the StorageClass of ${notExpandable
              .map((c) => `${c.metadata?.name} (${c.spec?.storageClassName ?? 'none'})`)
              .join(', ')} does not allow volume expansion (allowVolumeExpansion is not true): ${
              notExpandable.length === 1 ? 'it is' : 'they are'
            } never patched. Move the data to a claim of an expandable StorageClass, or ask the cluster admin to allow expansion`,
          }
        : {
            type: 'ExpansionAllowed',
            status: 'True',
            reason: 'Expandable',
            message: "every claim's StorageClass allows expansion",
          };
    const tooBig = claims.filter(
      (c) => (parseQuantity(c.spec?.resources?.requests?.storage) ?? 0) > rules.maxBytes,
    );
    const atMax = volumes.filter((v) => v.state === 'AtMaximum');
    const maximum: Wanted =
      tooBig.length > 0
        ? {
            type: 'WithinMaximum',
            status: 'False',
            reason: 'MaxBelowCurrentSize',
            message: `maxSize ${String(spec.maxSize)} is below the current size of ${tooBig
              .map((c) => `${c.metadata?.name} (${c.spec?.resources?.requests?.storage})`)
              .join(
                ', ',
              )}: nothing is resized (a claim is never shrunk); raise maxSize to at least the current size`,
          }
        : atMax.length > 0
          ? {
              type: 'WithinMaximum',
              status: 'False',
              reason: 'AtMaximum',
              message: `${atMax.map((v) => v.claim).join(', ')} reached maxSize ${String(spec.maxSize)}: raise it or free space`,
            }
          : {
              type: 'WithinMaximum',
              status: 'True',
              reason: 'BelowMaximum',
              message: `every claim is below maxSize ${String(spec.maxSize)}`,
            };
    const ready: Wanted =
      tooBig.length > 0
        ? { type: 'Ready', status: 'False', reason: 'MaxBelowCurrentSize', message: maximum.message }
        : {
            type: 'Ready',
            status: 'True',
            reason: spec.mode === 'Recommend' ? 'Recommending' : ctx.dryRun ? 'DryRun' : 'Managing',
            message:
              spec.mode === 'Recommend'
                ? 'mode Recommend: what would be expanded is in status and Events; claims are never patched'
                : ctx.dryRun
                  ? 'the operator runs with --dry-run: expansions are said, not sent'
                  : `claims are expanded before they fill (threshold ${spec.threshold}, step ${spec.step}, up to ${String(spec.maxSize)})`,
          };
    await write({ target, source: usage.sourceName, volumes }, [
      ready,
      found,
      {
        type: 'UsageAvailable',
        status: 'True',
        reason: 'Read',
        message: `kubelet volume stats from ${usage.sourceName}`,
      },
      expansion,
      maximum,
    ]);
    return { requeueAfterMs: busy ? busyMs : resyncMs };
  }

  /** A claim managed by its pvc-autoresizer annotations alone (no VolumePolicy covers it). */
  async function reconcileClaim(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const pvc = pvcs.get(name, namespace);
    if (!pvc || coveredByPolicy(namespace, name)) {
      annotationLast.delete(key);
      return {};
    }
    const sc = classes.get(pvc.spec?.storageClassName ?? '');
    let overrides;
    try {
      overrides = parseAutoresizerAnnotations(pvc.metadata?.annotations, sc?.metadata?.annotations);
    } catch (err) {
      const message = `${describe(err)}: the claim is not resized until the annotation is fixed`;
      sayOnce(`${key}#annotations`, message, [pvcRef(pvc)], 'Warning', 'InvalidAnnotation', message);
      return { requeueAfterMs: resyncMs };
    }
    if (!overrides) return {};
    said.delete(`${key}#annotations`);
    const rules = resolveRules({}, overrides);
    const now = ctx.now();
    const read = await usage.read(namespace, now);
    if (!read.ok) {
      log.warn({ claim: key, err: describe(read.error) }, 'volume stats unreadable: holding still');
      return { requeueAfterMs: resyncMs };
    }
    const v = await handleClaim(
      { kind: 'Annotations', rules },
      pvc,
      read.samples(name),
      annotationLast.get(key),
      now,
    );
    if (v.lastExpansion) annotationLast.set(key, v.lastExpansion);
    return { requeueAfterMs: v.state === 'Expanding' || v.state === 'Recovering' ? busyMs : resyncMs };
  }

  function coveredByPolicy(namespace: string, claim: string): boolean {
    return policiesIn(namespace).some((p) => covered.get(keyOf(p))?.has(claim));
  }

  /**
   * One claim, start to end. Its order matters:
   * 1. the claim's state (PVC + StorageClass) and usage; an unbound claim has nothing to grow;
   * 2. follow the last expansion first (it may have ended, failed, or been recovered), so the plan
   *    sees the claim as it is and Events say what happened before what comes next;
   * 3. plan, then act (or, in Recommend or --dry-run, only say), then the claim's status line.
   */
  async function handleClaim(
    owner: Owner,
    pvc: k8s.V1PersistentVolumeClaim,
    samples: ReturnType<Extract<Awaited<ReturnType<VolumeUsage['read']>>, { ok: true }>['samples']>,
    prevLast: VolumeStatus['lastExpansion'],
    now: number,
  ): Promise<VolumeStatus> {
    const name = pvc.metadata?.name ?? '';
    const namespace = pvc.metadata?.namespace ?? '';
    const key = `${namespace}/${name}`;
    const objects = [pvcRef(pvc), ...(owner.kind === 'Policy' ? [policyRef(owner.policy)] : [])];
    const mode = owner.kind === 'Policy' ? owner.rules.mode : 'Auto';
    const latest = samples.length > 0 ? samples[samples.length - 1] : undefined;
    const figures = {
      ...(latest ? { used: formatBytes(latest.usedBytes) } : {}),
      ...(pvc.status?.capacity?.storage ? { capacity: pvc.status.capacity.storage } : {}),
      ...(pvc.spec?.resources?.requests?.storage ? { requested: pvc.spec.resources.requests.storage } : {}),
      ...(latest && latest.capacityBytes > 0
        ? { usedPercent: Math.min(100, Math.round((100 * latest.usedBytes) / latest.capacityBytes)) }
        : {}),
    };
    exported.claim(namespace, name, {
      ...(latest ? { usedBytes: latest.usedBytes, capacityBytes: latest.capacityBytes } : {}),
    });

    // 1. State.
    if (!isBound(pvc))
      return {
        claim: name,
        ...figures,
        state: 'NoStats',
        message: 'the claim is not bound to a volume yet: nothing to grow',
        ...(prevLast ? { lastExpansion: prevLast } : {}),
      };
    const sc = classes.get(pvc.spec?.storageClassName ?? '');
    const lastAt = prevLast ? Date.parse(prevLast.time) / 1000 : undefined;
    const claim = claimState(pvc, sc, Number.isFinite(lastAt) ? lastAt : undefined);

    // 2. Follow the last expansion.
    let last = prevLast;
    if (last && (last.result === 'Requested' || last.result === 'Failed')) {
      const to = parseQuantity(last.to) ?? 0;
      if (isFailed(claim)) {
        if (last.result === 'Requested') {
          const why = resizeFailureMessage(pvc) ?? claim.resizeStatus ?? '';
          const message = `the expansion of ${key} from ${last.from} to ${last.to} failed (${claim.resizeStatus}): ${why}`;
          for (const obj of objects) ctx.events.record(obj, 'Warning', 'ExpansionFailed', message);
          exported.expansion('failed');
          last = { ...last, result: 'Failed' };
        }
      } else if (
        last.result === 'Requested' &&
        claim.capacityBytes >= to &&
        !claim.resizing &&
        !claim.resizeStatus
      ) {
        const message = `${key} expanded from ${last.from} to ${pvc.status?.capacity?.storage} (the file system has grown)`;
        for (const obj of objects) ctx.events.record(obj, 'Normal', 'Expanded', message);
        exported.expansion('succeeded');
        last = { ...last, result: 'Succeeded' };
      } else if (
        // Read from the stored status and the claim alone, not from memory of this process: a
        // status read before the last write landed (a watch event older than Tailor's own write)
        // says Failed again, and the next pass must still reach Recovered rather than stay there.
        last.result === 'Failed' &&
        claim.requestBytes <= claim.capacityBytes &&
        !claim.resizeStatus
      ) {
        const message = `${key} recovered from the failed expansion to ${last.to}: the request is back to ${pvc.spec?.resources?.requests?.storage}, what the volume has; a later expansion may try again`;
        for (const obj of objects) ctx.events.record(obj, 'Normal', 'Recovered', message);
        exported.expansion('recovered');
        last = { ...last, result: 'Recovered' };
      }
    }

    // 3. Plan.
    let known: KnownGrowth | undefined;
    let knownProblem = '';
    try {
      known = parseKnownGrowth(pvc.metadata?.annotations);
    } catch (err) {
      knownProblem = `; ${describe(err)} (ignored)`;
    }
    const decision: VolumeDecision = planExpansion({
      now,
      rules: owner.rules,
      claim,
      samples,
      ...(known ? { known } : {}),
      ...(o.freshSeconds !== undefined ? { freshSeconds: o.freshSeconds } : {}),
    });
    const ttf =
      'timeToFullSeconds' in decision && decision.timeToFullSeconds !== undefined
        ? decision.timeToFullSeconds
        : undefined;
    exported.claim(namespace, name, {
      ...(latest ? { usedBytes: latest.usedBytes, capacityBytes: latest.capacityBytes } : {}),
      ...(ttf !== undefined ? { timeToFullSeconds: ttf } : {}),
    });
    const line = (state: VolumeState, message: string, lastExpansion = last): VolumeStatus => ({
      claim: name,
      ...figures,
      ...(ttf !== undefined ? { timeToFull: humanSeconds(ttf).replace(/ /g, '') } : {}),
      state,
      message: (message + knownProblem).slice(0, 1024),
      ...(lastExpansion ? { lastExpansion } : {}),
    });
    const onlySay = mode === 'Recommend' || ctx.dryRun;

    switch (decision.action) {
      case 'Expand': {
        if (onlySay) {
          const why = mode === 'Recommend' ? 'mode Recommend' : 'the operator runs with --dry-run';
          const message = `${decision.message} [not done: ${why}]`;
          sayOnce(`${key}#plan`, `${decision.toBytes}`, objects, 'Normal', 'ExpansionRecommended', message);
          return line('ExpansionRecommended', message);
        }
        const from = pvc.spec?.resources?.requests?.storage ?? formatBytes(claim.requestBytes);
        const to = formatBytes(decision.toBytes);
        const sent = await patchRequest(pvc, decision.toBytes, 'Expand', now);
        if (sent.kind === 'Refused') {
          const message = `the expansion of ${key} from ${from} to ${to} was refused: ${sent.message}`;
          for (const obj of objects) ctx.events.record(obj, 'Warning', 'ExpansionFailed', message);
          exported.expansion('failed');
          // Counted as an expansion for the cooldown: asking again every minute would be refused again.
          return line('ExpansionFailed', message, {
            time: apiTime(new Date(now * 1000)),
            from,
            to,
            result: 'Failed',
          });
        }
        if (sent.kind === 'Stale') return line('Ok', `the claim changed while planning; looking again`, last);
        for (const obj of objects) ctx.events.record(obj, 'Normal', 'Expanding', decision.message);
        exported.expansion('requested');
        said.delete(`${key}#plan`);
        return line('Expanding', decision.message, {
          time: apiTime(new Date(now * 1000)),
          from,
          to,
          result: 'Requested',
        });
      }
      case 'Recover': {
        // The apiserver lets a request go down only to strictly above status.capacity (the
        // validation of KEP-1790, GA in 1.34: "can not be less than status.capacity"), so the
        // least Tailor may ask for is the next whole GiB above what the volume has.
        const toBytes = Math.max(decision.toBytes, (Math.floor(claim.capacityBytes / GiB) + 1) * GiB);
        const failure = resizeFailureMessage(pvc) ?? claim.resizeStatus ?? '';
        if (toBytes >= claim.requestBytes) {
          const message = `the expansion of ${key} to ${pvc.spec?.resources?.requests?.storage} failed (${claim.resizeStatus}: ${failure}), and the request is already the least Kubernetes lets it go back to (above the capacity ${pvc.status?.capacity?.storage}): waiting for the resizer; lower maxSize or ask the storage admin`;
          sayOnce(`${key}#recover`, message, objects, 'Warning', 'ExpansionStuck', message);
          return line('ExpansionFailed', message);
        }
        const message = `the expansion of ${key} to ${pvc.spec?.resources?.requests?.storage} failed (${claim.resizeStatus}: ${failure}): lowering the request back to ${formatBytes(toBytes)}, just above the ${pvc.status?.capacity?.storage} the volume has`;
        if (onlySay) {
          const said_ = `${message} [not done: ${mode === 'Recommend' ? 'mode Recommend' : 'the operator runs with --dry-run'}]`;
          sayOnce(`${key}#plan`, `recover ${toBytes}`, objects, 'Warning', 'RecoveryRecommended', said_);
          return line('ExpansionFailed', said_);
        }
        const sent = await patchRequest(pvc, toBytes, 'Recover', now);
        if (sent.kind === 'Refused') {
          const refused = `recovering ${key} to ${formatBytes(toBytes)} was refused: ${sent.message}`;
          sayOnce(`${key}#recover`, refused, objects, 'Warning', 'RecoveryFailed', refused);
          return line('ExpansionFailed', refused);
        }
        if (sent.kind === 'Stale')
          return line('ExpansionFailed', `${message}; the claim changed meanwhile, looking again`);
        for (const obj of objects) ctx.events.record(obj, 'Normal', 'Recovering', message);
        return line('Recovering', message, last ? { ...last, result: 'Failed' } : last);
      }
      case 'Hold':
        switch (decision.why) {
          case 'NoFreshStats':
            return line('NoStats', decision.message);
          case 'NotExpandable':
            sayOnce(`${key}#hold`, 'NotExpandable', objects, 'Warning', 'NotExpandable', decision.message);
            return line('NotExpandable', decision.message);
          case 'AtMaximum':
            sayOnce(
              `${key}#hold`,
              `AtMaximum ${claim.requestBytes}`,
              objects,
              'Warning',
              'AtMaximum',
              decision.message,
            );
            return line('AtMaximum', decision.message);
          case 'CoolingDown':
            return line('CoolingDown', decision.message);
          case 'ResizeInProgress':
            return line(
              isFailed(claim)
                ? claim.requestBytes <= claim.capacityBytes
                  ? 'Recovering'
                  : 'ExpansionFailed'
                : 'Expanding',
              decision.message,
            );
          case 'EnoughRoom':
            said.delete(`${key}#hold`);
            return line('Ok', decision.message);
        }
    }
  }

  type Sent = { kind: 'Patched' } | { kind: 'Stale' } | { kind: 'Refused'; message: string };

  /**
   * Sets the claim's storage request, reading it fresh first: an expansion only ever raises it; a
   * recovery only lowers it, never below status.capacity (the apiserver refuses that too). The
   * resourceVersion makes the patch fail on a claim changed since the read, rather than act on a
   * size nobody planned for. The expansion's time goes into the claim's annotation in the same
   * write, so the cooldown survives a lost status, a restart and a new leader.
   */
  async function patchRequest(
    pvc: k8s.V1PersistentVolumeClaim,
    toBytes: number,
    kind: 'Expand' | 'Recover',
    now: number,
  ): Promise<Sent> {
    const namespace = pvc.metadata?.namespace ?? '';
    const name = pvc.metadata?.name ?? '';
    const fresh = await clients.core.readNamespacedPersistentVolumeClaim({ namespace, name });
    const request = parseQuantity(fresh.spec?.resources?.requests?.storage) ?? 0;
    const capacity = parseQuantity(fresh.status?.capacity?.storage) ?? 0;
    if (kind === 'Expand' && toBytes <= request) return { kind: 'Stale' };
    if (kind === 'Recover' && (toBytes >= request || toBytes <= capacity)) return { kind: 'Stale' };
    const body = {
      metadata: {
        resourceVersion: fresh.metadata?.resourceVersion,
        ...(kind === 'Expand'
          ? { annotations: { [LAST_EXPANSION_ANNOTATION]: apiTime(new Date(now * 1000)) } }
          : {}),
      },
      spec: { resources: { requests: { storage: formatBytes(toBytes) } } },
    };
    if (ctx.dryRun) return { kind: 'Stale' }; // never reached: callers only say in dry-run; kept as a guard
    try {
      await clients.core.patchNamespacedPersistentVolumeClaim(
        { namespace, name, body, fieldManager: ctx.fieldManager },
        mergePatch,
      );
      log.info(
        {
          claim: `${namespace}/${name}`,
          kind,
          from: fresh.spec?.resources?.requests?.storage,
          to: formatBytes(toBytes),
        },
        'claim patched',
      );
      return { kind: 'Patched' };
    } catch (err) {
      const c = classify(err);
      if (c.kind === 'Conflict' || c.kind === 'NotFound') return { kind: 'Stale' };
      if (c.kind === 'Forbidden' || c.kind === 'Invalid') return { kind: 'Refused', message: c.message };
      throw err;
    }
  }

  const annotated = (pvc: k8s.V1PersistentVolumeClaim) =>
    Object.keys(pvc.metadata?.annotations ?? {}).some((k) => k === 'resize.topolvm.io/storage_limit');
  const onClaim = (pvc: k8s.V1PersistentVolumeClaim) => {
    for (const p of policiesIn(pvc.metadata?.namespace ?? '')) queue.add(`p/${keyOf(p)}`);
    if (annotated(pvc)) queue.add(`c/${keyOf(pvc)}`);
  };
  const everything = () => {
    for (const p of policies.list()) queue.add(`p/${keyOf(p)}`);
    for (const c of pvcs.list()) if (annotated(c)) queue.add(`c/${keyOf(c)}`);
  };
  let resync: NodeJS.Timeout | undefined;

  return {
    name: STORAGE_CONTROLLER,
    queue,
    async start() {
      unsubscribe.push(
        policies.subscribe({
          add: (p) => queue.add(`p/${keyOf(p)}`),
          update: (p) => queue.add(`p/${keyOf(p)}`),
          delete: (p) => {
            log.info({ policy: keyOf(p) }, 'policy deleted: its claims keep their sizes');
            queue.add(`p/${keyOf(p)}`);
            for (const c of covered.get(keyOf(p)) ?? []) queue.add(`c/${p.metadata.namespace}/${c}`);
          },
        }),
        pvcs.subscribe({
          add: onClaim,
          update: onClaim,
          delete: (c) => {
            exported.forget(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
            onClaim(c);
          },
        }),
        classes.subscribe({ add: everything, update: everything, delete: everything }),
      );
      // A source that polls (the kubelets') runs with the controller, so only the leader polls.
      (deps.source as Partial<Startable>).start?.();
      await Promise.all([policies.synced, pvcs.synced, classes.synced]);
      everything();
      // Every minute, new samples or not: the forecast moves with time.
      resync = setInterval(everything, resyncMs);
      resync.unref();
    },
    async stop() {
      if (resync) clearInterval(resync);
      for (const u of unsubscribe.splice(0)) u();
      queue.stop();
      await queue.idle();
      await Promise.all([policies.stop(), pvcs.stop(), classes.stop()]);
      (deps.source as Partial<Startable>).stop?.();
    },
    unsynced() {
      return [
        ...(policies.health() === 'Synced' ? [] : [PLURAL]),
        ...(pvcs.health() === 'Synced' ? [] : ['persistentvolumeclaims']),
        ...(classes.health() === 'Synced' ? [] : ['storageclasses']),
      ];
    },
  };
}
