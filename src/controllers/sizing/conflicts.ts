// What a policy leaves alone and why, in words a reader of its status sees: pods another policy
// controls (condition Conflict) and resources an HPA scales on by utilisation (condition
// HPAConflict), the Events said once per change, and the recommendations marked as not applied.
import type { Condition, ContainerRecommendation } from '../../api/index.ts';
import { describeFrozen, frozenFor, type FrozenResource } from '../../core/resize/index.ts';
import { CONTROL_RULE } from './matching.ts';
import type { WantedCondition } from './status.ts';

/** What one pass found about the policy's pods. */
export interface Conflicts {
  /** Pods covered by this policy but controlled by another: winning policy name -> those pod names. */
  readonly lostTo: ReadonlyMap<string, readonly string[]>;
  /** Resources frozen by HPAs on the pods this policy controls (repeats allowed). */
  readonly frozen: readonly FrozenResource[];
}

export const CONFLICT_REASON = 'OverlappingPolicy';
export const HPA_REASON = 'ScaledOnUtilization';

/** The Conflict and HPAConflict conditions, always present (False says there is none). */
export function conflictConditions(c: Conflicts): WantedCondition[] {
  const overlap: WantedCondition =
    c.lostTo.size === 0
      ? {
          type: 'Conflict',
          status: 'False',
          reason: 'NoOverlap',
          message: 'no other SizingPolicy controls a pod this policy covers',
        }
      : {
          type: 'Conflict',
          status: 'True',
          reason: CONFLICT_REASON,
          message:
            [...c.lostTo]
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([winner, pods]) => `${podList(pods)} controlled by SizingPolicy ${winner}`)
              .join('; ') + ` (${CONTROL_RULE}): this policy does not resize, evict or size them`,
        };
  const hpa: WantedCondition =
    c.frozen.length === 0
      ? {
          type: 'HPAConflict',
          status: 'False',
          reason: 'NoUtilizationScaling',
          message: 'no HorizontalPodAutoscaler scales these pods on a resource Tailor sizes',
        }
      : {
          type: 'HPAConflict',
          status: 'True',
          reason: HPA_REASON,
          message:
            `requests left as they are for ${describeFrozen(c.frozen)}: it scales on their utilisation ` +
            '(usage / request), so a smaller request would add replicas and a larger one remove them; ' +
            'their recommendations are published, not applied' +
            (c.frozen.some((f) => f.resource === 'memory')
              ? ' (an OOM kill still raises a memory limit)'
              : ''),
        };
  return [overlap, hpa];
}

/**
 * The conditions that became True, or changed their message while True, since `previous` (the
 * stored status) and since `said` (what this process last said, for the pass that runs before the
 * watch brings the written status back): each is an Event once, not on every pass.
 */
export function conflictEvents(
  policyKey: string,
  previous: readonly Condition[] | undefined,
  wanted: readonly WantedCondition[],
  said: Map<string, string>,
): { reason: string; message: string }[] {
  const out: { reason: string; message: string }[] = [];
  for (const w of wanted) {
    const key = `${policyKey}/${w.type}`;
    if (w.status !== 'True') {
      said.delete(key);
      continue;
    }
    const prev = previous?.find((c) => c.type === w.type);
    if ((prev?.status === 'True' && prev.message === w.message) || said.get(key) === w.message) continue;
    said.set(key, w.message);
    out.push({ reason: w.reason, message: w.message });
  }
  return out;
}

/** Each recommendation with the resources not applied named, e.g. "cpu: HorizontalPodAutoscaler web scales on its utilisation". */
export function markNotApplied(
  recs: readonly ContainerRecommendation[],
  frozen: readonly FrozenResource[],
): ContainerRecommendation[] {
  return recs.map((r) => {
    const held = [...frozenFor(frozen, r.name)]
      .filter(([res]) => r.target[res] !== undefined)
      .map(([res, by]) => `${res}: ${by} scales on its utilisation`);
    return held.length > 0 ? { ...r, notApplied: held.join('; ').slice(0, 1024) } : r;
  });
}

function podList(pods: readonly string[]): string {
  const sorted = [...pods].sort();
  const shown = sorted.slice(0, 3).join(', ');
  const more = sorted.length > 3 ? ` and ${sorted.length - 3} more` : '';
  return `pod${sorted.length === 1 ? '' : 's'} ${shown}${more}`;
}
