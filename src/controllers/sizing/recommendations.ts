// What a SizingPolicy publishes per container (status.recommendations) and what its savings are
// measured against (the requests the workload declares), from the series the pass read.
import type * as k8s from '@kubernetes/client-node';
import type { SizingPolicyStatus } from '../../api/index.ts';
import { parseQuantity } from '../../core/quantity.ts';
import type { SeriesKey } from '../../sources/history.ts';
import type { WorkloadRef } from '../../sources/workloads.ts';
import { statusRecommendation, type SeriesView } from './usage.ts';

/** A pod a policy covers, with its workload; `skip` says why it is left out of sizing. */
export interface CoveredPod {
  readonly pod: k8s.V1Pod;
  readonly workload: WorkloadRef;
  readonly skip?: PodSkip;
}

/** Why a covered pod was left out of sizing, counted in status.pods.skipped. */
export type PodSkip = 'StartupBoost' | 'OverlappingPolicy';

/** The requests a pod template declares for one container, in cores and bytes. */
export function declaredRequests(
  template: k8s.V1PodTemplateSpec,
  container: string,
): { cpu?: number; memory?: number } {
  const c = template.spec?.containers.find((x) => x.name === container);
  const r = { ...c?.resources?.limits, ...c?.resources?.requests };
  const cpu = parseQuantity(r.cpu);
  const memory = parseQuantity(r.memory);
  return { ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) };
}

/** A series that could not be read: no recommendation, no floor (the planner then lowers nothing). */
export function noSeries(key: SeriesKey): SeriesView {
  return { key, recommendation: {}, memoryPeak: undefined, samples: 0, ageSeconds: 0, ooms: 0 };
}

/** One status entry per container name, from the workload with the most covered pods. */
export function statusRecommendations(
  covered: readonly CoveredPod[],
  seriesOf: (key: SeriesKey) => SeriesView,
  /** Younger series get the wider margin of a short history, and their status says so. */
  shortHistorySeconds: number,
  source: string | undefined,
): NonNullable<SizingPolicyStatus['recommendations']> {
  const byContainer = new Map<string, Map<string, { workload: WorkloadRef; pods: number }>>();
  for (const c of covered) {
    for (const ct of c.pod.spec?.containers ?? []) {
      let m = byContainer.get(ct.name);
      if (!m) byContainer.set(ct.name, (m = new Map<string, { workload: WorkloadRef; pods: number }>()));
      const wk = `${c.workload.kind}/${c.workload.name}`;
      const e = m.get(wk) ?? { workload: c.workload, pods: 0 };
      e.pods++;
      m.set(wk, e);
    }
  }
  const out: NonNullable<SizingPolicyStatus['recommendations']> = [];
  for (const [name, m] of [...byContainer].sort(([a], [b]) => a.localeCompare(b))) {
    const best = [...m.values()].sort((a, b) => b.pods - a.pods)[0]!;
    const r = statusRecommendation(
      name,
      seriesOf({ workload: best.workload, container: name }),
      best.pods,
      shortHistorySeconds,
      source,
    );
    if (r) out.push(r);
  }
  return out;
}
