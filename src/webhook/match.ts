// Which SizingPolicy covers a new pod: the one the shared overlap rule picks (controllingPolicy, the
// same rule the sizing controller follows), with the others that also match named for a warning.
import type { V1Pod } from '@kubernetes/client-node';
import type { SizingPolicy } from '../api/index.ts';
import type { WorkloadRef } from '../sources/workloads.ts';
import { controllingPolicy, type MatchedBy } from '../controllers/sizing/matching.ts';

export type { MatchedBy };

export type Coverage =
  | {
      readonly kind: 'Covered';
      readonly policy: SizingPolicy;
      readonly by: MatchedBy;
      /** Names of other policies that also match: a configuration mistake worth a warning. */
      readonly alsoMatching: readonly string[];
    }
  | { readonly kind: 'NotCovered' };

/** The policy that sizes the pod (see controllingPolicy for the rule). */
export function coveringPolicy(
  pod: V1Pod,
  workload: WorkloadRef | undefined,
  policies: readonly SizingPolicy[],
): Coverage {
  const c = controllingPolicy(pod, workload, policies);
  switch (c.kind) {
    case 'NotCovered':
      return c;
    case 'Controlled':
      return {
        kind: 'Covered',
        policy: c.policy,
        by: c.by,
        alsoMatching: c.others.map((p) => p.metadata.name ?? ''),
      };
  }
}

/** Whether any policy needs the pod's workload: only then is its owner chain looked up. */
export function needsWorkload(policies: readonly SizingPolicy[]): boolean {
  return policies.some((p) => p.spec.targetRef !== undefined && !p.metadata.deletionTimestamp);
}
