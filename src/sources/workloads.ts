// Which workload a pod belongs to, through its controller ownerReferences (Pod -> ReplicaSet ->
// Deployment, Pod -> Job -> CronJob, StatefulSet, DaemonSet), as a pure mapping plus a cached lister.
import * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { classify, toTailorError } from '../kube/errors.ts';
import type { Scope } from './scope.ts';

/** `Custom`: a controller Tailor does not know (an Argo Rollout, an operator's CRD); `Pod`: no controller. */
export type WorkloadKind =
  'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job' | 'CronJob' | 'Pod' | 'Custom';

export interface WorkloadRef {
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly name: string;
  /** For `Custom`: the controller's own kind, e.g. `Rollout`. */
  readonly ownerKind?: string;
}

export interface OwnerLink {
  readonly kind: string;
  readonly name: string;
  readonly uid?: string;
}

/**
 * The controller of an intermediate object (a ReplicaSet or a Job): `null` when it has none (it is
 * the workload), `undefined` when the object is unknown (not listed, or already deleted).
 */
export type OwnerLookup = (
  namespace: string,
  kind: 'ReplicaSet' | 'Job',
  name: string,
) => OwnerLink | null | undefined;

interface HasMeta {
  readonly metadata?: k8s.V1ObjectMeta;
}

/** The owner reference marked `controller: true`, which is the one that manages the object. */
export function controllerOf(obj: HasMeta): OwnerLink | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { kind: ref.kind, name: ref.name, uid: ref.uid } : undefined;
}

export function workloadOf(pod: HasMeta, lookup: OwnerLookup): WorkloadRef {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = controllerOf(pod);
  if (!owner) return { namespace, kind: 'Pod', name: pod.metadata?.name ?? '' };
  switch (owner.kind) {
    case 'StatefulSet':
    case 'DaemonSet':
      return { namespace, kind: owner.kind, name: owner.name };
    case 'ReplicaSet': {
      const up = lookup(namespace, 'ReplicaSet', owner.name);
      if (up === undefined) return guessDeployment(namespace, owner.name, pod);
      if (up === null) return { namespace, kind: 'ReplicaSet', name: owner.name };
      return up.kind === 'Deployment'
        ? { namespace, kind: 'Deployment', name: up.name }
        : { namespace, kind: 'Custom', name: up.name, ownerKind: up.kind };
    }
    case 'Job': {
      const up = lookup(namespace, 'Job', owner.name);
      if (!up) return { namespace, kind: 'Job', name: owner.name };
      return up.kind === 'CronJob'
        ? { namespace, kind: 'CronJob', name: up.name }
        : { namespace, kind: 'Custom', name: up.name, ownerKind: up.kind };
    }
    default:
      return { namespace, kind: 'Custom', name: owner.name, ownerKind: owner.kind };
  }
}

/**
 * A ReplicaSet not in the cache: the Deployment controller names it `<deployment>-<pod-template-hash>`
 * and labels its pods with that hash, so the Deployment is still known without another request.
 */
function guessDeployment(namespace: string, rs: string, pod: HasMeta): WorkloadRef {
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (hash && rs.endsWith(`-${hash}`) && rs.length > hash.length + 1) {
    return { namespace, kind: 'Deployment', name: rs.slice(0, -hash.length - 1) };
  }
  return { namespace, kind: 'ReplicaSet', name: rs };
}

/** One string per workload, for maps and the history store's keys. */
export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.kind === 'Custom' ? `Custom:${w.ownerKind ?? ''}` : w.kind}/${w.name}`;
}

/** The kind people know it by: a custom controller shows its own (`Rollout`). */
export function kindLabel(w: WorkloadRef): string {
  return w.kind === 'Custom' ? (w.ownerKind ?? 'Custom') : w.kind;
}

/** `Deployment/web`, `Rollout/api`. */
export function workloadLabel(w: WorkloadRef): string {
  return `${kindLabel(w)}/${w.name}`;
}

// Name shapes the built-in controllers give their pods, so history of pods that are gone (old
// replicas in Prometheus) still counts for the workload that made them.
const RS_HASH = '[a-z0-9]{1,10}';
const POD_SUFFIX = '[a-z0-9]{5}';
const NAME_SHAPES: Partial<Record<WorkloadKind, (name: string) => RegExp>> = {
  Deployment: (n) => new RegExp(`^${escapeRegExp(n)}-${RS_HASH}-${POD_SUFFIX}$`),
  StatefulSet: (n) => new RegExp(`^${escapeRegExp(n)}-\\d+$`),
  DaemonSet: (n) => new RegExp(`^${escapeRegExp(n)}-${POD_SUFFIX}$`),
  ReplicaSet: (n) => new RegExp(`^${escapeRegExp(n)}-${POD_SUFFIX}$`),
  Job: (n) => new RegExp(`^${escapeRegExp(n)}-${POD_SUFFIX}$`),
  CronJob: (n) => new RegExp(`^${escapeRegExp(n)}-\\d+-${POD_SUFFIX}$`),
};

/** The known workload whose controller would have named a pod `pod`; the longest name wins. */
export function inferWorkloadFromPodName(
  namespace: string,
  pod: string,
  known: readonly WorkloadRef[],
): WorkloadRef | undefined {
  let best: WorkloadRef | undefined;
  for (const w of known) {
    if (w.namespace !== namespace) continue;
    const shape = NAME_SHAPES[w.kind];
    if (!shape || !shape(w.name).test(pod)) continue;
    if (!best || w.name.length > best.name.length) best = w;
  }
  return best;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An OwnerLookup over listed ReplicaSets and Jobs. */
export function ownerIndex(
  objects: Iterable<HasMeta & { kind?: string }>,
  kind: 'ReplicaSet' | 'Job',
): Map<string, OwnerLink | null> {
  const index = new Map<string, OwnerLink | null>();
  for (const o of objects) {
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    index.set(`${kind}/${ns}/${name}`, controllerOf(o) ?? null);
  }
  return index;
}

export interface PodWithWorkload {
  readonly pod: k8s.V1Pod;
  readonly workload: WorkloadRef;
}

/**
 * Lists the scope's live pods (not Succeeded or Failed) with their workloads: pods, ReplicaSets and
 * Jobs are each listed once, so the mapping costs three requests per namespace, not one per pod.
 */
export async function listPodsWithWorkloads(clients: Clients, scope: Scope): Promise<PodWithWorkload[]> {
  const batch = clients.kc.makeApiClient(k8s.BatchV1Api);
  const each = async <T>(
    what: string,
    all: () => Promise<{ items: T[] }>,
    inNs: (namespace: string) => Promise<{ items: T[] }>,
  ): Promise<T[]> => {
    try {
      switch (scope.kind) {
        case 'AllNamespaces':
          return (await all()).items;
        case 'Namespaces':
          return (await Promise.all(scope.namespaces.map((ns) => inNs(ns)))).flatMap((l) => l.items);
      }
    } catch (err) {
      throw toTailorError(`listing ${what}`, err);
    }
  };
  const [pods, replicaSets, jobs] = await Promise.all([
    each(
      'pods',
      () => clients.core.listPodForAllNamespaces(),
      (namespace) => clients.core.listNamespacedPod({ namespace }),
    ),
    each(
      'replicasets',
      () => clients.apps.listReplicaSetForAllNamespaces(),
      (namespace) => clients.apps.listNamespacedReplicaSet({ namespace }),
    ),
    each(
      'jobs',
      () => batch.listJobForAllNamespaces(),
      (namespace) => batch.listNamespacedJob({ namespace }),
    ),
  ]);
  const index = new Map([...ownerIndex(replicaSets, 'ReplicaSet'), ...ownerIndex(jobs, 'Job')]);
  const lookup: OwnerLookup = (ns, kind, name) => index.get(`${kind}/${ns}/${name}`);
  return pods
    .filter(
      (p) =>
        p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp,
    )
    .map((pod) => ({ pod, workload: workloadOf(pod, lookup) }));
}

export interface WorkloadResolverOptions {
  /** Reads a ReplicaSet's or Job's controller: `null` without one, `undefined` when it is gone. */
  readonly fetchOwner: (
    namespace: string,
    kind: 'ReplicaSet' | 'Job',
    name: string,
  ) => Promise<OwnerLink | null | undefined>;
  /** How long a looked-up owner is trusted; adoption and orphaning are rare, so minutes. */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Bound on cached entries, so a cluster churning Jobs does not grow the cache forever. */
  readonly maxEntries?: number;
}

/**
 * Resolves pods one at a time (for a controller watching pods), reading each ReplicaSet or Job at
 * most once per TTL. A pod whose ReplicaSet uid differs from the cached one triggers a re-read.
 */
export class WorkloadResolver {
  private readonly cache = new Map<
    string,
    { owner: OwnerLink | null | undefined; uid?: string; expires: number }
  >();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: WorkloadResolverOptions) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 50_000;
  }

  async resolve(pod: k8s.V1Pod): Promise<WorkloadRef> {
    const owner = controllerOf(pod);
    const namespace = pod.metadata?.namespace ?? '';
    if (owner && (owner.kind === 'ReplicaSet' || owner.kind === 'Job')) {
      await this.ensure(namespace, owner.kind, owner.name, owner.uid);
    }
    return workloadOf(pod, (ns, kind, name) => this.cache.get(`${kind}/${ns}/${name}`)?.owner);
  }

  private async ensure(
    namespace: string,
    kind: 'ReplicaSet' | 'Job',
    name: string,
    uid?: string,
  ): Promise<void> {
    const key = `${kind}/${namespace}/${name}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now() && (!uid || !hit.uid || hit.uid === uid)) return;
    const owner = await this.options.fetchOwner(namespace, kind, name);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { owner, ...(uid ? { uid } : {}), expires: this.now() + this.ttlMs });
  }
}

/** `fetchOwner` through the API: one GET of the ReplicaSet or Job. */
export function apiOwnerFetcher(clients: Clients): WorkloadResolverOptions['fetchOwner'] {
  const batch = clients.kc.makeApiClient(k8s.BatchV1Api);
  return async (namespace, kind, name) => {
    try {
      const obj =
        kind === 'ReplicaSet'
          ? await clients.apps.readNamespacedReplicaSet({ name, namespace })
          : await batch.readNamespacedJob({ name, namespace });
      return controllerOf(obj) ?? null;
    } catch (err) {
      if (classify(err).kind === 'NotFound') return undefined;
      throw toTailorError(`reading ${kind} ${namespace}/${name}`, err);
    }
  };
}
