// Storage prices: each cloud's disk type from the StorageClass's provisioner and parameters,
// OpenCost's default for anything else, and the tailor-prices overrides before both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parsePriceOverrides,
  storageMonthly,
  storagePriceFor,
  type StorageClassFacts,
} from '../../src/core/cost/index.ts';
import { TailorError } from '../../src/errors.ts';

const GiB = 2 ** 30;
const sc = (provisioner: string, parameters?: Record<string, string>, name = 'fast'): StorageClassFacts => ({
  name,
  provisioner,
  ...(parameters ? { parameters } : {}),
});
const price = (c: StorageClassFacts | undefined, data: Record<string, string> = {}) =>
  storagePriceFor(c, parsePriceOverrides(data));

void test("each cloud's disk type is priced from the class's provisioner and type parameter", () => {
  const cases: [StorageClassFacts, number, string][] = [
    [sc('ebs.csi.aws.com', { type: 'gp3' }), 0.08, 'AWS'],
    [sc('ebs.csi.aws.com'), 0.08, 'AWS'], // the CSI driver's default: gp3
    [sc('kubernetes.io/aws-ebs'), 0.1, 'AWS'], // the in-tree plugin's: gp2
    [sc('ebs.csi.aws.com', { type: 'io2', iopsPerGB: '50' }), 0.125, 'AWS'],
    [sc('pd.csi.storage.gke.io', { type: 'pd-balanced' }), 0.1, 'GCP'],
    [sc('pd.csi.storage.gke.io', { type: 'pd-ssd' }), 0.17, 'GCP'],
    [sc('pd.csi.storage.gke.io'), 0.04, 'GCP'],
    [sc('disk.csi.azure.com', { skuName: 'Premium_LRS' }), 19.71 / 128, 'Azure'],
    [sc('disk.csi.azure.com', { skuname: 'StandardSSD_LRS' }), 0.075, 'Azure'],
    [sc('kubernetes.io/azure-disk', { storageaccounttype: 'Standard_LRS' }), 5.89 / 128, 'Azure'],
  ];
  for (const [c, gibMonth, cloud] of cases) {
    const p = price(c);
    assert.ok(
      Math.abs(p.gibMonth - gibMonth) < 1e-6,
      `${c.provisioner} ${JSON.stringify(c.parameters)}: ${p.gibMonth}`,
    );
    assert.equal(p.source, 'Sheet');
    assert.equal(p.cloud, cloud);
    assert.equal(p.currency, 'USD');
    assert.match(p.description, /\/GiB-month \(.*2024\)$/);
  }
});

void test("an unknown provisioner, disk type or class is OpenCost's default, and says why", () => {
  const sim = price(sc('sim.csi.tailor.dev'));
  assert.equal(sim.gibMonth, 0.04);
  assert.equal(sim.source, 'Default');
  assert.equal(sim.cloud, 'Unknown');
  assert.match(sim.description, /OpenCost default \$0.04\/GiB-month \(provisioner sim.csi.tailor.dev not in/);
  const odd = price(sc('ebs.csi.aws.com', { type: 'gp9' }));
  assert.equal(odd.gibMonth, 0.04);
  assert.equal(odd.cloud, 'AWS');
  assert.match(odd.description, /disk type gp9 not in the price sheet/);
  assert.match(price(undefined).description, /no StorageClass known/);
});

void test('tailor-prices: storageGiBMonth.<class> first, then storageGiBMonth, before the sheet', () => {
  const data = { storageGiBMonth: '0.05', 'storageGiBMonth.fast': '0.2' };
  assert.deepEqual(parsePriceOverrides(data).storageGiBMonthByClass, { fast: 0.2 });
  const fast = price(sc('ebs.csi.aws.com'), data);
  assert.equal(fast.gibMonth, 0.2);
  assert.equal(fast.source, 'Override');
  assert.match(fast.description, /storageGiBMonth\.fast/);
  const other = price(sc('ebs.csi.aws.com', {}, 'slow'), data);
  assert.equal(other.gibMonth, 0.05);
  assert.equal(other.source, 'Override');
  const eur = price(sc('ebs.csi.aws.com'), {
    currency: 'EUR',
    cpuCoreHour: '0.03',
    memoryGiBHour: '0.004',
    gpuHour: '1',
    storageGiBMonth: '0.07',
  });
  assert.deepEqual([eur.currency, eur.gibMonth], ['EUR', 0.07]);
  assert.match(eur.description, /^0.07 EUR\/GiB-month/);
});

void test('a bad storageGiBMonth.<class> is refused with its key', () => {
  assert.throws(
    () => parsePriceOverrides({ 'storageGiBMonth.fast': 'cheap' }),
    (e: unknown) => e instanceof TailorError && /storageGiBMonth\.fast.*not a number/.test(e.message),
  );
});

void test('storageMonthly prices bytes by the GiB', () => {
  assert.equal(storageMonthly(100 * GiB, price(sc('ebs.csi.aws.com'))), 8);
});
