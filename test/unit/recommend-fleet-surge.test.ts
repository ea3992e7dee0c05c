import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CALM,
  createRiseDetector,
  observeRise,
  surgeFor,
  withFleetSurge,
  type FleetSurgeOptions,
  type Rise,
} from '../../src/core/recommend/fleet-surge.ts';
import { MEMORY_DEFAULTS, MEMORY_FLEET_SURGE } from '../../src/core/recommend/config.ts';
import { addSample, createState, recommend } from '../../src/core/recommend/recommender.ts';
import { tailor } from '../../src/core/replay/tailor.ts';
import { replayPod, REPLAY_PROTOCOL, type PodInput } from '../../src/core/replay/protocol.ts';
import type { Recommendation } from '../../src/core/recommend/types.ts';

const MIN = 60;
const HOUR = 3600;
const OPTIONS: FleetSurgeOptions = {
  riseFraction: 0.25,
  minHistorySeconds: HOUR,
  alikeRatio: 1.5,
  minPods: 2,
  windowSeconds: 30 * MIN,
  holdSeconds: 2 * HOUR,
  maxHeadroom: 2,
  margin: 0.3,
};
const rise = (t: number, pod: string, before: number, ratio: number): Rise => ({ t, pod, before, ratio });

test('a rise is a sample 25% above the pod peak so far, once the pod has an hour of history', () => {
  const d = createRiseDetector();
  const at = (t: number, value: number) => observeRise(d, 'p', { t, value }, OPTIONS);
  assert.equal(at(0, 1), undefined);
  assert.equal(at(30 * MIN, 2), undefined, 'young: every sample may be a new peak');
  assert.equal(at(HOUR, 2.4), undefined, '2.4 is only 20% above the peak 2');
  assert.deepEqual(at(HOUR + MIN, 3), { t: HOUR + MIN, pod: 'p', before: 2.4, ratio: 3 / 2.4 });
  assert.equal(at(HOUR + 2 * MIN, 3.2), undefined, 'measured against the new peak 3');
});

test('two alike pods rising within the window make a surge for a third; one, or unlike pods, do not', () => {
  const view = (rises: Rise[], pod = 'c') => ({ pod, rises });
  const now = 10 * HOUR;
  const a = rise(now - 20 * MIN, 'a', 1.0, 1.8);
  const b = rise(now - 5 * MIN, 'b', 1.2, 1.4);
  assert.deepEqual(surgeFor(view([a]), 1.1, now, OPTIONS), CALM, 'one pod is no surge');
  const s = surgeFor(view([a, b]), 1.1, now, OPTIONS);
  assert.equal(s.kind, 'Surge');
  if (s.kind === 'Surge') {
    assert.equal(s.pods, 2);
    assert.equal(s.since, a.t);
    // The largest rise, 1.8, plus the 30% margin.
    assert.ok(Math.abs(s.headroom - 1.8 * 1.3) < 1e-9, `${s.headroom}`);
  }
  assert.deepEqual(surgeFor(view([a, b]), 5, now, OPTIONS), CALM, 'a pod at 5x their level is not alike');
  assert.deepEqual(surgeFor(view([a, b], 'a'), 1.1, now, OPTIONS), CALM, 'a pod that rose itself');
  const far = rise(now - 50 * MIN, 'a', 1.0, 1.8);
  assert.deepEqual(surgeFor(view([far, b]), 1.1, now, OPTIONS), CALM, '45 minutes apart');
  assert.deepEqual(surgeFor(view([a, b]), 1.1, b.t + 2 * HOUR + MIN, OPTIONS), CALM, 'over after the hold');
  assert.equal(surgeFor(view([a, b]), 1.1, b.t + 2 * HOUR - MIN, OPTIONS).kind, 'Surge', 'held');
  assert.deepEqual(surgeFor(view([a, b]), 1.1, a.t + MIN, OPTIONS), CALM, 'b has not risen yet at that time');
  const huge = rise(now - 5 * MIN, 'b', 1.2, 9);
  const capped = surgeFor(view([a, huge]), 1.1, now, OPTIONS);
  assert.ok(capped.kind === 'Surge' && Math.abs(capped.headroom - 2 * 1.3) < 1e-9, 'head-room capped at x2');
});

test('a surge raises target and lower bound to the pod peak times its head-room; calm changes nothing', () => {
  const own: Recommendation = { target: 1.2, lowerBound: 1.05, upperBound: 1.4, reason: 'RecentPeak' };
  const surge = { kind: 'Surge', since: 0, pods: 2, headroom: 2 } as const;
  assert.equal(
    withFleetSurge(own, CALM, 1, (v) => v),
    own,
  );
  assert.deepEqual(
    withFleetSurge(own, surge, 1, (v) => v),
    {
      target: 2,
      lowerBound: 2,
      upperBound: 2,
      reason: 'FleetSurge',
    },
  );
  // Clamped by the config's maximum: the floor is 1.5, still above the target.
  assert.deepEqual(
    withFleetSurge(own, surge, 1, (v) => Math.min(v, 1.5)),
    {
      target: 1.5,
      lowerBound: 1.5,
      upperBound: 1.5,
      reason: 'FleetSurge',
    },
  );
  // A floor below the target only lifts the lower bound.
  assert.deepEqual(
    withFleetSurge(own, surge, 0.55, (v) => v),
    { ...own, lowerBound: 1.1 },
  );
});

test('recommend() with the fleet: the memory defaults follow a surge of alike pods, and without it nothing changes', () => {
  const Mi = 2 ** 20;
  const state = createState(MEMORY_DEFAULTS);
  const t0 = 1_700_000_000;
  for (let m = 0; m < 6 * 60; m++) addSample(state, { t: t0 + m * MIN, value: 100 * Mi }, MEMORY_DEFAULTS);
  const now = t0 + 6 * HOUR;
  const alone = recommend(state, now, MEMORY_DEFAULTS);
  const rises = [rise(now - 10 * MIN, 'a', 110 * Mi, 1.6), rise(now - 4 * MIN, 'b', 90 * Mi, 1.5)];
  const withFleet = recommend(state, now, MEMORY_DEFAULTS, { pod: 'me', rises });
  assert.equal(withFleet.reason, 'FleetSurge');
  const expected = 100 * Mi * 1.6 * (1 + MEMORY_FLEET_SURGE.margin);
  assert.ok(withFleet.target >= expected && withFleet.target < expected * 1.02, `${withFleet.target}`);
  assert.equal(withFleet.lowerBound, withFleet.target);
  assert.deepEqual(recommend(state, now, MEMORY_DEFAULTS, { pod: 'me', rises: [] }), alone);
});

test('in the replay, a pod whose alike pods surged first is raised before its own jump', () => {
  const minutes = 6 * 60;
  const jumpAt = (m: number) => (i: number) => (i >= m ? 0.4 : 0.2);
  const pod = (name: string, from: number): PodInput => ({
    pod: name,
    samples: Array.from({ length: minutes }, (_, i) => ({ t: i * MIN, value: jumpAt(from)(i) })),
  });
  // Two leaders double at minute 200; the follower doubles at minute 217 (between two decisions).
  const fleet = [pod('lead-1', 200), pod('lead-2', 200), pod('follower', 217)];
  const ctx = { pod: 'follower', unit: 'fraction' as const, handSet: 1, scoredFrom: HOUR };
  const alone = replayPod(tailor(), fleet[2]!, ctx, REPLAY_PROTOCOL);
  const together = replayPod(tailor(undefined, undefined, fleet), fleet[2]!, ctx, REPLAY_PROTOCOL);
  assert.equal(alone.oomEvents, 1, 'on its own history the jump kills');
  assert.equal(together.oomEvents, 0, 'warned by the leaders');
});
