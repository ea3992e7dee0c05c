// The savings ledger: pod-second weighting, buckets (5 min, then hours), the 35-day trim, the codec and its cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COARSE_WIDTH,
  EMPTY_LEDGER,
  FINE_WIDTH,
  KEEP_SECONDS,
  decodeLedger,
  encodeLedger,
  record,
  type ContainerSample,
  type Ledger,
} from '../../src/core/report/ledger.ts';

const GiB = 2 ** 30;
const web = { kind: 'Deployment', name: 'web' };
const sample = (pods: number, cpu = 1, base = 2): ContainerSample => ({
  workload: web,
  container: 'app',
  pods: Array.from({ length: pods }, () => ({
    requested: { cpu, memory: GiB, gpu: 0 },
    baseline: { cpu: base, memory: 2 * GiB, gpu: 0 },
    used: { cpu: 0.25, memory: GiB / 2, gpu: 0 },
    recommended: { cpu: 0.5, memory: GiB, gpu: 0 },
  })),
  oomKills: 0,
  resizes: 0,
});

/** Samples every `step` seconds from t0 for `count` steps. */
function run(
  t0: number,
  step: number,
  count: number,
  s: ContainerSample,
  from: Ledger = EMPTY_LEDGER,
): Ledger {
  let l = from;
  for (let i = 0; i < count; i++) l = record(l, t0 + i * step, [s]);
  return l;
}

test('ledger: the first sample starts the clock; later ones add pod-seconds weighted amounts', () => {
  const t0 = 1_800_000_000; // aligned to 5 minutes
  const l = run(t0, 60, 5, sample(2));
  const [c] = l.containers;
  assert.equal(c!.buckets.length, 1);
  const b = c!.buckets[0]!;
  assert.equal(b.width, FINE_WIDTH);
  assert.equal(b.seconds, 240, 'four intervals of 60 s observed');
  assert.equal(b.podSeconds, 480, 'two pods');
  assert.equal(b.requested.cpu, 480, 'one core each');
  assert.equal(b.baseline.cpu - b.requested.cpu, 480, 'a core-second saved per pod-second');
  assert.equal(b.used.memory / b.usedPodSeconds, GiB / 2);
});

test('ledger: a gap longer than 10 minutes (operator down) is not attributed', () => {
  const t0 = 1_800_000_000;
  const l = record(record(EMPTY_LEDGER, t0, [sample(1)]), t0 + 7200, [sample(1)]);
  const total = l.containers[0]!.buckets.reduce((n, b) => n + b.podSeconds, 0);
  assert.equal(total, 600);
});

test('ledger: five-minute buckets for 48 h, hourly before, nothing older than 35 days', () => {
  const t0 = 1_800_000_000;
  const hours = 60;
  const l = run(t0, 300, (hours * 3600) / 300 + 1, sample(1));
  const buckets = l.containers[0]!.buckets;
  const fine = buckets.filter((b) => b.width === FINE_WIDTH).length;
  const coarse = buckets.filter((b) => b.width === COARSE_WIDTH).length;
  assert.ok(fine >= 575 && fine <= 577, `48 h of 5-minute buckets: ${fine}`);
  assert.ok(coarse >= 11 && coarse <= 13, `12 hours before: ${coarse}`);
  // Rolling up keeps the totals.
  const total = buckets.reduce((n, b) => n + b.podSeconds, 0);
  assert.equal(total, hours * 3600);
  // Sorted, no overlaps.
  for (let i = 1; i < buckets.length; i++)
    assert.ok(buckets[i]!.start >= buckets[i - 1]!.start + buckets[i - 1]!.width, `bucket ${i} overlaps`);
  const later = record(l, t0 + hours * 3600 + KEEP_SECONDS + 3600, [sample(1)]);
  assert.equal(later.containers[0]!.buckets.length, 1, 'only the new bucket is left after 35 days');
});

test('ledger: encode and decode round-trip, OOM kills and resizes kept', () => {
  const t0 = 1_800_000_000;
  let l = run(t0, 60, 30, sample(3, 1.5, 2));
  l = record(l, t0 + 30 * 60, [{ ...sample(3, 1.5, 2), oomKills: 1, resizes: 2 }]);
  const e = encodeLedger(l);
  assert.equal(e.dropped, 0);
  const d = decodeLedger(e.data);
  assert.equal(d.skipped, 0);
  assert.equal(d.error, undefined);
  const [a, b] = [l.containers[0]!, d.ledger.containers[0]!];
  assert.equal(b.through, a.through);
  assert.equal(b.buckets.length, a.buckets.length);
  for (const [i, x] of a.buckets.entries()) {
    const y = b.buckets[i]!;
    assert.equal(y.start, x.start);
    assert.equal(y.podSeconds, x.podSeconds);
    assert.ok(Math.abs(y.requested.cpu - x.requested.cpu) < 1e-6 * x.requested.cpu + 1e-9);
    assert.ok(Math.abs(y.baseline.memory - x.baseline.memory) <= 1e-5 * x.baseline.memory);
  }
  assert.equal(
    b.buckets.reduce((n, x) => n + x.oomKills, 0),
    1,
  );
  assert.equal(
    b.buckets.reduce((n, x) => n + x.resizes, 0),
    2,
  );
});

test('ledger: over the cap, the oldest buckets go first; damage decodes to nothing, not a crash', () => {
  const t0 = 1_800_000_000;
  // 30 days of 5-minute samples with changing values (less compressible).
  let l: Ledger = EMPTY_LEDGER;
  for (let i = 0; i < 30 * 24 * 12; i++)
    l = record(l, t0 + i * 300, [sample(1 + (i % 7), 1 + (i % 13) / 10)]);
  const full = encodeLedger(l);
  assert.equal(full.dropped, 0);
  const capped = encodeLedger(l, Math.floor(full.data.length / 2));
  assert.ok(capped.data.length <= full.data.length / 2);
  assert.ok(capped.dropped > 0);
  const d = decodeLedger(capped.data).ledger.containers[0]!.buckets;
  assert.equal(d[d.length - 1]!.start, l.containers[0]!.buckets.at(-1)!.start, 'the newest bucket kept');
  assert.ok(decodeLedger('not base64 gzip').error);
  assert.deepEqual(decodeLedger(undefined).ledger, EMPTY_LEDGER);
});
