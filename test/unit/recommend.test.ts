import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addToHistogram,
  createHistogram,
  histogramPercentile,
  isEmpty,
} from '../../src/core/recommend/histogram.ts';
import {
  CPU_DEFAULTS,
  atClockSpeed,
  MEMORY_DEFAULTS,
  defaultConfig,
  type RecommenderConfig,
} from '../../src/core/recommend/config.ts';
import { addOom, addSample, createState, recommend } from '../../src/core/recommend/recommender.ts';
import { decideLimit, type LimitOutcome } from '../../src/core/recommend/actuation.ts';
import type { UsageSample } from '../../src/core/recommend/types.ts';

const Mi = 2 ** 20;
const Gi = 2 ** 30;
const HOUR = 3600;
const T0 = 1_700_000_000;

/** One sample a minute from T0 for `hours`, value from `f(minute)`. */
function series(hours: number, f: (minute: number) => number): UsageSample[] {
  return Array.from({ length: hours * 60 }, (_, m) => ({ t: T0 + m * 60, value: f(m) }));
}

function feed(config: RecommenderConfig, samples: readonly UsageSample[]) {
  const state = createState(config);
  for (const s of samples) addSample(state, s, config);
  return state;
}

test('histogram answers percentiles at bucket upper edges', () => {
  const h = createHistogram({ firstEdge: 1, ratio: 2, halfLifeSeconds: HOUR }, 0);
  assert.equal(histogramPercentile(h, 0.5), undefined);
  for (const v of [0.5, 3, 5, 5]) addToHistogram(h, v, 1, 0);
  const cases: [number, number][] = [
    [0, 1], // 0.5 is at or below the first edge
    [0.25, 1],
    [0.5, 4], // 3 lies in (2, 4]
    [0.75, 8], // 5 lies in (4, 8]
    [1, 8],
  ];
  for (const [q, want] of cases) assert.equal(histogramPercentile(h, q), want, `p${q * 100}`);
});

test('histogram weights halve every half-life and can be subtracted', () => {
  const h = createHistogram({ firstEdge: 1, ratio: 2, halfLifeSeconds: HOUR }, 0);
  for (let i = 0; i < 3; i++) addToHistogram(h, 1, 1, 0);
  addToHistogram(h, 100, 1, HOUR); // weighs 2: the three old samples still weigh more
  assert.equal(histogramPercentile(h, 0.5), 1);
  addToHistogram(h, 100, 1, HOUR); // now 4 against 3
  assert.equal(histogramPercentile(h, 0.5), 128);
  addToHistogram(h, 100, -2, HOUR);
  for (let i = 0; i < 3; i++) addToHistogram(h, 1, -1, 0);
  assert.ok(isEmpty(h));
});

test('histogram rebases far-apart samples without losing the order of weights', () => {
  const h = createHistogram({ firstEdge: 1, ratio: 2, halfLifeSeconds: 60 }, 0);
  addToHistogram(h, 1, 1, 0);
  addToHistogram(h, 50, 1, 60 * 100); // 2^100 would overflow nothing, but it is rebased
  assert.ok(h.weights.every(Number.isFinite));
  assert.equal(histogramPercentile(h, 0.5), 64);
});

test('an OOM raises memory at once to at least max(usage + 100Mi, usage x 1.2)', () => {
  const config = MEMORY_DEFAULTS;
  for (const usage of [10 * Mi, 50 * Mi, 300 * Mi, 1 * Gi, 8 * Gi]) {
    // History well below the kill: the OOM, not the samples, must carry the target.
    const state = feed(
      config,
      series(6, () => usage / 2),
    );
    const t = T0 + 6 * HOUR;
    addOom(state, { t, usage }, config);
    const rec = recommend(state, t, config);
    const floor = Math.max(usage + 100 * Mi, usage * 1.2);
    assert.ok(rec.target >= floor, `target ${rec.target} < ${floor} for usage ${usage}`);
    assert.ok(
      rec.lowerBound >= floor,
      `lower bound ${rec.lowerBound} < ${floor}: a limit at usage would be kept`,
    );
    assert.equal(rec.reason, 'OomFloor');
    const decision = decideLimit(usage, rec, 0.1);
    assert.equal(decision.outcome, 'Raise');
    assert.ok(decision.value >= floor);
  }
});

test('the OOM floor fades with its half-life but a second kill keeps the higher one', () => {
  const config = defaultConfig('memory', { oomHalfLifeSeconds: HOUR, shortHistoryMargin: 0 });
  const state = feed(
    config,
    series(2, () => 100 * Mi),
  );
  const t = T0 + 2 * HOUR;
  addOom(state, { t, usage: 1 * Gi }, config);
  const fresh = recommend(state, t, config).target;
  const later = recommend(state, t + 3 * HOUR, config).target;
  assert.ok(
    later < fresh / 4,
    `after three half-lives the floor should be below a quarter: ${later} vs ${fresh}`,
  );
  addOom(state, { t: t + 10, usage: 200 * Mi }, config);
  assert.ok(recommend(state, t + 10, config).target >= fresh * 0.99, 'a small kill must not erase a big one');
});

test('the target never falls below usage seen in the recent window', () => {
  const config = MEMORY_DEFAULTS;
  const shapes: [string, (m: number) => number][] = [
    ['flat', () => 2 * Gi],
    ['ramp', (m) => 1 * Gi + m * Mi],
    ['burst every 2 h', (m) => (m % 120 < 5 ? 3 * Gi : 1 * Gi)],
    ['falling', (m) => 4 * Gi - m * 2 * Mi],
    ['noisy', (m) => 1 * Gi * (1 + 0.3 * Math.sin(m / 7) * Math.cos(m / 31))],
  ];
  for (const [name, f] of shapes) {
    const samples = series(12, f);
    const state = createState(config);
    for (let i = 0; i < samples.length; i++) {
      addSample(state, samples[i]!, config);
      if (i % 17 !== 0) continue;
      const now = samples[i]!.t;
      const recent = Math.max(
        ...samples
          .slice(0, i + 1)
          .filter((s) => s.t > now - config.recentWindowSeconds)
          .map((s) => s.value),
      );
      const rec = recommend(state, now, config);
      assert.ok(rec.target >= recent, `${name} at ${i} min: target ${rec.target} < recent usage ${recent}`);
      assert.ok(
        rec.lowerBound >= recent,
        `${name} at ${i} min: lower bound ${rec.lowerBound} < recent usage ${recent}`,
      );
      assert.ok(rec.lowerBound <= rec.target && rec.target <= rec.upperBound, `${name}: bounds out of order`);
    }
  }
});

test('bounds and margin widen with a short history', () => {
  const config = MEMORY_DEFAULTS;
  const state = feed(
    config,
    series(30, () => 1 * Gi),
  );
  // Half an hour old (widest), two hours, a day (the short-history margin is gone).
  let previous: { width: number; target: number } | undefined;
  for (const age of [0.5 * HOUR, 2 * HOUR, 24 * HOUR]) {
    const rec = recommend(state, T0 + age, config);
    const width = (rec.upperBound - rec.lowerBound) / rec.target;
    if (previous) {
      assert.ok(
        width < previous.width,
        `band at ${age / HOUR} h (${width}) should be narrower than before (${previous.width})`,
      );
      assert.ok(rec.target <= previous.target, `target at ${age / HOUR} h should not grow on a flat series`);
    }
    previous = { width, target: rec.target };
  }
  const old = recommend(state, T0 + 24 * HOUR, config);
  assert.ok(old.target < 1.05 * Gi, `a day of flat usage needs little margin: ${old.target / Gi} Gi`);
});

test('a bursty pod gets head-room above its bursts, a steady one does not', () => {
  const config = MEMORY_DEFAULTS;
  const now = T0 + 23 * HOUR;
  const steady = recommend(
    feed(
      config,
      series(23, (m) => 1 * Gi * (1 + 0.01 * Math.sin(m))),
    ),
    now,
    config,
  );
  const bursty = recommend(
    feed(
      config,
      series(23, (m) => (m % 120 < 5 ? 2 * Gi : 1 * Gi)),
    ),
    now,
    config,
  );
  assert.ok(steady.target < 1.1 * Gi, `steady target ${steady.target / Gi} Gi`);
  assert.ok(bursty.target >= 2 * Gi * config.burstHeadroom, `bursty target ${bursty.target / Gi} Gi`);
  assert.equal(bursty.reason, 'Percentile');
});

test('the state survives a JSON round trip', () => {
  const config = MEMORY_DEFAULTS;
  const samples = series(10, (m) => 1 * Gi + ((m * 7919) % 100) * Mi);
  const a = feed(config, samples.slice(0, 300));
  addOom(a, { t: samples[299]!.t, usage: 1.2 * Gi }, config);
  const b = JSON.parse(JSON.stringify(a)) as typeof a;
  for (const s of samples.slice(300)) {
    addSample(a, s, config);
    addSample(b, s, config);
  }
  const now = samples[samples.length - 1]!.t;
  assert.deepEqual(recommend(b, now, config), recommend(a, now, config));
});

test('no data: the minimum, with nothing to keep a limit down', () => {
  const rec = recommend(createState(MEMORY_DEFAULTS), T0, MEMORY_DEFAULTS);
  assert.equal(rec.reason, 'NoData');
  assert.equal(rec.target, MEMORY_DEFAULTS.minAllowed);
  assert.equal(rec.upperBound, Number.POSITIVE_INFINITY);
});

test('min and max clamp the target', () => {
  const config = defaultConfig('memory', { maxAllowed: 1 * Gi, minAllowed: 256 * Mi });
  const high = recommend(
    feed(
      config,
      series(3, () => 4 * Gi),
    ),
    T0 + 3 * HOUR,
    config,
  );
  assert.equal(high.target, 1 * Gi);
  assert.equal(high.reason, 'Clamped');
  const low = recommend(
    feed(
      config,
      series(3, () => 1 * Mi),
    ),
    T0 + 3 * HOUR,
    config,
  );
  assert.equal(low.target, 256 * Mi);
});

test('CPU defaults follow the VPA recipe: p90 of samples plus 15%', () => {
  // Half a core, with a 2-core spike one minute in twenty: the spikes sit above p90, so they are
  // ignored (a request, not a limit). The short-history margin has faded after a day.
  const samples = series(26, (m) => (m % 20 === 0 ? 2 : 0.5));
  const rec = recommend(feed(CPU_DEFAULTS, samples), samples[samples.length - 1]!.t, CPU_DEFAULTS);
  // p90 is 0.5 cores, rounded up to its 5% bucket edge (at most 5% more), then +15%.
  assert.ok(rec.target >= 0.5 * 1.15 && rec.target <= 0.5 * 1.05 * 1.15, `cpu target ${rec.target}`);
});

test('decideLimit keeps values inside the bounds and moves the others to the target', () => {
  const rec = { target: 100, lowerBound: 90, upperBound: 120, reason: 'Percentile' as const };
  const cases: [number, number, LimitOutcome, number][] = [
    // current, minStep, outcome, value
    [95, 0.1, 'Keep', 95],
    [120, 0.1, 'Keep', 120],
    [80, 0.1, 'Raise', 100],
    [89, 0, 'Raise', 100],
    [130, 0.1, 'Lower', 100],
    [0, 0.1, 'Raise', 100],
  ];
  for (const [current, minStep, outcome, value] of cases) {
    const d = decideLimit(current, rec, minStep);
    assert.equal(d.outcome, outcome, `current ${current}`);
    assert.equal(d.value, value, `current ${current}`);
  }
  // A raise clears the resize step even when the target is close.
  const close = decideLimit(85, { target: 90, lowerBound: 90, upperBound: 99, reason: 'RecentPeak' }, 0.1);
  assert.equal(close.outcome, 'Raise');
  assert.ok(Math.abs(close.value - 93.5) < 1e-9);
});

test('the pure core reads no clock and no randomness', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/core');
  for (const dir of ['recommend', 'replay', 'replay/baselines']) {
    for (const f of readdirSync(path.join(root, dir)).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(path.join(root, dir, f), 'utf8');
      for (const banned of ['Date.now', 'new Date(', 'Math.random', 'performance.now', "from 'node:fs"]) {
        assert.ok(!text.includes(banned), `${dir}/${f} uses ${banned}`);
      }
    }
  }
});

test('at a clock speed, every span of the recommender covers the same simulated time, no window under two rows', () => {
  const HOUR = 3600;
  for (const kind of ['cpu', 'memory', 'gpuMemory'] as const)
    assert.deepEqual(atClockSpeed(defaultConfig(kind), 1), defaultConfig(kind));
  const memory = atClockSpeed(defaultConfig('memory'), 60);
  assert.equal(memory.histogram.halfLifeSeconds, (24 * HOUR) / 60);
  assert.equal(memory.shortHistorySeconds, (4 * HOUR) / 60);
  assert.equal(memory.oomHalfLifeSeconds, (24 * HOUR) / 60);
  assert.equal(memory.recentWindowSeconds, 120, 'an hour at 60x is a minute: kept at two rows of history');
  assert.equal(memory.intervalSeconds, 60, 'five minutes at 60x: kept at one row');
  assert.equal(memory.fleetSurge.holdSeconds, (2 * HOUR) / 60);
  // What is not a span is unchanged, and a span that is off stays off.
  assert.equal(memory.percentile, defaultConfig('memory').percentile);
  assert.equal(memory.burstHeadroom, defaultConfig('memory').burstHeadroom);
  const cpu = atClockSpeed(defaultConfig('cpu'), 84);
  assert.equal(cpu.recentWindowSeconds, 0);
  assert.equal(cpu.fleetSurge.windowSeconds, 0);
  assert.equal(cpu.shortHistorySeconds, (24 * HOUR) / 84);
});
