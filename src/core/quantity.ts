// Kubernetes resource quantities ("250m", "1.5Gi", "2e3") to numbers and back: CPU in cores,
// everything else in plain units (bytes).

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/**
 * Amounts (cores, bytes) must stay below 8Ei = 2^63, int64's range, what the apiserver can hold in
 * a resource list. `1e400` is a Kubernetes quantity but not a JS number (Infinity), and a patch
 * carrying it is refused; so it is refused here first. 2^63 is exact as a double, unlike int64's max.
 */
export const QUANTITY_LIMIT = 2 ** 63;

/** What a quantity's text is: a usable amount, or why not (a closed set, for a message that names the fix). */
export type QuantityReading =
  | { readonly kind: 'Amount'; readonly value: number }
  | { readonly kind: 'Malformed' }
  | { readonly kind: 'Negative'; readonly value: number }
  | { readonly kind: 'TooLarge' };

/** Reads a quantity's text (or a number) and says what it is: resources are never negative nor unbounded. */
export function readQuantity(text: string | number): QuantityReading {
  let value: number;
  if (typeof text === 'number') {
    if (Number.isNaN(text)) return { kind: 'Malformed' };
    value = text;
  } else {
    const m = PATTERN.exec(text.trim());
    if (!m) return { kind: 'Malformed' };
    const mantissa = Number(m[1]);
    value = m[2] ? mantissa * 10 ** Number(m[2].slice(1)) : mantissa * (SUFFIX[m[3] ?? ''] ?? 1);
    // 0e999 is zero, not too large.
    if (mantissa === 0) value = 0;
  }
  if (Object.is(value, -0)) value = 0;
  if (value < 0) return { kind: 'Negative', value };
  if (!Number.isFinite(value) || value >= QUANTITY_LIMIT) return { kind: 'TooLarge' };
  return { kind: 'Amount', value };
}

/** Parses a quantity; undefined for text that is not one, or is negative or not below QUANTITY_LIMIT. */
export function parseQuantity(text: string | number | undefined | null): number | undefined {
  if (text === undefined || text === null) return undefined;
  const r = readQuantity(text);
  return r.kind === 'Amount' ? r.value : undefined;
}

/** Why `text` is not a usable quantity, for a message naming the field (`field: ...`); undefined when it is one. */
export function quantityProblem(text: string | number): string | undefined {
  const r = readQuantity(text);
  switch (r.kind) {
    case 'Amount':
      return undefined;
    case 'Malformed':
      return `${JSON.stringify(text)} is not a quantity: write e.g. 250m, 2, 1.5Gi or 512Mi`;
    case 'Negative':
      return `${JSON.stringify(text)} is negative; resources are 0 or more`;
    case 'TooLarge':
      return `${JSON.stringify(text)} is too large: amounts must be below 8Ei (2^63 cores or bytes); write a real size such as 64Gi`;
  }
}

/** CPU cores as the API writes them: whole cores when exact, else millicores, rounded up. */
export function formatCpu(cores: number): string {
  const milli = Math.ceil(cores * 1000 - 1e-9);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes in the largest binary unit that divides them exactly, rounding up to whole Mi above 1Mi. */
export function formatBytes(bytes: number): string {
  let b = Math.ceil(bytes);
  if (b >= 2 ** 20) b = Math.ceil(b / 2 ** 20) * 2 ** 20;
  for (const [unit, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (b >= size && b % size === 0) return `${b / size}${unit}`;
  }
  return String(b);
}

/** Human-friendly bytes for tables: 1.5Gi, 300Mi. */
export function humanBytes(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}
