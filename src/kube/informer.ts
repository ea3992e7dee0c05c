// A watch-backed cache of one resource, written as client-go's reflector works: a paginated list,
// then a watch with bookmarks and a server-side timeout (random 5-10 min, so a half-open connection
// cannot leave the cache stale for longer, and many watches do not all restart at once), a relist
// with backoff after any failure, and a health a readiness probe can read. client-node's informer
// sets no timeout, lists in one request and stops for good on its first error.
import * as k8s from '@kubernetes/client-node';
import { reportRbacDenial } from './client.ts';
import { classify } from './errors.ts';

/** What the cache is worth right now: `Synced` follows the API; `Syncing` has not listed yet; `Down` failed and waits to relist. */
export type WatchHealth = 'Syncing' | 'Synced' | 'Down';

export interface Watched<T extends k8s.KubernetesObject> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  stop(): Promise<void>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  health(): WatchHealth;
}

export interface WatchHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
  error?: (err: unknown) => void;
}

/**
 * One page of a list: pass both to the list call (client-node's `limit` and `_continue`), so a
 * relist of 50,000 pods is 100 requests of 500 rather than one answer of hundreds of MiB.
 */
export interface ListPage {
  readonly limit?: number;
  readonly _continue?: string;
}

/** Starts a watch; `done` is called once when it ends (null: the server closed it). Returns its abort handle. */
export type WatchFn = (
  path: string,
  params: Record<string, string | number | boolean>,
  onEvent: (type: string, obj: unknown) => void,
  done: (err: unknown) => void,
) => Promise<{ abort(): void }>;

export interface WatchOptions {
  labelSelector?: string;
  maxBackoffMs?: number;
  /** Objects per list page (client-go's pager default is 500). */
  pageSize?: number;
  /** Seconds the server keeps one watch open; default random in [300, 600), as client-go's reflector. */
  timeoutSeconds?: () => number;
  /**
   * How long after `timeoutSeconds` the client gives up on a watch the server has not closed: the
   * connection is presumed dead (half-open) and the cache relists. Default 30 s.
   */
  clientGraceMs?: number;
  /** Tests: a fake watch instead of client-node's. */
  watch?: WatchFn;
}

const INITIAL_BACKOFF_MS = 500;

function clientNodeWatch(kc: k8s.KubeConfig): WatchFn {
  const w = new k8s.Watch(kc);
  return (path, params, onEvent, done) => w.watch(path, params, (type, obj) => onEvent(type, obj), done);
}

export function watchResource<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: (page: ListPage) => Promise<k8s.KubernetesListObject<T>>,
  handlers: WatchHandlers<T>,
  opts: WatchOptions = {},
): Watched<T> {
  const watch = opts.watch ?? clientNodeWatch(kc);
  const pageSize = opts.pageSize ?? 500;
  const timeoutSeconds = opts.timeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  const grace = opts.clientGraceMs ?? 30_000;
  const objects = new Map<string, Map<string, T>>();
  let health: WatchHealth = 'Syncing';
  let stopped = false;
  let resourceVersion = '';
  let backoff = INITIAL_BACKOFF_MS;
  let current: { abort(): void } | undefined;
  let wake: (() => void) | undefined;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((r) => (markSynced = r));

  const keyOf = (o: T) => [o.metadata?.namespace ?? '', o.metadata?.name ?? ''] as const;
  const upsert = (o: T) => {
    const [ns, name] = keyOf(o);
    let m = objects.get(ns);
    if (!m) objects.set(ns, (m = new Map<string, T>()));
    const old = m.get(name);
    if (old && old.metadata?.resourceVersion === o.metadata?.resourceVersion) return;
    m.set(name, o);
    if (old) handlers.update?.(o);
    else handlers.add?.(o);
  };
  const remove = (o: T) => {
    const [ns, name] = keyOf(o);
    const m = objects.get(ns);
    if (!m?.delete(name)) return;
    if (m.size === 0) objects.delete(ns);
    handlers.delete?.(o);
  };

  /** Every page; a continue token that expired (410) starts over with one unpaginated list, as client-go's pager does. */
  async function listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let page: ListPage = { limit: pageSize };
    for (;;) {
      let res: k8s.KubernetesListObject<T>;
      try {
        res = await list(page);
      } catch (err) {
        if (page._continue !== undefined && classify(err).status === 410) {
          items.length = 0;
          page = {};
          continue;
        }
        throw err;
      }
      items.push(...res.items);
      const next = continueOf(res);
      if (!next) return { items, resourceVersion: res.metadata?.resourceVersion ?? '' };
      page = { limit: pageSize, _continue: next };
    }
  }

  async function relist(): Promise<void> {
    const { items, resourceVersion: rv } = await listAll();
    const fresh = new Set(items.map((o) => keyOf(o).join('/')));
    for (const m of [...objects.values()])
      for (const o of [...m.values()]) if (!fresh.has(keyOf(o).join('/'))) remove(o);
    for (const o of items) upsert(o);
    resourceVersion = rv;
  }

  /** One watch from `resourceVersion`: 'Closed' when the server ended it, 'Expired' on 410 Gone; throws on failure. */
  function watchOnce(): Promise<'Closed' | 'Expired'> {
    const seconds = timeoutSeconds();
    return new Promise((resolve, reject) => {
      let finished = false;
      let expired = false;
      let failure: Error | undefined;
      const finish = (cause: unknown) => {
        const err: Error | undefined =
          cause instanceof Error ? cause : cause ? new Error(`watch ${path} failed`, { cause }) : undefined;
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        current = undefined;
        if (err) reject(err);
        else if (failure) reject(failure);
        else resolve(expired ? 'Expired' : 'Closed');
      };
      // The server closes the watch after `seconds`; one it has not closed by then is a dead connection.
      const timer = setTimeout(
        () => {
          current?.abort();
          finish(
            new Error(
              `watch ${path}: no answer ${seconds}s + ${grace / 1000}s after it started; connection presumed dead`,
            ),
          );
        },
        seconds * 1000 + grace,
      );
      timer.unref();
      const params: Record<string, string | number | boolean> = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: seconds,
        ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
      };
      watch(
        path,
        params,
        (type, raw) => {
          if (finished) return; // a stream given up on (timeout, stop) changes nothing
          const obj = raw as T & { code?: number; message?: string };
          switch (type) {
            case 'ADDED':
            case 'MODIFIED':
              upsert(obj);
              break;
            case 'DELETED':
              remove(obj);
              break;
            case 'BOOKMARK':
              break;
            case 'ERROR':
              // 410: the resourceVersion is too old to resume from; anything else is a failure. Both relist.
              if (obj.code === 410) expired = true;
              else failure ??= Object.assign(new Error(obj.message ?? 'watch error'), { code: obj.code });
              return;
            default:
              return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
        },
        (err) => finish(err ?? null),
      ).then(
        (handle) => {
          if (finished) handle.abort();
          else current = handle;
        },
        (err: unknown) => finish(err ?? new Error(`watch ${path} failed`)),
      );
    });
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      t.unref();
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        if (!resourceVersion) {
          await relist();
          if (stopped) return;
          health = 'Synced';
          backoff = INITIAL_BACKOFF_MS;
          markSynced();
        }
        const end = await watchOnce();
        if (end === 'Expired') resourceVersion = '';
        // 'Closed': the server's timeout; watch again from where this one stopped.
      } catch (err) {
        if (stopped) return; // our own abort on stop, not a failure
        health = 'Down';
        // After any failure the cache relists, as client-go's reflector does: events may be lost.
        resourceVersion = '';
        const f = classify(err);
        // client-node's watch reports its HTTP status as statusCode, its lists as code.
        const status = (err as { statusCode?: number }).statusCode ?? f.status;
        if (status === 403) reportRbacDenial(kc, { verb: 'watch', resource: path, message: f.message });
        handlers.error?.(err);
        // A CRD just installed answers 429 "storage is (re)initializing" for a while: the same backoff.
        await sleep(backoff);
        backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
      }
    }
  }
  void run();

  return {
    list: () => [...objects.values()].flatMap((m) => [...m.values()]),
    get: (name, namespace) => objects.get(namespace ?? '')?.get(name),
    synced,
    health: () => health,
    stop: () => {
      stopped = true;
      current?.abort();
      wake?.();
      return Promise.resolve();
    },
  };
}

/**
 * The continue token of a list page. Typed lists (core, apps, policy) come deserialized by
 * client-node as `metadata._continue`; custom objects come as the apiserver's raw JSON,
 * `metadata.continue`. Reading only the first stopped a list of SizingPolicies at its first page
 * (500): the operator never saw the rest.
 */
export function continueOf(list: { metadata?: object }): string | undefined {
  const m = list.metadata as { _continue?: unknown; continue?: unknown } | undefined;
  const token = m?._continue ?? m?.continue;
  return typeof token === 'string' && token !== '' ? token : undefined;
}
