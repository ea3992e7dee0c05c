// planExpansion, path by path: every Hold, Expand and Recover, in the order the planner checks them,
// and the two safety rules (never shrink, never below status.capacity on recovery).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_VOLUME_RULES,
  GiB,
  planExpansion,
  resolveRules,
  type ClaimState,
  type HoldReason,
  type ExpandReason,
  type VolumeDecision,
  type VolumeRules,
  type VolumeSample,
} from '../../src/core/volume/index.ts';

const HOUR = 3600;
const NOW = 1_800_000_000;
const RULES: VolumeRules = { ...DEFAULT_VOLUME_RULES, maxBytes: 500 * GiB };

/** A 100Gi claim, bound and idle. */
function claim(over: Partial<ClaimState> = {}): ClaimState {
  return {
    namespace: 'team-a',
    name: 'model-cache',
    requestBytes: 100 * GiB,
    capacityBytes: 100 * GiB,
    resizing: false,
    expandable: true,
    ...over,
  };
}

/**
 * A day of kubelet samples, one a minute up to `now`, of a file system on a claim of `claimBytes`
 * (ext4: 98% of it is the file system, 5% of that reserved) whose used bytes end at `usedNow` after
 * growing `perHour` bytes an hour.
 */
function filling(opts: {
  usedNow: number;
  perHour?: number;
  claimBytes?: number;
  now?: number;
  hours?: number;
}): VolumeSample[] {
  const now = opts.now ?? NOW;
  const size = opts.claimBytes ?? 100 * GiB;
  const capacity = size * 0.98;
  const usable = capacity * 0.95;
  const out: VolumeSample[] = [];
  for (let t = now - (opts.hours ?? 24) * HOUR; t <= now; t += 60) {
    const used = Math.max(0, opts.usedNow - ((opts.perHour ?? 0) * (now - t)) / HOUR);
    out.push({ at: t, usedBytes: used, capacityBytes: capacity, availableBytes: Math.max(0, usable - used) });
  }
  return out;
}

function expectHold(d: VolumeDecision, why: HoldReason): void {
  assert.equal(d.action, 'Hold', d.message);
  if (d.action === 'Hold') assert.equal(d.why, why, d.message);
}

function expectExpand(d: VolumeDecision, why: ExpandReason): number {
  assert.equal(d.action, 'Expand', d.message);
  if (d.action !== 'Expand') return NaN;
  assert.equal(d.why, why, d.message);
  assert.equal(d.toBytes % GiB === 0 || d.toBytes === RULES.maxBytes, true, `whole GiB: ${d.toBytes}`);
  return d.toBytes;
}

test('1. no samples, or only stale ones: hold (NoFreshStats), never resize on a guess', () => {
  expectHold(planExpansion({ now: NOW, rules: RULES, claim: claim(), samples: [] }), 'NoFreshStats');
  // Full and stale: still no resize.
  const stale = filling({ usedNow: 92 * GiB, now: NOW - 10 * 60 });
  const d = planExpansion({ now: NOW, rules: RULES, claim: claim(), samples: stale });
  expectHold(d, 'NoFreshStats');
  assert.match(d.message, /10m old.*not resizing on a guess/);
  // The same samples are fresh with a longer limit.
  assert.equal(
    planExpansion({ now: NOW, rules: RULES, claim: claim(), samples: stale, freshSeconds: 900 }).action,
    'Expand',
  );
  // Samples from the future do not count as fresh.
  expectHold(
    planExpansion({
      now: NOW - 3 * HOUR,
      rules: RULES,
      claim: claim(),
      samples: filling({ usedNow: 92 * GiB }).slice(-60),
    }),
    'NoFreshStats',
  );
});

test('2. a failed expansion is recovered to status.capacity, never below it', () => {
  const samples = filling({ usedNow: 92 * GiB });
  for (const resizeStatus of ['ControllerResizeInfeasible', 'NodeResizeInfeasible'] as const) {
    const d = planExpansion({
      now: NOW,
      rules: RULES,
      claim: claim({
        requestBytes: 200 * GiB,
        allocatedBytes: 200 * GiB,
        capacityBytes: 100 * GiB,
        resizeStatus,
      }),
      samples,
    });
    assert.equal(d.action, 'Recover', d.message);
    if (d.action === 'Recover') {
      assert.equal(d.toBytes, 100 * GiB);
      assert.match(d.message, new RegExp(`${resizeStatus}.*lowering the request back to 100Gi`));
    }
  }
  // Already lowered: hold while the resizer clears the status, never lower again.
  expectHold(
    planExpansion({
      now: NOW,
      rules: RULES,
      claim: claim({ resizeStatus: 'ControllerResizeInfeasible' }),
      samples,
    }),
    'ResizeInProgress',
  );
});

test('3. an expansion under way: hold (ResizeInProgress)', () => {
  const samples = filling({ usedNow: 92 * GiB });
  for (const over of [
    { resizing: true },
    { resizeStatus: 'ControllerResizeInProgress' as const },
    { resizeStatus: 'NodeResizePending' as const },
    { resizeStatus: 'NodeResizeInProgress' as const },
    { requestBytes: 120 * GiB },
  ])
    expectHold(planExpansion({ now: NOW, rules: RULES, claim: claim(over), samples }), 'ResizeInProgress');
});

test('4. a StorageClass without expansion: hold (NotExpandable), saying it is below the threshold', () => {
  const d = planExpansion({
    now: NOW,
    rules: RULES,
    claim: claim({ expandable: false }),
    samples: filling({ usedNow: 92 * GiB }),
  });
  expectHold(d, 'NotExpandable');
  assert.match(d.message, /allowVolumeExpansion.*below the 10% threshold/);
});

test('5. at the maximum, or a maximum below the current size: hold (AtMaximum)', () => {
  const samples = filling({ usedNow: 92 * GiB });
  const d = planExpansion({ now: NOW, rules: { ...RULES, maxBytes: 100 * GiB }, claim: claim(), samples });
  expectHold(d, 'AtMaximum');
  assert.match(d.message, /maximum size 100Gi.*below the 10% threshold.*raise the maximum/);
  const below = planExpansion({ now: NOW, rules: { ...RULES, maxBytes: 50 * GiB }, claim: claim(), samples });
  expectHold(below, 'AtMaximum');
  assert.match(below.message, /below the current size 100Gi/);
});

test('6. cooling down: hold (CoolingDown), saying when it is below the threshold', () => {
  const d = planExpansion({
    now: NOW,
    rules: RULES,
    claim: claim({ lastExpansionAt: NOW - 2 * HOUR }),
    samples: filling({ usedNow: 92 * GiB }),
  });
  expectHold(d, 'CoolingDown');
  assert.match(d.message, /expanded 2h ago; the next expansion may come in 4h.*below the 10% threshold/);
  // After the cooldown it expands.
  const after = planExpansion({
    now: NOW,
    rules: RULES,
    claim: claim({ lastExpansionAt: NOW - 7 * HOUR }),
    samples: filling({ usedNow: 92 * GiB }),
  });
  expectExpand(after, 'BelowThreshold');
});

test('7. below the threshold now (bytes, or inodes): expand by at least a step, whole GiB', () => {
  const d = planExpansion({
    now: NOW,
    rules: RULES,
    claim: claim(),
    samples: filling({ usedNow: 88 * GiB }),
  });
  const to = expectExpand(d, 'BelowThreshold');
  assert.ok(to >= 104 * GiB, `at least one 4% step: ${to / GiB}Gi`);
  assert.match(
    d.message,
    /free of .*below the 10% threshold: expanding team-a\/model-cache from 100Gi to \d+Gi/,
  );

  // A bytes threshold: 20Gi free is the limit.
  const bytes = { ...RULES, threshold: { bytes: 20 * GiB } };
  expectExpand(
    planExpansion({ now: NOW, rules: bytes, claim: claim(), samples: filling({ usedNow: 75 * GiB }) }),
    'BelowThreshold',
  );
  expectHold(
    planExpansion({ now: NOW, rules: bytes, claim: claim(), samples: filling({ usedNow: 60 * GiB }) }),
    'EnoughRoom',
  );

  // Inodes: plenty of bytes, 3% of inodes free.
  const inodes = filling({ usedNow: 30 * GiB }).map((s) => ({
    ...s,
    inodes: 1_000_000,
    inodesUsed: 970_000,
    inodesFree: 30_000,
  }));
  const di = planExpansion({ now: NOW, rules: RULES, claim: claim(), samples: inodes });
  const toInodes = expectExpand(di, 'BelowThreshold');
  assert.match(di.message, /30000 inodes free of 1000000 \(3%\), below the 5% threshold/);
  // Enough inodes afterwards: 970k used must be at most 95% of the grown file system's inodes.
  assert.ok(970_000 / (1_000_000 * (toInodes / (100 * GiB))) <= 0.95);
});

test('8. a known step bigger than the room above the threshold: expand to fit it (KnownGrowth)', () => {
  const samples = filling({ usedNow: 40 * GiB });
  const known = { bytes: 60 * GiB, reason: 'revision 3f2a of meta-llama/Llama-3.1-8B' };
  const d = planExpansion({ now: NOW, rules: RULES, claim: claim(), samples, known });
  const to = expectExpand(d, 'KnownGrowth');
  assert.match(d.message, /revision 3f2a of meta-llama\/Llama-3.1-8B needs 60.0Gi/);
  // After the download the volume still keeps the threshold: 100Gi used out of a usable share of `to`.
  const usable = to * 0.98 * 0.95;
  assert.ok(usable - 100 * GiB >= 0.1 * to * 0.98, `room kept at ${to / GiB}Gi`);
  // A known step that fits leaves the volume alone.
  expectHold(
    planExpansion({
      now: NOW,
      rules: RULES,
      claim: claim(),
      samples,
      known: { bytes: 10 * GiB, reason: 'an adapter' },
    }),
    'EnoughRoom',
  );
});

test('9. the threshold crossed within the horizon at the recent growth: expand ahead (Forecast)', () => {
  // 70Gi used of ~93Gi usable, 2Gi/h: the 10% threshold (9.8Gi free) in ~6.6h.
  const samples = filling({ usedNow: 70 * GiB, perHour: 2 * GiB });
  const twelve = { ...RULES, horizonSeconds: 12 * HOUR };
  const d = planExpansion({ now: NOW, rules: twelve, claim: claim(), samples });
  const to = expectExpand(d, 'Forecast');
  assert.match(
    d.message,
    /growing 2.0Gi\/h: the 10% threshold would be crossed in 6h 3\dm \(full in 11h 3\dm\), within the 12h horizon/,
  );
  assert.ok(
    d.action === 'Expand' &&
      d.timeToFullSeconds !== undefined &&
      Math.abs(d.timeToFullSeconds / HOUR - 11.55) < 0.2,
  );
  // At least a step; here the step is more than the cooldown's growth needs.
  assert.equal(to, 104 * GiB);
  assert.match(d.message, /from 100Gi to 104Gi \(one step of 4%\)/);
  // A shorter horizon waits: the crossing is 6.6h away.
  const four = planExpansion({
    now: NOW,
    rules: { ...RULES, horizonSeconds: 4 * HOUR },
    claim: claim(),
    samples,
  });
  expectHold(four, 'EnoughRoom');
  assert.match(four.message, /full in 11h 3\dm, the 10% threshold in 6h 3\dm, beyond the 4h horizon/);
  // The same volume growing slowly has enough room.
  const slow = planExpansion({
    now: NOW,
    rules: twelve,
    claim: claim(),
    samples: filling({ usedNow: 70 * GiB, perHour: 0.1 * GiB }),
  });
  expectHold(slow, 'EnoughRoom');
  assert.match(slow.message, /growing 102Mi\/h: full in 9d 1\dh/);
});

test('log rotation (drops) far from the threshold does not make a forecast', () => {
  // Rotating logs: 2Gi/h for 6h, then back to 50Gi, four times a day, now 55Gi: the largest window
  // sees 2Gi/h, the day's regression about nothing; 30Gi above the threshold is 15h at 2Gi/h.
  const samples: VolumeSample[] = [];
  for (let t = NOW - 24 * HOUR; t <= NOW; t += 60) {
    const used = 50 * GiB + 2 * GiB * (((t - (NOW - 24 * HOUR) + 3.5 * HOUR) % (6 * HOUR)) / HOUR);
    samples.push({ at: t, usedBytes: used, capacityBytes: 98 * GiB, availableBytes: 93.1 * GiB - used });
  }
  const d = planExpansion({ now: NOW, rules: RULES, claim: claim(), samples });
  expectHold(d, 'EnoughRoom');
});

test('expansion size: max(step, the growth until the cooldown ends), capped at the maximum and said so', () => {
  // 10Gi/h on a 100Gi volume: 6h of cooldown is 60Gi more than today's use.
  const fast = filling({ usedNow: 85 * GiB, perHour: 10 * GiB, hours: 6 });
  const d = planExpansion({ now: NOW, rules: RULES, claim: claim(), samples: fast });
  const to = expectExpand(d, 'BelowThreshold');
  assert.ok(to >= 150 * GiB, `sized for the growth: ${to / GiB}Gi`);
  assert.match(d.message, /\d+Gi holds the use and 6h of growth at \d+\.\dGi\/h with the threshold free/);
  const capped = planExpansion({
    now: NOW,
    rules: { ...RULES, maxBytes: 130 * GiB },
    claim: claim(),
    samples: fast,
  });
  assert.equal(capped.action, 'Expand');
  if (capped.action === 'Expand') {
    assert.equal(capped.toBytes, 130 * GiB);
    assert.match(capped.message, /capped at the maximum 130Gi/);
  }
});

test('never shrinks: an expansion is never below the request', () => {
  // Stats from a claim bigger than its status says (a request raised by hand), below the threshold.
  for (const requestBytes of [100 * GiB, 100 * GiB + 1]) {
    const d = planExpansion({
      now: NOW,
      rules: resolveRules({ maxSize: '1Ti', step: '1Gi' }),
      claim: claim({ requestBytes, capacityBytes: requestBytes }),
      samples: filling({ usedNow: 90 * GiB }),
    });
    assert.equal(d.action, 'Expand');
    if (d.action === 'Expand') assert.ok(d.toBytes > requestBytes, d.message);
  }
  // Whatever the stats say, no decision carries a size below the request.
  for (const usedNow of [0, 10 * GiB, 50 * GiB, 85 * GiB, 92 * GiB])
    for (const perHour of [0, 1 * GiB, 20 * GiB]) {
      const d = planExpansion({
        now: NOW,
        rules: RULES,
        claim: claim(),
        samples: filling({ usedNow, perHour }),
      });
      if (d.action !== 'Hold') assert.ok(d.toBytes >= 100 * GiB, d.message);
    }
});

test('inodes running out within the horizon: expand ahead (Forecast), sized for the inodes', () => {
  // Bytes are plentiful; 1M inodes, 7% free, 10k more used an hour: 5% in 2h... within 3h.
  const samples = filling({ usedNow: 20 * GiB }).map((s) => {
    const used = 930_000 - ((NOW - s.at) / HOUR) * 10_000;
    return { ...s, inodes: 1_000_000, inodesUsed: used, inodesFree: 1_000_000 - used };
  });
  const d = planExpansion({
    now: NOW,
    rules: { ...RULES, horizonSeconds: 3 * HOUR },
    claim: claim(),
    samples,
  });
  const to = expectExpand(d, 'Forecast');
  assert.match(
    d.message,
    /70000 inodes free of 1000000, used at 10000\/h: the 5% inodes threshold would be crossed in 2h/,
  );
  // After the cooldown's 60k more inodes, 990k used still leave 5% of the grown file system's inodes.
  assert.ok(990_000 / (1_000_000 * (to / (100 * GiB))) <= 0.95 + 1e-9, `${to / GiB}Gi`);
  // With a 1h horizon it waits.
  expectHold(
    planExpansion({ now: NOW, rules: { ...RULES, horizonSeconds: HOUR }, claim: claim(), samples }),
    'EnoughRoom',
  );
});
