// What CPU and memory cost per month, in money and CO2e: a price sheet (OpenCost's defaults unless
// the user gives another) and carbon coefficients (Cloud Carbon Footprint's method), as plain numbers.

/** Hours in an average month (365.25 x 24 / 12), as OpenCost and cloud price pages use. */
export const HOURS_PER_MONTH = 730.5;

export interface PriceSheet {
  /** ISO 4217 code. */
  readonly currency: string;
  readonly cpuCoreHour: number;
  readonly memoryGiBHour: number;
}

/** OpenCost's default on-premises prices (its `default.json`): $0.031611 per core-hour, $0.004237 per GiB-hour. */
export const OPENCOST_DEFAULT_PRICES: PriceSheet = {
  currency: 'USD',
  cpuCoreHour: 0.031611,
  memoryGiBHour: 0.004237,
};

export interface CarbonCoefficients {
  /** Average watts per requested core: CCF's AWS min 0.74 W and max 3.5 W at 50% utilisation. */
  readonly cpuWattsPerCore: number;
  /** CCF's memory coefficient, 0.000392 kWh per GB-hour, as watts per GiB. */
  readonly memoryWattsPerGiB: number;
  /** Power usage effectiveness of the data centre (CCF's AWS figure). */
  readonly pue: number;
  /** Grid intensity, kg CO2e per kWh (the IEA world average, about 0.475). */
  readonly gridKgPerKWh: number;
}

export const DEFAULT_CARBON: CarbonCoefficients = {
  cpuWattsPerCore: 0.74 + 0.5 * (3.5 - 0.74),
  memoryWattsPerGiB: 0.392 * (2 ** 30 / 1e9),
  pue: 1.135,
  gridKgPerKWh: 0.475,
};

/** Requested resources: cores and bytes. */
export interface ResourceAmount {
  readonly cpuCores: number;
  readonly memoryBytes: number;
}

export interface MonthlyFigure {
  readonly cost: number;
  readonly currency: string;
  readonly co2eKg: number;
}

const GiB = 2 ** 30;

/** Money and CO2e per month of holding `amount` reserved around the clock. */
export function monthly(
  amount: ResourceAmount,
  prices: PriceSheet = OPENCOST_DEFAULT_PRICES,
  carbon: CarbonCoefficients = DEFAULT_CARBON,
): MonthlyFigure {
  const gib = amount.memoryBytes / GiB;
  const cost = (amount.cpuCores * prices.cpuCoreHour + gib * prices.memoryGiBHour) * HOURS_PER_MONTH;
  const watts = amount.cpuCores * carbon.cpuWattsPerCore + gib * carbon.memoryWattsPerGiB;
  const co2eKg = ((watts * carbon.pue * HOURS_PER_MONTH) / 1000) * carbon.gridKgPerKWh;
  return { cost, currency: prices.currency, co2eKg };
}

/**
 * What going from `current` to `recommended` saves per month (negative: it costs more). Each pair
 * is one container of one pod; a resource without a recommendation saves nothing.
 */
export function monthlySaving(
  pairs: readonly { readonly current: ResourceAmount; readonly recommended: ResourceAmount }[],
  prices: PriceSheet = OPENCOST_DEFAULT_PRICES,
  carbon: CarbonCoefficients = DEFAULT_CARBON,
): MonthlyFigure {
  let cpu = 0;
  let memory = 0;
  for (const p of pairs) {
    cpu += p.current.cpuCores - p.recommended.cpuCores;
    memory += p.current.memoryBytes - p.recommended.memoryBytes;
  }
  return monthly({ cpuCores: cpu, memoryBytes: memory }, prices, carbon);
}

/** A decimal string the CRD's Decimal fields accept: "12.34", "-0.50", never "-0.00" or "1e-7". */
export function decimal(v: number, digits = 2): string {
  // toFixed switches to exponent notation from 1e21; the locale formatter never does. One formatter
  // per precision: building one per call was the sizing pass's largest cost after the network.
  const s = formatter(digits).format(Number.isFinite(v) ? v : 0);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

const formatters = new Map<number, Intl.NumberFormat>();

function formatter(digits: number): Intl.NumberFormat {
  let f = formatters.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', {
      useGrouping: false,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formatters.set(digits, f);
  }
  return f;
}
