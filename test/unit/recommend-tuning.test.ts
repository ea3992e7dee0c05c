// configFor: a SizingPolicy's profile and overrides as recommender configs. Balanced without
// overrides must be the shipped defaults exactly (the replay benchmark tuned them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU_DEFAULTS, DEFAULT_CONFIG, MEMORY_DEFAULTS } from '../../src/core/recommend/config.ts';
import { addSample, createState, recommend } from '../../src/core/recommend/recommender.ts';
import {
  configFor,
  configsFor,
  type RecommendationTuning,
  type TunedResource,
} from '../../src/core/recommend/tuning.ts';

test('Balanced without overrides is exactly the defaults (the same object)', () => {
  for (const r of ['cpu', 'memory'] as const) {
    assert.equal(configFor({ profile: 'Balanced' }, r), DEFAULT_CONFIG[r]);
    assert.equal(configFor(undefined, r), DEFAULT_CONFIG[r]);
  }
  assert.deepEqual(configsFor({ profile: 'Balanced', cpu: {}, memory: {} }), {
    cpu: CPU_DEFAULTS,
    memory: MEMORY_DEFAULTS,
  });
  // An override equal to the default changes nothing either.
  assert.deepEqual(
    configFor({ profile: 'Balanced', cpu: { percentile: 90, headroomPercent: 15 } }, 'cpu'),
    CPU_DEFAULTS,
  );
});

test('profiles and overrides: percentile, margin and recent margin per resource', () => {
  const table: [
    RecommendationTuning,
    TunedResource,
    { percentile: number; margin: number; recentMargin: number },
  ][] = [
    [{ profile: 'Balanced' }, 'cpu', { percentile: 0.9, margin: 0.15, recentMargin: 0 }],
    [{ profile: 'Balanced' }, 'memory', { percentile: 1, margin: 0, recentMargin: 0.03 }],
    [{ profile: 'Conservative' }, 'cpu', { percentile: 0.95, margin: 0.25, recentMargin: 0 }],
    [{ profile: 'Conservative' }, 'memory', { percentile: 1, margin: 0.15, recentMargin: 0.15 }],
    [{ profile: 'Aggressive' }, 'cpu', { percentile: 0.8, margin: 0.1, recentMargin: 0 }],
    [{ profile: 'Aggressive' }, 'memory', { percentile: 0.95, margin: 0, recentMargin: 0.01 }],
    // Overrides replace the profile's value, field by field; the other field keeps the profile's.
    [
      { profile: 'Balanced', cpu: { percentile: 99 } },
      'cpu',
      { percentile: 0.99, margin: 0.15, recentMargin: 0 },
    ],
    [
      { profile: 'Aggressive', cpu: { headroomPercent: 40 } },
      'cpu',
      { percentile: 0.8, margin: 0.4, recentMargin: 0 },
    ],
    [
      { profile: 'Aggressive', memory: { percentile: 99.5, headroomPercent: 5 } },
      'memory',
      { percentile: 0.995, margin: 0.05, recentMargin: 0.01 },
    ],
    [
      { profile: 'Conservative', memory: { headroomPercent: 0 } },
      'memory',
      { percentile: 1, margin: 0, recentMargin: 0.15 },
    ],
    // An override of the other resource leaves this one alone.
    [
      { profile: 'Balanced', memory: { percentile: 50 } },
      'cpu',
      { percentile: 0.9, margin: 0.15, recentMargin: 0 },
    ],
  ];
  for (const [rec, resource, want] of table) {
    const c = configFor(rec, resource);
    const base = DEFAULT_CONFIG[resource];
    assert.deepEqual(
      { percentile: c.percentile, margin: c.margin, recentMargin: c.recentMargin },
      want,
      `${JSON.stringify(rec)} ${resource}`,
    );
    // Everything else is the resource's defaults.
    assert.deepEqual(
      { ...c, percentile: 0, margin: 0, recentMargin: 0 },
      { ...base, percentile: 0, margin: 0, recentMargin: 0 },
    );
  }
});

test('on the same usage, Conservative >= Balanced >= Aggressive for both resources', () => {
  const T0 = 1_700_000_000;
  const Mi = 2 ** 20;
  for (const resource of ['cpu', 'memory'] as const) {
    const targets = (['Conservative', 'Balanced', 'Aggressive'] as const).map((profile) => {
      const config = configFor({ profile }, resource);
      const state = createState(config);
      for (let m = 0; m < 6 * 60; m++) {
        const wave = 1 + 0.5 * Math.sin(m / 17) + (m % 97 === 0 ? 0.8 : 0);
        addSample(
          state,
          { t: T0 + m * 60, value: resource === 'cpu' ? 0.2 * wave : 200 * Mi * wave },
          config,
        );
      }
      return recommend(state, T0 + 6 * 3600, config).target;
    });
    assert.ok(targets[0]! > targets[1]! && targets[1]! > targets[2]!, `${resource}: ${targets.join(' > ')}`);
  }
});
