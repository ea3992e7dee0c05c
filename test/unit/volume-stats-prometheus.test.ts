// The Prometheus volume stats source against a recorded query_range answer: one sample per claim
// per kubelet reading (stamped at the scrape, not the step), a kubelet gone quiet gives no fresh
// samples, the namespaces become one escaped matcher, two scrape jobs count once, and a failing
// Prometheus is a TailorError (the planner then holds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusClient } from '../../src/sources/prometheus.ts';
import { PrometheusVolumeStats, volumeStatsQuery } from '../../src/sources/volume-stats/prometheus.ts';
import { TailorError } from '../../src/errors.ts';

const Gi = 2 ** 30;
const NOW = 1_764_680_460; // a step boundary plus nothing: the last step is `end` itself

/**
 * What Prometheus 2.x/3.x answers to the union query: one series per claim and stat, values
 * [time, "string"] per 1 min step. `shop/cache` is scraped every 30 s (its scrape time moves
 * each step); `shop/logs` lives on a node whose kubelet stopped answering after 1764680340: the
 * last two steps repeat the old reading with its old time (Prometheus's five-minute lookback).
 */
function recordedAnswer(start: number, end: number): unknown {
  const steps: number[] = [];
  for (let t = start; t <= end; t += 60) steps.push(t);
  const series = (claim: string, stat: string, f: (t: number) => number | undefined) => ({
    metric: { namespace: 'shop', persistentvolumeclaim: claim, stat },
    values: steps.flatMap((t) => {
      const v = f(t);
      return v === undefined ? [] : [[t, String(v)]];
    }),
  });
  const cacheUsed = (t: number) => 10 * Gi + (t - start) * 1000;
  const scrapeOf = (t: number) => t - 17.25; // the last scrape before the step
  const logsScrape = (t: number) => Math.min(t, 1_764_680_340) - 4.5;
  return {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        series('cache', 'used', (t) => cacheUsed(scrapeOf(t))),
        series('cache', 'capacity', () => 49 * Gi),
        series('cache', 'available', (t) => 49 * Gi - cacheUsed(scrapeOf(t)) - 2.5 * Gi),
        series('cache', 'inodes', () => 3_276_800),
        series('cache', 'inodesUsed', () => 1200),
        series('cache', 'inodesFree', () => 3_276_800 - 1200),
        series('cache', 'at', scrapeOf),
        // A CSI driver that reports no inodes.
        series('logs', 'used', (t) => 1 * Gi + (logsScrape(t) % 600) * 1e5),
        series('logs', 'capacity', () => 9.8 * Gi),
        series('logs', 'available', () => 8 * Gi),
        series('logs', 'at', logsScrape),
      ],
    },
  };
}

function fakePrometheus(calls: URLSearchParams[], answer: (p: URLSearchParams) => Response): typeof fetch {
  return (_input: string | URL | Request, init?: RequestInit) => {
    const p = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    calls.push(p);
    return Promise.resolve(answer(p));
  };
}

test('one sample per kubelet reading, at the scrape time; a quiet kubelet gives no fresh ones', async () => {
  const calls: URLSearchParams[] = [];
  const client = new PrometheusClient({
    baseUrl: 'http://prom:9090',
    fetch: fakePrometheus(calls, (p) =>
      Response.json(recordedAnswer(Number(p.get('start')), Number(p.get('end')))),
    ),
  });
  const source = new PrometheusVolumeStats({ client, now: () => NOW });
  const since = NOW - 600;
  const got = await source.read(since, ['shop']);
  assert.equal(calls.length, 1, 'ten minutes: one range query');
  assert.equal(calls[0]!.get('step'), '60s');
  assert.equal(Number(calls[0]!.get('end')), NOW);
  assert.equal(Number(calls[0]!.get('start')), since);

  const cache = got.get('shop/cache')!;
  // Steps at since..NOW (11), each with its own scrape; the first scrape (since - 17.25) is before
  // `since` and dropped.
  assert.equal(cache.length, 10);
  assert.deepEqual(cache[0], {
    at: since + 60 - 17.25,
    usedBytes: 10 * Gi + (60 - 17.25) * 1000,
    capacityBytes: 49 * Gi,
    availableBytes: 49 * Gi - (10 * Gi + (60 - 17.25) * 1000) - 2.5 * Gi,
    inodes: 3_276_800,
    inodesUsed: 1200,
    inodesFree: 3_276_800 - 1200,
  });
  assert.ok(
    cache.every((s, i) => i === 0 || s.at > cache[i - 1]!.at),
    'oldest first',
  );
  assert.equal(cache.at(-1)!.at, NOW - 17.25);

  const logs = got.get('shop/logs')!;
  assert.equal(logs.at(-1)!.at, 1_764_680_340 - 4.5, 'the repeated steps collapse into the old reading');
  assert.equal(new Set(logs.map((s) => s.at)).size, logs.length);
  assert.equal(logs.length, 8, 'steps since+60 .. 1764680340: one reading each');
  assert.equal(logs[0]!.inodes, undefined, 'no inode stats: left out, not zero');
});

test('the query: every statistic, max by claim (two jobs count once), namespaces escaped', () => {
  const q = volumeStatsQuery(['shop', 'team-a']);
  for (const m of [
    'kubelet_volume_stats_used_bytes',
    'kubelet_volume_stats_capacity_bytes',
    'kubelet_volume_stats_available_bytes',
    'kubelet_volume_stats_inodes',
    'kubelet_volume_stats_inodes_used',
    'kubelet_volume_stats_inodes_free',
  ])
    assert.ok(
      q.includes(
        `max by (namespace, persistentvolumeclaim) (${m}{namespace=~"shop|team-a",persistentvolumeclaim!=""})`,
      ),
      m,
    );
  assert.ok(
    q.includes(
      'timestamp(kubelet_volume_stats_used_bytes{namespace=~"shop|team-a",persistentvolumeclaim!=""})',
    ),
  );
  assert.equal(q.split(' or ').length, 7);
  assert.ok(volumeStatsQuery().includes('{namespace!="",persistentvolumeclaim!=""}'), 'all namespaces');
  // A hostile name cannot leave the matcher (namespaces cannot hold these, but the query never trusts it).
  assert.ok(volumeStatsQuery(['a"}|b.*']).includes(String.raw`namespace=~"a\"\\}\\|b\\.\\*"`));
});

test('no namespaces: nothing read; a long window: chunked; Prometheus down: a TailorError', async () => {
  const calls: URLSearchParams[] = [];
  let down = false;
  const client = new PrometheusClient({
    baseUrl: 'http://prom:9090',
    fetch: fakePrometheus(calls, (p) =>
      down
        ? new Response('bad gateway', { status: 502 })
        : Response.json(recordedAnswer(Number(p.get('start')), Number(p.get('end')))),
    ),
  });
  const source = new PrometheusVolumeStats({ client, now: () => NOW, chunkSeconds: 3600 });
  assert.equal((await source.read(NOW - 600, [])).size, 0);
  assert.equal(calls.length, 0);
  const week = await source.read(NOW - 3 * 3600);
  assert.equal(calls.length, 3, 'three hours in one-hour chunks');
  assert.ok(Number(calls[1]!.get('start')) === Number(calls[0]!.get('end')) + 60, 'chunks do not overlap');
  assert.ok(week.get('shop/cache')!.length > 170);
  down = true;
  await assert.rejects(source.read(NOW - 600), (err: unknown) => {
    assert.ok(err instanceof TailorError, String(err));
    assert.match(err.message, /HTTP 502/);
    return true;
  });
});
