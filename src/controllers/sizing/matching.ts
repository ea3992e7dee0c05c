// Which pods a SizingPolicy covers (its targetRef through the pod's owner chain, or its label
// selector), which one policy controls a pod several cover (the webhook and the controller both ask
// here), and which pods another controller owns for now, as pure functions of the objects.
import type { V1Pod } from '@kubernetes/client-node';
import type { SizingPolicySpec } from '../../api/index.ts';
import type { WorkloadRef } from '../../sources/workloads.ts';
import { selectorMatches, type Selector } from '../../kube/selector.ts';
import { BOOST_ANNOTATION, BOOST_DONE_ANNOTATION } from '../../core/boost/annotations.ts';

export { selectorMatches, type Selector };

/** The policy's own words for what it targets, for status.target: "Deployment/web" or "pods app=web". */
export function targetLabel(spec: Pick<SizingPolicySpec, 'targetRef' | 'selector'>): string {
  if (spec.targetRef) return `${spec.targetRef.kind}/${spec.targetRef.name}`;
  const s = spec.selector;
  const parts = [
    ...Object.entries(s?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s?.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists'
        ? e.key
        : e.operator === 'DoesNotExist'
          ? `!${e.key}`
          : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return `pods ${parts.join(',')}`;
}

/**
 * Whether the policy covers a pod of `workload` (resolved through its owner chain) in the policy's
 * namespace. A targetRef names the workload, so a ReplicaSet a Deployment owns is not its own target.
 */
export function policyCovers(
  policy: { readonly namespace: string; readonly spec: Pick<SizingPolicySpec, 'targetRef' | 'selector'> },
  pod: V1Pod,
  /** Undefined when not looked up (no policy needs it): then no targetRef covers the pod. */
  workload: WorkloadRef | undefined,
): boolean {
  return coveredBy(policy, pod, workload) !== undefined;
}

export type MatchedBy = 'TargetRef' | 'Selector';

function coveredBy(
  policy: { readonly namespace: string; readonly spec: Pick<SizingPolicySpec, 'targetRef' | 'selector'> },
  pod: V1Pod,
  workload: WorkloadRef | undefined,
): MatchedBy | undefined {
  if ((pod.metadata?.namespace ?? '') !== policy.namespace) return undefined;
  const { targetRef, selector } = policy.spec;
  if (targetRef)
    return workload && workload.kind === targetRef.kind && workload.name === targetRef.name
      ? 'TargetRef'
      : undefined;
  if (selector) return selectorMatches(selector, pod.metadata?.labels ?? {}) ? 'Selector' : undefined;
  return undefined;
}

/** A SizingPolicy as the overlap rule reads it (the cached object is one). */
export interface RankedPolicy {
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly creationTimestamp?: Date | string;
    readonly deletionTimestamp?: Date | string;
  };
  readonly spec: Pick<SizingPolicySpec, 'targetRef' | 'selector'>;
}

export type Control<P extends RankedPolicy> =
  | {
      readonly kind: 'Controlled';
      /** The one policy that sizes the pod. */
      readonly policy: P;
      readonly by: MatchedBy;
      /** The other policies that cover it too, strongest first: they leave the pod alone. */
      readonly others: readonly P[];
    }
  | { readonly kind: 'NotCovered' };

/**
 * The one policy that controls a pod several policies cover, so that no two act on it. VPA's rule
 * (GetControllingVPAForPod: a targetRef naming the pod's top controller, then the earliest
 * creationTimestamp, then the name) adapted to selector policies: a targetRef beats a selector
 * (naming the workload is the more specific statement), then the oldest policy, then the name. The
 * admission webhook and the sizing controller both decide here, so they never disagree; a policy
 * being deleted controls nothing.
 */
export function controllingPolicy<P extends RankedPolicy>(
  pod: V1Pod,
  workload: WorkloadRef | undefined,
  policies: readonly P[],
): Control<P> {
  const found: { policy: P; by: MatchedBy }[] = [];
  for (const policy of policies) {
    if (policy.metadata.deletionTimestamp) continue;
    const by = coveredBy({ namespace: policy.metadata.namespace ?? '', spec: policy.spec }, pod, workload);
    if (by) found.push({ policy, by });
  }
  if (found.length === 0) return { kind: 'NotCovered' };
  found.sort((a, b) => stronger(a, b));
  const [first, ...rest] = found;
  return { kind: 'Controlled', policy: first!.policy, by: first!.by, others: rest.map((r) => r.policy) };
}

/** Negative when `a` controls before `b`: the order of controllingPolicy, total and stable. */
function stronger(
  a: { policy: RankedPolicy; by: MatchedBy },
  b: { policy: RankedPolicy; by: MatchedBy },
): number {
  const an = a.policy.metadata.name ?? '';
  const bn = b.policy.metadata.name ?? '';
  return (
    rank(a.by) - rank(b.by) ||
    created(a.policy) - created(b.policy) ||
    // Byte order, as VPA's Stronger: the same winner on every machine, whatever its locale.
    (an < bn ? -1 : an > bn ? 1 : 0)
  );
}

function rank(by: MatchedBy): number {
  switch (by) {
    case 'TargetRef':
      return 0;
    case 'Selector':
      return 1;
  }
}

/** Milliseconds; a policy without a readable time sorts last (it cannot claim to be the oldest). */
function created(p: RankedPolicy): number {
  const t = p.metadata.creationTimestamp;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
}

/** The rule in words, for conditions, Events and the webhook's warning. */
export const CONTROL_RULE = 'a targetRef beats a selector, then the oldest policy, then the name';

/** A pod that has finished or is going away: nothing to size, nothing to count. */
export function isLive(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/**
 * A pod in its start-up boost belongs to the start-up boost controller until it marks the boost done:
 * sizing it now would fight that controller (it raised the pod on purpose, and lowers it itself).
 */
export function inStartupBoost(pod: V1Pod): boolean {
  const a = pod.metadata?.annotations ?? {};
  return a[BOOST_ANNOTATION] !== undefined && a[BOOST_DONE_ANNOTATION] === undefined;
}
