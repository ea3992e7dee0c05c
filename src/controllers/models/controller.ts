// The ModelDeployment controller: for each ModelDeployment (any namespace; the namespace is the
// tenant), resolve and size the model, then own a Deployment, Service, model-cache PVC (with its
// VolumePolicy) and SizingPolicy built from it, and report phase, endpoint, estimate, GPU and
// recommendation. A new revision the cache has no room for waits (rollout held) until it has.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../../api/common.ts';
import type { ModelDeployment, ModelDeploymentStatus } from '../../api/modeldeployment.ts';
import type { SizingPolicy } from '../../api/sizingpolicy.ts';
import { MODEL_LABEL } from '../../core/boost/index.ts';
import { mergePatch } from '../../kube/client.ts';
import { classify, errorLine, toTailorError } from '../../kube/errors.ts';
import { RepeatLog } from '../../logging/repeat-log.ts';
import { watchResource, type Watched } from '../../kube/informer.ts';
import { WorkQueue, type ReconcileResult } from '../../kube/workqueue.ts';
import type { HubOptions } from '../../sources/huggingface.ts';
import type { VolumeStatsSource } from '../../sources/volume-stats.ts';
import type { CacheRoom } from '../../core/models/cache-room.ts';
import { roomForNext } from './cache.ts';
import type { Controller, OperatorContext } from '../controller.ts';
import { autoscalerOf, appliesReplicas } from '../../core/models/hpa.ts';
import { checkImage } from '../../core/models/image-policy.ts';
import { checkOwnership, type OwnershipCheck } from '../../core/models/ownership.ts';
import { checkTokenSecret } from '../../core/models/token-secret.ts';
import { PRESET_IMAGES } from './presets.ts';
import { cacheName, modelSource, render, type Rendered } from './render.ts';
import { parseQuantity } from '../../core/quantity.ts';
import { nodeShapes, type NodeShape } from './placement.ts';
import { gpusOnNodes, resolve, type Problem, type Resolution } from './resolve.ts';
import {
  APPLIED_GENERATION_ANNOTATION,
  CACHE_CONDITION,
  buildStatus,
  sameStatus,
  type StatusInput,
} from './status.ts';
import { tokenSecrets } from './token.ts';

export interface ModelsOptions {
  /** The Hugging Face hub (or a mirror); default $HF_ENDPOINT, else https://huggingface.co. */
  hub?: HubOptions;
  /** Look again this often even without changes (status, recommendations); default 60 s. */
  resyncMs?: number;
  /** Only these namespaces (tenants); default all. Tests use it to share a cluster. */
  namespaces?: readonly string[];
  /**
   * Image prefixes a ModelDeployment's runtime.image may name besides the presets' images
   * (`--allowed-image`, repeatable); default none.
   */
  allowedImages?: readonly string[];
  /**
   * The cache's current use before a new revision's download (the storage controller's source);
   * left out: the running revision's size stands in for it.
   */
  volumeStats?: VolumeStatsSource;
}

const PLURAL = 'modeldeployments';
const TRANSIENT_RETRY_MS = 30_000;

export function modelsController(ctx: OperatorContext, opts: ModelsOptions = {}): Controller {
  const { clients, log, events } = ctx;
  const hub: HubOptions = {
    ...(process.env.HF_ENDPOINT ? { baseUrl: process.env.HF_ENDPOINT } : {}),
    ...opts.hub,
  };
  const secrets = tokenSecrets(clients.core);
  const autoscaling = clients.kc.makeApiClient(k8s.AutoscalingV2Api);
  const presetImages = Object.values(PRESET_IMAGES);
  const allowedImages = opts.allowedImages ?? [];
  // A resolution per (uid, generation): the hub is asked once per edit, not on every pod change.
  const resolutions = new Map<string, Resolution>();
  // The nodes' shapes per (uid, generation), for the boost's cap: read with the resolution, so a
  // node pool that scales later does not change the template (a rollout) without an edit.
  const nodeSnapshots = new Map<string, NodeShape[]>();
  /** The last status written per key (namespace/name). */
  const written = new Map<string, ModelDeploymentStatus>();
  let mds: Watched<ModelDeployment & k8s.KubernetesObject> | undefined;
  let deployments: Watched<k8s.V1Deployment> | undefined;
  let policies: Watched<SizingPolicy & k8s.KubernetesObject> | undefined;
  let pods: Watched<k8s.V1Pod> | undefined;
  let nodes: Watched<k8s.V1Node> | undefined;
  let hpas: Watched<k8s.V2HorizontalPodAutoscaler> | undefined;
  let synced: Promise<unknown> = Promise.resolve();

  const queue = new WorkQueue(
    (key) => reconcile(key),
    (key, err, retryInMs) => log.warn({ key, err: errorLine(err), retryInMs }, 'models: reconcile failed'),
    { concurrency: 4 },
  );
  const mine = (ns: string | undefined): ns is string =>
    ns !== undefined && (opts.namespaces === undefined || opts.namespaces.includes(ns));
  const enqueue = (o: k8s.KubernetesObject) => {
    if (mine(o.metadata?.namespace) && o.metadata.name)
      queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
  };
  const enqueueOwner = (o: k8s.KubernetesObject) => {
    const owner = o.metadata?.labels?.[MODEL_LABEL];
    if (mine(o.metadata?.namespace) && owner) queue.add(`${o.metadata.namespace}/${owner}`);
  };
  /** An HPA names its target Deployment, which has its ModelDeployment's name. */
  const enqueueTarget = (h: k8s.V2HorizontalPodAutoscaler) => {
    const t = h.spec?.scaleTargetRef;
    if (t?.kind === 'Deployment' && mine(h.metadata?.namespace))
      queue.add(`${h.metadata.namespace}/${t.name}`);
  };
  // 429 right after the CRDs are installed ("storage is (re)initializing") is routine: the watch retries.
  // One line per few minutes with a count for a watch that keeps failing, not one per restart.
  const watchFailures = new RepeatLog(log);
  const onError = (what: string) => (err: unknown) =>
    watchFailures.failed(
      what,
      err,
      `models: watch of ${what} failed; restarting`,
      {},
      classify(err).kind === 'TooManyRequests' ? 'debug' : 'warn',
    );

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const [namespace, name] = key.split('/') as [string, string];
    // Owned objects must be known first: "is something already running?" decides what a bad edit does.
    await synced;
    const md = mds?.get(name, namespace);
    // Gone: the garbage collector removes what it owned (ownerReferences); nothing to do here.
    if (md === undefined || md.metadata.deletionTimestamp) {
      written.delete(key);
      return;
    }
    const gen = md.metadata.generation ?? 0;
    let autoscaler = autoscalerOf(namespace, name, hpas?.list() ?? []);
    let outcome: StatusInput['outcome'] = { kind: 'Unknown' };
    let rendered: Rendered | undefined;
    let room: CacheRoom | undefined;
    let failure: unknown;
    try {
      // 1. The operator's policy on the spec: the image and the token Secret, before the hub is asked.
      const refused = await admit(md);
      // 2. Validate and resolve the model, estimate, fit the GPU: all before the first write, so a
      //    bad spec creates nothing and a bad edit changes nothing.
      const resolution = refused ? { kind: 'Problem' as const, problem: refused } : await resolved(md);
      if (resolution.kind === 'Problem') {
        outcome = resolution;
        const p = resolution.problem;
        log.info({ key, reason: p.reason, message: p.message }, 'models: spec not applied');
      } else {
        // 3. Build the desired objects purely from the spec, estimate and fit; with an HPA on the
        //    Deployment, without replicas. The cache's live request first: it is never lowered.
        const est = resolution.value.estimate;
        const hf = md.spec.model.huggingFace !== undefined;
        const livePvc: k8s.V1PersistentVolumeClaim | undefined = hf
          ? await read({
              apiVersion: 'v1',
              kind: 'PersistentVolumeClaim',
              metadata: { name: cacheName(md), namespace },
            })
          : undefined;
        const liveRequest = parseQuantity(livePvc?.spec?.resources?.requests?.storage);
        const shapes = nodeSnapshots.get(`${md.metadata.uid}/${md.metadata.generation ?? 0}`);
        const renderOpts = {
          replicas: autoscaler ? ('Omit' as const) : ('Set' as const),
          ...(shapes ? { nodes: shapes } : {}),
          ...(liveRequest !== undefined ? { cacheRequestBytes: liveRequest } : {}),
        };
        rendered = render(md, est, resolution.value.fit, renderOpts);
        // 3a. A new revision the cache has no room for: the growth is announced on the PVC (the
        //     storage controller expands it ahead) and the Deployment keeps its old template until
        //     the capacity shows the room, so the download never starts on a volume it would fill.
        const liveDeployment0: k8s.V1Deployment | undefined = hf
          ? await read(rendered.deployment)
          : undefined;
        room = await roomForNext(
          md,
          rendered,
          est.checkpoint.value,
          { pvc: livePvc, deployment: ownedBy(liveDeployment0, md.metadata.uid) },
          {
            storageClass: readStorageClass,
            ...(opts.volumeStats ? { volumeStats: opts.volumeStats } : {}),
            now: ctx.now,
            onStatsError: (err) =>
              log.warn(
                { key, err: errorLine(err) },
                'models: volume stats unreadable; using the running revision size',
              ),
          },
        );
        if (room !== undefined && room.kind !== 'Fits')
          rendered = render(md, est, resolution.value.fit, {
            ...renderOpts,
            expectedGrowth: {
              bytes: room.growthBytes,
              reason: `${modelSource(md)} for ModelDeployment ${name}`,
            },
          });
        const hold = room !== undefined && room.kind !== 'Fits';
        rendered.deployment.metadata!.annotations = {
          ...rendered.deployment.metadata!.annotations,
          [APPLIED_GENERATION_ANNOTATION]: String(gen),
        };
        // 4. Who owns each object now, all of them before any write: one that is not ours stops
        //    every write (never adopted, never overwritten).
        const objects = [
          ...(rendered.pvc ? [rendered.pvc] : []),
          ...(rendered.volumePolicy ? [rendered.volumePolicy] : []),
          rendered.deployment,
          rendered.service,
          rendered.sizingPolicy,
        ] as k8s.KubernetesObject[];
        const pre = new Map<k8s.KubernetesObject, k8s.KubernetesObject | undefined>(
          hf ? [[rendered.deployment, liveDeployment0]] : [],
        );
        if (rendered.pvc) pre.set(rendered.pvc, livePvc);
        const live = await Promise.all(
          objects.map((o) => (pre.has(o) ? Promise.resolve(pre.get(o)) : read(o))),
        );
        // An HPA created while this pass ran may already have scaled the Deployment, before its
        // watch event reached the cache (a busy process): when the live replicas differ from the
        // spec's, ask the apiserver, so a stale pass never puts replicas back under an HPA.
        const liveReplicas = (live[objects.indexOf(rendered.deployment)] as { spec?: { replicas?: number } })
          ?.spec?.replicas;
        const wanted = (rendered.deployment.spec as { replicas?: number }).replicas;
        if (
          autoscaler === undefined &&
          wanted !== undefined &&
          liveReplicas !== undefined &&
          liveReplicas !== wanted
        ) {
          const listed = await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace });
          autoscaler = autoscalerOf(namespace, name, listed.items);
          if (autoscaler !== undefined) delete (rendered.deployment.spec as { replicas?: number }).replicas;
        }
        const check = checkOwnership(
          objects.map((o, n) => ({ kind: o.kind!, name: o.metadata!.name!, existing: live[n] })),
          md.metadata.uid!,
        );
        if (check.kind === 'Conflict') {
          outcome = { kind: 'Problem', problem: nameConflict(check) };
          log.info({ key, conflicts: check.conflicts }, 'models: name conflict; nothing written');
        } else {
          outcome = { kind: 'Resolved', value: resolution.value, endpoint: rendered.endpoint };
          // 5. Write: the cache volume first (pods wait on it) and its VolumePolicy, the Deployment
          //    (unless its rollout waits for room), the Service in front of it, and the SizingPolicy
          //    last, once its target exists.
          const liveDeployment = live[objects.indexOf(rendered.deployment)];
          if (
            autoscaler &&
            liveDeployment &&
            appliesReplicas(liveDeployment.metadata?.managedFields, ctx.fieldManager)
          )
            await handOverReplicas(liveDeployment);
          for (const o of objects) if (!(hold && o === rendered.deployment)) await apply(o, check);
          // 6. A VolumePolicy we made, no longer wanted (volumePolicy.mode Off, or no cache): deleted.
          if (rendered.volumePolicy === undefined) await deleteOwnVolumePolicy(md);
        }
      }
    } catch (err) {
      failure = err;
    }

    // 7. Status, through the status subresource, only when it changed; an API error shows there.
    const deployment = deployments?.get(name, namespace);
    const ownPods = (pods?.list() ?? []).filter(
      (p) => p.metadata?.namespace === namespace && p.metadata.labels?.[MODEL_LABEL] === name,
    );
    const status = buildStatus({
      md,
      outcome,
      synced: failure === undefined ? { kind: 'Synced' } : { kind: 'Error', message: shortError(failure) },
      ...(autoscaler ? { autoscaler } : {}),
      deployment: ownedBy(deployment, md.metadata.uid),
      pods: ownPods,
      // Only our own SizingPolicy's recommendation: a tenant's policy of that name is not ours to show.
      sizingPolicy: ownedBy(policies?.get(name, namespace), md.metadata.uid),
      ...(room ? { cacheRoom: room } : {}),
      now: new Date(ctx.now() * 1000),
    });
    // The cache may not show our last write yet: compare with that too, so neither the write nor
    // its Events repeat.
    const previous = written.get(key) ?? md.status;
    if (!sameStatus(md.status, status) && !sameStatus(written.get(key), status)) {
      try {
        await writeStatus(md, status);
        written.set(key, status);
        announce(md, previous, status);
      } catch (err) {
        failure ??= err;
      }
    }
    // The work queue retries a failure with per-key exponential backoff.
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(shortError(failure));
    if (outcome.kind === 'Problem' && outcome.problem.transient)
      return { requeueAfterMs: TRANSIENT_RETRY_MS };
    return { requeueAfterMs: opts.resyncMs ?? 60_000 };
  }

  /** The operator's policy: an image it allows, and a token Secret marked for Tailor. */
  async function admit(md: ModelDeployment): Promise<Problem | undefined> {
    const image = checkImage(md.spec.runtime.image, presetImages, allowedImages);
    if (image.kind === 'NotAllowed')
      return { reason: 'ImageNotAllowed', message: image.message, hint: image.hint, transient: false };
    const ref = md.spec.model.huggingFace?.tokenSecretRef;
    if (ref === undefined) return undefined;
    const ns = md.metadata.namespace!;
    const token = checkTokenSecret(ns, ref.name, await secrets.labels(ns, ref.name));
    switch (token.kind) {
      case 'Allowed':
        return undefined;
      case 'Missing':
        // Created later, it is seen at the next resync.
        return { reason: 'TokenMissing', message: token.message, hint: token.hint, transient: false };
      case 'NotAllowed':
        return {
          reason: 'TokenSecretNotAllowed',
          message: token.message,
          hint: token.hint,
          transient: false,
        };
    }
  }

  /** A resolution per (uid, generation): the hub is asked once per edit, not on every pod change. */
  async function resolved(md: ModelDeployment): Promise<Resolution> {
    const cacheKey = `${md.metadata.uid}/${md.metadata.generation ?? 0}`;
    let resolution = resolutions.get(cacheKey);
    if (resolution === undefined) {
      // The cluster's GPUs are read once per generation: a node pool scaling to zero later must not
      // move a running model to another GPU type (a rollout) without an edit.
      resolution = await resolve(md, {
        hub,
        readSecret: (namespace, name, key) => secrets.read(namespace, name, key),
        gpusOnCluster: () => gpusOnNodes(nodes?.list() ?? []),
      });
      if (resolution.kind === 'Resolved' || !resolution.problem.transient) {
        resolutions.set(cacheKey, resolution);
        nodeSnapshots.set(cacheKey, nodeShapes(nodes?.list() ?? []));
      }
      for (const k of resolutions.keys())
        if (k.startsWith(`${md.metadata.uid}/`) && k !== cacheKey) {
          resolutions.delete(k);
          nodeSnapshots.delete(k);
        }
    }
    return resolution;
  }

  /** An Event when the Accepted condition or the phase changes, for `kubectl describe`. */
  function announce(
    md: ModelDeployment,
    previous: ModelDeploymentStatus | undefined,
    status: ModelDeploymentStatus,
  ): void {
    const was = previous?.conditions?.find((c) => c.type === 'Accepted');
    const now = status.conditions?.find((c) => c.type === 'Accepted');
    const obj = { ...md, apiVersion: API_VERSION, kind: 'ModelDeployment' };
    if (now && (was?.reason !== now.reason || was.observedGeneration !== now.observedGeneration)) {
      events.record(obj, now.status === 'True' ? 'Normal' : 'Warning', now.reason, now.message);
    }
    const syncedWas = previous?.conditions?.find((c) => c.type === 'Synced');
    const syncedNow = status.conditions?.find((c) => c.type === 'Synced');
    if (syncedNow?.status === 'False' && syncedWas?.status !== 'False')
      events.record(obj, 'Warning', syncedNow.reason, syncedNow.message);
    const roomWas = previous?.conditions?.find((c) => c.type === CACHE_CONDITION);
    const roomNow = status.conditions?.find((c) => c.type === CACHE_CONDITION);
    if (roomNow && roomWas?.reason !== roomNow.reason && roomNow.reason !== 'NoDownloadPending')
      events.record(
        obj,
        roomNow.reason === 'VolumeCannotGrow' ? 'Warning' : 'Normal',
        roomNow.reason,
        roomNow.message,
      );
    if (status.phase !== previous?.phase && status.phase !== undefined) {
      events.record(
        obj,
        status.phase === 'Failed' ? 'Warning' : 'Normal',
        status.phase,
        `phase ${status.phase}`,
      );
    }
  }

  /** The cache's StorageClass, for allowVolumeExpansion; undefined when missing or not readable. */
  async function readStorageClass(scName: string): Promise<k8s.V1StorageClass | undefined> {
    try {
      return await clients.storage.readStorageClass({ name: scName });
    } catch (err) {
      const kind = classify(err).kind;
      if (kind === 'NotFound' || kind === 'Forbidden') return undefined;
      throw toTailorError(`read StorageClass ${scName}`, err);
    }
  }

  /** The VolumePolicy this ModelDeployment made, once it is not wanted; never someone else's. */
  async function deleteOwnVolumePolicy(md: ModelDeployment): Promise<void> {
    const ref = {
      apiVersion: API_VERSION,
      kind: 'VolumePolicy',
      metadata: { name: md.metadata.name!, namespace: md.metadata.namespace! },
    };
    const existing = await read(ref);
    if (ownedBy(existing, md.metadata.uid) === undefined) return;
    try {
      await clients.objects.delete(ref, undefined, ctx.dryRun ? 'All' : undefined);
    } catch (err) {
      if (classify(err).kind === 'NotFound') return;
      throw toTailorError(`delete VolumePolicy ${ref.metadata.namespace}/${ref.metadata.name}`, err);
    }
  }

  /** The live object of that kind and name, from the API (the caches see only labelled ones). */
  async function read(obj: k8s.KubernetesObject): Promise<k8s.KubernetesObject | undefined> {
    try {
      return await clients.objects.read({
        apiVersion: obj.apiVersion!,
        kind: obj.kind!,
        metadata: { name: obj.metadata!.name!, namespace: obj.metadata!.namespace! },
      });
    } catch (err) {
      if (classify(err).kind === 'NotFound') return undefined;
      throw toTailorError(`read ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, err);
    }
  }

  /**
   * Server-side apply. An object we control is applied with force (we are its controller); one
   * that did not exist a moment ago without: if someone created it since, the apply fails on the
   * first differing field instead of taking it over.
   */
  async function apply(obj: k8s.KubernetesObject, check: OwnershipCheck & { kind: 'Clear' }): Promise<void> {
    const force = !check.create.includes(`${obj.kind}/${obj.metadata?.name}`);
    try {
      await clients.objects.patch(
        obj,
        undefined,
        ctx.dryRun ? 'All' : undefined,
        ctx.fieldManager,
        force,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw toTailorError(`apply ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, err);
    }
  }

  /**
   * Before `replicas` leaves our applied object, another manager takes it over at its current
   * value: otherwise server-side apply would remove the field (back to 1 replica) until the HPA
   * sets it again (the hand-over the Kubernetes docs describe).
   */
  async function handOverReplicas(d: k8s.KubernetesObject & { spec?: { replicas?: number } }): Promise<void> {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: d.metadata!.name!, namespace: d.metadata!.namespace! },
      spec: { replicas: d.spec?.replicas ?? 1 },
    };
    try {
      await clients.objects.patch(
        body,
        undefined,
        ctx.dryRun ? 'All' : undefined,
        `${ctx.fieldManager}-handover`,
        false,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw toTailorError(
        `hand replicas of Deployment ${body.metadata.namespace}/${body.metadata.name} over`,
        err,
      );
    }
  }

  async function writeStatus(md: ModelDeployment, status: ModelDeploymentStatus): Promise<void> {
    if (ctx.dryRun) return;
    // A merge patch: keys the new status drops are sent as null so they go.
    const body: Record<string, unknown> = { ...status };
    for (const k of Object.keys(md.status ?? {})) if (!(k in body)) body[k] = null;
    try {
      await clients.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: md.metadata.namespace!,
          plural: PLURAL,
          name: md.metadata.name!,
          body: { status: body },
        },
        mergePatch,
      );
    } catch (err) {
      if (classify(err).kind === 'NotFound') return;
      throw toTailorError(`status of ModelDeployment ${md.metadata.namespace}/${md.metadata.name}`, err);
    }
  }

  return {
    name: 'models',
    queue,
    async start() {
      mds = watchResource<ModelDeployment & k8s.KubernetesObject>(
        clients.kc,
        `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        (page) =>
          clients.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            ...page,
          }) as Promise<k8s.KubernetesListObject<ModelDeployment & k8s.KubernetesObject>>,
        { add: enqueue, update: enqueue, delete: enqueue, error: onError('ModelDeployments') },
      );
      deployments = watchResource<k8s.V1Deployment>(
        clients.kc,
        '/apis/apps/v1/deployments',
        (page) => clients.apps.listDeploymentForAllNamespaces({ labelSelector: MODEL_LABEL, ...page }),
        { add: enqueueOwner, update: enqueueOwner, delete: enqueueOwner, error: onError('Deployments') },
        { labelSelector: MODEL_LABEL },
      );
      policies = watchResource<SizingPolicy & k8s.KubernetesObject>(
        clients.kc,
        `/apis/${GROUP}/${VERSION}/sizingpolicies`,
        (page) =>
          clients.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'sizingpolicies',
            labelSelector: MODEL_LABEL,
            ...page,
          }) as Promise<k8s.KubernetesListObject<SizingPolicy & k8s.KubernetesObject>>,
        { add: enqueueOwner, update: enqueueOwner, error: onError('SizingPolicies') },
        { labelSelector: MODEL_LABEL },
      );
      pods = watchResource<k8s.V1Pod>(
        clients.kc,
        '/api/v1/pods',
        (page) => clients.core.listPodForAllNamespaces({ labelSelector: MODEL_LABEL, ...page }),
        { add: enqueueOwner, update: enqueueOwner, delete: enqueueOwner, error: onError('pods') },
        { labelSelector: MODEL_LABEL },
      );
      nodes = watchResource<k8s.V1Node>(clients.kc, '/api/v1/nodes', (page) => clients.core.listNode(page), {
        error: onError('nodes'),
      });
      hpas = watchResource<k8s.V2HorizontalPodAutoscaler>(
        clients.kc,
        '/apis/autoscaling/v2/horizontalpodautoscalers',
        () => autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
        {
          add: enqueueTarget,
          update: enqueueTarget,
          delete: enqueueTarget,
          error: onError('HorizontalPodAutoscalers'),
        },
      );
      synced = Promise.all([deployments.synced, policies.synced, pods.synced, nodes.synced, hpas.synced]);
      await synced;
      await mds.synced;
      for (const md of mds.list()) enqueue(md);
      log.info({ apiVersion: API_VERSION }, 'models: controller started');
    },
    unsynced: () =>
      Object.entries({ modeldeployments: mds, deployments, sizingpolicies: policies, pods, nodes })
        .filter(([, w]) => w !== undefined && w.health() !== 'Synced')
        .map(([name]) => name),
    async stop() {
      queue.stop();
      await Promise.all([
        mds?.stop(),
        deployments?.stop(),
        policies?.stop(),
        pods?.stop(),
        nodes?.stop(),
        hpas?.stop(),
      ]);
      await queue.idle();
    },
  };
}

function ownedBy<T extends k8s.KubernetesObject>(o: T | undefined, uid: string | undefined): T | undefined {
  return o?.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === uid) ? o : undefined;
}

function nameConflict(check: OwnershipCheck & { kind: 'Conflict' }): Problem {
  const names = check.conflicts.map((c) => c.object).join(', ');
  return {
    reason: 'NameConflict',
    message: check.message,
    hint: `rename the ModelDeployment, or rename or delete ${names} (Tailor creates objects named after the ModelDeployment)`,
    transient: false,
  };
}

/** One line of what the apiserver said, for a condition: no headers, no body dumps. */
export function shortError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').slice(0, 512);
}
