// The one way every rendering writes money, CO2e and amounts: to the cent, signed, grouped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, co2e, cores, gpus, money } from '../../src/report/format/numbers.ts';

test('money: to the cent, grouped by thousands, a sign for negative savings, none for a rounded zero', () => {
  assert.equal(money(1234567.891, 'USD'), '$1,234,567.89');
  assert.equal(money(0, 'USD'), '$0.00');
  assert.equal(money(-4.125, 'USD'), '-$4.13');
  assert.equal(money(-0.004, 'USD'), '$0.00');
  assert.equal(money(1.005, 'USD'), '$1.01', 'a binary half rounds up as on paper');
  assert.equal(money(999.995, 'EUR'), '€1,000.00');
  assert.equal(money(12, 'CHF'), '12.00 CHF');
  assert.equal(money(Number.NaN, 'USD'), 'n/a');
});

test('co2e: kilograms, two decimals from 1 kg, three below', () => {
  assert.equal(co2e(612.25), '612.25 kg');
  assert.equal(co2e(1234.5), '1,234.50 kg');
  assert.equal(co2e(0.0042), '0.004 kg');
  assert.equal(co2e(-0.0042), '-0.004 kg');
  assert.equal(co2e(-0.0001), '0.000 kg');
});

test('amounts: millicores below a core, binary units for bytes, fractional GPUs', () => {
  assert.equal(cores(0.25), '250m');
  assert.equal(cores(1.5), '1.5');
  assert.equal(bytes(1.25 * 2 ** 30), '1.3Gi');
  assert.equal(bytes(512 * 2 ** 20), '512Mi');
  assert.equal(bytes(100), '100');
  assert.equal(gpus(1 / 7), '0.14');
});
