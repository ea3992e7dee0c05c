// The prices ConfigMap as the report reads it: the cost model's parser, errors saying which ConfigMap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { priceOverridesOf } from '../../src/report/prices.ts';

const where = 'ConfigMap tailor-system/tailor-prices';

test('prices: the numeric keys and the currency are read', () => {
  assert.deepEqual(priceOverridesOf({ cpuCoreHour: '0.04', gpuHour: ' 2.5 ', pue: '1.2' }, where), {
    cpuCoreHour: 0.04,
    gpuHour: 2.5,
    pue: 1.2,
  });
  assert.deepEqual(priceOverridesOf(undefined, where), {});
});

test('prices: a value that is not a number, negative, a PUE below 1, an unknown currency or key is refused with the key', () => {
  const refused = (data: Record<string, string>, message: RegExp) =>
    assert.throws(
      () => priceOverridesOf(data, where),
      (err: Error) => {
        assert.match(err.message, message);
        assert.match(err.message, /ConfigMap tailor-system\/tailor-prices/);
        return true;
      },
    );
  refused({ cpuCoreHour: 'cheap' }, /key "cpuCoreHour": "cheap" is not a number/);
  refused({ memoryGiBHour: '' }, /key "memoryGiBHour": "" is not a number/);
  refused({ gpuHour: '-1' }, /key "gpuHour": "-1" is negative/);
  refused({ pue: '0.9' }, /key "pue": 0.9 is below 1/);
  refused({ currency: 'dollars' }, /key "currency": "dollars" is not an ISO 4217 currency code/);
  refused({ cpuPrice: '1' }, /key "cpuPrice": not a known key/);
});
