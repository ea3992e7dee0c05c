// The report's volumes section: wasted claims priced by their StorageClass in whole cents, totals
// per tenant that add up, only the namespaces asked about, and no verdict without the stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/core/report/build.ts';
import { volumeWasteReport, type VolumeFacts } from '../../src/core/report/volumes.ts';
import { parsePriceOverrides } from '../../src/core/cost/index.ts';
import type { VolumeSample } from '../../src/core/volume/index.ts';

const GiB = 2 ** 30;
const DAY = 86_400;
const NOW = 1_800_000_000;

function flat(capacity: number, used: number, seconds = DAY): VolumeSample[] {
  const out: VolumeSample[] = [];
  for (let at = NOW - seconds; at <= NOW; at += 60)
    out.push({ at, usedBytes: used, capacityBytes: capacity, availableBytes: capacity - used });
  return out;
}

const facts = (over: Partial<VolumeFacts> = {}): VolumeFacts => ({
  source: 'prometheus',
  samples: new Map([
    ['team-a/models', flat(200 * GiB, 20 * GiB)], // 23 GiB suggested, 177 wasted
    ['team-a/cache', flat(100 * GiB, 9 * GiB)], // 10 GiB suggested, 90 wasted
    ['team-a/busy', flat(100 * GiB, 80 * GiB)],
    ['team-b/data', flat(50 * GiB, GiB)], // 2 GiB suggested, 48 wasted
    ['team-b/young', flat(50 * GiB, GiB, DAY / 4)],
  ]),
  storageClassOf: new Map([
    ['team-a/models', 'gp3'],
    ['team-a/cache', 'gp3'],
    ['team-b/data', 'sim'],
  ]),
  storageClasses: [
    { name: 'gp3', provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3' } },
    { name: 'sim', provisioner: 'sim.csi.tailor.dev' },
  ],
  ...over,
});

void test('wasted claims are priced by their class, sorted by tenant then waste, with tenant totals', () => {
  const v = volumeWasteReport({ now: NOW, windowSeconds: DAY, facts: facts() });
  assert.equal(v.claims, 5);
  assert.deepEqual(
    v.wasted.map((w) => [w.namespace, w.claim, w.storageClass, w.suggestedBytes / GiB, w.wasteBytes / GiB]),
    [
      ['team-a', 'models', 'gp3', 23, 177],
      ['team-a', 'cache', 'gp3', 10, 90],
      ['team-b', 'data', 'sim', 2, 48],
    ],
  );
  const models = v.wasted[0]!;
  assert.equal(models.monthlyCost, 16); // 200 GiB at $0.08
  assert.equal(models.wasteMonthlyCost, 14.16); // 177 GiB at $0.08
  assert.equal(models.currency, 'USD');
  assert.match(models.price, /aws gp3 \$0.08\/GiB-month/);
  assert.equal(v.wasted[2]!.wasteMonthlyCost, 1.92); // 48 GiB at OpenCost's $0.04
  assert.deepEqual(v.namespaces, [
    {
      namespace: 'team-a',
      volumes: 2,
      capacityBytes: 300 * GiB,
      wasteBytes: 267 * GiB,
      monthlyCost: 24,
      wasteMonthlyCost: 21.36,
    },
    {
      namespace: 'team-b',
      volumes: 1,
      capacityBytes: 50 * GiB,
      wasteBytes: 48 * GiB,
      monthlyCost: 2,
      wasteMonthlyCost: 1.92,
    },
  ]);
  assert.equal(v.total.wasteMonthlyCost, 23.28);
  assert.equal(v.total.volumes, 3);
  assert.ok(v.notes.some((n) => /1 volume with stats covering less than 90%/.test(n)));
  assert.ok(v.notes.some((n) => /OpenCost default.*sim.csi.tailor.dev/.test(n)));
});

void test("only the namespaces asked about: another tenant's claims are not judged or counted", () => {
  const v = volumeWasteReport({ now: NOW, windowSeconds: DAY, namespaces: ['team-b'], facts: facts() });
  assert.equal(v.claims, 2);
  assert.deepEqual(
    v.wasted.map((w) => w.claim),
    ['data'],
  );
});

void test('tailor-prices overrides reach the volumes', () => {
  const v = volumeWasteReport({
    now: NOW,
    windowSeconds: DAY,
    facts: facts(),
    overrides: parsePriceOverrides({ 'storageGiBMonth.sim': '0.1' }),
  });
  assert.equal(v.wasted.find((w) => w.claim === 'data')?.wasteMonthlyCost, 4.8);
});

void test('an unread source gives no verdict and says why', () => {
  const v = volumeWasteReport({
    now: NOW,
    windowSeconds: DAY,
    facts: facts({ samples: new Map(), error: 'Prometheus unreachable' }),
  });
  assert.deepEqual(v.wasted, []);
  assert.match(v.notes[0]!, /volume stats \(prometheus\) not read: Prometheus unreachable/);
});

void test('buildReport carries the section over the report range, and leaves it out without volume facts', () => {
  const base = { now: NOW, nodes: [], pods: [], policies: [] };
  const r = buildReport({ ...base, query: { sinceSeconds: DAY, namespaces: ['team-a'] }, volumes: facts() });
  assert.equal(r.volumes?.windowSeconds, DAY);
  assert.deepEqual(
    r.volumes?.wasted.map((w) => w.claim),
    ['models', 'cache'],
  );
  assert.equal(buildReport({ ...base, query: { sinceSeconds: DAY } }).volumes, undefined);
  // A range longer than the stats: no verdict.
  assert.equal(
    buildReport({ ...base, query: { sinceSeconds: 7 * DAY }, volumes: facts() }).volumes?.wasted.length,
    0,
  );
});

void test("the claim's billed capacity (status.capacity) prices it, not the smaller file system", () => {
  const fs = 98 * GiB; // ext4 metadata and reserved blocks
  const v = volumeWasteReport({
    now: NOW,
    windowSeconds: DAY,
    facts: {
      ...facts(),
      samples: new Map([
        ['team-a/models', flat(fs, 20 * GiB)],
        ['team-a/tight', flat(9.5 * GiB, 4 * GiB)], // 5 GiB suggested ...
      ]),
      claimCapacity: new Map([
        ['team-a/models', 100 * GiB],
        ['team-a/tight', 5 * GiB], // ... which is all it has: not wasted
      ]),
    },
  });
  assert.deepEqual(
    v.wasted.map((w) => [w.claim, w.capacityBytes / GiB, w.wasteBytes / GiB, w.monthlyCost]),
    [['models', 100, 77, 8]],
  );
});
