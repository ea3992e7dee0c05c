// The VolumePolicy kind (tailor.dev/v1alpha1): which PersistentVolumeClaims Tailor grows before they
// fill, and by which rules (issue 12; docs/decisions/0021-volume-policy.md says why a kind of its own).
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { parseQuantity } from '../core/quantity.ts';
import {
  API_VERSION,
  Conditions,
  DurationBetween,
  EXPECTED,
  Enum,
  LabelSelector,
  ObjectMeta,
  ObjectName,
  Quantity,
  Timestamp,
  closed,
  isQuantity,
  withRules,
} from './common.ts';
import type { KindDefinition } from './common.ts';

export const VOLUME_POLICY_MODES = ['Recommend', 'Auto'] as const;
export type VolumePolicyMode = (typeof VOLUME_POLICY_MODES)[number];

/** The workloads whose pods' claims a policy can target. */
export const VOLUME_WORKLOAD_KINDS = ['Deployment', 'StatefulSet'] as const;

// "12%" or "12.5%": a share, as a string (Kubernetes APIs avoid floats).
const PERCENT = '^[0-9]{1,3}(\\.[0-9]{1,2})?%$';
const PERCENT_RE = new RegExp(PERCENT);
const CEL_PERCENT = `double(self.substring(0, size(self) - 1))`;

/** A share of capacity ("10%") or an amount ("20Gi"), as threshold and step take them. */
export type PercentOrQuantity = { percent: number } | { bytes: number };

/** Reads "N%" or a quantity; undefined when it is neither. */
export function readPercentOrQuantity(text: string): PercentOrQuantity | undefined {
  if (PERCENT_RE.test(text)) return { percent: Number(text.slice(0, -1)) };
  if (!isQuantity(text)) return undefined;
  const bytes = parseQuantity(text);
  return bytes === undefined ? undefined : { bytes };
}

function isPercentText(s: string): boolean {
  return s.endsWith('%');
}

/**
 * A string that is either "N%" (strictly between `minPercent` and `maxPercent` as the bounds say) or a
 * Kubernetes quantity above zero. One rule per way of being wrong, so the message says which.
 */
function PercentOrQuantitySchema(opts: {
  what: string;
  example: string;
  /** Inclusive upper bound on a percentage. */
  maxPercent: number;
  maxPercentWhy: string;
  default?: string;
  description: string;
}) {
  const expected = `a percentage such as "${opts.example}" or a quantity such as 20Gi`;
  return withRules(
    Type.String({
      maxLength: 64,
      minLength: 1,
      ...(opts.default === undefined ? {} : { default: opts.default }),
      [EXPECTED]: expected,
      description: opts.description,
    }),
    {
      rule: `self.endsWith('%') ? self.matches(r'${PERCENT}') : (isQuantity(self) && !self.startsWith('-'))`,
      message: `${opts.what} must be ${expected}`,
      check: (s) => (isPercentText(s) ? PERCENT_RE.test(s) : isQuantity(s)),
    },
    {
      rule: `!self.endsWith('%') || !self.matches(r'${PERCENT}') || (${CEL_PERCENT} > 0.0 && ${CEL_PERCENT} <= ${opts.maxPercent}.0)`,
      message: `${opts.what} as a percentage must be above 0% and at most ${opts.maxPercent}% (${opts.maxPercentWhy})`,
      messageExpression: `'${opts.what} ' + self + ' is out of range: a percentage must be above 0% and at most ${opts.maxPercent}% (${opts.maxPercentWhy})'`,
      explain: (s) =>
        `${opts.what} ${s} is out of range: a percentage must be above 0% and at most ${opts.maxPercent}% (${opts.maxPercentWhy})`,
      check: (s) => {
        if (!isPercentText(s) || !PERCENT_RE.test(s)) return true;
        const p = Number(s.slice(0, -1));
        return p > 0 && p <= opts.maxPercent;
      },
    },
    {
      rule: `self.endsWith('%') || !isQuantity(self) || quantity(self).isGreaterThan(quantity('0'))`,
      message: `${opts.what} as a quantity must be above 0`,
      messageExpression: `'${opts.what} ' + self + ' must be above 0: write an amount such as 20Gi, or a percentage such as "${opts.example}"'`,
      explain: (s) =>
        `${opts.what} ${s} must be above 0: write an amount such as 20Gi, or a percentage such as "${opts.example}"`,
      check: (s) => isPercentText(s) || !isQuantity(s) || (parseQuantity(s) ?? 0) > 0,
    },
  );
}

const TargetRef = Type.Object(
  {
    apiVersion: Type.Literal('apps/v1', { default: 'apps/v1', description: 'API version of the workload.' }),
    kind: Enum(VOLUME_WORKLOAD_KINDS, { description: 'Kind of the workload.' }),
    name: ObjectName({ description: "Name of the workload, in the policy's namespace." }),
  },
  {
    ...closed,
    'x-kubernetes-map-type': 'atomic',
    description:
      "The workload whose claims this policy grows: the PVCs its pods mount, and a StatefulSet's " +
      'volumeClaimTemplates. Set this or selector, not both.',
  },
);

export const VolumePolicySpec = withRules(
  Type.Object(
    {
      targetRef: Type.Optional(TargetRef),
      selector: Type.Optional(
        LabelSelector({
          description:
            "The PersistentVolumeClaims this policy grows, by their labels, in the policy's namespace. Set this " +
            'or targetRef, not both.',
        }),
      ),
      mode: Enum(VOLUME_POLICY_MODES, {
        default: 'Auto',
        description:
          'Recommend: publish in status and Events what would be expanded, never patch a claim. ' +
          "Auto: patch the claim's spec.resources.requests.storage (never lower, except to recover a failed expansion).",
      }),
      threshold: PercentOrQuantitySchema({
        what: 'threshold',
        example: '10%',
        maxPercent: 99,
        maxPercentWhy: 'free space below 100% of capacity is always true',
        default: '10%',
        description:
          'Expand when free space falls below this, or would within horizon at the recent growth: a share of ' +
          'capacity ("10%") or an amount of free space ("20Gi").',
      }),
      inodesThreshold: withRules(
        Type.String({
          maxLength: 8,
          default: '5%',
          [EXPECTED]: 'a percentage such as "5%"',
          description: 'Expand when free inodes fall below this share of all inodes, e.g. "5%".',
        }),
        {
          rule: `self.matches(r'${PERCENT}') && ${CEL_PERCENT} > 0.0 && ${CEL_PERCENT} <= 99.0`,
          message: 'inodesThreshold must be a percentage above 0% and at most 99%, such as "5%"',
          check: (s) => PERCENT_RE.test(s) && Number(s.slice(0, -1)) > 0 && Number(s.slice(0, -1)) <= 99,
        },
      ),
      step: PercentOrQuantitySchema({
        what: 'step',
        example: '10%',
        maxPercent: 1000,
        maxPercentWhy: 'more than eleven times the size in one step is a typo',
        default: '10%',
        description:
          'How much one expansion adds: a share of the current capacity ("10%") or an amount ("10Gi"); ' +
          'rounded up to a whole GiB.',
      }),
      maxSize: withRules(
        Quantity({
          description:
            'Never grow a claim past this, e.g. 500Gi. A claim already larger is left alone, with a condition.',
        }),
        {
          rule: "type(self) == int ? self > 0 : (!isQuantity(self) || quantity(self).isGreaterThan(quantity('0')))",
          message: 'maxSize must be above 0: write the largest size a claim may reach, such as 500Gi',
          check: (q) => (typeof q === 'number' ? q > 0 : !isQuantity(q) || (parseQuantity(q) ?? 0) > 0),
        },
      ),
      cooldown: DurationBetween('1m', '30d', {
        default: '6h',
        description:
          'Least time between two expansions of one claim, from 1m to 30d. The default fits the clouds ' +
          '(AWS EBS allows one modification per volume per six hours). Kept in status: a restart or a new ' +
          'leader keeps it.',
      }),
      horizon: Type.Optional(
        DurationBetween('0s', '30d', {
          description:
            "Look this far ahead on the recent growth: expand when free space would fall below threshold within it. Left out: Tailor's default.",
        }),
      ),
    },
    { ...closed, description: 'Which claims to grow and how.' },
  ),
  {
    rule: 'has(self.targetRef) != has(self.selector)',
    message: 'set exactly one of targetRef (a workload) or selector (claims by label)',
    check: (s) => (s.targetRef === undefined) !== (s.selector === undefined),
  },
);
export type VolumePolicySpec = Static<typeof VolumePolicySpec>;

/** Where a claim stands, for people and for `kubectl get` (closed: switched exhaustively). */
export const VOLUME_STATES = [
  /** Enough room for the horizon. */
  'Ok',
  /** Would be expanded (mode Recommend, or the operator's --dry-run). */
  'ExpansionRecommended',
  /** Tailor raised the request; the resizer is working on it. */
  'Expanding',
  /** The resizer refused or failed (ControllerResizeInfeasible / NodeResizeInfeasible). */
  'ExpansionFailed',
  /** Tailor lowered the request back to what can be had after a failure. */
  'Recovering',
  /** At maxSize (or the next step would pass it). */
  'AtMaximum',
  /** The StorageClass does not allow expansion. */
  'NotExpandable',
  /** No fresh usage: nothing is done on a guess. */
  'NoStats',
  /** Would be expanded, but the last expansion is within the cooldown. */
  'CoolingDown',
] as const;
export type VolumeState = (typeof VOLUME_STATES)[number];

export const EXPANSION_RESULTS = ['Requested', 'Succeeded', 'Failed', 'Recovered'] as const;
export type ExpansionResult = (typeof EXPANSION_RESULTS)[number];

const VolumeStatus = Type.Object({
  claim: Type.String({ maxLength: 253, description: 'The PersistentVolumeClaim, in the policy namespace.' }),
  used: Type.Optional(Type.String({ maxLength: 64, description: 'Bytes used, as the kubelet last said.' })),
  capacity: Type.Optional(
    Type.String({ maxLength: 64, description: 'status.capacity.storage: what the file system has.' }),
  ),
  requested: Type.Optional(Type.String({ maxLength: 64, description: 'spec.resources.requests.storage.' })),
  usedPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'used / capacity.' })),
  timeToFull: Type.Optional(
    Type.String({
      maxLength: 32,
      description: 'At the recent growth, how long until free space falls below threshold, e.g. 5h20m.',
    }),
  ),
  state: Enum(VOLUME_STATES, { description: 'Where the claim stands.' }),
  message: Type.Optional(Type.String({ maxLength: 1024, description: 'Why, in words.' })),
  lastExpansion: Type.Optional(
    Type.Object(
      {
        time: Timestamp({ description: 'When Tailor patched the claim.' }),
        from: Type.String({ maxLength: 64, description: 'The request before.' }),
        to: Type.String({ maxLength: 64, description: 'The request after.' }),
        result: Enum(EXPANSION_RESULTS, { description: 'How it went.' }),
      },
      { description: 'The last change Tailor made to the claim; the cooldown counts from its time.' },
    ),
  ),
});
export type VolumeStatus = Static<typeof VolumeStatus>;

export const VolumePolicyStatus = Type.Object({
  observedGeneration: Type.Optional(
    Type.Integer({
      minimum: 0,
      format: 'int64',
      description: 'The .metadata.generation this status is about.',
    }),
  ),
  target: Type.Optional(
    Type.String({
      maxLength: 512,
      description: 'What the policy resolved to, e.g. "StatefulSet/db" or "claims app=cache".',
    }),
  ),
  source: Type.Optional(
    Type.String({ maxLength: 64, description: 'Where usage came from: prometheus or kubelet.' }),
  ),
  conditions: Type.Optional(Conditions()),
  volumes: Type.Optional(
    Type.Array(VolumeStatus, {
      maxItems: 256,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['claim'],
      description: 'Per claim: usage, forecast and the last expansion.',
    }),
  ),
});
export type VolumePolicyStatus = Static<typeof VolumePolicyStatus>;

export const VolumePolicySchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('VolumePolicy'),
    metadata: ObjectMeta,
    spec: VolumePolicySpec,
    status: Type.Optional(VolumePolicyStatus),
  },
  {
    description:
      'Grows the PersistentVolumeClaims of a workload (or a label selector) before they fill, from the recent ' +
      'growth of their usage, up to a maximum; never shrinks one.',
  },
);
/** As read from the API: metadata is the full ObjectMeta the apiserver fills in. */
export type VolumePolicy = Omit<Static<typeof VolumePolicySchema>, 'metadata'> & { metadata: V1ObjectMeta };

export const VolumePolicyKind: KindDefinition<typeof VolumePolicySchema> = {
  kind: 'VolumePolicy',
  plural: 'volumepolicies',
  singular: 'volumepolicy',
  shortNames: ['vp'],
  categories: ['tailor'],
  schema: VolumePolicySchema,
  description: VolumePolicySchema.description ?? '',
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Auto or Recommend.' },
    { name: 'Target', type: 'string', jsonPath: '.status.target', description: 'The workload or selector.' },
    {
      name: 'Max',
      type: 'string',
      jsonPath: '.spec.maxSize',
      description: 'The largest size a claim may reach.',
    },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
  ],
};
