// One watch of a resource shared by every controller of the operator: one cache and one stream per
// resource however many controllers read it; each subscribes its own handlers. The cache is
// indexed by namespace (a controller asks for one namespace's pods, not all of them), and keeps
// objects slim: managedFields lose their field sets, which are most of a pod's bytes.
import type * as k8s from '@kubernetes/client-node';
import { watchResource, type ListPage, type WatchHandlers, type WatchHealth } from './informer.ts';

export interface SharedWatch<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  /** The objects of one namespace, from an index (no scan of the whole cache). */
  inNamespace(namespace: string): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Handlers see every event from now on; the returned function unsubscribes. Call `list()` for what exists already. */
  subscribe(handlers: WatchHandlers<T>): () => void;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void>;
  /** Whether the cache follows the API now (a readiness probe reads it). */
  health(): WatchHealth;
  stop(): Promise<void>;
}

/**
 * Drops each managedFields entry's fieldsV1 (what fields it owns), keeping who wrote, how and
 * when: enough for "when was this pod last resized" (a `resize` subresource entry's time). An
 * object about to be changed is read fresh from the API, with its full managedFields.
 */
export function slim<T extends k8s.KubernetesObject>(obj: T): T {
  const mf = obj.metadata?.managedFields;
  if (mf) for (const e of mf) delete e.fieldsV1;
  return obj;
}

/**
 * Drops from a pod spec (a pod's, or a workload's template) what no controller of the operator
 * reads: each container's command, environment, mounts, probes and ports, and every volume but
 * the node-local ones (hostPath, an emptyDir on disk), which stay as their name and kind only.
 * Names, resources, resizePolicy and the scheduling constraints (tolerations, affinity) stay: the
 * packing what-if reads them, and they are small next to what goes. Before, the what-if kept a
 * second, full list of every pod for them (at 10,000 pods, most of the operator's heap).
 */
export function slimPodSpec(spec: k8s.V1PodSpec | undefined): void {
  if (!spec) return;
  const local = (spec.volumes ?? []).flatMap((v): k8s.V1Volume[] =>
    v.hostPath
      ? [{ name: v.name, hostPath: { path: '' } }]
      : v.emptyDir && v.emptyDir.medium !== 'Memory'
        ? [{ name: v.name, emptyDir: {} }]
        : [],
  );
  if (local.length > 0) spec.volumes = local;
  else delete spec.volumes;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    delete c.command;
    delete c.args;
    delete c.env;
    delete c.envFrom;
    delete c.volumeMounts;
    delete c.volumeDevices;
    delete c.livenessProbe;
    delete c.readinessProbe;
    delete c.startupProbe;
    delete c.lifecycle;
    delete c.ports;
    delete c.securityContext;
  }
}

export function sharedWatch<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  /** One page of the list: pass `page` on to the list call. */
  list: (page: ListPage) => Promise<k8s.KubernetesListObject<T>>,
  onError: (err: unknown) => void,
  /** Trims each object further before it is cached (e.g. slimPodSpec on pods). */
  trim: (obj: T) => void = () => {},
): SharedWatch<T> {
  const subscribers = new Set<WatchHandlers<T>>();
  const byNamespace = new Map<string, Map<string, T>>();
  const each = (fn: (h: WatchHandlers<T>) => void) => {
    for (const h of subscribers) fn(h);
  };
  const index = (o: T) => {
    const ns = o.metadata?.namespace ?? '';
    let m = byNamespace.get(ns);
    if (!m) byNamespace.set(ns, (m = new Map<string, T>()));
    m.set(o.metadata?.name ?? '', o);
  };
  const unindex = (o: T) => {
    const ns = o.metadata?.namespace ?? '';
    const m = byNamespace.get(ns);
    m?.delete(o.metadata?.name ?? '');
    if (m?.size === 0) byNamespace.delete(ns);
  };
  const watched = watchResource<T>(kc, path, list, {
    add: (o) => {
      trim(o);
      index(slim(o));
      each((h) => h.add?.(o));
    },
    update: (o) => {
      trim(o);
      index(slim(o));
      each((h) => h.update?.(o));
    },
    delete: (o) => {
      unindex(o);
      each((h) => h.delete?.(o));
    },
    error: (e) => {
      onError(e);
      each((h) => h.error?.(e));
    },
  });
  return {
    list: () => watched.list(),
    inNamespace: (namespace) => [...(byNamespace.get(namespace)?.values() ?? [])],
    get: (name, namespace) => watched.get(name, namespace),
    subscribe: (h) => {
      subscribers.add(h);
      return () => subscribers.delete(h);
    },
    synced: watched.synced,
    health: () => watched.health(),
    stop: () => watched.stop(),
  };
}
