// The SizingPolicy kind (tailor.dev/v1alpha1): which pods Tailor sizes and how. This schema is the one
// source of the TypeScript types, offline validation, and the CRD (deploy/crds, via crd.ts).
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { Value } from '@sinclair/typebox/value';
import { parseQuantity } from '../core/quantity.ts';
import { configFor } from '../core/recommend/tuning.ts';
import {
  API_VERSION,
  Conditions,
  ContainerName,
  Decimal,
  DurationBetween,
  EXPECTED,
  Enum,
  LabelSelector,
  Matching,
  ObjectMeta,
  ObjectName,
  Quantity,
  ResourceList,
  Resources,
  Timestamp,
  celQuantity,
  closed,
  isQuantity,
  withRules,
} from './common.ts';
import type { KindDefinition } from './common.ts';

export const SIZING_MODES = ['Off', 'Recommend', 'Initial', 'InPlace', 'Auto'] as const;
export type SizingMode = (typeof SIZING_MODES)[number];

export function SizingModeSchema(defaultMode: SizingMode) {
  return Enum(SIZING_MODES, {
    default: defaultMode,
    description:
      'Off: do nothing. Recommend: compute and publish recommendations in status, never touch a pod. ' +
      'Initial: also size new pods as they are created (admission webhook), never running ones. ' +
      'InPlace: also resize running pods in place (pods/resize), never evict; a resize the node cannot fit is reported. ' +
      'Auto: like InPlace, and evict (through the Eviction API, respecting PodDisruptionBudgets) a pod whose resize cannot be done in place. ' +
      'In YAML write "Off" in quotes: a bare Off reads as false.',
  });
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

const TargetRef = Type.Object(
  {
    apiVersion: Type.Literal('apps/v1', { default: 'apps/v1', description: 'API version of the workload.' }),
    kind: Enum(WORKLOAD_KINDS, { description: 'Kind of the workload.' }),
    name: ObjectName({ description: "Name of the workload, in the policy's namespace." }),
  },
  {
    ...closed,
    'x-kubernetes-map-type': 'atomic',
    description: 'The workload whose pods this policy sizes. Set this or selector, not both.',
  },
);

function minNotAboveMax(resource: 'cpu' | 'memory') {
  const min = `self.minAllowed.${resource}`;
  const max = `self.maxAllowed.${resource}`;
  return {
    rule:
      `!has(self.minAllowed) || !has(self.maxAllowed) || !has(${min}) || !has(${max}) || ` +
      `!isQuantity(string(${min})) || !isQuantity(string(${max})) || ` +
      `${celQuantity(min)}.compareTo(${celQuantity(max)}) <= 0`,
    message: `minAllowed.${resource} must not be above maxAllowed.${resource}`,
    messageExpression: `'minAllowed.${resource} (' + string(${min}) + ') must not be above maxAllowed.${resource} (' + string(${max}) + ')'`,
    fieldPath: `.minAllowed.${resource}`,
    explain: (c: { minAllowed?: Resources; maxAllowed?: Resources }) =>
      `minAllowed.${resource} (${String(c.minAllowed?.[resource])}) must not be above maxAllowed.${resource} (${String(c.maxAllowed?.[resource])})`,
    check: (c: { minAllowed?: Resources; maxAllowed?: Resources }) => {
      const lo = c.minAllowed?.[resource];
      const hi = c.maxAllowed?.[resource];
      if (lo === undefined || hi === undefined || !isQuantity(lo) || !isQuantity(hi)) return true;
      return (parseQuantity(lo) ?? 0) <= (parseQuantity(hi) ?? 0);
    },
  };
}

function LimitRule<const S extends readonly [string, string, ...string[]]>(
  resource: string,
  strategies: S,
  explain: string,
) {
  return withRules(
    Type.Object(
      {
        strategy: Enum(strategies, { default: 'KeepRatio', description: explain }),
        headroomPercent: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 1000,
            description: `With strategy Headroom: the ${resource} limit is the request plus this percentage.`,
          }),
        ),
      },
      // Spelled out: the apiserver checks a default against the rules without filling nested defaults.
      {
        ...closed,
        default: { strategy: 'KeepRatio' },
        description: `How the ${resource} limit follows the ${resource} request.`,
      },
    ),
    {
      rule: "has(self.headroomPercent) == (self.strategy == 'Headroom')",
      message: 'headroomPercent is required with strategy Headroom, and only allowed with it',
      check: (l) => (l.headroomPercent !== undefined) === (l.strategy === 'Headroom'),
    },
  );
}

const Limits = Type.Object(
  {
    cpu: LimitRule(
      'CPU',
      ['KeepRatio', 'Headroom', 'NoLimit'] as const,
      'KeepRatio: keep the limit/request ratio the pod was created with (no limit stays no limit). ' +
        'Headroom: limit = request + headroomPercent. NoLimit: new pods get no CPU limit (running pods keep theirs, ' +
        'because removing it would change their QoS class).',
    ),
    memory: LimitRule(
      'memory',
      ['KeepRatio', 'Headroom'] as const,
      'KeepRatio: keep the limit/request ratio the pod was created with (no limit stays no limit). ' +
        'Headroom: limit = request + headroomPercent. A memory limit is never set below what the container uses.',
    ),
  },
  {
    ...closed,
    default: {},
    description: 'How limits follow requests when controlledValues is RequestsAndLimits.',
  },
);

export const ContainerPolicy = withRules(
  Type.Object(
    {
      name: ContainerName({
        description:
          'The container this entry is for, or "*" for every container not named in another entry.',
      }),
      mode: Enum(['Auto', 'Off'] as const, {
        default: 'Auto',
        description: "Off: leave this container alone. Auto: size it as the policy's mode says.",
      }),
      controlledResources: Type.Array(Enum(['cpu', 'memory'] as const), {
        default: ['cpu', 'memory'],
        minItems: 1,
        maxItems: 2,
        'x-kubernetes-list-type': 'set',
        description: 'The resources Tailor sizes for this container.',
      }),
      controlledValues: Enum(['RequestsAndLimits', 'RequestsOnly'] as const, {
        default: 'RequestsAndLimits',
        description:
          'RequestsOnly: change requests and leave limits as they are. RequestsAndLimits: change both, limits as `limits` says.',
      }),
      minAllowed: Type.Optional(Resources({ description: 'Never recommend less than this.' })),
      maxAllowed: Type.Optional(
        Resources({ description: 'Never recommend more than this, OOM bumps included.' }),
      ),
      limits: Limits,
    },
    { ...closed, description: 'How to size one container (or all, with name "*").' },
  ),
  minNotAboveMax('cpu'),
  minNotAboveMax('memory'),
  {
    rule: "self.controlledValues == 'RequestsAndLimits' || (self.limits.cpu.strategy == 'KeepRatio' && self.limits.memory.strategy == 'KeepRatio')",
    message: 'limits apply only with controlledValues: RequestsAndLimits',
    fieldPath: '.limits',
    check: (c) =>
      c.controlledValues === 'RequestsAndLimits' ||
      (c.limits.cpu.strategy === 'KeepRatio' && c.limits.memory.strategy === 'KeepRatio'),
  },
);
export type ContainerPolicy = Static<typeof ContainerPolicy>;

export const PROFILES = ['Conservative', 'Balanced', 'Aggressive'] as const;
export type Profile = (typeof PROFILES)[number];

const Tuning = (resource: string) =>
  Type.Object(
    {
      percentile: Type.Optional(
        Type.Number({
          minimum: 50,
          maximum: 100,
          description: `The percentile of ${resource} usage to size for (50 to 100; 100 is the peak seen).`,
        }),
      ),
      headroomPercent: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 500,
          description:
            `How much to add on top of that percentile, in percent (0 to 500).` +
            (resource === 'memory'
              ? " Memory never goes below the last hour's peak plus the profile's margin, whatever this says."
              : ''),
        }),
      ),
    },
    {
      ...closed,
      description: `Overrides the profile for ${resource}; a field left out keeps the profile's value.`,
    },
  );

const Recommendation = Type.Object(
  {
    profile: Enum(PROFILES, {
      default: 'Balanced',
      description:
        'A preset of percentile and headroom per resource, relative to the recommender defaults. ' +
        "Balanced (the defaults): CPU p90 of samples +15%; memory the decayed peak of 5-minute peaks +0%, never below the last hour's peak +3%. " +
        "Conservative: CPU p95 +25%; memory peak +15%, last hour's peak +15%. " +
        "Aggressive: CPU p80 +10%; memory p95 of 5-minute peaks +0%, last hour's peak +1%. " +
        'Every profile keeps the OOM floor and the wider margin of a short history.',
    }),
    cpu: Type.Optional(Tuning('CPU')),
    memory: Type.Optional(Tuning('memory')),
  },
  { ...closed, default: {}, description: 'How recommendations are computed from usage history.' },
);

/**
 * The percentile and headroom (over the slow percentile) each profile stands for, as configFor
 * (core/recommend/tuning.ts) computes them from the recommender defaults.
 */
export const PROFILE_TUNING: Record<
  Profile,
  Record<'cpu' | 'memory', { percentile: number; headroomPercent: number }>
> = Object.fromEntries(PROFILES.map((p) => [p, tuning({ profile: p })])) as Record<
  Profile,
  Record<'cpu' | 'memory', { percentile: number; headroomPercent: number }>
>;

const History = withRules(
  Type.Object(
    {
      // At least an hour (a shorter window makes the memory floor a few minutes' peak), at most 90
      // days (history read from Prometheus and kept in the store grows with it).
      window: DurationBetween('1h', '90d', {
        default: '8d',
        description:
          'How much usage history recommendations look at, from 1h to 90d, e.g. 8d. Nothing is lowered until ' +
          'the history spans min(window, 24h).',
      }),
      source: Enum(['MetricsServer', 'Prometheus'] as const, {
        default: 'MetricsServer',
        description:
          "MetricsServer: poll metrics.k8s.io into the operator's own store (works on any cluster). " +
          'Prometheus: read cAdvisor metrics, weeks of history at once.',
      }),
      prometheus: Type.Optional(
        Matching(
          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          "the name of one of the operator's Prometheus sources, a DNS label such as main",
          {
            maxLength: 63,
            minLength: 1,
            description:
              "With source Prometheus: which of the operator's Prometheus sources to read (the platform team " +
              'configures them: tailor operator --prometheus NAME=URL or --prometheus-config); left out, the ' +
              "operator's source named default.",
          },
        ),
      ),
      prometheusURL: Type.Optional(
        Type.String({
          maxLength: 2048,
          description:
            'Removed, always refused: a policy cannot choose the URL the operator reads. Name one of the ' +
            "operator's sources in prometheus instead.",
        }),
      ),
    },
    { ...closed, default: {}, description: 'Where usage history comes from, and how far back.' },
  ),
  {
    rule: "!has(self.prometheus) || self.source == 'Prometheus'",
    message: 'prometheus (a source name) is only used with source: Prometheus',
    fieldPath: '.prometheus',
    check: (h) => h.prometheus === undefined || h.source === 'Prometheus',
  },
  {
    // Kept in the schema only to refuse it with this message: dropped as an unknown field, an old
    // manifest would silently read another Prometheus than the one it names.
    rule: '!has(self.prometheusURL)',
    message:
      "prometheusURL is no longer supported: the operator chooses the Prometheus servers it reads. Set history.prometheus to the name of one of the operator's sources (ask your platform team), or leave it out for the operator's default source",
    fieldPath: '.prometheusURL',
    reason: 'FieldValueForbidden',
    check: (h) => h.prometheusURL === undefined,
  },
);

const PODS_OR_PERCENT = /^([1-9][0-9]?%|100%)$/;
const PodsOrPercent = withRules(
  Type.Union([Type.Integer(), Type.String({ maxLength: 4 })], {
    'x-kubernetes-int-or-string': true,
    default: '25%',
    [EXPECTED]: 'a number of pods (1 or more) or a percentage of them such as "25%"',
    description:
      'How many of the targeted pods may be changing at once (resized or evicted): a number, or a percentage ' +
      'of the pods rounded up, so at least one.',
  }),
  {
    rule: "type(self) == int ? self >= 1 : self.matches(r'^([1-9][0-9]?%|100%)$')",
    message: 'must be a number of pods (1 or more) or a percentage of them such as "25%"',
    check: (v) => (typeof v === 'number' ? v >= 1 : PODS_OR_PERCENT.test(v)),
  },
);

const Update = Type.Object(
  {
    minChangePercent: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 10,
      description:
        'Leave a pod alone unless a request would move by at least this percentage (OOM bumps always apply).',
    }),
    // At least a minute (the kubelet needs that to act on a resize and the usage to show it), at most
    // 30 days (a longer wait is mode Off or Initial).
    cooldown: DurationBetween('1m', '30d', {
      default: '5m',
      description:
        'After changing a pod, wait this long before changing it again, from 1m to 30d (OOM bumps do not wait).',
    }),
    maxChangesPerHour: Type.Integer({
      minimum: 1,
      maximum: 60,
      default: 4,
      description: 'At most this many changes per pod in any hour, OOM bumps excepted.',
    }),
    maxPodsAtOnce: PodsOrPercent,
    maxEvictionsPerHour: Type.Integer({
      minimum: 0,
      maximum: 60,
      default: 1,
      [EXPECTED]: 'a whole number of evictions from 0 (never evict) to 60',
      description:
        'Auto only: at most this many pods evicted per hour across the policy (0: never evict); counted across ' +
        'operator restarts.',
    }),
  },
  { ...closed, default: {}, description: 'When and how fast recommendations are applied to pods.' },
);

const Oom = Type.Object(
  {
    bumpFactor: Type.Number({
      minimum: 1,
      maximum: 10,
      default: 1.2,
      description: 'After an OOM kill, memory becomes at least the usage at the kill times this factor.',
    }),
    minBumpMemory: Quantity({
      default: '100Mi',
      description: 'After an OOM kill, memory grows by at least this much above the usage at the kill.',
    }),
  },
  {
    ...closed,
    default: {},
    description: 'How memory reacts to an OOM kill: at once, without waiting for history.',
  },
);

export const SizingPolicySpec = withRules(
  Type.Object(
    {
      targetRef: Type.Optional(TargetRef),
      selector: Type.Optional(
        LabelSelector({
          description:
            "The pods this policy sizes, by label, in the policy's namespace. Set this or targetRef, not both.",
        }),
      ),
      mode: SizingModeSchema('Recommend'),
      containers: Type.Optional(
        Type.Array(ContainerPolicy, {
          maxItems: 32,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          description:
            'Per-container settings, by container name; "*" applies to containers not listed by name. ' +
            'Containers with no entry are sized with the defaults.',
        }),
      ),
      recommendation: Recommendation,
      history: History,
      update: Update,
      oom: Oom,
    },
    { ...closed, description: 'What to size and how.' },
  ),
  {
    rule: 'has(self.targetRef) != has(self.selector)',
    message: 'set exactly one of targetRef (a workload) or selector (pods by label)',
    check: (s) => (s.targetRef === undefined) !== (s.selector === undefined),
  },
);
export type SizingPolicySpec = Static<typeof SizingPolicySpec>;

const ContainerRecommendation = Type.Object({
  name: Type.String({ maxLength: 63, description: 'The container.' }),
  target: ResourceList({ description: 'What Tailor sets the requests to.' }),
  lowerBound: Type.Optional(
    ResourceList({ description: 'Below this, the container is likely to be starved or killed.' }),
  ),
  upperBound: Type.Optional(ResourceList({ description: 'Above this, resources are likely wasted.' })),
  uncappedTarget: Type.Optional(
    ResourceList({ description: 'The target before minAllowed and maxAllowed were applied.' }),
  ),
  peak: Type.Optional(
    ResourceList({
      description:
        "The highest usage seen in the history window (memory: working set). New pods, like running ones, never get less memory than this plus the actuator's margin.",
    }),
  ),
  basis: Type.Optional(
    Type.String({
      maxLength: 1024,
      description: 'What the recommendation rests on, e.g. "2,880 samples from 3 pods over 2.0 days".',
    }),
  ),
  notApplied: Type.Optional(
    Type.String({
      maxLength: 1024,
      description:
        'Resources of this recommendation Tailor does not apply, and why, e.g. "cpu: HorizontalPodAutoscaler web scales on its utilisation".',
    }),
  ),
});
export type ContainerRecommendation = Static<typeof ContainerRecommendation>;

export const SizingPolicyStatus = Type.Object({
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
      description: 'What the policy resolved to, e.g. "Deployment/web" or "pods app=web".',
    }),
  ),
  pods: Type.Optional(
    Type.Object(
      {
        targeted: Type.Integer({ minimum: 0, description: 'Pods the policy applies to.' }),
        withoutMetrics: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: 'Pods with no usage data yet: they get no recommendation.',
          }),
        ),
        upToDate: Type.Optional(
          Type.Integer({ minimum: 0, description: 'Pods running with the recommendation.' }),
        ),
        skipped: Type.Optional(
          Type.Integer({
            minimum: 0,
            description:
              'Pods covered but left alone for now, e.g. during a start-up boost (annotation tailor.dev/startup-boost).',
          }),
        ),
      },
      { description: 'Pod counts.' },
    ),
  ),
  conditions: Type.Optional(Conditions()),
  recommendations: Type.Optional(
    Type.Array(ContainerRecommendation, {
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      description: 'The recommendation per container.',
    }),
  ),
  lastApplied: Type.Optional(
    Type.Object(
      {
        time: Timestamp({ description: 'When.' }),
        pods: Type.Integer({ minimum: 0, description: 'How many pods were changed.' }),
        summary: Type.String({
          maxLength: 1024,
          description: 'What changed, e.g. "app: cpu 2 -> 500m, memory 4Gi -> 1Gi".',
        }),
      },
      { description: 'The last change Tailor made to the targeted pods.' },
    ),
  ),
  estimatedMonthlySavings: Type.Optional(
    Type.Object(
      {
        cost: Decimal({
          description: 'Money per month the recommendations save (negative: they cost more).',
        }),
        currency: Matching('^[A-Z]{3}$', 'an ISO 4217 currency code such as USD', {
          maxLength: 3,
          description: 'Currency of cost.',
        }),
        co2eKg: Type.Optional(Decimal({ description: 'Kilograms of CO2-equivalent per month saved.' })),
      },
      {
        description:
          "What the recommendations save per month against the requests the workload declares (its pod template; a selector policy: the pods' own requests), by the price sheet and carbon coefficients in use.",
      },
    ),
  ),
});
export type SizingPolicyStatus = Static<typeof SizingPolicyStatus>;

export const SizingPolicySchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('SizingPolicy'),
    metadata: ObjectMeta,
    spec: SizingPolicySpec,
    status: Type.Optional(SizingPolicyStatus),
  },
  {
    description:
      'Sizes the pods of a workload (or a label selector) from their real usage: recommends, sets the size of new ' +
      'pods, and resizes running pods in place.',
  },
);
/** As read from the API: metadata is the full ObjectMeta the apiserver fills in. */
export type SizingPolicy = Omit<Static<typeof SizingPolicySchema>, 'metadata'> & { metadata: V1ObjectMeta };

export const SizingPolicyKind: KindDefinition<typeof SizingPolicySchema> = {
  kind: 'SizingPolicy',
  plural: 'sizingpolicies',
  singular: 'sizingpolicy',
  shortNames: ['sp'],
  categories: ['tailor'],
  schema: SizingPolicySchema,
  description: SizingPolicySchema.description ?? '',
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'What the policy may change.' },
    { name: 'Target', type: 'string', jsonPath: '.status.target', description: 'The workload or selector.' },
    {
      name: 'Pods',
      type: 'integer',
      jsonPath: '.status.pods.targeted',
      description: 'Pods the policy applies to.',
    },
    {
      name: 'Saving/month',
      type: 'string',
      jsonPath: '.status.estimatedMonthlySavings.cost',
      description: 'Estimated saving per month.',
    },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    {
      name: 'Currency',
      type: 'string',
      jsonPath: '.status.estimatedMonthlySavings.currency',
      priority: 1,
    },
    {
      name: 'CO2e-kg/month',
      type: 'string',
      jsonPath: '.status.estimatedMonthlySavings.co2eKg',
      priority: 1,
    },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
  ],
};

/**
 * The settings for one container: its own entry, else the "*" entry, else the defaults, so callers
 * never re-implement the lookup or the defaults.
 */
export function containerPolicy(
  spec: Pick<SizingPolicySpec, 'containers'>,
  container: string,
): ContainerPolicy {
  const entries = spec.containers ?? [];
  const found = entries.find((c) => c.name === container) ?? entries.find((c) => c.name === '*');
  return found ?? (Value.Default(ContainerPolicy, { name: '*' }) as ContainerPolicy);
}

/**
 * The percentile and headroom to use per resource: the profile's, overridden field by field (the
 * numbers of the recommender configs `configFor` builds, in percent).
 */
export function tuning(
  rec: Pick<SizingPolicySpec['recommendation'], 'profile'> & Partial<SizingPolicySpec['recommendation']>,
): Record<'cpu' | 'memory', { percentile: number; headroomPercent: number }> {
  const of = (resource: 'cpu' | 'memory') => {
    const c = configFor(rec, resource);
    return { percentile: pct(c.percentile), headroomPercent: pct(c.margin) };
  };
  return { cpu: of('cpu'), memory: of('memory') };
}

function pct(fraction: number): number {
  return Math.round(fraction * 100 * 1e6) / 1e6;
}
