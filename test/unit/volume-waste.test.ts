// Volume waste: a claim never half full over a well-covered window is wasted, with the size a new
// volume would need; a well-used, young or gappy one gets no verdict of waste.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  coveredSeconds,
  DEFAULT_WASTE_RULES,
  findWaste,
  judgeVolumes,
  wholeGiB,
  type VolumeSample,
} from '../../src/core/volume/index.ts';

const GiB = 2 ** 30;
const HOUR = 3600;
const DAY = 86_400;
const NOW = 1_800_000_000;

/** A sample a minute over `[now - seconds, now]`, used bytes from `used(t)` (t: 0..1 of the span). */
function series(
  capacity: number,
  used: (t: number) => number,
  seconds = DAY,
  step = 60,
  end = NOW,
): VolumeSample[] {
  const out: VolumeSample[] = [];
  for (let at = end - seconds; at <= end; at += step) {
    const u = used((at - (end - seconds)) / seconds);
    out.push({ at, usedBytes: u, capacityBytes: capacity, availableBytes: capacity - u });
  }
  return out;
}

const judge = (samples: VolumeSample[], windowSeconds = DAY) =>
  judgeVolumes({ now: NOW, windowSeconds, samples: new Map([['team-a/cache', samples]]) })[0]!;

void test('a claim never half full over the whole window is wasted, sized for its peak, room and growth', () => {
  const f = judge(series(100 * GiB, () => 10 * GiB));
  assert.equal(f.verdict, 'Wasted');
  // 10 GiB peak, no growth, 10% free: 10 / 0.9 = 11.1 -> 12 GiB.
  assert.deepEqual(f.waste, {
    namespace: 'team-a',
    claim: 'cache',
    capacityBytes: 100 * GiB,
    peakUsedBytes: 10 * GiB,
    suggestedBytes: 12 * GiB,
    windowSeconds: DAY,
  });
});

void test("the window's growth is carried a month forward", () => {
  // 5 -> 6 GiB over a day: 1 GiB/day, 30 GiB a month; (6 + 30) / 0.9 = 40 GiB.
  const f = judge(series(100 * GiB, (t) => (5 + t) * GiB));
  assert.equal(f.verdict, 'Wasted');
  assert.equal(f.waste?.peakUsedBytes, 6 * GiB);
  assert.equal(f.waste?.suggestedBytes, 40 * GiB);
});

void test('a cache that filled and was cleaned is sized for its peak, not for growth', () => {
  const f = judge(series(100 * GiB, (t) => (t < 0.5 ? (5 + 30 * t) * GiB : 5 * GiB)));
  assert.equal(f.verdict, 'Wasted');
  assert.ok(f.waste!.peakUsedBytes > 19 * GiB && f.waste!.peakUsedBytes <= 20 * GiB);
  assert.equal(f.waste?.suggestedBytes, 23 * GiB);
});

void test('one sample at or above half the capacity is enough to be well used', () => {
  assert.equal(judge(series(100 * GiB, (t) => (t > 0.7 && t < 0.71 ? 50 : 10) * GiB)).verdict, 'WellUsed');
  assert.equal(judge(series(100 * GiB, () => 49.9 * GiB)).verdict, 'Wasted');
});

void test('a suggestion never reaches the capacity: a fast-growing half-empty claim is NoSmaller', () => {
  // 10 -> 40 GiB over a day: a month of that is far past 100 GiB.
  assert.equal(judge(series(100 * GiB, (t) => (10 + 30 * t) * GiB)).verdict, 'NoSmaller');
});

void test('a short or gappy history gets no verdict', () => {
  // Six hours of a one-day window.
  assert.equal(judge(series(100 * GiB, () => GiB, 6 * HOUR)).verdict, 'ShortHistory');
  // A day of samples every 20 minutes: every gap is longer than the ten minutes allowed.
  assert.equal(judge(series(100 * GiB, () => GiB, DAY, 1200)).verdict, 'ShortHistory');
  // One sample.
  assert.equal(judge(series(100 * GiB, () => GiB, 0)).verdict, 'ShortHistory');
  // 92% of the window is enough (the default asks for 90%).
  assert.equal(judge(series(100 * GiB, () => GiB, 0.92 * DAY)).verdict, 'Wasted');
});

void test('samples outside the window do not count', () => {
  const old = series(100 * GiB, () => 90 * GiB, DAY, 60, NOW - 2 * DAY);
  assert.equal(judge([...old, ...series(100 * GiB, () => GiB)]).verdict, 'Wasted');
});

void test('a claim expanded during the window is judged against the capacity it had then', () => {
  const before = series(20 * GiB, () => 12 * GiB, DAY / 2, 60, NOW - DAY / 2 - 60);
  const after = series(100 * GiB, () => 12 * GiB, DAY / 2);
  // 12 of 20 GiB is over half: well used before the expansion.
  assert.equal(judge([...before, ...after]).verdict, 'WellUsed');
});

void test('findWaste lists the wasted claims only, sorted by namespace and claim', () => {
  const samples = new Map([
    ['team-b/models', series(200 * GiB, () => 20 * GiB)],
    ['team-a/logs', series(10 * GiB, () => 8 * GiB)],
    ['team-a/cache', series(50 * GiB, () => GiB)],
  ]);
  assert.deepEqual(
    findWaste({ now: NOW, windowSeconds: DAY, samples }).map((w) => `${w.namespace}/${w.claim}`),
    ['team-a/cache', 'team-b/models'],
  );
});

void test('rules can be tightened per call', () => {
  const samples = new Map([['a/b', series(100 * GiB, () => 30 * GiB)]]);
  assert.equal(findWaste({ now: NOW, windowSeconds: DAY, samples }).length, 1);
  assert.equal(
    findWaste({ now: NOW, windowSeconds: DAY, samples, rules: { usedBelowFraction: 0.25 } }).length,
    0,
  );
});

void test('coveredSeconds and wholeGiB', () => {
  const at = (...ts: number[]) =>
    ts.map((t) => ({ at: t, usedBytes: 0, capacityBytes: 1, availableBytes: 1 }));
  assert.equal(coveredSeconds(at(0, 60, 120, 2000, 2060), DEFAULT_WASTE_RULES.maxGapSeconds), 180);
  // The last sample stands until `until` when that is within the gap allowed.
  assert.equal(coveredSeconds(at(0, 60), DEFAULT_WASTE_RULES.maxGapSeconds, 100), 100);
  assert.equal(coveredSeconds(at(0, 60), DEFAULT_WASTE_RULES.maxGapSeconds, 1000), 60);
  assert.equal(wholeGiB(1), GiB);
  assert.equal(wholeGiB(GiB), GiB);
  assert.equal(wholeGiB(GiB + 2 ** 20), 2 * GiB);
  assert.equal(wholeGiB(0), GiB);
});
