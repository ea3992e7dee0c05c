import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollingWindow } from '../../src/sources/volume-stats/rolling.ts';
import type { VolumeStatsSource } from '../../src/sources/volume-stats.ts';
import type { VolumeSample } from '../../src/core/volume/types.ts';

const sample = (at: number, usedBytes: number): VolumeSample => ({
  at,
  usedBytes,
  capacityBytes: 100,
  availableBytes: 100 - usedBytes,
});

/** A source with one sample a minute up to `now`, recording every window it is asked for. */
function recordingSource(clock: { t: number }) {
  const reads: { since: number; namespaces?: readonly string[] }[] = [];
  let failing = false;
  const source: VolumeStatsSource = {
    name: 'recording',
    read(since, namespaces) {
      reads.push({ since, ...(namespaces ? { namespaces } : {}) });
      if (failing) return Promise.reject(new Error('source down'));
      const samples: VolumeSample[] = [];
      for (let at = Math.ceil(since / 60) * 60; at <= clock.t; at += 60) samples.push(sample(at, at % 100));
      return Promise.resolve(new Map([['ns/cache', samples]]));
    },
  };
  return { source, reads, fail: (f: boolean) => (failing = f) };
}

test('the second read asks only for what is new (with the overlap) and returns the same window as a full read', async () => {
  const clock = { t: 1_000_000 };
  const week = 7 * 86_400;
  const { source, reads } = recordingSource(clock);
  const rolling = rollingWindow(source, { now: () => clock.t });
  await rolling.read(clock.t - week);
  clock.t += 60;
  const got = await rolling.read(clock.t - week);
  assert.equal(reads.length, 2);
  assert.equal(reads[1]!.since, clock.t - 60 - 600, 'from the last read minus 10 min');
  const full = await recordingSource(clock).source.read(clock.t - week);
  assert.deepEqual(got, full, 'the merged window equals a full read: nothing twice, nothing missing');
});

test('a full read again after an hour, or when the window reaches further back', async () => {
  const clock = { t: 2_000_000 };
  const { source, reads } = recordingSource(clock);
  const rolling = rollingWindow(source, { now: () => clock.t });
  await rolling.read(clock.t - 86_400);
  await rolling.read(clock.t - 2 * 86_400);
  assert.equal(reads[1]!.since, clock.t - 2 * 86_400, 'a longer window is read whole');
  clock.t += 3600;
  await rolling.read(clock.t - 86_400);
  assert.equal(reads[2]!.since, clock.t - 86_400, 'an hour on: whole again');
});

test('namespaces are windows of their own; a failed read throws and keeps the window', async () => {
  const clock = { t: 3_000_000 };
  const { source, reads, fail } = recordingSource(clock);
  const rolling = rollingWindow(source, { now: () => clock.t });
  await rolling.read(clock.t - 86_400, ['b', 'a']);
  await rolling.read(clock.t - 86_400, ['c']);
  assert.equal(reads[1]!.since, clock.t - 86_400, 'another scope starts with a full read');
  clock.t += 120;
  fail(true);
  await assert.rejects(rolling.read(clock.t - 86_400, ['a', 'b']), /source down/);
  fail(false);
  const got = await rolling.read(clock.t - 86_400, ['a', 'b']);
  assert.equal(reads.at(-1)!.since, clock.t - 120 - 600, 'still incremental from the last good read');
  assert.deepEqual(got, await recordingSource(clock).source.read(clock.t - 86_400));
});
