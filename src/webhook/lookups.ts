// What admit reads from the cluster, without making the apiserver wait on a list: SizingPolicies
// from a watch cache, and ReplicaSet/Job owners by GET, remembered for a few minutes.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, SizingPolicyKind, type SizingPolicy } from '../api/index.ts';
import type { Clients } from '../kube/client.ts';
import { watchResource, type ListPage, type Watched } from '../kube/informer.ts';
import { apiOwnerFetcher, type OwnerLink } from '../sources/workloads.ts';
import type { AdmitDeps, OwnerLookupResult } from './admit.ts';

const [GROUP, VERSION] = API_VERSION.split('/') as [string, string];

export interface PolicyCache {
  readonly policiesIn: AdmitDeps['policiesIn'];
  /** Resolves after the first list; until then no pod is covered (they pass unchanged). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** Every SizingPolicy in the cluster, kept current by a watch that relists after errors. */
export function watchPolicies(clients: Clients, onError?: (err: unknown) => void): PolicyCache {
  const watched: Watched<SizingPolicy & k8s.KubernetesObject> = watchResource(
    clients.kc,
    `/apis/${GROUP}/${VERSION}/${SizingPolicyKind.plural}`,
    async (page) =>
      (await clients.custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: SizingPolicyKind.plural,
        ...page,
      })) as k8s.KubernetesListObject<SizingPolicy & k8s.KubernetesObject>,
    { ...(onError ? { error: onError } : {}) },
  );
  return {
    policiesIn: (namespace) => watched.list().filter((p) => p.metadata.namespace === namespace),
    synced: watched.synced,
    stop: () => watched.stop(),
  };
}

/** Objects of one namespaced kind, read by namespace from a list+watch (the apiserver must not wait on a list). */
export interface NamespacedCache<T> {
  /** Undefined until the first list: unknown is not the same as none. */
  readonly inNamespace: (namespace: string) => readonly T[] | undefined;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

function watchNamespaced<T extends k8s.KubernetesObject>(
  clients: Clients,
  path: string,
  list: (page: ListPage) => Promise<k8s.KubernetesListObject<T>>,
  onError?: (err: unknown) => void,
): NamespacedCache<T> {
  const watched = watchResource<T>(clients.kc, path, list, { ...(onError ? { error: onError } : {}) });
  let listed = false;
  void watched.synced.then(
    () => (listed = true),
    () => undefined,
  );
  return {
    // A namespace holds a handful of these: a filter per admission costs less than an index to keep.
    inNamespace: (namespace) =>
      listed ? watched.list().filter((o) => o.metadata?.namespace === namespace) : undefined,
    synced: watched.synced,
    stop: () => watched.stop(),
  };
}

export interface HpaCache {
  readonly hpasIn: NonNullable<AdmitDeps['hpasIn']>;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** Every HorizontalPodAutoscaler (autoscaling/v2): a resource one scales on by utilisation is not sized. */
export function watchHpas(clients: Clients, onError?: (err: unknown) => void): HpaCache {
  const api = clients.kc.makeApiClient(k8s.AutoscalingV2Api);
  const watched = watchResource<k8s.V2HorizontalPodAutoscaler>(
    clients.kc,
    '/apis/autoscaling/v2/horizontalpodautoscalers',
    (page) => api.listHorizontalPodAutoscalerForAllNamespaces(page),
    { ...(onError ? { error: onError } : {}) },
  );
  return {
    hpasIn: (namespace) => watched.list().filter((h) => h.metadata?.namespace === namespace),
    synced: watched.synced,
    stop: () => watched.stop(),
  };
}

/** Every LimitRange in the cluster: the webhook never sends a size the apiserver would then reject. */
export function watchLimitRanges(
  clients: Clients,
  onError?: (err: unknown) => void,
): NamespacedCache<k8s.V1LimitRange> {
  return watchNamespaced(
    clients,
    '/api/v1/limitranges',
    (page) => clients.core.listLimitRangeForAllNamespaces(page),
    onError,
  );
}

/**
 * Every ResourceQuota, with the status.used the apiserver keeps (its quota admission raises it as
 * each pod is admitted, so the watch follows within moments): a raise past hard is never sent.
 */
export function watchResourceQuotas(
  clients: Clients,
  onError?: (err: unknown) => void,
): NamespacedCache<k8s.V1ResourceQuota> {
  return watchNamespaced(
    clients,
    '/api/v1/resourcequotas',
    (page) => clients.core.listResourceQuotaForAllNamespaces(page),
    onError,
  );
}

export interface OwnerCacheOptions {
  /** Owners hardly change (adoption is rare): minutes. */
  readonly ttlMs?: number;
  /** An unknown object may appear any moment (a ReplicaSet being created): seconds. */
  readonly missTtlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * AdmitDeps.ownerOf over one GET per ReplicaSet or Job, cached, and shared between concurrent
 * admissions of the same ReplicaSet (a Deployment scaled to 50 asks once, not 50 times).
 */
export function cachedOwnerLookup(
  fetch: (namespace: string, kind: 'ReplicaSet' | 'Job', name: string) => Promise<OwnerLookupResult>,
  o: OwnerCacheOptions = {},
): AdmitDeps['ownerOf'] {
  const ttl = o.ttlMs ?? 5 * 60_000;
  const missTtl = o.missTtlMs ?? 5_000;
  const max = o.maxEntries ?? 10_000;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { value: Promise<OwnerLookupResult>; expires: number }>();
  return (namespace, kind, name) => {
    const key = `${kind}/${namespace}/${name}`;
    const hit = cache.get(key);
    if (hit && hit.expires > now()) return hit.value;
    const value = fetch(namespace, kind, name);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    const entry = { value, expires: now() + ttl };
    cache.set(key, entry);
    value.then(
      (v: OwnerLink | null | undefined) => {
        if (v === undefined) entry.expires = now() + missTtl;
      },
      () => {
        // An error is not remembered: the next pod asks again.
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return value;
  };
}

/** The owner lookup the webhook uses against a cluster. */
export function apiOwnerLookup(clients: Clients, o: OwnerCacheOptions = {}): AdmitDeps['ownerOf'] {
  return cachedOwnerLookup(apiOwnerFetcher(clients), o);
}
