// Cost and carbon arithmetic: OpenCost default prices, CCF-style energy, savings signs and rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CARBON,
  HOURS_PER_MONTH,
  OPENCOST_DEFAULT_PRICES,
  decimal,
  monthly,
  monthlySaving,
} from '../../src/core/cost/price.ts';

const GiB = 2 ** 30;
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test('monthly: one core and one GiB for a month at OpenCost defaults', () => {
  const core = monthly({ cpuCores: 1, memoryBytes: 0 });
  close(core.cost, 0.031611 * HOURS_PER_MONTH, 'a core-month');
  assert.equal(core.currency, 'USD');
  const gib = monthly({ cpuCores: 0, memoryBytes: GiB });
  close(gib.cost, 0.004237 * HOURS_PER_MONTH, 'a GiB-month');
  // 2.12 W x PUE 1.135 x 730.5 h = 1.758 kWh; x 0.475 kg/kWh.
  close(
    core.co2eKg,
    ((DEFAULT_CARBON.cpuWattsPerCore * 1.135 * HOURS_PER_MONTH) / 1000) * 0.475,
    'CO2e of a core',
  );
  assert.ok(core.co2eKg > 0.8 && core.co2eKg < 0.9, `about 0.83 kg: ${core.co2eKg}`);
});

test('monthlySaving: current minus recommended, summed over containers; a raise is negative', () => {
  const shrink = monthlySaving([
    { current: { cpuCores: 2, memoryBytes: 4 * GiB }, recommended: { cpuCores: 0.5, memoryBytes: GiB } },
    { current: { cpuCores: 1, memoryBytes: GiB }, recommended: { cpuCores: 1, memoryBytes: GiB } },
  ]);
  close(shrink.cost, monthly({ cpuCores: 1.5, memoryBytes: 3 * GiB }).cost, 'the difference');
  const raise = monthlySaving([
    { current: { cpuCores: 1, memoryBytes: 0 }, recommended: { cpuCores: 2, memoryBytes: 0 } },
  ]);
  assert.ok(raise.cost < 0, 'a raise costs');
  assert.equal(monthlySaving([]).cost, 0);
  const eur = monthlySaving(
    [{ current: { cpuCores: 1, memoryBytes: 0 }, recommended: { cpuCores: 0, memoryBytes: 0 } }],
    {
      ...OPENCOST_DEFAULT_PRICES,
      currency: 'EUR',
      cpuCoreHour: 0.01,
    },
  );
  close(eur.cost, 0.01 * HOURS_PER_MONTH, 'a price sheet of its own');
  assert.equal(eur.currency, 'EUR');
});

test('decimal: what the CRD Decimal field accepts', () => {
  assert.equal(decimal(12.345), '12.35');
  assert.equal(decimal(-0.001), '0.00', 'no negative zero');
  assert.equal(decimal(-3.5), '-3.50');
  assert.equal(decimal(0.0001234, 3), '0.000');
  assert.equal(decimal(Number.NaN), '0.00');
  assert.match(decimal(1e21), /^-?[0-9]+(\.[0-9]+)?$/);
});
