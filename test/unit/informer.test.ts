// The watch cache as client-go's reflector runs it: paginated lists, watches with bookmarks and a
// server-side timeout, a client-side deadline for a connection that went quiet, relist after a
// failure, and a health that says when the cache cannot be trusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { watchResource, type ListPage, type WatchFn } from '../../src/kube/informer.ts';

type Pod = k8s.V1Pod;

async function eventuallyTrue(ok: () => boolean, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const pod = (name: string, rv: string): Pod => ({ metadata: { name, namespace: 'n', resourceVersion: rv } });
const kc = new k8s.KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
  users: [{ name: 'u' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});

interface FakeWatch {
  params: Record<string, string | number | boolean>;
  send(type: string, obj: unknown): void;
  end(err?: unknown): void;
  aborted: boolean;
}

function fakeWatches(): { fn: WatchFn; started: FakeWatch[] } {
  const started: FakeWatch[] = [];
  const fn: WatchFn = (_path, params, onEvent, done) => {
    const w: FakeWatch = {
      params,
      send: onEvent,
      end: (err) => done(err ?? null),
      aborted: false,
    };
    started.push(w);
    return Promise.resolve({ abort: () => (w.aborted = true) });
  };
  return { fn, started };
}

/**
 * A list call serving `all` in pages, recording each page asked for. `raw`: the token as the
 * apiserver's JSON has it (`metadata.continue`, what CustomObjectsApi returns), else as client-node
 * deserializes typed lists (`metadata._continue`).
 */
function pagedList(all: readonly Pod[], resourceVersion: string, raw = false) {
  const pages: ListPage[] = [];
  const list = (page: ListPage) => {
    pages.push(page);
    const from = page._continue ? Number(page._continue) : 0;
    const items = all.slice(from, from + (page.limit ?? all.length));
    const next = from + items.length < all.length ? String(from + items.length) : undefined;
    const metadata = raw
      ? { resourceVersion, continue: next ?? '' }
      : { resourceVersion, ...(next ? { _continue: next } : {}) };
    return Promise.resolve({ items, metadata } as unknown as k8s.KubernetesListObject<Pod>);
  };
  return { pages, list };
}

void test('lists in pages of pageSize, following continue tokens; the list resourceVersion starts the watch', async () => {
  const { pages, list } = pagedList(
    Array.from({ length: 5 }, (_, i) => pod(`p${i}`, String(10 + i))),
    '99',
  );
  const { fn, started } = fakeWatches();
  const w = watchResource<Pod>(kc, '/api/v1/pods', list, {}, { watch: fn, pageSize: 2 });
  await w.synced;
  assert.deepEqual(pages, [{ limit: 2 }, { limit: 2, _continue: '2' }, { limit: 2, _continue: '4' }]);
  assert.equal(w.list().length, 5);
  assert.equal(w.health(), 'Synced');
  await eventuallyTrue(() => started.length === 1);
  const p = started[0]!.params;
  assert.equal(p.resourceVersion, '99');
  assert.equal(p.allowWatchBookmarks, true);
  assert.ok(Number(p.timeoutSeconds) >= 300 && Number(p.timeoutSeconds) < 600, `timeout ${p.timeoutSeconds}`);
  await w.stop();
});

void test('a raw JSON list (custom objects: metadata.continue) is read to its last page', async () => {
  // What CustomObjectsApi returns: the apiserver's JSON, not client-node's V1ListMeta.
  const { pages, list } = pagedList(
    ['a', 'b', 'c'].map((n, i) => pod(n, String(i + 1))),
    '9',
    true,
  );
  const { fn } = fakeWatches();
  const w = watchResource<Pod>(
    kc,
    '/apis/tailor.dev/v1alpha1/sizingpolicies',
    list,
    {},
    { watch: fn, pageSize: 1 },
  );
  await w.synced;
  assert.deepEqual(pages, [{ limit: 1 }, { limit: 1, _continue: '1' }, { limit: 1, _continue: '2' }]);
  assert.equal(w.list().length, 3);
  await w.stop();
});

void test('an expired continue token (410) starts over with one full list', async () => {
  const pages: ListPage[] = [];
  const { fn } = fakeWatches();
  const w = watchResource<Pod>(
    kc,
    '/api/v1/pods',
    (page) => {
      pages.push(page);
      if (page._continue) return Promise.reject(Object.assign(new Error('Gone'), { code: 410 }));
      if (page.limit) return Promise.resolve({ items: [pod('a', '1')], metadata: { _continue: 'x' } });
      return Promise.resolve({ items: [pod('a', '1'), pod('b', '2')], metadata: { resourceVersion: '5' } });
    },
    {},
    { watch: fn, pageSize: 1 },
  );
  await w.synced;
  assert.deepEqual(pages, [{ limit: 1 }, { limit: 1, _continue: 'x' }, {}]);
  assert.deepEqual(
    w
      .list()
      .map((o) => o.metadata?.name)
      .sort(),
    ['a', 'b'],
  );
  await w.stop();
});

void test('bookmarks move the resourceVersion; a server-closed watch resumes from it without a relist', async () => {
  let lists = 0;
  const { fn, started } = fakeWatches();
  const w = watchResource<Pod>(
    kc,
    '/api/v1/pods',
    () => (lists++, Promise.resolve({ items: [], metadata: { resourceVersion: '1' } })),
    {},
    { watch: fn },
  );
  await eventuallyTrue(() => started.length === 1);
  started[0]!.send('ADDED', pod('a', '2'));
  started[0]!.send('BOOKMARK', { metadata: { resourceVersion: '7' } });
  started[0]!.end();
  await eventuallyTrue(() => started.length === 2);
  assert.equal(started[1]!.params.resourceVersion, '7');
  assert.equal(lists, 1);
  assert.equal(w.health(), 'Synced');
  await w.stop();
});

void test('a failed watch turns Down, backs off, relists and is Synced again; 410 relists at once', async () => {
  let lists = 0;
  let failList = false;
  const errors: unknown[] = [];
  const { fn, started } = fakeWatches();
  const w = watchResource<Pod>(
    kc,
    '/api/v1/pods',
    () => {
      lists++;
      if (failList)
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      return Promise.resolve({ items: [pod('a', '1')], metadata: { resourceVersion: String(lists) } });
    },
    { error: (e) => errors.push(e) },
    { watch: fn, maxBackoffMs: 50 },
  );
  await eventuallyTrue(() => started.length === 1);
  failList = true;
  started[0]!.end(new Error('socket hang up'));
  await eventuallyTrue(() => w.health() === 'Down');
  await eventuallyTrue(() => errors.length >= 2, 'the relist fails too');
  assert.equal(w.health(), 'Down', 'still down while the API is away');
  failList = false;
  await eventuallyTrue(() => w.health() === 'Synced', 'synced after a relist');
  await eventuallyTrue(() => started.length === 2);
  const before = lists;
  started[1]!.send('ERROR', { code: 410, message: 'too old resource version' });
  started[1]!.end();
  await eventuallyTrue(() => lists === before + 1 && started.length === 3);
  await w.stop();
});

void test('a watch the server never closes is given up after its timeout and a grace, then relisted', async () => {
  let lists = 0;
  const errors: string[] = [];
  const { fn, started } = fakeWatches();
  const w = watchResource<Pod>(
    kc,
    '/api/v1/pods',
    () => (lists++, Promise.resolve({ items: [], metadata: { resourceVersion: '1' } })),
    { error: (e) => errors.push(String(e)) },
    { watch: fn, timeoutSeconds: () => 0, clientGraceMs: 30, maxBackoffMs: 10 },
  );
  await eventuallyTrue(() => started.length >= 2, 'a second watch after the first went quiet');
  assert.equal(started[0]!.aborted, true, 'the quiet connection was closed');
  assert.match(errors[0] ?? '', /connection presumed dead/);
  assert.ok(lists >= 2, 'relisted');
  await w.stop();
});
