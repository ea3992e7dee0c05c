import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minuteSpread, type MinuteCpu } from '../../src/core/recommend/minute-spread.ts';
import { addSpread, createState, recommend } from '../../src/core/recommend/recommender.ts';
import { defaultConfig } from '../../src/core/recommend/config.ts';

/** The minute row the history stores for these samples. */
function rowOf(samples: readonly number[]): MinuteCpu {
  return {
    max: Math.max(...samples),
    n: samples.length,
    sum: samples.reduce((a, v) => a + v, 0),
    sumSquares: samples.reduce((a, v) => a + v * v, 0),
  };
}

/** A deterministic spread: 4 replicas sampled 4 times, around 1 core, sd near 0.2. */
const SAMPLES = [0.7, 0.85, 0.95, 1.0, 1.05, 1.15, 1.3, 0.9, 1.0, 1.1, 0.8, 1.2, 0.95, 1.05, 1.45, 0.55];

test('a minute feeds its spread: weights sum to one, mean kept, nothing above the busiest sample or below 0', () => {
  const row = rowOf(SAMPLES);
  const points = minuteSpread(row);
  assert.equal(points.length, 19);
  assert.ok(Math.abs(points.reduce((a, p) => a + p.weight, 0) - 1) < 1e-12);
  const mean = points.reduce((a, p) => a + p.value * p.weight, 0);
  assert.ok(Math.abs(mean - row.sum / row.n) < 1e-9, `mean ${mean}`);
  assert.ok(points.every((p) => p.value >= 0 && p.value <= row.max));
  // A wide spread near zero is cut at 0, not fed negative cores.
  assert.ok(minuteSpread(rowOf([0, 0, 0, 0.9])).every((p) => p.value >= 0));
});

test('a minute without a spread is its busiest sample: one sample, or a row without a sum of squares', () => {
  assert.deepEqual(minuteSpread({ max: 0.4, n: 1, sum: 0.4, sumSquares: 0.16 }), [{ value: 0.4, weight: 1 }]);
  assert.deepEqual(minuteSpread({ max: 0.9, n: 5, sum: 2, sumSquares: undefined }), [
    { value: 0.9, weight: 1 },
  ]);
  assert.deepEqual(minuteSpread(rowOf([0.3, 0.3, 0.3])), [{ value: 0.3, weight: 1 }]);
});

test("CPU's p90 over minutes fed their spread is near the samples' own p90, below the p90 of the busiest", () => {
  const config = defaultConfig('cpu', { margin: 0, shortHistoryMargin: 0 });
  const spread = createState(config);
  const busiest = createState(config);
  const all: number[] = [];
  for (let minute = 0; minute < 600; minute++) {
    // The same 16 samples shifted by a slow cycle, as a day of load would move them.
    const level = 1 + 0.3 * Math.sin((2 * Math.PI * minute) / 600);
    const samples = SAMPLES.map((v) => v * level);
    all.push(...samples);
    const t = 1_700_000_000 + minute * 60;
    addSpread(spread, t, minuteSpread(rowOf(samples)), config);
    addSpread(busiest, t, [{ value: Math.max(...samples), weight: 1 }], config);
  }
  all.sort((a, b) => a - b);
  const p90 = all[Math.ceil(0.9 * all.length) - 1]!;
  const now = 1_700_000_000 + 600 * 60;
  const fromSpread = recommend(spread, now, config).target;
  const fromBusiest = recommend(busiest, now, config).target;
  // Buckets are 5% wide: within one bucket and a bit of the normal approximation.
  assert.ok(Math.abs(fromSpread / p90 - 1) < 0.08, `spread p90 ${fromSpread} vs samples' p90 ${p90}`);
  assert.ok(fromBusiest > p90 * 1.15, `busiest ${fromBusiest} vs samples' p90 ${p90}`);
  assert.equal(spread.sampleCount, 600, 'a minute counts once, whatever points it feeds');
});
