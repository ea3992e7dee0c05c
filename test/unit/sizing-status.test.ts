// The SizingPolicy status the controller writes: conditions keep their transition times, small
// moves of a recommendation do not rewrite status, and a status equal but for key order is equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerRecommendation } from '../../src/api/index.ts';
import {
  mergeConditions,
  settleRecommendations,
  settleSavings,
  statusChanged,
} from '../../src/controllers/sizing/status.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

test('mergeConditions: lastTransitionTime moves only when the status flips', () => {
  const first = mergeConditions(
    undefined,
    [{ type: 'Ready', status: 'False', reason: 'NoMetrics', message: 'm' }],
    1,
    t0,
  );
  assert.equal(first[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(first[0]?.observedGeneration, 1);
  const reasonOnly = mergeConditions(
    first,
    [{ type: 'Ready', status: 'False', reason: 'NoPods', message: 'n' }],
    2,
    t1,
  );
  assert.equal(reasonOnly[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'same status: same time');
  assert.equal(reasonOnly[0]?.reason, 'NoPods');
  const flipped = mergeConditions(
    first,
    [{ type: 'Ready', status: 'True', reason: 'Applying', message: '' }],
    2,
    t1,
  );
  assert.equal(flipped[0]?.lastTransitionTime, '2026-01-01T01:00:00Z');
});

const rec = (
  cpu: string,
  memory: string,
  basis = '10 one-minute samples from 1 pod over 10 min',
): ContainerRecommendation => ({
  name: 'app',
  target: { cpu, memory },
  lowerBound: { cpu, memory },
  upperBound: { cpu, memory },
  basis,
});

test('settleRecommendations: within tolerance the stored one stays (no write); beyond, the new one', () => {
  const stored = [rec('100m', '100Mi')];
  assert.deepEqual(
    settleRecommendations(
      stored,
      [rec('101m', '101Mi', '11 one-minute samples from 1 pod over 11 min')],
      0.02,
    ),
    stored,
    '1% moves and a new sample count keep the stored entry',
  );
  assert.deepEqual(settleRecommendations(stored, [rec('110m', '100Mi')], 0.02), [rec('110m', '100Mi')]);
  assert.deepEqual(
    settleRecommendations(
      stored,
      [rec('100m', '100Mi', '10 one-minute samples from 1 pod over 10 min; 1 OOM kill')],
      0.02,
    )[0]?.basis,
    '10 one-minute samples from 1 pod over 10 min; 1 OOM kill',
    'a basis that says something new is written',
  );
  assert.deepEqual(settleRecommendations(undefined, [rec('1', '1Gi')], 0.02), [rec('1', '1Gi')]);
});

test('settleRecommendations: a higher memory peak (the floor of new pods) is written at once', () => {
  const withPeak = (peak: string) => ({ ...rec('100m', '100Mi'), peak: { memory: peak } });
  const stored = [withPeak('200Mi')];
  assert.deepEqual(settleRecommendations(stored, [withPeak('201Mi')], 0.02), [withPeak('201Mi')], 'up 0.5%');
  assert.deepEqual(settleRecommendations(stored, [withPeak('199Mi')], 0.02), stored, 'down 0.5%: kept');
  assert.deepEqual(settleRecommendations([rec('100m', '100Mi')], stored, 0.02), stored, 'a peak appears');
});

test('statusChanged: key order and undefined fields do not count; values do', () => {
  const a = { target: 'Deployment/web', pods: { targeted: 1, withoutMetrics: 0 } };
  assert.equal(
    statusChanged({ pods: { withoutMetrics: 0, targeted: 1 }, target: 'Deployment/web' }, a),
    false,
  );
  assert.equal(statusChanged(a, { ...a, lastApplied: undefined }), false);
  assert.equal(statusChanged(a, { ...a, pods: { targeted: 2, withoutMetrics: 0 } }), true);
  assert.equal(statusChanged(undefined, a), true);
});

test('settleSavings: a saving that moves by a cent keeps the stored one; a real move, a sign change or a new currency is written', () => {
  const stored = { cost: '412.50', currency: 'USD', co2eKg: '3.210' };
  assert.equal(settleSavings(stored, { cost: '412.51', currency: 'USD', co2eKg: '3.212' }, 0.02), stored);
  const moved = { cost: '380.00', currency: 'USD', co2eKg: '3.210' };
  assert.equal(settleSavings(stored, moved, 0.02), moved);
  const co2Moved = { cost: '412.50', currency: 'USD', co2eKg: '2.000' };
  assert.equal(settleSavings(stored, co2Moved, 0.02), co2Moved);
  const flipped = { cost: '-0.01', currency: 'USD', co2eKg: '3.210' };
  assert.equal(settleSavings({ ...stored, cost: '0.01' }, flipped, 0.02), flipped);
  const euros = { cost: '412.50', currency: 'EUR', co2eKg: '3.210' };
  assert.equal(settleSavings(stored, euros, 0.02), euros);
  assert.equal(settleSavings(stored, undefined, 0.02), undefined, 'no estimate any more: it goes');
  assert.deepEqual(settleSavings(undefined, stored, 0.02), stored);
});
