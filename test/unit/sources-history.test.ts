import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { defaultConfig } from '../../src/core/recommend/config.ts';
import { configsFor } from '../../src/core/recommend/tuning.ts';
import {
  DEFAULT_RESOURCE_CONFIGS,
  MAX_CHECKPOINTS_PER_SERIES,
  RETENTION_LEASE_SECONDS,
  UsageHistory,
  type SeriesKey,
  type UsageRecord,
} from '../../src/sources/history.ts';

const Mi = 2 ** 20;
const T0 = 1_700_000_040; // a minute boundary
const web: SeriesKey = { workload: { namespace: 'shop', kind: 'Deployment', name: 'web' }, container: 'app' };
const db: SeriesKey = { workload: { namespace: 'shop', kind: 'StatefulSet', name: 'db' }, container: 'pg' };

function tempDb(): { path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-history-'));
  return { path: join(dir, 'sub', 'history.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Two pods of `web` sampled every 15 s for `minutes`, memory rising slowly, one pod busier. */
function traffic(from: number, minutes: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (let s = 0; s < minutes * 60; s += 15) {
    const t = from + s;
    for (const [i, busy] of [0.1, 0.3].entries()) {
      out.push({
        ...web,
        t,
        cpuCores: busy + 0.05 * Math.sin(s / 300 + i),
        memoryBytes: (200 + i * 20) * Mi + s * 100,
      });
    }
  }
  return out;
}

test('samples fold into one row per workload, container and minute: cpu max and mean, memory max', () => {
  const h = UsageHistory.open(':memory:');
  h.record([
    { ...web, t: T0 + 1, cpuCores: 0.1, memoryBytes: 100 * Mi },
    { ...web, t: T0 + 20, cpuCores: 0.3, memoryBytes: 120 * Mi },
    { ...web, t: T0 + 59, cpuCores: 0.2, memoryBytes: 110 * Mi },
    { ...web, t: T0 + 61, cpuCores: 0.5 },
    { ...db, t: T0 + 5, cpuCores: 1, memoryBytes: Mi },
  ]);
  // A second batch for the same minute merges (another poll, another pod).
  h.record([{ ...web, t: T0 + 30, cpuCores: 0.4, memoryBytes: 90 * Mi }]);
  const m = h.minutes(web);
  assert.equal(m.length, 2);
  assert.deepEqual(m[0], { t: T0, cpuMax: 0.4, cpuMean: (0.1 + 0.3 + 0.2 + 0.4) / 4, memoryMax: 120 * Mi });
  assert.deepEqual(m[1], { t: T0 + 60, cpuMax: 0.5, cpuMean: 0.5, memoryMax: undefined });
  assert.deepEqual(
    h.series().map((s) => [s.workload.name, s.container, s.firstSample, s.lastSample]),
    [
      ['web', 'app', T0 + 1, T0 + 61],
      ['db', 'pg', T0 + 5, T0 + 5],
    ],
  );
  // Nothing usable is not a sample.
  h.record([{ ...web, t: T0 + 200, cpuCores: Number.NaN, memoryBytes: undefined }]);
  assert.equal(h.minutes(web).length, 2);
  h.close();
});

test('no samples, no recommendation; memory-only history recommends memory only', () => {
  const h = UsageHistory.open(':memory:');
  const none = h.recommend(web, T0);
  assert.equal(none.info, undefined);
  assert.equal(none.cpu.recommendation, undefined);
  assert.equal(none.memory.recommendation, undefined);
  h.record([{ ...web, t: T0, memoryBytes: 64 * Mi }]);
  const r = h.recommend(web, T0 + 60);
  assert.equal(r.cpu.recommendation, undefined);
  assert.ok(r.memory.recommendation && r.memory.recommendation.target >= 64 * Mi);
  h.close();
});

test('a checkpoint survives close and reopen, and gives the same recommendation', () => {
  const file = tempDb();
  try {
    const end = T0 + 3 * 3600;
    let h = UsageHistory.open(file.path);
    h.record(traffic(T0, 3 * 60));
    h.recordOoms([{ ...web, pod: 'web-1', t: T0 + 3600, usageBytes: 256 * Mi }]);
    const before = h.recommend(web, end);
    assert.equal(h.checkpoint(end), 2, 'cpu and memory of the one series');
    assert.equal(h.checkpoint(end), 0, 'nothing new to fold');
    h.close();

    h = UsageHistory.open(file.path);
    assert.deepEqual(h.recommend(web, end), before);
    // The state really comes from the checkpoint: drop the raw minutes it covers and ask again.
    h.close();
    h = UsageHistory.open(file.path, { retentionSeconds: 300 });
    const pruned = h.prune(end);
    assert.ok(pruned.minutes > 100, `pruned ${pruned.minutes} minutes`);
    assert.deepEqual(h.recommend(web, end).memory.recommendation, before.memory.recommendation);
    assert.deepEqual(h.recommend(web, end).cpu.recommendation, before.cpu.recommendation);
    h.close();

    const raw = new Database(file.path, { readonly: true });
    const mode = raw.pragma('journal_mode', { simple: true });
    raw.close();
    assert.equal(mode, 'wal');
  } finally {
    file.done();
  }
});

test('history after a checkpoint folds in on top of it, exactly as a full rebuild would', () => {
  const a = UsageHistory.open(':memory:');
  const b = UsageHistory.open(':memory:');
  const first = traffic(T0, 120);
  const second = traffic(T0 + 120 * 60, 60);
  a.record(first);
  a.checkpoint(T0 + 120 * 60 + 300);
  a.record(second);
  b.record([...first, ...second]);
  const now = T0 + 180 * 60;
  assert.deepEqual(a.recommend(web, now), b.recommend(web, now));
  a.close();
  b.close();
});

test('late data for a checkpointed minute drops the checkpoint, so nothing is lost', () => {
  const a = UsageHistory.open(':memory:');
  const b = UsageHistory.open(':memory:');
  const rows = traffic(T0, 60);
  a.record(rows);
  b.record(rows);
  a.checkpoint(T0 + 3600 + 300);
  const late: UsageRecord = { ...web, t: T0 + 600, memoryBytes: 900 * Mi, cpuCores: 2 };
  a.record([late]);
  b.record([late]);
  const now = T0 + 3600 + 300;
  assert.deepEqual(a.recommend(web, now), b.recommend(web, now));
  assert.ok(a.recommend(web, now).memory.recommendation!.target >= 900 * Mi);
  a.close();
  b.close();
});

test('a checkpoint made with another config is not used', () => {
  const h = UsageHistory.open(':memory:');
  h.record(traffic(T0, 60));
  const now = T0 + 3600 + 300;
  h.checkpoint(now);
  const tight = { ...DEFAULT_RESOURCE_CONFIGS, memory: defaultConfig('memory', { recentMargin: 0.5 }) };
  const fresh = UsageHistory.open(':memory:');
  fresh.record(traffic(T0, 60));
  assert.deepEqual(h.recommend(web, now, tight), fresh.recommend(web, now, tight));
  h.close();
  fresh.close();
});

test('OOM kills are kept once each and raise memory at once', () => {
  const h = UsageHistory.open(':memory:');
  h.record(traffic(T0, 30));
  const before = h.recommend(web, T0 + 1800).memory.recommendation!.target;
  const oom = { ...web, pod: 'web-1', t: T0 + 1700, usageBytes: 300 * Mi };
  assert.equal(h.recordOoms([oom, oom]), 1);
  assert.equal(h.recordOoms([oom]), 0);
  assert.equal(h.recordOoms([{ ...oom, t: oom.t + 20 }], 30), 0, 'the same kill seen through another source');
  assert.equal(h.recordOoms([{ ...oom, pod: 'web-2', t: oom.t + 20 }], 30), 1, 'another pod');
  const after = h.recommend(web, T0 + 1800);
  assert.equal(after.ooms, 2);
  assert.ok(
    after.memory.recommendation!.target >= 300 * Mi * 1.3,
    `${after.memory.recommendation!.target / Mi}Mi`,
  );
  assert.ok(after.memory.recommendation!.target > before);
  assert.equal(after.memory.recommendation!.reason, 'OomFloor');
  h.close();
});

test('an OOM kill before the first sample raises memory on its own; CPU still waits for data', () => {
  const h = UsageHistory.open(':memory:');
  assert.equal(h.recommend(web, T0).memory.recommendation, undefined, 'nothing known: nothing said');
  h.recordOoms([{ ...web, pod: 'web-1', t: T0 + 10, usageBytes: 300 * Mi }]);
  const r = h.recommend(web, T0 + 60);
  assert.equal(r.memory.samples, 0);
  assert.equal(r.memory.recommendation?.reason, 'OomFloor');
  assert.ok(r.memory.recommendation.target >= 300 * Mi * 1.3, `${r.memory.recommendation.target / Mi}Mi`);
  assert.equal(r.cpu.recommendation, undefined);
  h.close();
});

test('retention drops old minutes, OOM kills and series with nothing newer', () => {
  const h = UsageHistory.open(':memory:', { retentionSeconds: 3600 });
  h.record([{ ...db, t: T0, cpuCores: 1, memoryBytes: Mi }]);
  h.record(traffic(T0, 120));
  h.recordOoms([{ ...web, pod: 'p', t: T0 + 10, usageBytes: Mi }]);
  assert.equal(h.info(web)!.firstSample, T0, 'an OOM kill does not count as a sample');
  const now = T0 + 120 * 60;
  const dropped = h.prune(now);
  assert.deepEqual(dropped, { minutes: 61, ooms: 1, series: 1 });
  assert.equal(h.minutes(web)[0]!.t, now - 3600);
  assert.equal(h.info(db), undefined);
  assert.equal(h.ooms(web).length, 0);
  h.close();
});

test('retention per series: a policy keeps its own series for its window, no other series grows', () => {
  // Store retention 1 h. Tenant shop's policy asks 3 h for web; tenant other's series is not its own.
  const other: SeriesKey = {
    workload: { namespace: 'other', kind: 'Deployment', name: 'web' },
    container: 'app',
  };
  const dir = tempDb();
  let h = UsageHistory.open(dir.path, { retentionSeconds: 3600 });
  h.record(traffic(T0, 240));
  h.record(traffic(T0, 240).map((r) => ({ ...r, workload: other.workload })));
  h.record([{ ...db, t: T0 + 90 * 60, cpuCores: 1, memoryBytes: Mi }]); // 2.5 h before now
  h.recordOoms([
    { ...web, pod: 'p', t: T0 + 60, usageBytes: Mi },
    { ...other, pod: 'p', t: T0 + 60, usageBytes: Mi },
  ]);
  const now = T0 + 240 * 60;
  h.retainSeries(web, 3 * 3600, now);
  h.retainSeries(db, 1800, now); // shorter than the store's: nothing changes
  h.retainSeries(db, 3 * 3600, now); // db is kept too, while asked
  assert.equal(h.retentionOf(web), 3 * 3600);
  assert.equal(h.retentionOf(other), 3600, 'the other tenant keeps the default');
  assert.equal(h.retention, 3600, 'the store-wide retention is unchanged');
  h.prune(now);
  assert.equal(h.minutes(web)[0]!.t, now - 3 * 3600, 'web keeps its 3 h');
  assert.equal(h.minutes(other)[0]!.t, now - 3600, 'other is pruned at 1 h');
  assert.equal(h.ooms(web).length, 0, 'a kill older than the 3 h goes too');
  assert.equal(h.ooms(other).length, 0);
  assert.ok(h.info(db), 'db is kept while asked');

  // A restart: the request stays in force for a lease from the first prune, so nothing is lost
  // before the policy asks again.
  h.close();
  h = UsageHistory.open(dir.path, { retentionSeconds: 3600 });
  const restarted = now + 2 * RETENTION_LEASE_SECONDS; // down for two leases (its pods went on)
  h.record([{ ...web, t: restarted - 60, cpuCores: 0.1, memoryBytes: Mi }]);
  h.prune(restarted);
  assert.equal(h.retentionOf(web), 3 * 3600, 'kept across the restart');
  // Never asked again: a lease after the first prune of this process it lapses back to the store's.
  h.prune(restarted + RETENTION_LEASE_SECONDS + 1);
  assert.equal(h.retentionOf(web), 3600, 'lapsed: the policy went away');
  h.close();
  dir.done();
});

test('a batch of 10,000 pods is recorded in one transaction, quickly', () => {
  const h = UsageHistory.open(':memory:');
  const batch: UsageRecord[] = [];
  for (let w = 0; w < 2000; w++) {
    for (let p = 0; p < 5; p++) {
      batch.push({
        workload: { namespace: `ns-${w % 500}`, kind: 'Deployment', name: `w${w}` },
        container: 'app',
        t: T0 + p,
        cpuCores: 0.1 * p,
        memoryBytes: p * Mi,
      });
    }
  }
  const started = performance.now();
  h.record(batch);
  h.record(batch.map((r) => ({ ...r, t: r.t + 15 })));
  const ms = performance.now() - started;
  assert.equal(h.series().length, 2000);
  assert.ok(ms < 3000, `recording 20,000 samples took ${ms.toFixed(0)} ms`);
  h.close();
});

test('a store of another schema version is refused with what to do', () => {
  const file = tempDb();
  try {
    UsageHistory.open(file.path).close();
    const raw = new Database(file.path);
    raw.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema'`).run();
    raw.close();
    assert.throws(() => UsageHistory.open(file.path), /schema 99.*\n.*hint: .*--history/);
  } finally {
    file.done();
  }
});

test('two configs for one series: each keeps its own checkpoint, both exact, no thrashing', () => {
  const a = UsageHistory.open(':memory:');
  const fresh = UsageHistory.open(':memory:');
  const tight = configsFor({ profile: 'Aggressive' });
  const loose = configsFor({ profile: 'Conservative' });
  a.record(traffic(T0, 120));
  fresh.record(traffic(T0, 120));
  let now = T0 + 120 * 60 + 300;
  const views = [{ configs: tight }, { configs: loose }];
  assert.equal(
    a.checkpoint(now, () => views),
    4,
    'cpu and memory for each of the two views',
  );
  assert.equal(
    a.checkpoint(now, () => views),
    0,
    'both still current: neither overwrote the other',
  );
  a.record(traffic(T0 + 120 * 60, 30));
  fresh.record(traffic(T0 + 120 * 60, 30));
  now += 30 * 60;
  for (const c of [tight, loose, tight])
    assert.deepEqual(a.recommend(web, now, c), fresh.recommend(web, now, c));
  const t = a.recommend(web, now, tight);
  const l = a.recommend(web, now, loose);
  assert.ok(l.memory.recommendation!.target > t.memory.recommendation!.target);
  assert.ok(l.cpu.recommendation!.target > t.cpu.recommendation!.target);
  // Without configsFor, checkpoint keeps the views read lately current (here: both).
  assert.equal(a.checkpoint(now), 4);
  a.close();
  fresh.close();
});

test('checkpoints per series stay bounded however many tunings read it', () => {
  const file = tempDb();
  try {
    const h = UsageHistory.open(file.path);
    h.record(traffic(T0, 60));
    const now = T0 + 3600 + 300;
    for (let p = 50; p < 100; p += 5) {
      const configs = configsFor({ profile: 'Balanced', cpu: { percentile: p }, memory: { percentile: p } });
      h.recommend(web, now, configs, 86_400);
      h.checkpoint(now, () => [{ configs, windowSeconds: 86_400 }]);
    }
    h.close();
    const raw = new Database(file.path, { readonly: true });
    const rows = raw.prepare(`SELECT resource, count(*) AS n FROM checkpoint GROUP BY resource`).all();
    raw.close();
    assert.deepEqual(rows, [
      { resource: 'cpu', n: MAX_CHECKPOINTS_PER_SERIES },
      { resource: 'memory', n: MAX_CHECKPOINTS_PER_SERIES },
    ]);
  } finally {
    file.done();
  }
});

test('a window: minutes and OOM kills older than it do not count, with or without checkpoints', () => {
  const a = UsageHistory.open(':memory:');
  const b = UsageHistory.open(':memory:');
  const spike: UsageRecord = { ...web, t: T0 + 30, memoryBytes: 2000 * Mi, cpuCores: 4 };
  const oom = { ...web, pod: 'web-1', t: T0 + 40, usageBytes: 3000 * Mi };
  for (const h of [a, b]) {
    h.record([spike, ...traffic(T0 + 60, 6 * 60)]);
    h.recordOoms([oom]);
  }
  const window = 4 * 3600;
  let now = T0 + 6 * 3600;
  const all = a.recommend(web, now);
  assert.ok(all.memory.recommendation!.target >= 2000 * Mi, 'without a window the spike counts');
  assert.equal(all.ooms, 1);
  const windowed = a.recommend(web, now, DEFAULT_RESOURCE_CONFIGS, window);
  assert.ok(
    windowed.memory.recommendation!.target < 400 * Mi,
    `${windowed.memory.recommendation!.target / Mi}Mi`,
  );
  assert.ok(windowed.cpu.recommendation!.target < 1, `${windowed.cpu.recommendation!.target}`);
  assert.equal(windowed.ooms, 0);
  // At most one grid step (1/16 of the window) of the window's oldest minutes is left out.
  assert.ok(windowed.memory.samples <= window / 60 && windowed.memory.samples >= (window * 15) / 16 / 60);
  // The windowed state was checkpointed at once; a store without that checkpoint agrees, later too.
  a.checkpoint(now, () => [{ configs: DEFAULT_RESOURCE_CONFIGS, windowSeconds: window }]);
  for (const h of [a, b]) h.record(traffic(T0 + 6 * 3600 + 60, 60));
  for (const dt of [0, 10 * 60, 3600]) {
    now = T0 + 7 * 3600 + dt;
    assert.deepEqual(
      a.recommend(web, now, DEFAULT_RESOURCE_CONFIGS, window),
      b.recommend(web, now, DEFAULT_RESOURCE_CONFIGS, window),
    );
  }
  a.close();
  b.close();
});

test('a store of schema 1 opens: its checkpoints (a cache) are dropped, its minutes kept', () => {
  const file = tempDb();
  try {
    let h = UsageHistory.open(file.path);
    h.record(traffic(T0, 10));
    h.close();
    const raw = new Database(file.path);
    raw.exec(`DROP TABLE checkpoint; UPDATE meta SET value = '1' WHERE key = 'schema';
      CREATE TABLE checkpoint (series INTEGER NOT NULL, resource TEXT NOT NULL, through_minute INTEGER NOT NULL,
        config TEXT NOT NULL, state TEXT NOT NULL, saved_at REAL NOT NULL, PRIMARY KEY (series, resource)) WITHOUT ROWID;`);
    raw.close();
    h = UsageHistory.open(file.path);
    assert.equal(h.minutes(web).length, 10);
    assert.ok(h.checkpoint(T0 + 3600) > 0);
    h.close();
  } finally {
    file.done();
  }
});

/** Ten pods of `web` sampled every 15 s for `minutes`: nine at 0.2 core, one hot replica at 1 core. */
function oneHotReplica(from: number, minutes: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (let s = 0; s < minutes * 60; s += 15)
    for (let i = 0; i < 10; i++)
      out.push({ ...web, t: from + s, cpuCores: i === 0 ? 1 : 0.2, memoryBytes: Mi });
  return out;
}

test("CPU is sized from every pod's samples in a minute, not from the busiest one alone", () => {
  const end = T0 + 120 * 60;
  const spread = UsageHistory.open(':memory:');
  spread.record(oneHotReplica(T0, 120));
  // The same minutes as only their busiest sample, as the history fed them before schema 3.
  const busiest = UsageHistory.open(':memory:');
  busiest.record(
    Array.from({ length: 120 }, (_, m) => ({ ...web, t: T0 + m * 60, cpuCores: 1, memoryBytes: Mi })),
  );
  const fromSpread = spread.recommend(web, end).cpu.recommendation!.target;
  const fromBusiest = busiest.recommend(web, end).cpu.recommendation!.target;
  // p90 of the samples is 0.2; a normal spread with their mean (0.28) and sd (0.24) reads about 0.59.
  assert.ok(fromSpread < 0.75 * fromBusiest, `spread ${fromSpread}, busiest ${fromBusiest}`);
  assert.ok(fromSpread > 0.5, `${fromSpread}`);
  assert.equal(spread.recommend(web, end).cpu.samples, 120, 'one sample per minute, as before');
  spread.close();
  busiest.close();
});

test('a store of schema 2 opens: checkpoints dropped, its minutes read as their busiest sample', () => {
  const file = tempDb();
  try {
    const end = T0 + 120 * 60;
    let h = UsageHistory.open(file.path);
    h.record(oneHotReplica(T0, 120));
    const withSpread = h.recommend(web, end).cpu.recommendation!.target;
    assert.ok(h.checkpoint(end) > 0);
    h.close();
    const raw = new Database(file.path);
    raw.exec(
      `ALTER TABLE usage_minute DROP COLUMN cpu_sq; UPDATE meta SET value = '2' WHERE key = 'schema';`,
    );
    raw.close();
    h = UsageHistory.open(file.path);
    assert.equal(h.minutes(web).length, 120);
    const legacy = h.recommend(web, end).cpu.recommendation!.target;
    assert.ok(legacy > withSpread, `legacy ${legacy} read as the busiest sample, spread ${withSpread}`);
    // New minutes keep their spread even where old ones did not.
    h.record(oneHotReplica(end, 1));
    h.close();
    const after = new Database(file.path);
    const rows = after.prepare(`SELECT minute, cpu_sq FROM usage_minute ORDER BY minute`).all() as {
      cpu_sq: number | null;
    }[];
    after.close();
    assert.equal(rows[0]!.cpu_sq, null);
    assert.ok(rows.at(-1)!.cpu_sq! > 0);
  } finally {
    file.done();
  }
});
