// Checking untyped input (annotation JSON, a parsed YAML scenario) field by field, so every
// refusal names the field, what was expected and what was found.
import { formatBytes, isMilli, parseDuration, parseQuantity } from './quantity.ts';

export type Path = readonly (string | number)[];

/** A field that is wrong; `path` is relative to what was being checked, the caller adds where it came from. */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly path: Path,
    readonly detail: string,
    /** Where to point a reader (a line number) when that differs from `path`, e.g. the unknown key itself. */
    readonly at: Path = path,
  ) {
    super(path.length ? `${formatPath(path)}: ${detail}` : detail);
  }
}

/** `nodePools[1].gpu.model`; keys holding dots or slashes are quoted: `requests["nvidia.com/gpu"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/[./]/.test(seg)) out += `[${JSON.stringify(seg)}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** A value as a message shows it: strings and numbers literally, composites by their shape. */
export function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v === 'object' ? 'a mapping' : typeof v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function record(v: unknown, path: Path): Record<string, unknown> {
  if (!isRecord(v)) throw new FieldError(path, `expected a mapping, got ${show(v)}`);
  return v;
}

/** Refuses keys outside `allowed`; `what` completes "is not a field of ...". */
export function onlyKeys(
  o: Record<string, unknown>,
  path: Path,
  allowed: readonly string[],
  what: string,
): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new FieldError(path, `"${k}" is not ${what}; allowed: ${allowed.join(', ')}`, [...path, k]);
    }
  }
}

export function list(v: unknown, path: Path): unknown[] {
  if (!Array.isArray(v)) throw new FieldError(path, `expected a list, got ${show(v)}`);
  return v;
}

export function string(v: unknown, path: Path): string {
  if (typeof v !== 'string' || v === '')
    throw new FieldError(path, `expected a non-empty string, got ${show(v)}`);
  return v;
}

export function boolean(v: unknown, path: Path): boolean {
  if (typeof v !== 'boolean') throw new FieldError(path, `expected true or false, got ${show(v)}`);
  return v;
}

/** One of a closed set; `noun` completes `"x" is not <noun>`. */
export function oneOf<T extends string>(v: unknown, path: Path, allowed: readonly T[], noun: string): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new FieldError(path, `${show(v)} is not ${noun}; allowed: ${allowed.join(', ')}`);
}

export interface NumberRule {
  min?: number;
  max?: number;
  /** Strictly above min. */
  above?: number;
  integer?: boolean;
}

function ruleText(r: NumberRule): string {
  const parts: string[] = [];
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  if (r.min !== undefined) parts.push(`>= ${r.min}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  return `${r.integer ? 'an integer' : 'a number'}${parts.length ? ` ${parts.join(' and ')}` : ''}`;
}

function checkRule(n: number, v: unknown, path: Path, r: NumberRule, expected: string): number {
  const bad =
    !Number.isFinite(n) ||
    (r.integer === true && !Number.isInteger(n)) ||
    (r.min !== undefined && n < r.min) ||
    (r.max !== undefined && n > r.max) ||
    (r.above !== undefined && n <= r.above);
  if (bad) throw new FieldError(path, `expected ${expected}, got ${show(v)}`);
  return n;
}

export function number(v: unknown, path: Path, rule: NumberRule = {}): number {
  if (typeof v !== 'number') throw new FieldError(path, `expected ${ruleText(rule)}, got ${show(v)}`);
  return checkRule(v, v, path, rule, ruleText(rule));
}

/** Bytes: a number or a quantity string ("16Gi", "512M"); the milli suffix is refused as a likely slip. */
export function bytes(v: unknown, path: Path, rule: NumberRule = { min: 0 }): number {
  const expected = `a byte quantity such as 16Gi or 512Mi, or a number of bytes${rule.above !== undefined ? ` > ${formatBytes(rule.above)}` : ''}`;
  if (typeof v === 'string' && isMilli(v)) {
    throw new FieldError(
      path,
      `${show(v)} is thousandths of a byte; write Mi for mebibytes (e.g. ${v.trim().slice(0, -1)}Mi)`,
    );
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseQuantity(v) : undefined;
  if (n === undefined) throw new FieldError(path, `expected ${expected}, got ${show(v)}`);
  return Math.round(checkRule(n, v, path, rule, expected));
}

/** CPU cores: a number or a quantity string ("500m", "2"). */
export function cores(v: unknown, path: Path, rule: NumberRule = { min: 0 }): number {
  const expected = `CPU cores such as 2, 0.5 or 500m${rule.above !== undefined ? ` > ${rule.above}` : rule.min !== undefined ? ` >= ${rule.min}` : ''}`;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseQuantity(v) : undefined;
  if (n === undefined) throw new FieldError(path, `expected ${expected}, got ${show(v)}`);
  return checkRule(n, v, path, rule, expected);
}

/** Seconds: a number or a duration string ("90s", "1h30m", "2d"). */
export function seconds(v: unknown, path: Path, rule: NumberRule = { min: 0 }): number {
  const expected = `a duration such as 90s, 15m or 1h30m, or a number of seconds${rule.above !== undefined ? ` > ${rule.above}` : ''}`;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseDuration(v) : undefined;
  if (n === undefined) throw new FieldError(path, `expected ${expected}, got ${show(v)}`);
  return checkRule(n, v, path, rule, expected);
}
