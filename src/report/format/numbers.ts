// How every rendering of a Report writes its numbers (table, csv, markdown, html, /ui): one place, so
// the dashboard and `tailor report` agree to the cent. Hand-written rather than Intl, whose output
// differs between ICU versions (Node's and the browser's), and pure so both can run it.

const SYMBOL: Readonly<Record<string, string>> = { USD: '$', EUR: '€', GBP: '£' };

/** 1234567.891 -> "1,234,567.89" (digits grouped by three, `decimals` places, no sign). */
function grouped(abs: number, decimals: number): string {
  const [whole = '0', frac] = abs.toFixed(decimals).split('.');
  const withCommas = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? withCommas : `${withCommas}.${frac}`;
}

/** Rounds to `decimals` places half away from zero; a value that rounds to zero has no sign. */
function rounded(value: number, decimals: number): { negative: boolean; abs: number } {
  const scale = 10 ** decimals;
  // The 1e-9 nudges binary halves (1.005 is 1.00499999...) up, as a person rounding on paper would.
  const abs = Math.round(Math.abs(value) * scale + 1e-9) / scale;
  return { negative: value < 0 && abs > 0, abs };
}

/** Money to the cent: "$1,234.56", "-$3.20", "12.00 CHF" for a currency without a symbol here. */
export function money(cost: number, currency: string): string {
  if (!Number.isFinite(cost)) return 'n/a';
  const { negative, abs } = rounded(cost, 2);
  const sign = negative ? '-' : '';
  const symbol = SYMBOL[currency];
  return symbol !== undefined
    ? `${sign}${symbol}${grouped(abs, 2)}`
    : `${sign}${grouped(abs, 2)} ${currency}`;
}

/** kg CO2e: two decimals from 1 kg up, three below (a small workload's grams still show). */
export function co2e(kg: number): string {
  if (!Number.isFinite(kg)) return 'n/a';
  const decimals = Math.abs(kg) >= 1 ? 2 : 3;
  const { negative, abs } = rounded(kg, decimals);
  return `${negative ? '-' : ''}${grouped(abs, decimals)} kg`;
}

/** CPU cores for reading: "250m" below one core, "1.5" (cores) above. */
export function cores(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) < 1) return `${Math.round(n * 1000)}m`;
  return String(Math.round(n * 100) / 100);
}

/** Bytes for reading in binary units: "512Mi", "1.5Gi". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 || v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  return `${n < 0 ? '-' : ''}${text}${units[i]}`;
}

/** GPUs, fractional for MIG slices: "1", "0.14". */
export function gpus(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return String(Math.round(n * 100) / 100);
}
