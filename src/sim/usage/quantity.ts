// Kubernetes resource quantities ("500m", "16Gi", "1.5e3") and durations ("90s", "1h30m") as the
// simulator's inputs spell them, turned into plain numbers (cores, bytes, seconds).
import { parseQuantity as parseCoreQuantity } from '../../core/quantity.ts';

/** The value of a quantity string, or undefined when it is not one Kubernetes would accept. */
export function parseQuantity(s: string): number | undefined {
  return parseCoreQuantity(s);
}

/** True when the string ends in the milli suffix: "500m" of memory is half a byte, a classic slip for 500Mi. */
export function isMilli(s: string): boolean {
  return /\dm$/.test(s.trim());
}

const DURATION = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/;

/** Seconds of a duration like "1h30m", "45s", "2d" or a bare "90"; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const m = DURATION.exec(t);
  if (!m) return undefined;
  const [d, h, min, sec] = [m[1], m[2], m[3], m[4]].map((x) => (x === undefined ? 0 : Number(x)));
  return (d ?? 0) * 86400 + (h ?? 0) * 3600 + (min ?? 0) * 60 + (sec ?? 0);
}

/** A byte count the way a reader expects it in a message: "16Gi", "1.5Gi", "300Mi", "512". */
export function formatBytes(n: number): string {
  for (const [suffix, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (n >= size) {
      const v = n / size;
      return `${Number.isInteger(v) ? v : v.toFixed(2).replace(/\.?0+$/, '')}${suffix}`;
    }
  }
  return String(Math.round(n));
}
