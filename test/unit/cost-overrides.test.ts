// Price and carbon overrides from the tailor-prices ConfigMap: every key parsed and applied, and a
// bad value (not a number, negative, unknown currency, model or key) refused with the key named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePriceOverrides, pricingFor, type NodeFacts } from '../../src/core/cost/index.ts';
import { TailorError } from '../../src/errors.ts';

const GiB = 2 ** 30;
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const RATIO = 0.031611 / 0.004237;

const node = (labels: Record<string, string>, shape: Partial<NodeFacts> = {}): NodeFacts => ({
  name: 'n1',
  labels,
  cpuCores: 8,
  memoryBytes: 32 * GiB,
  gpus: 0,
  ...shape,
});

void test('parsePriceOverrides: every key of the ConfigMap', () => {
  const o = parsePriceOverrides({
    currency: 'USD',
    cpuCoreHour: '0.02',
    memoryGiBHour: '0.003',
    gpuHour: '1.5',
    'gpuHour.NVIDIA-L4': '0.7',
    'gpuHour.h100-80gb': '8',
    storageGiBMonth: '0.08',
    'instance.m6i.2xlarge': '0.30',
    'instance.Standard_D8s_v5': '0.33',
    spotDiscount: '0.6',
    gridKgPerKWh: '0.3',
    'gridKgPerKWh.sim-east': '0.25',
    pue: '1.2',
  });
  assert.deepEqual(o, {
    currency: 'USD',
    cpuCoreHour: 0.02,
    memoryGiBHour: 0.003,
    gpuHour: 1.5,
    gpuHourByModel: { l4: 0.7, 'h100-80gb': 8 },
    storageGiBMonth: 0.08,
    instanceHour: { 'm6i.2xlarge': 0.3, Standard_D8s_v5: 0.33 },
    spotDiscount: 0.6,
    gridKgPerKWh: 0.3,
    gridKgPerKWhByRegion: { 'sim-east': 0.25 },
    pue: 1.2,
  });
  assert.deepEqual(parsePriceOverrides({}), {});
});

void test('parsePriceOverrides: a bad value is refused with the key and the fix named', () => {
  const refuses = (data: Record<string, string>, key: string, what: RegExp) =>
    assert.throws(
      () => parsePriceOverrides(data),
      (e: unknown) =>
        e instanceof TailorError &&
        e.code === 'InvalidInput' &&
        e.message.includes(`tailor-prices key "${key}"`) &&
        what.test(e.message) &&
        e.message.includes('hint:'),
      `${key}: ${JSON.stringify(data)}`,
    );
  refuses({ cpuCoreHour: 'cheap' }, 'cpuCoreHour', /"cheap" is not a number.*decimal/s);
  refuses({ cpuCoreHour: '' }, 'cpuCoreHour', /is not a number/);
  refuses({ memoryGiBHour: '1e-3' }, 'memoryGiBHour', /is not a number/);
  refuses({ gpuHour: '-0.5' }, 'gpuHour', /is negative/);
  refuses({ 'instance.m6i.2xlarge': '-1' }, 'instance.m6i.2xlarge', /is negative/);
  refuses({ 'gpuHour.l4': 'NaN' }, 'gpuHour.l4', /is not a number/);
  refuses({ 'gridKgPerKWh.us-east-1': 'Infinity' }, 'gridKgPerKWh.us-east-1', /is not a number/);
  refuses({ currency: 'EURO' }, 'currency', /not an ISO 4217 currency code.*USD, EUR/s);
  refuses({ currency: 'usd' }, 'currency', /not an ISO 4217/);
  refuses({ pue: '0.9' }, 'pue', /below 1/);
  refuses({ spotDiscount: '1' }, 'spotDiscount', /not below 1/);
  refuses({ 'gpuHour.rtx-4090': '0.4' }, 'gpuHour.rtx-4090', /no GPU model.*a100-40gb/s);
  refuses({ cpuCoreHours: '0.03' }, 'cpuCoreHours', /not a known key.*cpuCoreHour/s);
  refuses({ 'instance.': '0.3' }, 'instance.', /not a known key/);
  refuses(
    { currency: 'EUR', cpuCoreHour: '0.03' },
    'currency',
    /EUR needs memoryGiBHour, gpuHour, storageGiBMonth/,
  );
});

void test('overrides applied: an instance price is split like the sheet, source Override', () => {
  const o = parsePriceOverrides({ 'instance.m6i.2xlarge': '0.30' });
  const { prices } = pricingFor(node({ 'node.kubernetes.io/instance-type': 'm6i.2xlarge' }), o);
  const ram = 0.3 / (8 * RATIO + 32);
  close(prices.memoryGiBHour, ram, 'per GiB');
  close(8 * prices.cpuCoreHour + 32 * prices.memoryGiBHour, 0.3, 'adds up to the override');
  assert.equal(prices.source, 'Override');
  assert.match(prices.description, /tailor-prices instance\.m6i\.2xlarge/);
  // An instance type no sheet knows, priced by the user: split over the node's own shape.
  const own = pricingFor(
    node({ 'node.kubernetes.io/instance-type': 'dl380-gen11' }, { cpuCores: 64, memoryBytes: 512 * GiB }),
    parsePriceOverrides({ 'instance.dl380-gen11': '2.0' }),
  ).prices;
  close(64 * own.cpuCoreHour + 512 * own.memoryGiBHour, 2, 'on-premises server price');
  assert.equal(own.source, 'Override');
});

void test('overrides applied: unit prices, a GPU model, the spot discount, the currency', () => {
  const unit = pricingFor(
    node({ 'node.kubernetes.io/instance-type': 'bare' }),
    parsePriceOverrides({ cpuCoreHour: '0.05', memoryGiBHour: '0.01', storageGiBMonth: '0.1' }),
  ).prices;
  assert.equal(unit.cpuCoreHour, 0.05);
  assert.equal(unit.memoryGiBHour, 0.01);
  assert.equal(unit.storageGiBMonth, 0.1);
  assert.equal(unit.source, 'Override');

  // gpuHour.<model> wins over gpuHour and steers the split: the node still adds up.
  const l4 = node({
    'node.kubernetes.io/instance-type': 'g2-standard-8',
    'topology.kubernetes.io/region': 'us-central1',
  });
  const both = pricingFor(l4, parsePriceOverrides({ gpuHour: '0.9', 'gpuHour.NVIDIA-L4': '0.6' })).prices;
  assert.equal(both.gpuHour, 0.6);
  close(8 * both.cpuCoreHour + 32 * both.memoryGiBHour + both.gpuHour, 0.85362431, 'adds up');
  assert.equal(both.source, 'Override');

  const spotNode = node({
    'node.kubernetes.io/instance-type': 'm6i.2xlarge',
    'karpenter.sh/capacity-type': 'spot',
  });
  const spot = pricingFor(spotNode, parsePriceOverrides({ spotDiscount: '0.6' })).prices;
  close(8 * spot.cpuCoreHour + 32 * spot.memoryGiBHour, 0.384 * 0.4, '60% off');
  assert.equal(spot.source, 'Override');

  const eur = pricingFor(
    node({ 'node.kubernetes.io/instance-type': 'm6i.2xlarge' }),
    parsePriceOverrides({
      currency: 'EUR',
      cpuCoreHour: '0.03',
      memoryGiBHour: '0.004',
      gpuHour: '0.9',
      storageGiBMonth: '0.05',
    }),
  ).prices;
  assert.equal(eur.currency, 'EUR');
  assert.equal(eur.cpuCoreHour, 0.03, 'no USD sheet price mixed into EUR');
  assert.equal(eur.memoryGiBHour, 0.004);
  const eurNode = pricingFor(
    node({ 'node.kubernetes.io/instance-type': 'm6i.2xlarge' }),
    parsePriceOverrides({
      currency: 'EUR',
      cpuCoreHour: '0.03',
      memoryGiBHour: '0.004',
      gpuHour: '0.9',
      storageGiBMonth: '0.05',
      'instance.m6i.2xlarge': '0.35',
    }),
  ).prices;
  assert.match(eurNode.description, /0\.35 EUR\/h/);
});

void test('overrides applied: grid intensity by region before all regions, and the PUE', () => {
  const n = node({
    'node.kubernetes.io/instance-type': 'm6i.2xlarge',
    'topology.kubernetes.io/region': 'sim-east',
  });
  const o = parsePriceOverrides({ gridKgPerKWh: '0.3', 'gridKgPerKWh.sim-east': '0.25', pue: '1.3' });
  const { power } = pricingFor(n, o);
  assert.equal(power.gridKgPerKWh, 0.25);
  assert.equal(power.pue, 1.3);
  const other = pricingFor(
    node({ 'node.kubernetes.io/instance-type': 'm6i.2xlarge', 'topology.kubernetes.io/region': 'us-east-1' }),
    o,
  ).power;
  assert.equal(other.gridKgPerKWh, 0.3, 'gridKgPerKWh for every other region');
});
