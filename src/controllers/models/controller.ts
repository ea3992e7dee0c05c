// The ModelDeployment controller: for each ModelDeployment (any namespace; the namespace is the
// tenant), resolve and size the model, then own a Deployment, Service, model-cache PVC and
// SizingPolicy built from it, and report phase, endpoint, estimate, GPU and recommendation.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../../api/common.ts';
import type { ModelDeployment, ModelDeploymentStatus } from '../../api/modeldeployment.ts';
import type { SizingPolicy } from '../../api/sizingpolicy.ts';
import { MODEL_LABEL } from '../../core/boost/index.ts';
import { mergePatch } from '../../kube/client.ts';
import { classify, toTailorError } from '../../kube/errors.ts';
import { watchResource, type Watched } from '../../kube/informer.ts';
import { WorkQueue, type ReconcileResult } from '../../kube/workqueue.ts';
import type { HubOptions } from '../../sources/huggingface.ts';
import type { Controller, OperatorContext } from '../controller.ts';
import { render, type Rendered } from './render.ts';
import { gpusOnNodes, resolve, secretReader, type Resolution } from './resolve.ts';
import { APPLIED_GENERATION_ANNOTATION, buildStatus, sameStatus } from './status.ts';

export interface ModelsOptions {
  /** The Hugging Face hub (or a mirror); default $HF_ENDPOINT, else https://huggingface.co. */
  hub?: HubOptions;
  /** Look again this often even without changes (status, recommendations); default 60 s. */
  resyncMs?: number;
  /** Only these namespaces (tenants); default all. Tests use it to share a cluster. */
  namespaces?: readonly string[];
}

const PLURAL = 'modeldeployments';
const TRANSIENT_RETRY_MS = 30_000;

export function modelsController(ctx: OperatorContext, opts: ModelsOptions = {}): Controller {
  const { clients, log, events } = ctx;
  const hub: HubOptions = {
    ...(process.env.HF_ENDPOINT ? { baseUrl: process.env.HF_ENDPOINT } : {}),
    ...opts.hub,
  };
  const readSecret = secretReader(clients.core);
  // A resolution per (uid, generation): the hub is asked once per edit, not on every pod change.
  const resolutions = new Map<string, Resolution>();
  /** The last status written per key (namespace/name). */
  const written = new Map<string, ModelDeploymentStatus>();
  let mds: Watched<ModelDeployment & k8s.KubernetesObject> | undefined;
  let deployments: Watched<k8s.V1Deployment> | undefined;
  let policies: Watched<SizingPolicy & k8s.KubernetesObject> | undefined;
  let pods: Watched<k8s.V1Pod> | undefined;
  let nodes: Watched<k8s.V1Node> | undefined;
  let synced: Promise<unknown> = Promise.resolve();

  const queue = new WorkQueue(
    (key) => reconcile(key),
    (key, err, retryInMs) => log.warn({ key, err: String(err), retryInMs }, 'models: reconcile failed'),
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
  // 429 right after the CRDs are installed ("storage is (re)initializing") is routine: the watch retries.
  const onError = (what: string) => (err: unknown) =>
    log[classify(err).kind === 'TooManyRequests' ? 'debug' : 'warn'](
      { err: classify(err).message },
      `models: watch of ${what} failed; restarting`,
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
    const existing = deployments?.get(name, namespace);
    const ownedByUs = existing?.metadata?.ownerReferences?.some((r) => r.uid === md.metadata.uid);

    // 1. Validate and resolve the model, estimate, fit the GPU: all before the first write, so a bad
    //    spec creates nothing and a bad edit changes nothing.
    const cacheKey = `${md.metadata.uid}/${gen}`;
    let resolution = resolutions.get(cacheKey);
    if (resolution === undefined) {
      // The cluster's GPUs are read once per generation: a node pool scaling to zero later must not
      // move a running model to another GPU type (a rollout) without an edit.
      resolution = await resolve(md, {
        hub,
        readSecret,
        gpusOnCluster: () => gpusOnNodes(nodes?.list() ?? []),
      });
      if (resolution.kind === 'Resolved' || !resolution.problem.transient)
        resolutions.set(cacheKey, resolution);
      for (const k of resolutions.keys())
        if (k.startsWith(`${md.metadata.uid}/`) && k !== cacheKey) resolutions.delete(k);
    }

    let rendered: Rendered | undefined;
    if (resolution.kind === 'Resolved') {
      // 2. Build the desired objects purely from the spec, estimate and fit.
      rendered = render(md, resolution.value.estimate, resolution.value.fit);
      rendered.deployment.metadata!.annotations = { [APPLIED_GENERATION_ANNOTATION]: String(gen) };
      // 3. Apply: the cache volume first (pods wait on it), the Deployment, the Service in front of
      //    it, and the SizingPolicy last, once its target exists.
      if (existing === undefined || ownedByUs) {
        if (rendered.pvc) await apply(rendered.pvc);
        await apply(rendered.deployment);
        await apply(rendered.service);
        await apply(rendered.sizingPolicy);
      } else {
        log.warn({ key }, 'models: a Deployment of that name exists and is not ours; leaving it');
      }
    } else {
      const p = resolution.problem;
      log.info({ key, reason: p.reason, message: p.message }, 'models: spec not applied');
    }

    // 4. Status, through the status subresource, only when it changed.
    const deployment = deployments?.get(name, namespace);
    const ownPods = (pods?.list() ?? []).filter(
      (p) => p.metadata?.namespace === namespace && p.metadata.labels?.[MODEL_LABEL] === name,
    );
    const status = buildStatus({
      md,
      outcome:
        resolution.kind === 'Resolved'
          ? { kind: 'Resolved', value: resolution.value, endpoint: rendered!.endpoint }
          : resolution,
      deployment: deployment?.metadata?.ownerReferences?.some((r) => r.uid === md.metadata.uid)
        ? deployment
        : undefined,
      pods: ownPods,
      sizingPolicy: policies?.get(name, namespace),
      now: new Date(ctx.now() * 1000),
    });
    // The cache may not show our last write yet: compare with that too, so neither the write nor
    // its Events repeat.
    const previous = written.get(key) ?? md.status;
    if (!sameStatus(md.status, status) && !sameStatus(written.get(key), status)) {
      await writeStatus(md, status);
      written.set(key, status);
      announce(md, previous, status);
    }
    if (resolution.kind === 'Problem' && resolution.problem.transient)
      return { requeueAfterMs: TRANSIENT_RETRY_MS };
    return { requeueAfterMs: opts.resyncMs ?? 60_000 };
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
    if (status.phase !== previous?.phase && status.phase !== undefined) {
      events.record(
        obj,
        status.phase === 'Failed' ? 'Warning' : 'Normal',
        status.phase,
        `phase ${status.phase}`,
      );
    }
  }

  async function apply(obj: k8s.KubernetesObject): Promise<void> {
    try {
      await clients.objects.patch(
        obj,
        undefined,
        ctx.dryRun ? 'All' : undefined,
        ctx.fieldManager,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw toTailorError(`apply ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, err);
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
      synced = Promise.all([deployments.synced, policies.synced, pods.synced, nodes.synced]);
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
      await Promise.all([mds?.stop(), deployments?.stop(), policies?.stop(), pods?.stop(), nodes?.stop()]);
      await queue.idle();
    },
  };
}
