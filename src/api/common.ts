// The building blocks every Tailor kind's schema is made of: enums, Kubernetes quantities, durations,
// names, label selectors, conditions, and cross-field rules that are both CEL (for the apiserver) and
// TypeScript (for offline validation), declared once side by side.
import { FormatRegistry, Type } from '@sinclair/typebox';
import type { SchemaOptions, Static, TLiteral, TSchema, TString, TUnion } from '@sinclair/typebox';
import { readQuantity } from '../core/quantity.ts';

export const GROUP = 'tailor.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Schema option key holding a node's rules; crd.ts turns it into `x-kubernetes-validations`. */
export const RULES = 'x-tailor-rules';
/** Schema option key with what a value should look like, in plain words, for type mismatches. */
export const EXPECTED = 'x-tailor-expected';

/**
 * A validation rule on one schema node. The apiserver evaluates `rule` (CEL, `self` = the node's
 * value); validate.ts evaluates `check`, which must say the same thing, so a file checked offline
 * fails with the message `kubectl apply` would give.
 */
export interface Rule<T> {
  rule: string;
  message: string;
  /** CEL building the message from the values; `explain` is its TypeScript twin. */
  messageExpression?: string;
  explain?: (self: T) => string;
  /** Where the apiserver reports the error, relative to the node (".minAllowed.cpu"). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  check: (self: T) => boolean;
}

/** Attaches rules to a node. Rules see the node after defaulting, as the apiserver's CEL does. */
export function withRules<S extends TSchema>(schema: S, ...rules: Rule<Static<S>>[]): S {
  const existing = (schema[RULES] as Rule<Static<S>>[] | undefined) ?? [];
  return Object.assign(schema, { [RULES]: [...existing, ...rules] });
}

export function rulesOf(schema: TSchema): Rule<unknown>[] {
  return (schema[RULES] as Rule<unknown>[] | undefined) ?? [];
}

type Literals<V extends readonly string[]> = { -readonly [K in keyof V]: TLiteral<V[K]> };

/** A closed set of strings; crd.ts writes it as an OpenAPI `enum`. */
export function Enum<const V extends readonly [string, string, ...string[]]>(
  values: V,
  options: SchemaOptions = {},
): TUnion<Literals<V>> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<Literals<V>>;
}

/** Closes an object schema: offline validation reports unknown fields as `kubectl apply --validate=strict` does. */
export const closed = { additionalProperties: false } as const;

/**
 * A string that must match `pattern`. The apiserver checks it with CEL rather than OpenAPI
 * `pattern`, because CEL can say what was expected in words instead of printing the regex.
 * The pattern must be valid both as RE2 and as a JavaScript RegExp, and contain no `'`.
 */
export function Matching(
  pattern: string,
  expected: string,
  options: SchemaOptions & { maxLength: number; minLength?: number },
): TString {
  const re = new RegExp(pattern);
  return withRules(Type.String({ ...options, [EXPECTED]: expected }), {
    rule: `self.matches(r'${pattern}')`,
    message: `must be ${expected}`,
    check: (s) => re.test(s),
  });
}

// Non-negative Kubernetes quantities (resource.Quantity without a sign), as the apiserver parses them.
const QUANTITY =
  /^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))?$/;
const QUANTITY_EXPECTED = 'a Kubernetes quantity such as 250m, 2, 1.5Gi or 512Mi (quote decimals: "0.5")';

/** A resource quantity, written as in a pod spec: `2`, `"250m"`, `"1.5Gi"`. */
export function Quantity(options: SchemaOptions = {}) {
  return withRules(
    Type.Union([Type.Integer(), Type.String({ maxLength: 64 })], {
      ...options,
      'x-kubernetes-int-or-string': true,
      [EXPECTED]: QUANTITY_EXPECTED,
    }),
    {
      rule: "type(self) == int ? self >= 0 : isQuantity(self) && !self.startsWith('-')",
      message: `must be ${QUANTITY_EXPECTED}`,
      check: (q) => (typeof q === 'number' ? q >= 0 : QUANTITY.test(q)),
    },
    // 1e400 is a quantity to the apiserver but Infinity to Tailor (and to any int64 field it is copied into).
    {
      rule: "type(self) == int || !isQuantity(self) || quantity(self).isLessThan(quantity('8Ei'))",
      message: 'must be below 8Ei (2^63 cores or bytes); write a real size such as 64Gi',
      check: (q) => typeof q === 'number' || readQuantity(q).kind !== 'TooLarge',
    },
  );
}

export function isQuantity(q: string | number): boolean {
  return typeof q === 'number' ? Number.isInteger(q) && q >= 0 : QUANTITY.test(q);
}

/** CEL: a quantity-valued field (int or string) as a Quantity object. */
export function celQuantity(path: string): string {
  return `quantity(string(${path}))`;
}

const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d|w))+$';
const DURATION_PART = /([0-9]+)(ms|s|m|h|d|w)/g;

/** A duration as people write it for history windows: `90s`, `15m`, `6h`, `8d`, `2w`, `1h30m`. */
export function Duration(options: SchemaOptions = {}): TString {
  return Matching(DURATION_PATTERN, 'a duration such as 90s, 15m, 6h, 8d or 2w', {
    ...options,
    maxLength: 32,
  });
}

/**
 * A `Duration` between two bounds (inclusive), e.g. `DurationBetween('1h', '90d')`. The CEL rule
 * adds up the parts as `parseDuration` does (in doubles: a huge number is out of range, not an
 * overflow); a value that is not a duration at all is left to the pattern rule's message.
 */
export function DurationBetween(min: string, max: string, options: SchemaOptions = {}): TString {
  const lo = parseDuration(min)!;
  const hi = parseDuration(max)!;
  const units = Object.entries(DURATION_UNITS).reduceRight(
    (rest, [unit, ms]) => (rest === '' ? `${ms}.0` : `(p.endsWith('${unit}') ? ${ms}.0 : ${rest})`),
    '',
  );
  const total = `self.findAll('[0-9]+(ms|s|m|h|d|w)').map(p, double(p.find('^[0-9]+')) * ${units}).sum()`;
  return withRules(Duration(options), {
    // `[x].all(ms, ...)` names the sum once (the CRD's CEL environment has no cel.bind).
    rule: `!self.matches(r'${DURATION_PATTERN}') || [${total}].all(ms, ms >= ${lo}.0 && ms <= ${hi}.0)`,
    message: `must be between ${min} and ${max}`,
    check: (s) => {
      const ms = parseDuration(s);
      return ms === undefined || (ms >= lo && ms <= hi);
    },
  });
}

/** Milliseconds in a duration written for `Duration`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART))
    ms += Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
  return ms;
}

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** The name of a namespaced object (Deployment, Secret, PVC...): a DNS subdomain. */
export function ObjectName(options: SchemaOptions = {}): TString {
  return Matching(DNS_SUBDOMAIN, 'a Kubernetes object name: lower-case letters, digits, "-" and "."', {
    ...options,
    maxLength: 253,
    minLength: 1,
  });
}

/** A container name, or `*` for every container not named in another entry. */
export function ContainerName(options: SchemaOptions = {}): TString {
  return Matching('^(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$', 'a container name (a DNS label) or "*"', {
    ...options,
    maxLength: 63,
    minLength: 1,
  });
}

/** A decimal written as a string, because Kubernetes APIs avoid floats: "12.34", "-0.5". */
export function Decimal(options: SchemaOptions = {}): TString {
  return Matching('^-?[0-9]+(\\.[0-9]+)?$', 'a decimal number written as a string, such as "12.34"', {
    ...options,
    maxLength: 32,
  });
}

FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v));

export function Timestamp(options: SchemaOptions = {}) {
  return Type.String({
    ...options,
    format: 'date-time',
    [EXPECTED]: 'an RFC 3339 time such as 2025-01-31T12:00:00Z',
  });
}

// A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = `^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${LABEL_NAME}$`;
const LABEL_KEY_RE = new RegExp(LABEL_KEY);
const LABEL_KEY_EXPECTED =
  'label keys such as app or app.kubernetes.io/name: letters, digits, "-", "_" and ".", at most 63 characters after an optional "prefix/"';

/** A label key, as in metadata.labels. */
function LabelKey(options: SchemaOptions = {}): TString {
  return Matching(LABEL_KEY, LABEL_KEY_EXPECTED.replace(/^label keys/, 'a label key'), {
    ...options,
    maxLength: 317,
    minLength: 1,
  });
}

/** A label value: empty, or up to 63 letters, digits, "-", "_" and "." starting and ending alphanumeric. */
function LabelValue(options: SchemaOptions = {}): TString {
  return Matching(
    `^(${LABEL_NAME})?$`,
    'a label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    { ...options, maxLength: 63 },
  );
}

const LabelSelectorRequirement = withRules(
  Type.Object(
    {
      key: LabelKey({ description: 'The label key the selector applies to.' }),
      operator: Enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
        description: "The key's relationship to the values.",
      }),
      values: Type.Optional(
        Type.Array(LabelValue(), {
          maxItems: 64,
          'x-kubernetes-list-type': 'atomic',
          description: 'For In and NotIn: the label values; must be empty for Exists and DoesNotExist.',
        }),
      ),
    },
    closed,
  ),
  {
    rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
    message: 'values must be given for In and NotIn, and left out for Exists and DoesNotExist',
    check: (r) =>
      r.operator === 'In' || r.operator === 'NotIn'
        ? (r.values?.length ?? 0) > 0
        : (r.values?.length ?? 0) === 0,
  },
);

/** metav1.LabelSelector, refusing the empty selector (it would match every pod in the namespace). */
export function LabelSelector(options: SchemaOptions = {}) {
  return withRules(
    Type.Object(
      {
        matchLabels: Type.Optional(
          withRules(
            Type.Record(Type.String(), LabelValue(), {
              maxProperties: 64,
              description: 'Labels a pod must carry, all of them.',
            }),
            {
              // Map keys have no schema of their own in a CRD, so the keys are checked here.
              rule: `self.all(k, k.matches(r'${LABEL_KEY}'))`,
              message: `keys must be ${LABEL_KEY_EXPECTED}`,
              check: (m) => Object.keys(m).every((k) => LABEL_KEY_RE.test(k)),
            },
          ),
        ),
        matchExpressions: Type.Optional(
          Type.Array(LabelSelectorRequirement, {
            maxItems: 16,
            'x-kubernetes-list-type': 'atomic',
            description: 'Label requirements a pod must meet, all of them.',
          }),
        ),
      },
      { ...closed, 'x-kubernetes-map-type': 'atomic', ...options },
    ),
    {
      rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
      message:
        'selector must have matchLabels or matchExpressions: an empty selector would match every pod in the namespace',
      check: (s) => Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions?.length ?? 0) > 0,
    },
  );
}

/** The object's metadata as a file carries it; the apiserver validates metadata itself. */
export const ObjectMeta = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 253 })),
    generateName: Type.Optional(Type.String({ maxLength: 253 })),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: true },
);

/** metav1.Condition, field for field, so standard tooling (kubectl wait --for=condition) works. */
export const Condition = Type.Object({
  type: Type.String({
    minLength: 1,
    maxLength: 316,
    description: 'Type of condition in CamelCase, e.g. Ready.',
  }),
  status: Enum(['True', 'False', 'Unknown'], { description: 'Status of the condition.' }),
  observedGeneration: Type.Optional(
    Type.Integer({
      minimum: 0,
      format: 'int64',
      description: 'The .metadata.generation the condition was set from.',
    }),
  ),
  lastTransitionTime: Timestamp({
    description: 'When the condition last changed from one status to another.',
  }),
  reason: Type.String({
    minLength: 1,
    maxLength: 1024,
    description: "A CamelCase word for the condition's last transition, for programs.",
  }),
  message: Type.String({
    maxLength: 32768,
    description: 'What happened and what to do about it, for people.',
  }),
});
export type Condition = Static<typeof Condition>;

export function Conditions() {
  return Type.Array(Condition, {
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    description: 'The latest observations of the object: Ready and the conditions that explain it.',
  });
}

/** CPU and memory, each optional: bounds and overrides. */
export function Resources(options: SchemaOptions = {}) {
  return Type.Object(
    {
      cpu: Type.Optional(Quantity({ description: 'CPU, in cores: "250m", "1.5" or 2.' })),
      memory: Type.Optional(Quantity({ description: 'Memory, in bytes: "512Mi", "2Gi".' })),
    },
    { ...closed, ...options },
  );
}
export type Resources = Static<ReturnType<typeof Resources>>;

/** A resource list as in a pod (cpu, memory, ephemeral-storage, nvidia.com/gpu...). */
export function ResourceList(options: SchemaOptions = {}) {
  return Type.Record(Type.String({ maxLength: 253 }), Quantity(), { maxProperties: 16, ...options });
}

/** An additional printer column, as `kubectl get` shows it. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority?: 0 | 1;
}

/** Everything crd.ts needs to turn a kind's schema into its CustomResourceDefinition. */
export interface KindDefinition<S extends TSchema = TSchema> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  /** The whole object: apiVersion, kind, metadata, spec, status. */
  schema: S;
  printerColumns: PrinterColumn[];
  description: string;
}
