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

/** Parses a quantity; returns undefined for text that is not one (callers say what was wrong). */
export function parseQuantity(text: string | number | undefined | null): number | undefined {
  if (text === undefined || text === null) return undefined;
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[2]) return value * 10 ** Number(m[2].slice(1));
  return value * (SUFFIX[m[3] ?? ''] ?? 1);
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
