// What admit reads from the cluster, without making the apiserver wait on a list: SizingPolicies
// from a watch cache, and ReplicaSet/Job owners by GET, remembered for a few minutes.
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, SizingPolicyKind, type SizingPolicy } from '../api/index.ts';
import type { Clients } from '../kube/client.ts';
import { watchResource, type Watched } from '../kube/informer.ts';
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

export interface LimitRangeCache {
  readonly limitRangesIn: NonNullable<AdmitDeps['limitRangesIn']>;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** Every LimitRange in the cluster: the webhook never sends a size the apiserver would then reject. */
export function watchLimitRanges(clients: Clients, onError?: (err: unknown) => void): LimitRangeCache {
  const watched = watchResource<k8s.V1LimitRange>(
    clients.kc,
    '/api/v1/limitranges',
    (page) => clients.core.listLimitRangeForAllNamespaces(page),
    { ...(onError ? { error: onError } : {}) },
  );
  return {
    limitRangesIn: (namespace) => watched.list().filter((l) => l.metadata?.namespace === namespace),
    synced: watched.synced,
    stop: () => watched.stop(),
  };
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
