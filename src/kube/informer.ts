// A watch-backed cache of one resource that restarts (and so relists) with backoff after an
// error, because client-node's informer stops for good on the first one.
import * as k8s from '@kubernetes/client-node';

export interface Watched<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  stop(): Promise<void>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
}

export interface WatchHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
  error?: (err: unknown) => void;
}

export function watchResource<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
  handlers: WatchHandlers<T>,
  opts: { labelSelector?: string; maxBackoffMs?: number } = {},
): Watched<T> {
  const informer = k8s.makeInformer<T>(kc, path, list, opts.labelSelector);
  let stopped = false;
  let backoff = 500;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((r) => (markSynced = r));
  const { add, update, delete: remove } = handlers;
  if (add) informer.on('add', (o) => add(o));
  if (update) informer.on('update', (o) => update(o));
  if (remove) informer.on('delete', (o) => remove(o));
  informer.on('connect', () => {
    backoff = 500;
  });
  // A failed list rejects start() without an 'error' event, and a failed watch emits one: both
  // restart the same way (a CRD just installed answers 429 "storage is (re)initializing" for a while).
  const retry = (err: unknown) => {
    if (stopped) return; // our own abort on stop, not a failure
    handlers.error?.(err);
    const wait = backoff;
    backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
    setTimeout(() => {
      if (!stopped) run();
    }, wait).unref();
  };
  const run = () => {
    informer.start().then(markSynced, retry);
  };
  informer.on('error', retry);
  run();
  return {
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    synced,
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}
