import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageHistory, type SeriesKey, type UsageRecord } from '../../src/sources/history.ts';

const Mi = 2 ** 20;
const T0 = 1_700_000_040;
const key = (namespace: string, name: string): SeriesKey => ({
  workload: { namespace, kind: 'Deployment', name },
  container: 'app',
});

/** `keys` steady at 1 GiB every 30 s for `minutes`; then `risers` step to 1.8 GiB at the end. */
function fleet(keys: readonly SeriesKey[], minutes: number, risers: readonly SeriesKey[]): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (let s = 0; s <= minutes * 60; s += 30) {
    for (const k of keys) out.push({ ...k, t: T0 + s, memoryBytes: 1024 * Mi, cpuCores: 0.1 });
  }
  const end = T0 + minutes * 60;
  for (const [i, k] of risers.entries()) {
    out.push({ ...k, t: end + 60 + i * 120, memoryBytes: 1843 * Mi, cpuCores: 0.1 });
  }
  return out;
}

test('two workloads of a namespace rising together raise the memory of a third before its own rise (FleetSurge)', () => {
  const h = UsageHistory.open(':memory:');
  const [a, b, c] = [key('shop', 'a'), key('shop', 'b'), key('shop', 'c')];
  h.record(fleet([a, b, c], 120, [a, b]));
  const now = T0 + 120 * 60 + 600;
  const rec = h.recommend(c, now).memory.recommendation!;
  assert.equal(rec.reason, 'FleetSurge');
  // The floor is c's own peak times the larger rise (x1.8) plus the margin: well above its 1 GiB.
  assert.ok(rec.target > 1.8 * 1024 * Mi, `target ${rec.target / Mi} MiB`);
  assert.ok(rec.lowerBound >= rec.target);
  // A workload that rose itself sizes on its own (new) peak.
  assert.notEqual(h.recommend(a, now).memory.recommendation!.reason, 'FleetSurge');
});

test('a surge in one namespace never raises another tenant’s workloads', () => {
  const h = UsageHistory.open(':memory:');
  const [a, b] = [key('tenant-a', 'a'), key('tenant-a', 'b')];
  const other = key('tenant-b', 'c');
  h.record(fleet([a, b, other], 120, [a, b]));
  const rec = h.recommend(other, T0 + 120 * 60 + 600).memory.recommendation!;
  assert.notEqual(rec.reason, 'FleetSurge');
  assert.ok(rec.target < 1.8 * 1024 * Mi, `target ${rec.target / Mi} MiB`);
});

test('rises before a workload has an hour of history do not count, and the surge lapses after its hold', () => {
  const young = UsageHistory.open(':memory:');
  const [a, b, c] = [key('shop', 'a'), key('shop', 'b'), key('shop', 'c')];
  young.record(fleet([a, b, c], 30, [a, b]));
  assert.notEqual(young.recommend(c, T0 + 30 * 60 + 600).memory.recommendation!.reason, 'FleetSurge');

  const h = UsageHistory.open(':memory:');
  h.record(fleet([a, b, c], 120, [a, b]));
  const later = T0 + 120 * 60 + 3 * 3600;
  assert.notEqual(h.recommend(c, later).memory.recommendation!.reason, 'FleetSurge');
});

test('one workload rising alone is no surge', () => {
  const h = UsageHistory.open(':memory:');
  const [a, b, c] = [key('shop', 'a'), key('shop', 'b'), key('shop', 'c')];
  h.record(fleet([a, b, c], 120, [a]));
  assert.notEqual(h.recommend(c, T0 + 120 * 60 + 600).memory.recommendation!.reason, 'FleetSurge');
});
