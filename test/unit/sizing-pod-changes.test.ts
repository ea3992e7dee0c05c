// What the sizing controller remembers per pod: changes in the last hour (maxChangesPerHour), the
// last change (cooldown) and the last patch that did not land (cleared by a change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodChanges } from '../../src/controllers/sizing/pod-changes.ts';

test('PodChanges: counts per hour, last change, last attempt, forget', () => {
  const c = new PodChanges();
  assert.equal(c.lastChange('a'), undefined);
  assert.equal(c.changesSince('a', 0), 0);
  c.recordChange('a', 1000);
  c.recordChange('a', 5000);
  c.recordChange('a', 8000);
  assert.equal(c.lastChange('a'), 8000);
  assert.equal(c.changesSince('a', 8000 - 3600), 2, 'the change at 1000 is over an hour before 8000');
  const patch = { spec: { containers: [] } };
  c.recordAttempt('a', { outcome: 'Infeasible', patch, message: 'no room' });
  assert.equal(c.lastAttempt('a')?.outcome, 'Infeasible');
  c.recordChange('a', 9000);
  assert.equal(c.lastAttempt('a'), undefined, 'a change that landed clears the failed attempt');
  assert.equal(c.lastChange('b'), undefined, 'per pod');
  c.forget('a');
  assert.equal(c.lastChange('a'), undefined);
});
