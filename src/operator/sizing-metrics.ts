// The sizing controller's per-workload series: what each SizingPolicy publishes per container
// (tailor_recommendation_* and tailor_resource_requests, from the status it writes) and its OOM kills
// and raises. A policy's series go when the policy, its workload or the container does: none stale.
import type * as k8s from '@kubernetes/client-node';
import type { ContainerRecommendation } from '../api/index.ts';
import { parseQuantity } from '../core/quantity.ts';
import type { ResizePlan } from '../core/resize/index.ts';
import type { WorkloadRef } from '../sources/workloads.ts';
import type { OperatorMetrics, ResourceLabels } from './metrics.ts';

/** A pod the policy covers; `skip` OverlappingPolicy: another policy controls it and publishes it. */
export interface PublishedPod {
  readonly pod: k8s.V1Pod;
  readonly workload: WorkloadRef;
  readonly skip?: string;
}

type Labels = Record<ResourceLabels, string>;

export interface SizingMetrics {
  /** The policy's series now, from the recommendations it just wrote; the rest of its earlier ones go. */
  publish(
    policyKey: string,
    covered: readonly PublishedPod[],
    recommendations: readonly ContainerRecommendation[],
  ): void;
  /** The policy is gone, or publishes no recommendations (target not found, invalid spec). */
  forget(policyKey: string): void;
  oomKills(workload: WorkloadRef, kills: number): void;
  /** A resize applied in place: counted as an OOM raise when it was one. */
  applied(workload: WorkloadRef, plan: ResizePlan): void;
}

/** kube-state-metrics' unit label values, so the same PromQL joins both. */
export function unitOf(resource: string): string {
  switch (resource) {
    case 'cpu':
      return 'core';
    case 'memory':
    case 'ephemeral-storage':
      return 'byte';
    default:
      return 'integer';
  }
}

export function sizingMetrics(metrics: OperatorMetrics): SizingMetrics {
  const { target, lowerBound, upperBound, requests } = metrics.recommendation;
  const gauges = [target, lowerBound, upperBound, requests];
  /** Per policy, the label sets it set last (as JSON), and which policy set each one. */
  const byPolicy = new Map<string, Map<string, Labels>>();
  const owner = new Map<string, string>();

  const forget = (policyKey: string, keep: ReadonlySet<string> = new Set()) => {
    for (const [k, labels] of byPolicy.get(policyKey) ?? []) {
      if (keep.has(k) || owner.get(k) !== policyKey) continue;
      owner.delete(k);
      for (const g of gauges) g.remove(labels);
    }
    if (keep.size === 0) byPolicy.delete(policyKey);
  };

  return {
    publish(policyKey, covered, recommendations) {
      const now = new Map<string, Labels>();
      for (const rec of recommendations) {
        // The workload with the most pods the policy controls running this container (the status's rule).
        const pods = covered.filter(
          (c) => c.skip !== 'OverlappingPolicy' && c.pod.spec?.containers.some((x) => x.name === rec.name),
        );
        const counts = new Map<string, { workload: WorkloadRef; pods: k8s.V1Pod[] }>();
        for (const c of pods) {
          const k = `${c.workload.kind}/${c.workload.name}`;
          const e = counts.get(k) ?? { workload: c.workload, pods: [] };
          e.pods.push(c.pod);
          counts.set(k, e);
        }
        const best = [...counts.values()].sort((a, b) => b.pods.length - a.pods.length)[0];
        if (!best) continue;
        for (const resource of Object.keys(rec.target)) {
          const labels: Labels = {
            namespace: best.workload.namespace,
            workload: best.workload.name,
            container: rec.name,
            resource,
            unit: unitOf(resource),
          };
          const set = (g: (typeof gauges)[number], v: string | number | undefined) => {
            const n = parseQuantity(v === undefined ? undefined : String(v));
            if (n === undefined) g.remove(labels);
            else g.set(labels, n);
          };
          set(target, rec.target[resource]);
          // The status leaves out a lower bound of 0 (sizing/usage.ts: only positive bounds are
          // written); an upper bound left out is open (no finite value), so it has no series.
          set(lowerBound, rec.lowerBound?.[resource] ?? 0);
          set(upperBound, rec.upperBound?.[resource]);
          const asked = best.pods.flatMap((p) => {
            const r = p.spec?.containers.find((x) => x.name === rec.name)?.resources?.requests?.[resource];
            const n = parseQuantity(r === undefined ? undefined : String(r));
            return n === undefined ? [] : [n];
          });
          set(requests, asked.length > 0 ? Math.max(...asked) : undefined);
          const k = JSON.stringify(labels);
          now.set(k, labels);
          owner.set(k, policyKey);
        }
      }
      forget(policyKey, new Set(now.keys()));
      if (now.size > 0) byPolicy.set(policyKey, now);
      else byPolicy.delete(policyKey);
    },
    forget: (policyKey) => forget(policyKey),
    oomKills(workload, kills) {
      metrics.oomKills.inc({ namespace: workload.namespace, workload: workload.name }, kills);
    },
    applied(workload, plan) {
      if (plan.decision.kind === 'InPlace' && plan.decision.urgent)
        metrics.oomRaises.inc({ namespace: workload.namespace, workload: workload.name });
    },
  };
}
