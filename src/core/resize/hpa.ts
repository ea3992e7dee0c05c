// Which resources of a workload's pods Tailor must not size because a HorizontalPodAutoscaler scales
// the workload on their utilisation (usage / request): lowering the request would raise the ratio the
// HPA reads, it would add replicas, usage per pod would fall, Tailor would lower again: a feedback loop.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import type { ResourceName } from './types.ts';

/** A resource whose request Tailor holds as it is, for every container or for one. */
export interface FrozenResource {
  readonly resource: ResourceName;
  /** Undefined: every container of the pod (a Resource metric reads the pod's sum). */
  readonly container?: string;
  /** Who scales on it, for conditions and notes: "HorizontalPodAutoscaler web". */
  readonly by: string;
}

/** The workload a pod belongs to, as far as an HPA's scaleTargetRef can name it. */
export interface ScaledWorkload {
  readonly kind: string;
  readonly name: string;
}

/**
 * The HPA controller's own default when spec.metrics is empty (autoscaling/v1's
 * targetCPUUtilizationPercentage unset): CPU at 80% utilisation.
 */
const DEFAULT_METRICS: readonly V2MetricSpec[] = [
  { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
];

/**
 * The resources frozen for a workload's pods by the HPAs of its namespace that target it. Only
 * Utilization targets depend on the request; AverageValue and Value targets (and custom, object,
 * external metrics) read usage alone, so sizing does not move them.
 */
export function frozenByHpas(
  hpas: readonly V2HorizontalPodAutoscaler[],
  workload: ScaledWorkload,
): FrozenResource[] {
  const out: FrozenResource[] = [];
  for (const hpa of hpas) {
    if (!targets(hpa, workload)) continue;
    const by = `HorizontalPodAutoscaler ${hpa.metadata?.name ?? ''}`;
    const metrics = hpa.spec?.metrics?.length ? hpa.spec.metrics : DEFAULT_METRICS;
    for (const m of metrics) {
      switch (m.type) {
        case 'Resource': {
          const r = resourceOf(m.resource?.name);
          if (r && m.resource?.target.type === 'Utilization') out.push({ resource: r, by });
          break;
        }
        case 'ContainerResource': {
          const r = resourceOf(m.containerResource?.name);
          if (r && m.containerResource?.target.type === 'Utilization')
            out.push({ resource: r, container: m.containerResource.container, by });
          break;
        }
        default:
          break;
      }
    }
  }
  return out;
}

/** The frozen resources of one container, each with who froze it (the first HPA named wins). */
export function frozenFor(
  frozen: readonly FrozenResource[] | undefined,
  container: string,
): ReadonlyMap<ResourceName, string> {
  const m = new Map<ResourceName, string>();
  for (const f of frozen ?? [])
    if ((f.container === undefined || f.container === container) && !m.has(f.resource))
      m.set(f.resource, f.by);
  return m;
}

/** "cpu (HorizontalPodAutoscaler web), memory of container app (HorizontalPodAutoscaler w2)". */
export function describeFrozen(frozen: readonly FrozenResource[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const f of frozen) {
    const s = `${f.resource}${f.container !== undefined ? ` of container ${f.container}` : ''} (${f.by})`;
    if (seen.has(s)) continue;
    seen.add(s);
    parts.push(s);
  }
  return parts.join(', ');
}

function targets(hpa: V2HorizontalPodAutoscaler, w: ScaledWorkload): boolean {
  const ref = hpa.spec?.scaleTargetRef;
  if (!ref || ref.kind !== w.kind || ref.name !== w.name) return false;
  // Deployment, StatefulSet and ReplicaSet are apps/v1 kinds; a same-named kind of another group
  // (a CRD) is not this workload.
  const group = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return ref.apiVersion === undefined || group === 'apps' || group === 'extensions';
}

function resourceOf(name: string | undefined): ResourceName | undefined {
  return name === 'cpu' || name === 'memory' ? name : undefined;
}

/**
 * The recommendations without the frozen resources: what a new pod may be given. Without a
 * recommendation the sizing leaves a resource's request and limit as written.
 */
export function withoutFrozen<R extends Partial<Record<ResourceName, unknown>>>(
  recommendations: Readonly<Record<string, R>>,
  frozen: readonly FrozenResource[],
): Record<string, R> {
  const out: Record<string, R> = {};
  for (const [name, r] of Object.entries(recommendations)) {
    const held = frozenFor(frozen, name);
    const kept = { ...r };
    for (const res of held.keys()) delete kept[res];
    out[name] = kept;
  }
  return out;
}
