// The user's price and carbon overrides from the ConfigMap `tailor-prices`: the cost model's one
// parser (src/core/cost/overrides.ts), its errors prefixed with where the bad key was read.
import { parsePriceOverrides, type PriceOverrides } from '../core/cost/index.ts';
import { TailorError } from '../errors.ts';

/** Parses the ConfigMap's data; `where` names it in errors ("ConfigMap tailor-system/tailor-prices"). */
export function priceOverridesOf(
  data: Readonly<Record<string, string>> | undefined,
  where: string,
): PriceOverrides {
  try {
    return parsePriceOverrides(data ?? {});
  } catch (err) {
    if (err instanceof TailorError)
      throw new TailorError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}
