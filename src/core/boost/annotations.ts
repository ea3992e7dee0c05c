// The pod annotations of the start-up boost (written by the models controller into the pod
// template, read by the boost controller and the sizing controller), and the pure step from a
// boosted pod to its one in-place shrink: steady sizes, QoS kept, memory limit never below usage.
import { formatBytes, formatCpu, parseQuantity, quantityProblem } from '../quantity.ts';
import type { ContainerPlan } from '../resize/size.ts';
import { qosOf } from '../resize/qos.ts';
import type { Amounts, PodView, QosClass, ResourceSpec } from '../resize/types.ts';
import type { Sizes } from './schedule.ts';

/** JSON of the steady-state requests/limits per container; the pod template carries the boosted ones. */
export const BOOST_ANNOTATION = 'tailor.dev/startup-boost';
/** Set on the pod once shrunk (or given up on): the time. The sizing controller waits for it. */
export const BOOST_DONE_ANNOTATION = 'tailor.dev/startup-boost-done';
/** Seconds after the pod's start at which the boost is released even if the pod is not Ready. */
export const BOOST_DEADLINE_ANNOTATION = 'tailor.dev/startup-boost-deadline-seconds';
/** JSON of the estimate's serving figures per container, for `tailor recommend`. */
export const ESTIMATE_ANNOTATION = 'tailor.dev/estimate';
/** On every object a ModelDeployment owns, and on its pods: the ModelDeployment's name. */
export const MODEL_LABEL = 'tailor.dev/model-deployment';

export type BoostAnnotation = Record<
  string,
  { requests?: Record<'cpu' | 'memory', string>; limits?: Record<string, string> }
>;

export function boostAnnotation(container: string, steady: Sizes): string {
  const value: BoostAnnotation = {
    [container]: {
      requests: { cpu: formatCpu(steady.requests.cpu), memory: formatBytes(steady.requests.memory) },
      limits: { memory: formatBytes(steady.limits.memory) },
    },
  };
  return JSON.stringify(value);
}

export type ParsedBoost =
  | { readonly kind: 'Ok'; readonly steady: ReadonlyMap<string, ResourceSpec> }
  | { readonly kind: 'Invalid'; readonly message: string };

export function parseBoostAnnotation(text: string | undefined): ParsedBoost {
  if (text === undefined) return { kind: 'Invalid', message: `no ${BOOST_ANNOTATION} annotation` };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { kind: 'Invalid', message: `${BOOST_ANNOTATION} is not JSON: ${(err as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { kind: 'Invalid', message: `${BOOST_ANNOTATION} must be an object of containers` };
  const steady = new Map<string, ResourceSpec>();
  for (const [name, spec] of Object.entries(v as Record<string, unknown>)) {
    const s = (spec ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
    const amounts = (list: Record<string, unknown> | undefined, field: string): Amounts | string => {
      const out: Amounts = {};
      for (const r of ['cpu', 'memory'] as const) {
        const raw = list?.[r];
        if (raw === undefined) continue;
        if (typeof raw !== 'number' && typeof raw !== 'string')
          return `${name}.${field}.${r}: ${JSON.stringify(raw)} is not a quantity`;
        const problem = quantityProblem(raw);
        if (problem !== undefined) return `${name}.${field}.${r}: ${problem}`;
        const n = parseQuantity(raw)!;
        out[r] = n;
      }
      return out;
    };
    const requests = amounts(s.requests, 'requests');
    const limits = amounts(s.limits, 'limits');
    if (typeof requests === 'string') return { kind: 'Invalid', message: `${BOOST_ANNOTATION}: ${requests}` };
    if (typeof limits === 'string') return { kind: 'Invalid', message: `${BOOST_ANNOTATION}: ${limits}` };
    steady.set(name, { requests, limits });
  }
  return { kind: 'Ok', steady };
}

export type ShrinkOutcome =
  /** One patch for the pod; notes say where a value was kept above the steady one. */
  | {
      readonly kind: 'Shrink';
      readonly containers: readonly ContainerPlan[];
      readonly notes: readonly string[];
    }
  /** Already at the steady sizes (or above only where usage requires). */
  | { readonly kind: 'NothingToDo'; readonly notes: readonly string[] }
  /** The steady sizes would change the pod's QoS class, which the apiserver refuses. */
  | { readonly kind: 'WouldChangeQos'; readonly message: string };

/**
 * The shrink of a boosted pod to its steady sizes. Memory is never set below what a container
 * uses now plus 10% (the kubelet refuses a limit below usage, and a request below it invites
 * eviction); containers and resources the annotation does not name are left alone.
 */
export function steadyPlan(
  pod: PodView,
  steady: ReadonlyMap<string, ResourceSpec>,
  memoryUsage: ReadonlyMap<string, number> = new Map(),
): ShrinkOutcome {
  const notes: string[] = [];
  const plans: ContainerPlan[] = [];
  for (const c of pod.containers) {
    const want = steady.get(c.name);
    if (want === undefined) continue;
    const used = memoryUsage.get(c.name);
    const floor = used !== undefined ? used * 1.1 : 0;
    const requests: Amounts = { ...c.spec.requests };
    const limits: Amounts = { ...c.spec.limits };
    for (const r of ['cpu', 'memory'] as const) {
      const req = want.requests[r];
      if (req !== undefined && requests[r] !== undefined) requests[r] = req;
      const lim = want.limits[r];
      if (lim !== undefined && limits[r] !== undefined) limits[r] = lim;
    }
    // Usage unknown (no sample for this container): memory holds still; lowering it blind could
    // put the limit under what the model already holds. CPU can still go: too little CPU throttles, never kills.
    if (used === undefined) {
      const kept = requests.memory !== c.spec.requests.memory || limits.memory !== c.spec.limits.memory;
      if (c.spec.requests.memory !== undefined) requests.memory = c.spec.requests.memory;
      else delete requests.memory;
      if (c.spec.limits.memory !== undefined) limits.memory = c.spec.limits.memory;
      else delete limits.memory;
      if (kept) notes.push(`${c.name}: memory kept (its usage is unknown)`);
    }
    if (requests.memory !== undefined && requests.memory < floor) {
      notes.push(`${c.name}: memory request kept at ${formatBytes(floor)} (uses ${formatBytes(used!)})`);
      requests.memory = Math.ceil(floor);
    }
    if (limits.memory !== undefined && limits.memory < floor) {
      notes.push(`${c.name}: memory limit kept at ${formatBytes(floor)} (uses ${formatBytes(used!)})`);
      limits.memory = Math.ceil(floor);
    }
    // Never above what it has now: this is a release, not a raise.
    for (const [list, before] of [
      [requests, c.spec.requests],
      [limits, c.spec.limits],
    ] as const) {
      for (const r of ['cpu', 'memory'] as const) {
        const b = before[r];
        const a = list[r];
        if (a !== undefined && b !== undefined && a > b) list[r] = b;
      }
    }
    if (limits.memory !== undefined && requests.memory !== undefined && requests.memory > limits.memory)
      requests.memory = limits.memory;
    const change = Math.max(
      ...(['cpu', 'memory'] as const).map((r) => {
        const b = c.spec.requests[r];
        const a = requests[r];
        return b && a !== undefined ? Math.abs(a / b - 1) : 0;
      }),
    );
    plans.push({
      name: c.name,
      before: c.spec,
      after: { requests, limits },
      triggered: true,
      urgent: false,
      restarts: false,
      change,
      sized: ['cpu', 'memory'],
      notes: [],
    });
  }
  const qos = (specs: ResourceSpec[]): QosClass => qosOf(specs);
  const before = qos(pod.containers.map((c) => c.spec));
  const after = qos(pod.containers.map((c) => plans.find((p) => p.name === c.name)?.after ?? c.spec));
  if (before !== after) {
    return {
      kind: 'WouldChangeQos',
      message: `the steady sizes would change the pod's QoS class from ${before} to ${after}; the apiserver refuses that`,
    };
  }
  if (plans.every((p) => p.change === 0 && sameLimits(p))) return { kind: 'NothingToDo', notes };
  return { kind: 'Shrink', containers: plans, notes };
}

function sameLimits(p: ContainerPlan): boolean {
  return (['cpu', 'memory'] as const).every((r) => p.before.limits[r] === p.after.limits[r]);
}
