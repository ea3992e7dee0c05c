// The user's price and carbon overrides from the ConfigMap `tailor-prices` (data keys named as
// PriceOverrides' fields): each value checked, a bad one refused with its key and the fix.
import type { PriceOverrides } from '../core/cost/index.ts';
import { TailorError } from '../errors.ts';

const NUMERIC = [
  'cpuCoreHour',
  'memoryGiBHour',
  'gpuHour',
  'storageGiBMonth',
  'gridKgPerKWh',
  'pue',
] as const;

/** Parses the ConfigMap's data; `where` names it in errors ("ConfigMap tailor-system/tailor-prices"). */
export function priceOverridesOf(
  data: Readonly<Record<string, string>> | undefined,
  where: string,
): PriceOverrides {
  const out: { -readonly [K in keyof PriceOverrides]: PriceOverrides[K] } = {};
  for (const [key, raw] of Object.entries(data ?? {})) {
    const value = raw.trim();
    if (key === 'currency') {
      if (!/^[A-Z]{3}$/.test(value))
        throw new TailorError('InvalidInput', `${where}: currency "${raw}" is not an ISO 4217 code`, {
          hint: 'write three capital letters, e.g. currency: USD',
        });
      out.currency = value;
      continue;
    }
    const field = NUMERIC.find((k) => k === key);
    if (!field)
      throw new TailorError('InvalidInput', `${where}: unknown key "${key}"`, {
        hint: `use ${['currency', ...NUMERIC].join(', ')}`,
      });
    const n = Number(value);
    if (value === '' || !Number.isFinite(n))
      throw new TailorError('InvalidInput', `${where}: ${key} "${raw}" is not a number`, {
        hint: `write a plain decimal, e.g. ${key}: "0.031611"`,
      });
    if (n < 0 || (field === 'pue' && n < 1))
      throw new TailorError('InvalidInput', `${where}: ${key} ${raw} is ${n < 0 ? 'negative' : 'below 1'}`, {
        hint: field === 'pue' ? 'a PUE is 1 or more, e.g. pue: "1.135"' : `a price is 0 or more`,
      });
    out[field] = n;
  }
  return out;
}
