// Offline validation against a kind's schema: defaults first, as the apiserver does, then every bad
// field with what was expected in plain words, including the CEL rules' TypeScript twins.
import { Kind } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import type { ValueError } from '@sinclair/typebox/value';
import { TailorError } from '../errors.ts';
import { EXPECTED, rulesOf } from './common.ts';

export interface Problem {
  /** Where, as the apiserver writes it: spec.containers[0].minAllowed.cpu */
  path: string;
  message: string;
}

/**
 * The value with defaults applied, typed by the schema; or a TailorError('InvalidInput') listing
 * every problem, one per line. `what` names the input, e.g. "SizingPolicy web (policy.yaml)".
 */
export function validate<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const defaulted = withDefaults(schema, value);
  const found = problemsIn(schema, defaulted);
  if (found.length > 0) {
    const lines = found.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`);
    throw new TailorError('InvalidInput', `${what} is not valid:\n${lines.join('\n')}`, {
      hint: 'fix the fields listed; `kubectl explain <kind>.spec --recursive` describes every field',
    });
  }
  return defaulted;
}

/** Every problem in `value` (defaults applied first); empty when it is valid. */
export function problems(schema: TSchema, value: unknown): Problem[] {
  return problemsIn(schema, withDefaults(schema, value));
}

function withDefaults<T extends TSchema>(schema: T, value: unknown): Static<T> {
  return Value.Default(schema, structuredClone(value));
}

function problemsIn(schema: TSchema, value: unknown): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  const add = (p: Problem) => {
    // One message per field: a union or a missing field can trip several checks at the same place.
    if (seen.has(p.path)) return;
    seen.add(p.path);
    out.push(p);
  };
  for (const e of Value.Errors(schema, value)) add({ path: formatPointer(e.path), message: describe(e) });
  checkRules(schema, value, [], add);
  return out;
}

type Segment = string | number;

function formatPath(segments: Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${s}]`;
  }
  return out;
}

function formatPointer(pointer: string): string {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
  return formatPath(segments);
}

/** Runs the TypeScript twin of every CEL rule on each node present in the value. */
function checkRules(schema: TSchema, value: unknown, at: Segment[], add: (p: Problem) => void): void {
  if (value === undefined) return;
  const s = schema as TSchema & Record<string, unknown>;
  for (const r of rulesOf(schema)) {
    // The apiserver runs no rule while any field is malformed; offline, every rule whose inputs can
    // be read still runs, so one pass shows all the problems. A rule that cannot read its inputs is
    // left to the field errors already reported.
    let failed: string | undefined;
    try {
      if (!r.check(value)) failed = r.explain?.(value) ?? r.message;
    } catch {
      continue;
    }
    if (failed === undefined) continue;
    const field = r.fieldPath ? r.fieldPath.split('.').filter(Boolean) : [];
    add({ path: formatPath([...at, ...field]), message: failed });
  }
  switch (s[Kind]) {
    case 'Object':
      if (isRecord(value)) {
        for (const [key, prop] of Object.entries((s.properties ?? {}) as Record<string, TSchema>)) {
          checkRules(prop, value[key], [...at, key], add);
        }
      }
      break;
    case 'Record':
      if (isRecord(value)) {
        const [item] = Object.values((s.patternProperties ?? {}) as Record<string, TSchema>);
        if (item) for (const [key, v] of Object.entries(value)) checkRules(item, v, [...at, key], add);
      }
      break;
    case 'Array':
      if (Array.isArray(value)) {
        value.forEach((v, i) => checkRules(s.items as TSchema, v, [...at, i], add));
        duplicates(s, value, at, add);
      }
      break;
    default:
      break;
  }
}

/** The apiserver refuses two entries with the same keys in a list of type map (and equal items in a set). */
function duplicates(
  s: Record<string, unknown>,
  list: unknown[],
  at: Segment[],
  add: (p: Problem) => void,
): void {
  const type = s['x-kubernetes-list-type'];
  if (type !== 'map' && type !== 'set') return;
  const keys = (s['x-kubernetes-list-map-keys'] ?? []) as string[];
  const identity = (v: unknown) =>
    type === 'set' ? JSON.stringify(v) : JSON.stringify(keys.map((k) => (isRecord(v) ? v[k] : undefined)));
  const first = new Map<string, number>();
  list.forEach((v, i) => {
    const id = identity(v);
    const earlier = first.get(id);
    if (earlier === undefined) {
      first.set(id, i);
      return;
    }
    const what =
      type === 'set' ? show(v) : keys.map((k) => `${k} ${show(isRecord(v) ? v[k] : undefined)}`).join(', ');
    add({ path: formatPath([...at, i]), message: `duplicate entry: item ${earlier} already has ${what}` });
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the decimal ${v}`;
  if (typeof v === 'boolean') return `${v} (a boolean)`;
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

function range(s: Record<string, unknown>, unit: string): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return `${unit} from ${min} to ${max}`;
  if (min !== undefined) return `${unit} of at least ${min}`;
  if (max !== undefined) return `${unit} of at most ${max}`;
  return unit;
}

// Why a bare Off fails in YAML, said where it happens instead of in a FAQ.
const YAML_BOOLEAN_HINT = ': YAML reads a bare Off, On, Yes or No as a boolean, so write it in quotes';

type Describe = (e: ValueError, s: Record<string, unknown>, expected: string | undefined) => string;

const got = (e: ValueError) => `; got ${typeName(e.value)}`;
const numberRange: Describe = (e, s) => `must be ${range(s, 'a number')}${got(e)}`;
const integerRange: Describe = (e, s) => `must be ${range(s, 'a whole number')}${got(e)}`;

// The error kinds a Kubernetes-shaped schema can raise, in words; anything else keeps TypeBox's text.
const DESCRIBE: Partial<Record<ValueErrorType, Describe>> = {
  [ValueErrorType.ObjectAdditionalProperties]: (_e, s) => {
    const allowed = Object.keys(s.properties ?? {});
    return `unknown field${allowed.length ? `; the fields here are ${allowed.join(', ')}` : ''}`;
  },
  [ValueErrorType.Union]: (e, s, expected) => {
    const variants = (s.anyOf ?? []) as Record<string, unknown>[];
    if (variants.length > 0 && variants.every((v) => 'const' in v)) {
      const values = variants.map((v) => JSON.stringify(v.const));
      const hint = typeof e.value === 'boolean' ? YAML_BOOLEAN_HINT : '';
      return `must be one of ${values.join(', ')}${got(e)}${hint}`;
    }
    return `must be ${expected ?? 'one of the allowed shapes'}${got(e)}`;
  },
  [ValueErrorType.Literal]: (e, s) => `must be ${JSON.stringify(s.const)}${got(e)}`,
  [ValueErrorType.String]: (e, _s, expected) => `must be ${expected ?? 'text'}${got(e)}`,
  [ValueErrorType.StringFormat]: (e, s, expected) =>
    `must be ${expected ?? `in ${String(s.format)} format`}${got(e)}`,
  [ValueErrorType.StringMaxLength]: (_e, s) => `must be at most ${String(s.maxLength)} characters long`,
  [ValueErrorType.StringMinLength]: (_e, s) =>
    s.minLength === 1 ? 'must not be empty' : `must be at least ${String(s.minLength)} characters long`,
  [ValueErrorType.StringPattern]: (e, s, expected) =>
    `must be ${expected ?? `text matching ${String(s.pattern)}`}${got(e)}`,
  [ValueErrorType.Number]: numberRange,
  [ValueErrorType.NumberMinimum]: numberRange,
  [ValueErrorType.NumberMaximum]: numberRange,
  [ValueErrorType.Integer]: integerRange,
  [ValueErrorType.IntegerMinimum]: integerRange,
  [ValueErrorType.IntegerMaximum]: integerRange,
  [ValueErrorType.Boolean]: (e) => `must be true or false${got(e)}`,
  [ValueErrorType.Object]: (e) => `must be an object (fields under it)${got(e)}`,
  [ValueErrorType.Array]: (e) => `must be a list${got(e)}`,
  [ValueErrorType.ArrayMaxItems]: (e, s) =>
    `must have at most ${String(s.maxItems)} entries; has ${Array.isArray(e.value) ? e.value.length : '?'}`,
  [ValueErrorType.ArrayMinItems]: (_e, s) =>
    `must have at least ${String(s.minItems)} ${s.minItems === 1 ? 'entry' : 'entries'}`,
  [ValueErrorType.ObjectMaxProperties]: (_e, s) => `must have at most ${String(s.maxProperties)} entries`,
};

function describe(e: ValueError): string {
  if (e.type === ValueErrorType.ObjectRequiredProperty || e.value === undefined) return 'is required';
  const s = e.schema as TSchema & Record<string, unknown>;
  return DESCRIBE[e.type]?.(e, s, s[EXPECTED] as string | undefined) ?? e.message;
}
