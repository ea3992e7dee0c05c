// The scheduler's rules the what-if keeps, as pure predicates: node selector and required node
// affinity, taints and tolerations, resources, required pod anti-affinity and topology spread
// (DoNotSchedule) on the hostname. Semantics follow kube-scheduler's plugins (pkg/scheduler/
// framework/plugins: nodeaffinity, tainttoleration, noderesources, interpodaffinity,
// podtopologyspread) and component-helpers' scheduling/corev1 helpers.
import { selectorMatches, type Selector } from '../../kube/selector.ts';
import type {
  LabelSelector,
  NodeRequirement,
  NodeTerm,
  PackNode,
  PackPod,
  PodTerm,
  Resources,
  Taint,
  Toleration,
} from './types.ts';

export const HOSTNAME = 'kubernetes.io/hostname';

/** Whether a node passes a pod's filters that do not depend on other pods. */
export type Admission = 'Admits' | 'NoMatchingNode' | 'TaintNotTolerated';

export function admission(node: PackNode, pod: PackPod): Admission {
  if (!matchesNode(node, pod)) return 'NoMatchingNode';
  if (node.unschedulable || !toleratesAll(pod.tolerations ?? [], node.taints)) return 'TaintNotTolerated';
  return 'Admits';
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms OR'ed, requirements AND'ed). */
export function matchesNode(node: PackNode, pod: PackPod): boolean {
  for (const [k, v] of Object.entries(pod.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const terms = pod.nodeTerms ?? [];
  if (terms.length === 0) return true;
  return terms.some((t) => termMatches(t, node));
}

function termMatches(t: NodeTerm, node: PackNode): boolean {
  // An empty term matches nothing (component-helpers nodeaffinity: "a null or empty term matches no objects").
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => requirementHolds(r, node.labels)) &&
    fields.every((r) => r.key === 'metadata.name' && requirementHolds(r, { 'metadata.name': node.name }))
  );
}

function requirementHolds(r: NodeRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // Both sides integers, else the requirement fails (labels.Requirement.Matches).
      if (!has || values.length !== 1) return false;
      const [a, b] = [Number.parseInt(v!, 10), Number.parseInt(values[0]!, 10)];
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** Every NoSchedule and NoExecute taint tolerated (PreferNoSchedule never blocks). */
export function toleratesAll(tolerations: readonly Toleration[], taints: readonly Taint[]): boolean {
  return taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((t) => tolerations.some((x) => tolerates(x, t)));
}

/** core/v1 Toleration.ToleratesTaint: empty key with Exists tolerates everything; empty effect any effect. */
function tolerates(x: Toleration, t: Taint): boolean {
  if (x.effect && x.effect !== t.effect) return false;
  if (x.key && x.key !== t.key) return false;
  if (!x.key && x.operator !== 'Exists') return false;
  switch (x.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (x.value ?? '') === (t.value ?? '');
    default:
      return false;
  }
}

/** The first resource `want` needs more of than `free` holds, or undefined when it fits. */
export function shortOf(free: Resources, want: Resources): string | undefined {
  for (const [r, q] of Object.entries(want)) if (q > 0 && q > (free[r] ?? 0) + 1e-9) return r;
  return undefined;
}

export function add(a: Resources, b: Resources, sign = 1): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [r, q] of Object.entries(b)) out[r] = (out[r] ?? 0) + sign * q;
  return out;
}

/** A label selector (as core/v1 spells it, operators as strings) matches labels: the policy selector's matcher. */
export function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selectorMatches(selector as Selector, labels);
}

/** A pod term's selector picks `other` (a null selector picks nothing; namespaces default to the term owner's). */
export function termSelects(
  term: PodTerm | { labelSelector?: LabelSelector },
  owner: PackPod,
  other: PackPod,
): boolean {
  if (!term.labelSelector) return false;
  const namespaces =
    'namespaces' in term && term.namespaces && term.namespaces.length > 0
      ? term.namespaces
      : [owner.namespace];
  return namespaces.includes(other.namespace) && labelsMatch(term.labelSelector, other.labels);
}

/**
 * Two pods may not share a node: either's required anti-affinity on the hostname selects the other
 * (the scheduler checks the incoming pod's terms and the existing pods' terms both).
 */
export function hostConflict(a: PackPod, b: PackPod): boolean {
  const hits = (x: PackPod, y: PackPod) =>
    (x.antiAffinity ?? []).some((t) => t.topologyKey === HOSTNAME && termSelects(t, x, y));
  return hits(a, b) || hits(b, a);
}

/** The pod's hostname spread constraints (those on other keys are kept by holding the pod in its domain). */
export function hostSpreads(pod: PackPod) {
  return (pod.spread ?? []).filter((s) => s.topologyKey === HOSTNAME);
}

/** Topology keys other than the hostname the pod's anti-affinity or spread names: it moves only within its domain. */
export function domainKeys(pod: PackPod): string[] {
  return [
    ...new Set([
      ...(pod.antiAffinity ?? []).map((t) => t.topologyKey),
      ...(pod.spread ?? []).map((s) => s.topologyKey),
    ]),
  ].filter((k) => k !== HOSTNAME);
}
