// The size a new pod should start with: each container through the actuator's own sizing rules
// (core/resize: min/max, limit strategy, QoS), adjusted for a pod that has not run yet.
import type { V1Pod } from '@kubernetes/client-node';
import type { SizingPolicy, SizingPolicySpec } from '../api/index.ts';
import { parseQuantity } from '../core/quantity.ts';
import {
  DEFAULT_PLAN_SETTINGS,
  podView,
  qosOf,
  resolvePolicy,
  sameAmount,
  sizeContainer,
  summarize,
  toContainerRecommendation,
  RESOURCES,
  type ContainerPlan,
  type ContainerRecommendation,
  type ContainerUsage,
  type QuantityPair,
  type ResourceSpec,
} from '../core/resize/index.ts';

export type PodSizing =
  | {
      readonly kind: 'Sized';
      /** Every container, in spec order; `after` is what it starts with. */
      readonly containers: readonly ContainerPlan[];
      /** Containers whose CPU limit is dropped (limit strategy NoLimit). */
      readonly cpuLimitRemoved: readonly string[];
      /** "app: cpu 2 -> 500m, memory 4Gi -> 1Gi (limit 8Gi -> 2Gi)". */
      readonly summary: string;
    }
  | { readonly kind: 'NothingToChange'; readonly message: string }
  | { readonly kind: 'NoRecommendation'; readonly message: string }
  | { readonly kind: 'WouldChangeQos'; readonly message: string }
  | { readonly kind: 'BadPolicy'; readonly message: string };

/** What the webhook knows of each container's workload: its recommendation and its memory peak. */
export interface NewPodInputs {
  readonly recommendations: Readonly<Record<string, ContainerRecommendation>>;
  /**
   * The highest memory any pod of the workload used in the history window (status peak.memory).
   * A new pod is held above it exactly as a running one is (sizeContainer's memory floor); a
   * container without it is not given less memory than it asks for (never a shrink on missing data).
   */
  readonly memoryPeaks: Readonly<Record<string, number>>;
}

export interface NewPodSettings {
  /** Memory is never below the peak times (1 + this): the actuator's own margin (plan.ts). */
  readonly peakMargin: number;
}

export function sizeNewPod(
  pod: V1Pod,
  spec: Pick<SizingPolicySpec, 'mode' | 'containers' | 'update' | 'oom'>,
  inputs: NewPodInputs,
  settings: NewPodSettings = { peakMargin: DEFAULT_PLAN_SETTINGS.peakMargin },
): PodSizing {
  const { recommendations, memoryPeaks } = inputs;
  const view = podView(pod);
  const checked = resolvePolicy(
    spec,
    view.containers.map((c) => c.name),
  );
  switch (checked.kind) {
    case 'Bad':
      return { kind: 'BadPolicy', message: `the policy is not usable: ${checked.problems.join('; ')}` };
    case 'Ok':
      break;
  }
  const policy = checked.policy;
  const qos = qosOf(view.containers.map((c) => c.spec));
  const cpuLimitRemoved: string[] = [];
  const containers = view.containers.map((c) => {
    const cp = policy.containers.get(c.name)!;
    const plan = sizeContainer(c, {
      qos,
      policy: cp,
      recommendation: recommendations[c.name],
      // Not started, so nothing "now"; the workload's peak is the floor (OOM floors are in the target).
      usage: usageOf(memoryPeaks[c.name]),
      oomUsage: undefined,
      oom: policy.oom,
      // A new pod costs nothing to change: the recommendation is used as it is, however small the move.
      minChangePercent: 0,
      peakMargin: settings.peakMargin,
      raiseOnly: undefined,
    });
    // NoLimit is the one strategy only a new pod can follow (a limit cannot be removed in place);
    // a Guaranteed pod keeps its CPU limit, since without it the pod would become Burstable.
    const dropCpuLimit =
      plan.sized.includes('cpu') &&
      cp.controlledValues === 'RequestsAndLimits' &&
      cp.limits.cpu.kind === 'NoLimit' &&
      qos !== 'Guaranteed' &&
      plan.after.limits.cpu !== undefined;
    if (!dropCpuLimit) return plan;
    cpuLimitRemoved.push(c.name);
    const limits = { ...plan.after.limits };
    delete limits.cpu;
    return { ...plan, after: { requests: plan.after.requests, limits } };
  });

  if (!containers.some((c) => c.sized.length > 0)) {
    const missing = containers.some((c) => c.notes.some((n) => n.code === 'NoRecommendation'));
    const why = containers.flatMap((c) => c.notes.map((n) => n.message)).join('; ');
    return missing
      ? { kind: 'NoRecommendation', message: `no usable recommendation for any controlled resource (${why})` }
      : { kind: 'NothingToChange', message: `the policy controls no resource of this pod (${why})` };
  }
  const after = qosOf(containers.map((c) => c.after));
  if (after !== qos) {
    return {
      kind: 'WouldChangeQos',
      message: `the recommended values would make the pod ${after} instead of ${qos}: left as written`,
    };
  }
  if (!containers.some(changed)) {
    return { kind: 'NothingToChange', message: 'the pod already asks for the recommended resources' };
  }
  const removed = cpuLimitRemoved.map((n) => `${n}: cpu limit removed (NoLimit)`);
  return {
    kind: 'Sized',
    containers,
    cpuLimitRemoved,
    summary: [summarize(containers), ...removed].filter((s) => s !== '').join('; '),
  };
}

function usageOf(peak: number | undefined): ContainerUsage | undefined {
  return peak !== undefined && peak > 0 ? { memoryPeak: peak } : undefined;
}

/** Whether Tailor sets anything on this container. */
export function changed(c: ContainerPlan): boolean {
  return differs(c.before, c.after);
}

function differs(before: ResourceSpec, after: ResourceSpec): boolean {
  for (const r of RESOURCES) {
    for (const field of ['requests', 'limits'] as const) {
      const b = before[field][r];
      const a = after[field][r];
      if (a === undefined && b === undefined) continue;
      if (a === undefined || b === undefined || !sameAmount(r, a, b)) return true;
    }
  }
  return false;
}

/** The policy's status.recommendations by container name, as numbers, with each container's memory peak. */
export function recommendationsOf(policy: SizingPolicy): NewPodInputs {
  const out: Record<string, ContainerRecommendation> = {};
  const memoryPeaks: Record<string, number> = {};
  for (const r of policy.status?.recommendations ?? []) {
    const peak = parseQuantity(r.peak?.memory);
    if (peak !== undefined && Number.isFinite(peak) && peak > 0) memoryPeaks[r.name] = peak;
    out[r.name] = toContainerRecommendation({
      target: pair(r.target),
      ...(r.lowerBound ? { lowerBound: pair(r.lowerBound) } : {}),
      ...(r.upperBound ? { upperBound: pair(r.upperBound) } : {}),
    });
  }
  return { recommendations: out, memoryPeaks };
}

function pair(list: Readonly<Record<string, string | number>>): QuantityPair {
  const out: Record<string, string | number> = {};
  for (const r of RESOURCES) if (list[r] !== undefined) out[r] = list[r];
  return out;
}
