// The prices ConfigMap: numbers, an ISO currency, a PUE of 1 or more; anything else refused naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { priceOverridesOf } from '../../src/report/prices.ts';

const where = 'ConfigMap tailor-system/tailor-prices';

test('prices: the numeric keys and the currency are read', () => {
  assert.deepEqual(
    priceOverridesOf({ currency: 'EUR', cpuCoreHour: '0.04', gpuHour: ' 2.5 ', pue: '1.2' }, where),
    {
      currency: 'EUR',
      cpuCoreHour: 0.04,
      gpuHour: 2.5,
      pue: 1.2,
    },
  );
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
  refused({ cpuCoreHour: 'cheap' }, /cpuCoreHour "cheap" is not a number/);
  refused({ memoryGiBHour: '' }, /memoryGiBHour "" is not a number/);
  refused({ gpuHour: '-1' }, /gpuHour -1 is negative/);
  refused({ pue: '0.9' }, /pue 0.9 is below 1/);
  refused({ currency: 'dollars' }, /currency "dollars" is not an ISO 4217 code/);
  refused({ cpuPrice: '1' }, /unknown key "cpuPrice"/);
});
