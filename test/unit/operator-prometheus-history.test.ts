// PrometheusFeed against a fake Prometheus: the window is read once when first wanted, then only
// the steps since; a failing Prometheus is Unavailable (source name and why) with growing retry
// delays, then Ready again; points land in the history under the pod's workload, gone pods by name
// shape. Policies name the operator's sources: none named is `default`, an unknown name is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { UsageHistory } from '../../src/sources/history.ts';
import { PrometheusFeed, type PrometheusHistoryState } from '../../src/operator/prometheus-history.ts';
import type { WorkloadRef } from '../../src/sources/workloads.ts';

const Mi = 2 ** 20;
const URL_ = 'http://prometheus.test:9090';
const web: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'web' };

interface Call {
  endpoint: string;
  params: URLSearchParams;
}

function fakePrometheus(fail: () => boolean, calls: Call[]): typeof fetch {
  const fake = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const endpoint = url.split('/api/v1/')[1]!;
    const params = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    calls.push({ endpoint, params });
    if (fail()) return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
    if (endpoint === 'series') return Promise.resolve(Response.json({ status: 'success', data: [] }));
    const query = params.get('query') ?? '';
    const end = Number(params.get('end'));
    const metric = { namespace: 'shop', container: 'app' };
    // Two pods: a live one, and an old replica that is gone (matched by its name's shape).
    const result = ['web-7d9f8b6c5d-abcde', 'web-5b6c7d8e9f-zzzzz'].map((pod) => ({
      metric: { ...metric, pod },
      values: [[end, query.includes('memory') ? String(100 * Mi) : '0.05']],
    }));
    return Promise.resolve(Response.json({ status: 'success', data: { resultType: 'matrix', result } }));
  };
  return fake;
}

const livePod = {
  metadata: { namespace: 'shop', name: 'web-7d9f8b6c5d-abcde', uid: 'u1' },
} as k8s.V1Pod;

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('backfill once, then incremental reads; down: Unavailable with backoff; back: Ready', async () => {
  const history = UsageHistory.open(':memory:');
  const calls: Call[] = [];
  let down = true;
  const updates: string[][] = [];
  const feed = new PrometheusFeed({
    history,
    pods: () => [livePod],
    resolve: () => Promise.resolve(web),
    now: () => Date.now() / 1000,
    log: pino({ level: 'silent' }),
    stepSeconds: 1,
    rateWindowSeconds: 2,
    intervalMs: 50,
    retryBaseMs: 20,
    retryMaxMs: 80,
    fetch: fakePrometheus(() => down, calls),
    sources: [{ name: 'main', url: URL_ }],
  });
  feed.onUpdate((nss) => updates.push([...nss]));
  feed.start();
  try {
    const state = () => feed.want(undefined, 'shop', 3600);
    assert.equal(state().kind, 'NoSource', 'no source named and no default');
    const want = (): PrometheusHistoryState => feed.want('main', 'shop', 3600);
    assert.equal(want().kind, 'Pending');
    await until('three failed reads', () => calls.length >= 3);
    const s = want();
    assert.equal(s.kind, 'Unavailable');
    assert.match(
      s.kind === 'Unavailable' ? s.message : '',
      /^Prometheus source 'main' unavailable: cannot connect \(ECONNREFUSED\); retrying in \d+s \(\d+ failed reads\)/,
    );
    assert.ok(updates.length >= 3 && updates.every((u) => u.join() === 'shop'));
    assert.equal(history.series().length, 0, 'nothing recorded');

    down = false;
    await until('Ready', () => want().kind === 'Ready');
    // The backfill asked for the whole window, in one-step points.
    const backfill = calls.find((c) => c.endpoint === 'query_range' && !down)!;
    const span = Number(backfill.params.get('end')) - Number(backfill.params.get('start'));
    assert.ok(span > 3000, `first read spans ${span}s of the 3600s window`);
    // Both pods' points are the workload's: the gone replica by its name.
    const minutes = history.minutes({ workload: web, container: 'app' });
    assert.ok(minutes.length >= 1 && minutes.every((m) => m.memoryMax === 100 * Mi && m.cpuMax === 0.05));

    // Then only the steps since the last read.
    const before = calls.length;
    await until('an incremental read', () => calls.length > before + 2);
    const ranges = calls.slice(before).filter((c) => c.endpoint === 'query_range');
    for (const r of ranges) {
      const w = Number(r.params.get('end')) - Number(r.params.get('start'));
      assert.ok(w < 60, `incremental read spans ${w}s`);
    }
  } finally {
    await feed.stop();
    history.close();
  }
});

test('a policy names a source: none is the default source, an unknown name lists the known ones', async () => {
  const history = UsageHistory.open(':memory:');
  const calls: Call[] = [];
  const feed = new PrometheusFeed({
    history,
    pods: () => [livePod],
    resolve: () => Promise.resolve(web),
    now: () => Date.now() / 1000,
    log: pino({ level: 'silent' }),
    stepSeconds: 1,
    rateWindowSeconds: 2,
    intervalMs: 50,
    fetch: fakePrometheus(() => false, calls),
    sources: [
      { name: 'default', url: 'http://prometheus.monitoring:9090' },
      { name: 'team-a', url: URL_ },
      // A team's own Prometheus: its series are that team's word, so only its namespace reads it.
      { name: 'team-b', url: 'http://prometheus.team-b:9090', namespaces: ['team-b'] },
    ],
  });
  feed.start();
  try {
    assert.deepEqual(feed.sources, ['default', 'team-a', 'team-b']);
    // Named from another namespace, team-b's source is refused as unknown, and not listed.
    const other = feed.want('team-b', 'shop', 3600);
    assert.equal(other.kind, 'UnknownSource');
    assert.match(
      other.kind === 'UnknownSource' ? other.message : '',
      /for this namespace \('default', 'team-a'\);/,
    );
    assert.equal(feed.want('team-b', 'team-b', 3600).kind, 'Pending');
    const unknown = feed.want('http', 'shop', 3600);
    assert.equal(unknown.kind, 'UnknownSource');
    assert.equal(
      unknown.kind === 'UnknownSource' ? unknown.message : '',
      "history.prometheus 'http' is not one of the operator's Prometheus sources for this namespace " +
        "('default', 'team-a'); name one of them, or leave history.prometheus out for 'default'",
    );
    await until('the default source read', () => feed.want(undefined, 'shop', 3600).kind === 'Ready');
    assert.ok(calls.length > 0);
    assert.deepEqual(feed.want(undefined, 'shop', 3600), { kind: 'Ready', source: 'default' });
  } finally {
    await feed.stop();
    history.close();
  }
  // No sources at all: the message says there are none, and no policy can name one.
  const none = new PrometheusFeed({
    history: UsageHistory.open(':memory:'),
    pods: () => [],
    resolve: () => Promise.resolve(web),
    now: () => Date.now() / 1000,
    log: pino({ level: 'silent' }),
  });
  const s = none.want(undefined, 'shop', 3600);
  assert.equal(s.kind, 'NoSource');
  assert.match(
    s.kind === 'NoSource' ? s.message : '',
    /the operator has no 'default' source for this namespace; .*\(none\)$/,
  );
  // A bad source stops the operator from starting.
  assert.throws(
    () =>
      new PrometheusFeed({
        history: UsageHistory.open(':memory:'),
        pods: () => [],
        resolve: () => Promise.resolve(web),
        now: () => Date.now() / 1000,
        log: pino({ level: 'silent' }),
        sources: [{ name: 'evil', url: 'http://10.0.0.1:6443/api/v1/namespaces/kube-system/secrets#' }],
      }),
    /Prometheus source evil url: .* has a fragment/,
  );
});
