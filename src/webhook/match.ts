// Which SizingPolicy covers a new pod: one naming the pod's workload (targetRef, through its owner
// chain) or one whose label selector matches it; when several do, one rule picks, and says so.
import type { V1Pod } from '@kubernetes/client-node';
import type { SizingPolicy } from '../api/index.ts';
import type { WorkloadRef } from '../sources/workloads.ts';
import { selectorMatches } from '../kube/selector.ts';

export type MatchedBy = 'TargetRef' | 'Selector';

export type Coverage =
  | {
      readonly kind: 'Covered';
      readonly policy: SizingPolicy;
      readonly by: MatchedBy;
      /** Names of other policies that also match: a configuration mistake worth a warning. */
      readonly alsoMatching: readonly string[];
    }
  | { readonly kind: 'NotCovered' };

/**
 * The policy that sizes the pod. A targetRef beats a selector (naming the workload is the more
 * specific statement), then the oldest policy wins, then the name: the same pod always gets the
 * same policy, whatever order the cache lists them in.
 */
export function coveringPolicy(
  pod: V1Pod,
  workload: WorkloadRef | undefined,
  policies: readonly SizingPolicy[],
): Coverage {
  const labels = pod.metadata?.labels ?? {};
  const found: { policy: SizingPolicy; by: MatchedBy }[] = [];
  for (const policy of policies) {
    if (policy.metadata.deletionTimestamp) continue;
    const { targetRef, selector } = policy.spec;
    if (targetRef) {
      if (workload && targetRef.kind === workload.kind && targetRef.name === workload.name)
        found.push({ policy, by: 'TargetRef' });
    } else if (selector && selectorMatches(selector, labels)) {
      found.push({ policy, by: 'Selector' });
    }
  }
  if (found.length === 0) return { kind: 'NotCovered' };
  found.sort((a, b) => rank(a.by) - rank(b.by) || created(a.policy) - created(b.policy) || byName(a, b));
  const [first, ...rest] = found;
  return {
    kind: 'Covered',
    policy: first!.policy,
    by: first!.by,
    alsoMatching: rest.map((r) => r.policy.metadata.name ?? ''),
  };
}

/** Whether any policy needs the pod's workload: only then is its owner chain looked up. */
export function needsWorkload(policies: readonly SizingPolicy[]): boolean {
  return policies.some((p) => p.spec.targetRef !== undefined && !p.metadata.deletionTimestamp);
}

function rank(by: MatchedBy): number {
  switch (by) {
    case 'TargetRef':
      return 0;
    case 'Selector':
      return 1;
  }
}

function created(p: SizingPolicy): number {
  const t = p.metadata.creationTimestamp;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
}

function byName(a: { policy: SizingPolicy }, b: { policy: SizingPolicy }): number {
  return (a.policy.metadata.name ?? '').localeCompare(b.policy.metadata.name ?? '');
}
