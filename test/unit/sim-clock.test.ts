import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simClock } from '../../src/sim/clock.ts';

test('a fast simulated clock maps its instants back to wall-clock time for the API', () => {
  let wall = 1_000;
  const clock = simClock(60, 1_717_400_000, () => wall);
  assert.equal(clock.now(), 1_717_400_000);
  wall += 10; // ten real seconds are ten simulated minutes
  assert.equal(clock.now(), 1_717_400_600);
  assert.equal(clock.wall(clock.now()).getTime(), 1_010_000);
  assert.equal(
    clock.wall(1_717_400_000).getTime(),
    1_000_000,
    'the simulated start happened at the real start',
  );
});
