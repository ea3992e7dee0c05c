// One watch of a resource shared by every controller of the operator: one cache and one stream per
// resource however many controllers read it; each subscribes its own handlers.
import type * as k8s from '@kubernetes/client-node';
import { watchResource, type WatchHandlers } from './informer.ts';

export interface SharedWatch<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Handlers see every event from now on; the returned function unsubscribes. Call `list()` for what exists already. */
  subscribe(handlers: WatchHandlers<T>): () => void;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export function sharedWatch<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
  onError: (err: unknown) => void,
): SharedWatch<T> {
  const subscribers = new Set<WatchHandlers<T>>();
  const each = (fn: (h: WatchHandlers<T>) => void) => {
    for (const h of subscribers) fn(h);
  };
  const watched = watchResource<T>(kc, path, list, {
    add: (o) => each((h) => h.add?.(o)),
    update: (o) => each((h) => h.update?.(o)),
    delete: (o) => each((h) => h.delete?.(o)),
    error: (e) => {
      onError(e);
      each((h) => h.error?.(e));
    },
  });
  return {
    list: () => watched.list(),
    get: (name, namespace) => watched.get(name, namespace),
    subscribe: (h) => {
      subscribers.add(h);
      return () => subscribers.delete(h);
    },
    synced: watched.synced,
    stop: () => watched.stop(),
  };
}
