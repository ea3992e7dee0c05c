// The namespace's ResourceQuotas, checked against the sizes Tailor would set: the apiserver's quota
// admission runs after the webhook, so a raise past a quota would get the pod rejected; it is not sent.
import type { V1Pod, V1ResourceQuota } from '@kubernetes/client-node';
import { parseQuantity } from '../core/quantity.ts';
import { RESOURCES, sameAmount, show, type ResourceName, type ResourceSpec } from '../core/resize/index.ts';

/** The quota keys a container's cpu and memory count against (`cpu` is `requests.cpu`, as in the API). */
const TRACKED: readonly {
  readonly keys: readonly string[];
  field: 'requests' | 'limits';
  r: ResourceName;
}[] = [
  { keys: ['requests.cpu', 'cpu'], field: 'requests', r: 'cpu' },
  { keys: ['requests.memory', 'memory'], field: 'requests', r: 'memory' },
  { keys: ['limits.cpu'], field: 'limits', r: 'cpu' },
  { keys: ['limits.memory'], field: 'limits', r: 'memory' },
];

/**
 * Every quota the pod, with its app containers as `after` (by name, in spec order), would break
 * because of Tailor: a raise that takes used + the pod past hard, or a request or limit the quota
 * needs that Tailor dropped (NoLimit removes a CPU limit; a `limits.cpu` quota then refuses the pod).
 * A pod that breaks a quota as written is not Tailor's doing, and a shrink never is: neither is reported.
 */
export function quotaViolations(
  pod: V1Pod,
  after: readonly { readonly name: string; readonly spec: ResourceSpec }[],
  quotas: readonly V1ResourceQuota[],
): string[] {
  const out: string[] = [];
  const written = (pod.spec?.containers ?? []).map((c) => ({ name: c.name, spec: specOf(c.resources) }));
  for (const quota of quotas) {
    if (!appliesTo(quota, pod, written)) continue;
    const where = `ResourceQuota ${quota.metadata?.name ?? ''}`;
    const hard = quota.status?.hard ?? quota.spec?.hard ?? {};
    const used = quota.status?.used ?? {};
    for (const t of TRACKED) {
      for (const key of t.keys) {
        const limit = parseQuantity(hard[key]);
        if (limit === undefined) continue;
        const dropped = after.filter(
          (c) =>
            c.spec[t.field][t.r] === undefined &&
            written.find((w) => w.name === c.name)?.spec[t.field][t.r] !== undefined,
        );
        if (dropped.length > 0) {
          out.push(
            `${where}: ${key} is tracked, so every container needs a ${t.field === 'requests' ? 'request' : 'limit'}; it would be removed from ${dropped.map((c) => c.name).join(', ')}`,
          );
          continue;
        }
        const before = podTotal(pod, written, t.field, t.r);
        const now = podTotal(pod, after, t.field, t.r);
        const inUse = parseQuantity(used[key]) ?? 0;
        if (now > before && !sameAmount(t.r, now, before) && exceeds(t.r, inUse + now, limit))
          out.push(
            `${where}: ${key} ${show(t.r, inUse)} used + ${show(t.r, now)} for this pod (as written ${show(t.r, before)}) is above hard ${show(t.r, limit)}`,
          );
      }
    }
  }
  return out;
}

/**
 * What the pod counts against a quota for one resource, as the apiserver computes it: its app
 * containers and sidecars (restartable init containers) together, or its largest init container
 * with the sidecars started before it, whichever is more; plus the pod overhead.
 */
function podTotal(
  pod: V1Pod,
  containers: readonly { readonly spec: ResourceSpec }[],
  field: 'requests' | 'limits',
  r: ResourceName,
): number {
  let apps = 0;
  for (const c of containers) apps += c.spec[field][r] ?? 0;
  let sidecars = 0;
  let initMax = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const v = specOf(c.resources)[field][r] ?? 0;
    if (c.restartPolicy === 'Always') sidecars += v;
    else initMax = Math.max(initMax, v + sidecars);
  }
  return Math.max(apps + sidecars, initMax) + (parseQuantity(pod.spec?.overhead?.[r]) ?? 0);
}

/** Whether the quota counts this pod: its scopes and scope selector (an unknown scope counts, to be safe). */
function appliesTo(
  quota: V1ResourceQuota,
  pod: V1Pod,
  written: readonly { readonly spec: ResourceSpec }[],
): boolean {
  const bestEffort = written.every((c) =>
    RESOURCES.every((r) => c.spec.requests[r] === undefined && c.spec.limits[r] === undefined),
  );
  const terminating =
    pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds !== null;
  const priorityClass = pod.spec?.priorityClassName ?? '';
  const hasScope = (scope: string): boolean => {
    switch (scope) {
      case 'Terminating':
        return terminating;
      case 'NotTerminating':
        return !terminating;
      case 'BestEffort':
        return bestEffort;
      case 'NotBestEffort':
        return !bestEffort;
      case 'PriorityClass':
        return priorityClass !== '';
      case 'CrossNamespacePodAffinity':
        return crossNamespaceAffinity(pod);
      default:
        return true;
    }
  };
  if (!(quota.spec?.scopes ?? []).every(hasScope)) return false;
  return (quota.spec?.scopeSelector?.matchExpressions ?? []).every((e) => {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        return e.scopeName === 'PriorityClass' ? values.includes(priorityClass) : hasScope(e.scopeName);
      case 'NotIn':
        return e.scopeName === 'PriorityClass' ? !values.includes(priorityClass) : !hasScope(e.scopeName);
      case 'Exists':
        return hasScope(e.scopeName);
      case 'DoesNotExist':
        return !hasScope(e.scopeName);
      default:
        return true;
    }
  });
}

function crossNamespaceAffinity(pod: V1Pod): boolean {
  const a = pod.spec?.affinity;
  const terms = [
    ...(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
    ...(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
      (w) => w.podAffinityTerm,
    ),
  ];
  return terms.some((t) => (t.namespaces?.length ?? 0) > 0 || t.namespaceSelector !== undefined);
}

function specOf(
  resources: { requests?: Record<string, string>; limits?: Record<string, string> } | undefined,
): ResourceSpec {
  const pick = (m: Record<string, string> | undefined) => {
    const out: Partial<Record<ResourceName, number>> = {};
    for (const r of RESOURCES) {
      const v = parseQuantity(m?.[r]);
      if (v !== undefined) out[r] = v;
    }
    return out;
  };
  return { requests: pick(resources?.requests), limits: pick(resources?.limits) };
}

function exceeds(r: ResourceName, a: number, b: number): boolean {
  return a > b && !sameAmount(r, a, b);
}
