import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatCpu,
  parseQuantity,
  quantityProblem,
  readQuantity,
} from '../../src/core/quantity.ts';

test('parseQuantity reads the API forms', () => {
  const cases: [string, number | undefined][] = [
    ['250m', 0.25],
    ['2', 2],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['500k', 5e5],
    ['1e3', 1000],
    ['100n', 1e-7],
    ['12345Ki', 12345 * 1024],
    ['abc', undefined],
    ['1Gb', undefined],
    ['', undefined],
  ];
  for (const [text, want] of cases) {
    const got = parseQuantity(text);
    if (want === undefined) assert.equal(got, undefined, text);
    else
      assert.ok(
        got !== undefined && Math.abs(got - want) < 1e-12 * Math.max(1, want),
        `${text}: ${got} != ${want}`,
      );
  }
});

test('formatCpu and formatBytes round up and stay parseable', () => {
  assert.equal(formatCpu(0.25), '250m');
  assert.equal(formatCpu(2), '2');
  assert.equal(formatCpu(0.0001), '1m');
  assert.equal(formatBytes(128 * 2 ** 20), '128Mi');
  assert.equal(formatBytes(2 ** 30), '1Gi');
  assert.equal(formatBytes(2 ** 20 + 1), '2Mi');
  assert.equal(formatBytes(1000), '1000');
  for (const b of [1, 1023, 5 * 2 ** 20 + 7, 3 * 2 ** 30]) assert.ok(parseQuantity(formatBytes(b))! >= b);
});

test('negative, infinite and int64-overflowing amounts are refused, each with its reason', () => {
  const cases: [string | number, ReturnType<typeof readQuantity>['kind'], RegExp | undefined][] = [
    ['1e400', 'TooLarge', /"1e400" is too large: amounts must be below 8Ei/],
    ['8Ei', 'TooLarge', /too large/],
    ['9223372036854775808', 'TooLarge', /too large/],
    [Infinity, 'TooLarge', /too large/],
    ['-1', 'Negative', /"-1" is negative; resources are 0 or more/],
    ['-250m', 'Negative', /negative/],
    ['-1e400', 'Negative', /negative/],
    [-0.5, 'Negative', /negative/],
    [NaN, 'Malformed', /not a quantity/],
    ['lots', 'Malformed', /"lots" is not a quantity: write e.g. 250m/],
    ['7Ei', 'Amount', undefined],
    ['0e999', 'Amount', undefined],
    ['-0', 'Amount', undefined],
    ['+1Gi', 'Amount', undefined],
    ['1e-400', 'Amount', undefined],
  ];
  for (const [text, kind, message] of cases) {
    assert.equal(readQuantity(text).kind, kind, String(text));
    const problem = quantityProblem(text);
    if (message === undefined) {
      assert.equal(problem, undefined, String(text));
      assert.ok(parseQuantity(text) !== undefined && parseQuantity(text)! >= 0, String(text));
    } else {
      assert.match(problem ?? '', message, String(text));
      assert.equal(parseQuantity(text), undefined, `${String(text)} parses to nothing`);
    }
  }
});
