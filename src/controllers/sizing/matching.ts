// Which pods a SizingPolicy covers (its targetRef through the pod's owner chain, or its label
// selector) and which of those another controller owns for now, as pure functions of the objects.
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
  workload: WorkloadRef,
): boolean {
  if ((pod.metadata?.namespace ?? '') !== policy.namespace) return false;
  const { targetRef, selector } = policy.spec;
  if (targetRef) return workload.kind === targetRef.kind && workload.name === targetRef.name;
  if (selector) return selectorMatches(selector, pod.metadata?.labels ?? {});
  return false;
}

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
