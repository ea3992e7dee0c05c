// Checkpoints of the recommender state: the codec round-trips what a store needs, stays under its
// size cap by leaving out the least recently seen series, refuses damage without throwing; a store
// on an empty disk restored from a snapshot recommends what the old one did; bookkeeping merges keep
// the newer times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import {
  checkpointInterval,
  DEFAULT_CHECKPOINT_WRITES_PER_MINUTE,
  capBookkeeping,
  decodeSeries,
  encodeSeries,
  mergeBookkeeping,
  trimTimes,
  type SeriesSnapshot,
} from '../../src/core/checkpoint/index.ts';
import { configsFor } from '../../src/core/recommend/tuning.ts';
import { UsageHistory, type SeriesKey, type UsageRecord } from '../../src/sources/history.ts';

const Mi = 2 ** 20;
const T0 = 1_700_000_040; // a minute boundary
const web: SeriesKey = { workload: { namespace: 'shop', kind: 'Deployment', name: 'web' }, container: 'app' };
const WINDOW = 8 * 86_400;

/** Two pods of `web` every 15 s for `minutes`: CPU waves, memory rising. */
function traffic(key: SeriesKey, from: number, minutes: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (let s = 0; s < minutes * 60; s += 15) {
    for (const [i, busy] of [0.1, 0.3].entries()) {
      out.push({
        ...key,
        t: from + s,
        cpuCores: busy + 0.05 * Math.sin(s / 300 + i),
        memoryBytes: (200 + i * 20) * Mi + s * 100,
      });
    }
  }
  return out;
}

function learned(minutes: number): { h: UsageHistory; now: number } {
  const h = UsageHistory.open(':memory:');
  h.record(traffic(web, T0, minutes));
  h.recordOoms([{ ...web, pod: 'web-1', t: T0 + 600, usageBytes: 300 * Mi }]);
  return { h, now: T0 + minutes * 60 };
}

test('a store on an empty disk restored from a snapshot recommends what the old store did, gate and floor included', () => {
  const configs = configsFor({ profile: 'Balanced' });
  for (const minutes of [30, 6 * 60, 3 * 24 * 60]) {
    const { h, now } = learned(minutes);
    const before = h.recommend(web, now, configs, WINDOW);
    const snap = h.snapshot(web, now, configs, WINDOW)!;
    const decoded = decodeSeries(encodeSeries([snap]).data);
    assert.equal(decoded.series.length, 1, `${minutes} min: decoded`);

    const fresh = UsageHistory.open(':memory:');
    assert.equal(fresh.restore(web, decoded.series[0]!, now, configs, WINDOW), true, 'restored');
    const after = fresh.recommend(web, now, configs, WINDOW);
    for (const r of ['cpu', 'memory'] as const) {
      const a = before[r].recommendation!;
      const b = after[r].recommendation!;
      assert.ok(
        Math.abs(a.target - b.target) / a.target < 0.001,
        `${minutes} min ${r}: ${a.target} vs ${b.target}`,
      );
      assert.ok(b.lowerBound >= a.lowerBound * 0.999, `${minutes} min ${r} lower bound kept`);
    }
    // The "series spans long enough" gate and the OOM count survive.
    assert.equal(after.info?.firstSample, before.info?.firstSample, 'first sample');
    assert.equal(after.ooms, before.ooms, 'OOM kills');
    // The memory floor (the peak of the window) is never lower after the restore.
    const peak = (x: UsageHistory) => Math.max(...x.minutes(web, now - WINDOW).map((m) => m.memoryMax ?? 0));
    assert.ok(peak(fresh) >= peak(h), `peak ${peak(fresh)} >= ${peak(h)}`);
    // New samples after the restore fold on top of the restored state.
    h.record(traffic(web, now, 10));
    fresh.record(traffic(web, now, 10));
    const a2 = h.recommend(web, now + 600, configs, WINDOW).memory.recommendation!;
    const b2 = fresh.recommend(web, now + 600, configs, WINDOW).memory.recommendation!;
    assert.ok(
      Math.abs(a2.target - b2.target) / a2.target < 0.001,
      `${minutes} min: later ${a2.target} vs ${b2.target}`,
    );
    h.close();
    fresh.close();
  }
});

test('restore: a store that already knows as much keeps its own; another tuning restores minutes, not states', () => {
  const configs = configsFor({ profile: 'Balanced' });
  const { h, now } = learned(120);
  const snap = h.snapshot(web, now, configs, WINDOW)!;
  assert.equal(h.restore(web, snap, now, configs, WINDOW), false, 'nothing to restore into the same store');

  const other = configsFor({ profile: 'Conservative' });
  const fresh = UsageHistory.open(':memory:');
  assert.equal(fresh.restore(web, snap, now, other, WINDOW), true);
  const rec = fresh.recommend(web, now, other, WINDOW);
  assert.ok(rec.memory.recommendation, 'recommends from the restored peaks');
  assert.equal(rec.info?.firstSample, T0, 'the span survives');
  h.close();
  fresh.close();
});

function fakeSeries(i: number, buckets: number): SeriesSnapshot {
  const weights = Array.from({ length: buckets }, (_, b) => (b % 3 === 0 ? Math.random() : 0));
  return {
    workload: { kind: 'Deployment', name: `w${i}` },
    container: 'app',
    firstSample: T0,
    lastSample: T0 + i,
    view: 'abc',
    states: {
      memory: {
        from: 0,
        through: 10,
        state: {
          version: 1,
          firstSampleTime: T0,
          lastSampleTime: T0 + i,
          sampleCount: 100,
          slow: {
            options: { firstEdge: Mi, ratio: 1.01, halfLifeSeconds: 86_400 },
            referenceTime: T0,
            weights,
            totalWeight: weights.reduce((a, b) => a + b, 0),
          },
          peaks: { recent: [{ start: T0, peak: 100 * Mi }] },
          oom: { t: T0, floor: 300 * Mi },
        },
      },
    },
    minutes: Array.from({ length: 300 }, (_, m) => [m, Math.random(), Math.random() * 1e9] as const),
    ooms: [{ pod: 'p', t: T0, usage: 1 }],
  };
}

test('encodeSeries: only non-zero buckets, under the cap by leaving out the least recently seen series', () => {
  const one = fakeSeries(1, 1200);
  const d = decodeSeries(encodeSeries([one]).data).series[0]!;
  const w = d.states.memory!.state.slow.weights;
  one.states.memory!.state.slow.weights.forEach((x, b) =>
    assert.ok(Math.abs((w[b] ?? 0) - x) <= x * 1e-5, `bucket ${b}: ${w[b]} vs ${x}`),
  );
  assert.deepEqual(d.states.memory!.state.oom, { t: T0, floor: 300 * Mi });
  assert.equal(d.minutes.length, 300);

  const many = Array.from({ length: 60 }, (_, i) => fakeSeries(i, 1200));
  const cap = 60_000;
  const e = encodeSeries(many, cap);
  assert.ok(e.data.length <= cap, `${e.data.length} bytes <= ${cap}`);
  assert.ok(e.dropped > 0 && e.kept > 0, `kept ${e.kept}, dropped ${e.dropped}`);
  const kept = decodeSeries(e.data).series;
  assert.equal(kept.length, e.kept);
  // The newest (largest last sample) are the ones kept.
  assert.equal(Math.min(...kept.map((s) => s.lastSample)), T0 + 60 - e.kept);
  // Nothing fits: an empty list, still valid.
  const none = encodeSeries(many, 10);
  assert.equal(none.kept, 0);
  assert.deepEqual(decodeSeries(none.data).series, []);
});

test("a snapshot's exact minutes carry their CPU spread; rows written before (three values) still decode", () => {
  const { h, now } = learned(30);
  const snap = h.snapshot(web, now, configsFor(undefined), WINDOW)!;
  const exact = snap.minutes.filter((m) => m.length === 6);
  assert.ok(exact.length > 0, 'the minutes after the states keep count, sum and sum of squares');
  const round = decodeSeries(encodeSeries([snap]).data).series[0]!;
  assert.deepEqual(
    round.minutes.filter((m) => m.length === 6),
    exact,
  );
  const old: SeriesSnapshot = { ...snap, minutes: snap.minutes.map((m) => [m[0], m[1], m[2]] as const) };
  assert.ok(decodeSeries(encodeSeries([old]).data).series[0]!.minutes.every((m) => m.length === 3));
  h.close();
});

test('decodeSeries: damage is refused, never thrown', () => {
  assert.match(decodeSeries('not base64 gzip').error ?? '', /not gzipped JSON/);
  const wrap = (x: unknown) => gzipSync(JSON.stringify(x)).toString('base64');
  assert.match(decodeSeries(wrap({ v: 99, s: [] })).error ?? '', /unknown format/);
  const good = JSON.parse(JSON.stringify({ v: 1, s: [] })) as { v: number; s: unknown[] };
  good.s.push({ k: 'Deployment' }, 42, null);
  const d = decodeSeries(wrap(good));
  assert.equal(d.series.length, 0);
  assert.equal(d.skipped, 3);
  assert.deepEqual(decodeSeries(undefined), { series: [], skipped: 0 });
});

test('bookkeeping merge: a union, the newer eviction never lost, old times trimmed but the latest kept', () => {
  const now = 10_000;
  const ours = { evictions: [now - 100], pods: [{ uid: 'a', changes: [now - 50] }] };
  const theirs = {
    evictions: [now - 7200, now - 10],
    pods: [
      { uid: 'a', changes: [now - 3000] },
      { uid: 'b', changes: [now - 9000] },
    ],
  };
  const m = mergeBookkeeping(ours, theirs, now);
  assert.deepEqual(m.evictions, [now - 100, now - 10]);
  assert.deepEqual(m.pods, [
    { uid: 'a', changes: [now - 3000, now - 50] },
    { uid: 'b', changes: [now - 9000] },
  ]);
  assert.deepEqual(trimTimes([1, 2, 3], now, 10), [3], 'beyond the hour only the latest');
  assert.deepEqual(trimTimes([now - 1, now - 2, now - 3], now, 2), [now - 2, now - 1], 'capped, newest kept');
});

test('capBookkeeping: under the byte budget, eviction times always kept, the most recently changed pods first', () => {
  const now = 1_800_000_000;
  const pods = Array.from({ length: 5000 }, (_, i) => ({
    uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
    changes: Array.from({ length: 60 }, (_, k) => now - 3000 + k + i),
  }));
  const capped = capBookkeeping({ evictions: [now - 1, now], pods }, 300_000);
  const json = JSON.stringify({
    evictions: capped.evictions.map((t) => new Date(t * 1000).toISOString()),
    pods: capped.pods.map((p) => ({
      uid: p.uid,
      changes: p.changes.map((t) => new Date(t * 1000).toISOString()),
    })),
  });
  assert.ok(json.length <= 300_000, `${json.length} bytes`);
  assert.deepEqual(capped.evictions, [now - 1, now]);
  assert.ok(capped.pods.length > 0 && capped.pods.length < 5000, `${capped.pods.length} pods kept`);
  assert.ok(
    capped.pods.some((p) => p.uid.endsWith('4999')),
    'the most recently changed pod is kept',
  );
  assert.ok(!capped.pods.some((p) => p.uid.endsWith('000000000000')), 'the least recent goes first');
});

test('checkpoint cadence: the interval asked for, stretched to keep all policies under the budget of writes a minute', () => {
  assert.equal(
    checkpointInterval(60, 10, DEFAULT_CHECKPOINT_WRITES_PER_MINUTE),
    60,
    'few policies: as asked',
  );
  assert.equal(checkpointInterval(60, 300, 300), 60, 'exactly at the budget');
  // 2,000 policies at 300 a minute: each every 400 s, so 2,000 / 400 s = 5 writes a second.
  assert.equal(checkpointInterval(60, 2000, 300), 400);
  assert.equal(checkpointInterval(600, 2000, 300), 600, 'a longer interval asked for stays');
  assert.equal(checkpointInterval(60, 2000, 0), 60, '0: no cap');
  assert.equal(checkpointInterval(60, 0, 300), 60);
});
