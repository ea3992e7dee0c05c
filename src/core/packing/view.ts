// Nodes, pods and PodDisruptionBudgets read down to what the packing what-if needs: numbers instead
// of quantities, the pod's requests as the scheduler sums them, its recommended ones, its pool.
import type {
  V1Container,
  V1Node,
  V1Pod,
  V1PodAffinityTerm,
  V1PodDisruptionBudget,
} from '@kubernetes/client-node';
import { parseQuantity } from '../quantity.ts';
import type { NodeFacts } from '../cost/types.ts';
import type { PackNode, PackPdb, PackPod, PodKind, PodTerm, Resources } from './types.ts';

/**
 * The labels naming a node's pool, most specific first: Karpenter's NodePool, EKS managed node
 * groups and eksctl, GKE node pools, AKS agent pools, the simulator's pools. A node without any: its instance type.
 */
const POOL_LABELS = [
  'karpenter.sh/nodepool',
  'eks.amazonaws.com/nodegroup',
  'alpha.eksctl.io/nodegroup-name',
  'cloud.google.com/gke-nodepool',
  'kubernetes.azure.com/agentpool',
  'agentpool',
  'sim.tailor.dev/pool',
  'node.kubernetes.io/instance-type',
];

export function poolOf(labels: Readonly<Record<string, string>>): string {
  for (const k of POOL_LABELS) if (labels[k]) return labels[k];
  return 'default';
}

function resources(list: Readonly<Record<string, unknown>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(list ?? {})) {
    const q = parseQuantity(v as string | number | undefined);
    if (q !== undefined) out[k] = q;
  }
  return out;
}

export function packNode(n: V1Node): PackNode {
  const labels = n.metadata?.labels ?? {};
  const cap = resources(n.status?.capacity);
  const mig = Object.fromEntries(Object.entries(cap).filter(([k]) => k.startsWith('nvidia.com/mig-')));
  const facts: NodeFacts = {
    name: n.metadata?.name ?? '',
    labels,
    cpuCores: cap.cpu ?? 0,
    memoryBytes: cap.memory ?? 0,
    gpus: cap['nvidia.com/gpu'] ?? 0,
    ...(Object.keys(mig).length > 0 ? { migDevices: mig } : {}),
    ...(n.spec?.providerID ? { providerID: n.spec.providerID } : {}),
  };
  return {
    name: facts.name,
    pool: poolOf(labels),
    labels,
    taints: (n.spec?.taints ?? []).map((t) => ({
      key: t.key,
      effect: t.effect,
      ...(t.value !== undefined ? { value: t.value } : {}),
    })),
    allocatable: resources(n.status?.allocatable ?? n.status?.capacity),
    unschedulable: n.spec?.unschedulable === true,
    facts,
  };
}

/** A container's recommendation: cores and bytes (either may be absent: that resource keeps its request). */
export interface ContainerRecommendation {
  readonly container: string;
  readonly cpu?: number;
  readonly memory?: number;
}

/**
 * The requests the scheduler counts for a pod (pkg/api/v1/resource PodRequests): the larger of the
 * sum of its containers (and restartable init containers) and each init container in turn, plus
 * the pod's overhead, with one `pods` slot. A request left unset takes its limit.
 */
export function podRequests(
  pod: V1Pod,
  recommend: (c: V1Container) => Record<string, number> = requestsOfContainer,
): Record<string, number> {
  const sum: Record<string, number> = {};
  const addTo = (into: Record<string, number>, r: Record<string, number>) => {
    for (const [k, q] of Object.entries(r)) into[k] = (into[k] ?? 0) + q;
  };
  // As pkg/api/v1/resource/helpers.go PodRequests: a sidecar (restartable init container) adds to
  // the containers and to every init container after it; the init containers' peak is maxed last.
  for (const c of pod.spec?.containers ?? []) addTo(sum, recommend(c));
  const sidecars: Record<string, number> = {};
  const initPeak: Record<string, number> = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const r = requestsOfContainer(c);
    let during: Record<string, number>;
    if (c.restartPolicy === 'Always') {
      addTo(sum, r);
      addTo(sidecars, r);
      during = sidecars;
    } else {
      during = { ...sidecars };
      addTo(during, r);
    }
    for (const [k, q] of Object.entries(during)) initPeak[k] = Math.max(initPeak[k] ?? 0, q);
  }
  for (const [k, q] of Object.entries(initPeak)) sum[k] = Math.max(sum[k] ?? 0, q);
  addTo(sum, resources(pod.spec?.overhead));
  sum.pods = 1;
  return sum;
}

function requestsOfContainer(c: V1Container): Record<string, number> {
  return { ...resources(c.resources?.limits), ...resources(c.resources?.requests) };
}

/** What the pod is to the what-if (see PodKind): by its controller and volumes. */
export function podKindOf(pod: V1Pod): PodKind {
  const owner = (pod.metadata?.ownerReferences ?? []).find((r) => r.controller);
  if (owner?.kind === 'DaemonSet') return 'DaemonSet';
  // A mirror pod (static pod) is the kubelet's: it never moves.
  if (!owner || pod.metadata?.annotations?.['kubernetes.io/config.mirror']) return 'NoController';
  const local = (pod.spec?.volumes ?? []).some(
    (v) => v.hostPath || (v.emptyDir && v.emptyDir.medium !== 'Memory'),
  );
  return local ? 'LocalStorage' : 'Movable';
}

function podTerms(terms: readonly V1PodAffinityTerm[] | undefined): PodTerm[] {
  return (terms ?? []).map((t) => ({
    topologyKey: t.topologyKey,
    ...(t.labelSelector ? { labelSelector: t.labelSelector } : {}),
    ...(t.namespaces ? { namespaces: t.namespaces } : {}),
  }));
}

/**
 * A pod for the what-if: its requests now (the kubelet's allocated ones after an in-place resize)
 * and with `recommendations` applied per container.
 */
export function packPod(pod: V1Pod, recommendations: readonly ContainerRecommendation[] = []): PackPod {
  const allocated = new Map(
    (pod.status?.containerStatuses ?? []).map((s) => [s.name, resources(s.resources?.requests)]),
  );
  const now = (c: V1Container) => ({ ...requestsOfContainer(c), ...(allocated.get(c.name) ?? {}) });
  const recommended = (c: V1Container) => {
    const r = recommendations.find((x) => x.container === c.name);
    return {
      ...now(c),
      ...(r?.cpu !== undefined ? { cpu: r.cpu } : {}),
      ...(r?.memory !== undefined ? { memory: r.memory } : {}),
    };
  };
  const spec = pod.spec;
  const aff = spec?.affinity;
  const spread = (spec?.topologySpreadConstraints ?? [])
    .filter((s) => s.whenUnsatisfiable === 'DoNotSchedule')
    .map((s) => ({
      topologyKey: s.topologyKey,
      maxSkew: s.maxSkew,
      ...(s.labelSelector ? { labelSelector: s.labelSelector } : {}),
    }));
  const nodeTerms = aff?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const anti = podTerms(aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
  const affinity = podTerms(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(spec?.nodeName ? { node: spec.nodeName } : {}),
    labels: pod.metadata?.labels ?? {},
    kind: podKindOf(pod),
    requests: podRequests(pod, now),
    recommended: podRequests(pod, recommended),
    ...(spec?.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    ...(nodeTerms && nodeTerms.length > 0 ? { nodeTerms } : {}),
    ...(spec?.tolerations ? { tolerations: spec.tolerations } : {}),
    ...(anti.length > 0 ? { antiAffinity: anti } : {}),
    ...(affinity.length > 0 ? { affinity } : {}),
    ...(spread.length > 0 ? { spread } : {}),
  };
}

/** Pods that hold a node's resources: not finished (Succeeded and Failed pods release theirs). */
export function holdsResources(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

export function packPdb(b: V1PodDisruptionBudget): PackPdb {
  return {
    namespace: b.metadata?.namespace ?? '',
    name: b.metadata?.name ?? '',
    ...(b.spec?.selector ? { selector: b.spec.selector } : {}),
    disruptionsAllowed: b.status?.disruptionsAllowed ?? 0,
  };
}

export type { Resources };
