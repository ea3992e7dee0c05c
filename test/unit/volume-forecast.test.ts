// The growth forecast: steady growth read exactly, log rotation never read as growth over the day,
// a slow leak seen by the long window, a burst by the short one, and too few samples read as nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketIncreases,
  forecastGrowth,
  GiB,
  humanSeconds,
  quantile,
  secondsUntil,
  slope,
  type VolumeSample,
} from '../../src/core/volume/index.ts';

const HOUR = 3600;
const NOW = 1_800_000_000;

/** Samples once a minute over the last `hours`, used bytes from `used(secondsAgo)`. */
function series(used: (ago: number) => number, hours = 24): VolumeSample[] {
  const out: VolumeSample[] = [];
  for (let t = NOW - hours * HOUR; t <= NOW; t += 60) {
    const u = used(NOW - t);
    out.push({ at: t, usedBytes: u, capacityBytes: 100 * GiB, availableBytes: 95 * GiB - u });
  }
  return out;
}

const perHour = (bytesPerSecond: number) => (bytesPerSecond * HOUR) / GiB;

test('steady growth: every window reads the same rate, and time to full follows', () => {
  const f = forecastGrowth(
    series((ago) => 50 * GiB - (ago / HOUR) * GiB),
    NOW,
  );
  assert.ok(f);
  assert.ok(Math.abs(perHour(f.bytesPerSecond) - 1) < 1e-6, `${perHour(f.bytesPerSecond)}`);
  assert.ok(Math.abs(perHour(f.sustainedBytesPerSecond) - 1) < 1e-6);
  assert.ok(Math.abs(secondsUntil(45 * GiB, f.bytesPerSecond)! / HOUR - 45) < 1e-6);
});

test('a flat or shrinking volume is not growing: rate 0, no time to full', () => {
  for (const used of [() => 40 * GiB, (ago: number) => 40 * GiB + (ago / HOUR) * 0.1 * GiB]) {
    const f = forecastGrowth(series(used), NOW);
    assert.ok(f);
    assert.equal(f.bytesPerSecond, 0);
    assert.equal(f.sustainedBytesPerSecond, 0);
    assert.equal(secondsUntil(10 * GiB, f.bytesPerSecond), undefined);
  }
});

test('logs that rotate: the sizing rate stays near the net growth, not the gross write rate', () => {
  // 3Gi/h for 4h, then rotated back, all day; no net growth.
  const f = forecastGrowth(
    series((ago) => 20 * GiB + 3 * GiB * (((24 * HOUR - ago) % (4 * HOUR)) / HOUR)),
    NOW,
  );
  assert.ok(f);
  assert.ok(perHour(f.sustainedBytesPerSecond) < 0.5, `sustained ${perHour(f.sustainedBytesPerSecond)}Gi/h`);
  // The hourly increases: most are +3Gi, the rotations are drops; the high quantile is the write rate.
  assert.ok(Math.abs(quantile(f.bucketIncreases, 0.5) / GiB - 3) < 0.1);
  assert.ok(Math.min(...f.bucketIncreases) < 0);
});

test('a slow leak shows in the day, a burst in the hour', () => {
  // Leak: 0.2Gi/h, with noise of +-0.3Gi a minute.
  const noise = (ago: number) => 0.3 * GiB * Math.sin(ago * 7.7);
  const leak = forecastGrowth(
    series((ago) => 30 * GiB - (ago / HOUR) * 0.2 * GiB + noise(ago)),
    NOW,
  );
  assert.ok(
    leak && Math.abs(perHour(leak.sustainedBytesPerSecond) - 0.2) < 0.02,
    `${leak && perHour(leak.sustainedBytesPerSecond)}`,
  );
  // Burst: flat all day, then 10Gi in the last 20 minutes.
  const burst = forecastGrowth(
    series((ago) => 30 * GiB + (ago < 1200 ? ((1200 - ago) / 1200) * 10 * GiB : 0)),
    NOW,
  );
  assert.ok(burst);
  assert.equal(burst.windowSeconds, HOUR);
  assert.ok(perHour(burst.bytesPerSecond) > 5, `${perHour(burst.bytesPerSecond)}`);
  assert.ok(perHour(burst.sustainedBytesPerSecond) < 1);
  assert.ok(Math.abs(burst.burstBytes / GiB - 10) < 0.2, `${burst.burstBytes / GiB}`);
});

test('too few samples, or too short a span: no forecast', () => {
  assert.equal(forecastGrowth([], NOW), undefined);
  const two = series((ago) => ago, 0.1);
  assert.equal(forecastGrowth(two, NOW), undefined);
  assert.equal(slope(two, NOW, HOUR, 600), undefined);
});

test('inodes are forecast like bytes', () => {
  const s = series(() => 10 * GiB).map((x, i) => ({
    ...x,
    inodes: 1e6,
    inodesUsed: 1000 + i * 10,
    inodesFree: 1e6 - 1000 - i * 10,
  }));
  const f = forecastGrowth(s, NOW);
  assert.ok(f?.inodesPerSecond !== undefined && Math.abs(f.inodesPerSecond * 60 - 10) < 1e-6);
});

test('bucket increases, quantiles and spans for messages', () => {
  const inc = bucketIncreases(
    series((ago) => -ago, 3),
    NOW,
    3 * HOUR,
  );
  assert.equal(inc.length, 3);
  for (const v of inc) assert.ok(Math.abs(v - 3540) < 61, `${v}`);
  assert.equal(quantile([], 0.9), 0);
  assert.equal(quantile([5, 1, 3, 2, 4], 0.8), 4);
  assert.equal(humanSeconds(90), '1m');
  assert.equal(humanSeconds(3 * HOUR + 5 * 60), '3h 5m');
  assert.equal(humanSeconds(2 * 86400 + 3 * HOUR), '2d 3h');
  assert.equal(humanSeconds(12), '12s');
});
