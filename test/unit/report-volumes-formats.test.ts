// The volumes section in every report format (table, JSON, CSV, Markdown, HTML and so /ui) and as
// the tailor_volume_waste_* gauges: the same bytes and cents everywhere, tenant names escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/report/format/index.ts';
import { volumeWasteReport } from '../../src/core/report/volumes.ts';
import type { Report } from '../../src/core/report/model.ts';
import type { VolumeSample } from '../../src/core/volume/index.ts';
import { operatorMetrics } from '../../src/operator/metrics.ts';
import { exportReport } from '../../src/operator/report-metrics.ts';
import { FIXTURE_REPORT, HOSTILE_NAME } from '../support/report-fixture.ts';

const GiB = 2 ** 30;
const NOW = Date.parse(FIXTURE_REPORT.until) / 1000;
const RANGE = (Date.parse(FIXTURE_REPORT.until) - Date.parse(FIXTURE_REPORT.since)) / 1000;

function flat(capacity: number, used: number): VolumeSample[] {
  const out: VolumeSample[] = [];
  for (let at = NOW - RANGE; at <= NOW; at += 300)
    out.push({ at, usedBytes: used, capacityBytes: capacity, availableBytes: capacity - used });
  return out;
}

const volumes = volumeWasteReport({
  now: NOW,
  windowSeconds: RANGE,
  facts: {
    source: 'prometheus',
    samples: new Map([
      ['shop/cache', flat(100 * GiB, 3 * GiB)], // 4 GiB suggested, 96 wasted: $7.68 of $8.00 (gp3)
      [`llm/${HOSTILE_NAME}`, flat(50 * GiB, GiB)], // 2 GiB suggested, 48 wasted: $1.92 of $2.00 (default)
      ['llm/weights', flat(100 * GiB, 90 * GiB)],
    ]),
    storageClassOf: new Map([['shop/cache', 'gp3']]),
    storageClasses: [{ name: 'gp3', provisioner: 'ebs.csi.aws.com' }],
  },
});
const REPORT: Report = { ...FIXTURE_REPORT, volumes };

test('table: the wasted claims with capacity, peak, suggested size and money, then per tenant', () => {
  const out = renderReport(REPORT, 'table');
  assert.match(out, /Wasted volumes: 3 volumes with stats from prometheus; 2 never half full/);
  assert.match(out, /NAMESPACE +CLAIM +CLASS +CAPACITY +PEAK USED +SUGGESTED +COST\/MO +WASTE\/MO/);
  assert.match(out, /shop +cache +gp3 +100Gi +3Gi +4Gi +\$8\.00 +\$7\.68/);
  assert.match(out, /llm +<script>.* +- +50Gi +1Gi +2Gi +\$2\.00 +\$1\.92/);
  assert.match(out, /\(all\) +2 +150Gi +144Gi +\$10\.00 +\$9\.60/);
  assert.match(out, /note: volume prices: OpenCost default/);
  assert.doesNotMatch(renderReport(FIXTURE_REPORT, 'table'), /Wasted volumes/);
});

test('JSON: the section as built', () => {
  const json = JSON.parse(renderReport(REPORT, 'json')) as Report;
  assert.deepEqual(json.volumes, volumes);
  assert.equal((JSON.parse(renderReport(FIXTURE_REPORT, 'json')) as Report).volumes, undefined);
});

test('CSV: volume rows and tenant totals in added columns, the other rows unchanged but padded', () => {
  const lines = renderReport(REPORT, 'csv').trim().split('\n');
  const header = lines[0]!.split(',');
  assert.deepEqual(header.slice(-8), [
    'storageClass',
    'volumes',
    'capacityBytes',
    'peakUsedBytes',
    'suggestedBytes',
    'wasteBytes',
    'volumeMonthlyCost',
    'wasteMonthlyCost',
  ]);
  const plain = renderReport(FIXTURE_REPORT, 'csv').trim().split('\n');
  assert.equal(lines[1], plain[1] + ',,,,,,,,', 'a workload row only gains empty cells');
  const row = (level: string, ns: string) => {
    const l = lines.find((x) => x.startsWith(`${level},${ns},`));
    assert.ok(l, `${level} ${ns}`);
    return Object.fromEntries(header.map((h, i) => [h, l.split(',')[i]]));
  };
  const cache = row('volume', 'shop');
  assert.equal(cache.workload, 'cache');
  assert.equal(cache.kind, 'PersistentVolumeClaim');
  assert.equal(cache.storageClass, 'gp3');
  assert.equal(Number(cache.capacityBytes), 100 * GiB);
  assert.equal(Number(cache.suggestedBytes), 4 * GiB);
  assert.equal(cache.wasteMonthlyCost, '7.68');
  assert.equal(row('volume-namespace', 'llm').wasteMonthlyCost, '1.92');
  assert.equal(row('volume-cluster', '').wasteMonthlyCost, '9.6');
  assert.equal(lines.length, plain.length + 2 + 2 + 1);
});

test('Markdown: a Wasted volumes section with both tables', () => {
  const md = renderReport(REPORT, 'markdown');
  assert.match(md, /## Wasted volumes\n/);
  assert.match(
    md,
    /\| Namespace \| Claim \| Class \| Capacity \| Peak used \| Suggested \| Cost\/mo \| Waste\/mo \|/,
  );
  assert.match(md, /\| shop \| cache \| gp3 \| 100Gi \| 3Gi \| 4Gi \| \$8\.00 \| \$7\.68 \|/);
  assert.match(md, /\| \(all\) \| 2 \| 150Gi \| 144Gi \| \$10\.00 \| \$9\.60 \|/);
});

test('HTML (the file and /ui): the volumes section, filterable by tenant, names escaped', () => {
  const page = renderReport(REPORT, 'html');
  assert.match(page, /<section id="volumes"><h2>Wasted volumes<\/h2>/);
  assert.match(
    page,
    /<tr data-row="volume" data-ns-scope data-ns="shop" data-claim="cache"><td>shop<\/td><td>cache<\/td><td>gp3<\/td><td class="num">100Gi<\/td><td class="num">3Gi<\/td><td class="num">4Gi<\/td><td class="num">\$8\.00<\/td><td class="num">\$7\.68<\/td><\/tr>/,
  );
  assert.match(page, /<tr data-row="volume-namespace" data-ns-scope data-ns="llm">/);
  assert.ok(!page.includes(HOSTILE_NAME), 'the raw claim name never appears');
  assert.doesNotMatch(renderReport(FIXTURE_REPORT, 'html'), /id="volumes"/);
});

test('metrics: tailor_volume_waste_bytes and _monthly_cost per wasted claim, gone when no longer wasted', async () => {
  const m = operatorMetrics(false);
  const get = async (name: string) => (await m.registry.getSingleMetric(name)!.get()).values;
  exportReport(m, REPORT);
  const bytes = await get('tailor_volume_waste_bytes');
  assert.deepEqual(
    bytes.map((v) => [v.labels.namespace, v.labels.persistentvolumeclaim, v.value]),
    [
      ['llm', HOSTILE_NAME, 48 * GiB],
      ['shop', 'cache', 96 * GiB],
    ],
  );
  const cost = await get('tailor_volume_waste_monthly_cost');
  assert.deepEqual(
    cost.map((v) => [v.labels.persistentvolumeclaim, v.labels.currency, v.value]),
    [
      [HOSTILE_NAME, 'USD', 1.92],
      ['cache', 'USD', 7.68],
    ],
  );
  exportReport(m, FIXTURE_REPORT);
  assert.deepEqual(await get('tailor_volume_waste_bytes'), []);
  assert.deepEqual(await get('tailor_volume_waste_monthly_cost'), []);
});
