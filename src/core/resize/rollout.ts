// Which pods of one workload to change now: a bounded number in flight (resizes the kubelet is still
// applying count), Ready pods only, evictions one at a time and only when the PDB allows one.
import type { ResizePlan } from './plan.ts';
import type { PodView } from './types.ts';

export type HoldReason =
  /** maxPodsAtOnce pods are already changing. */
  | 'Budget'
  /** Not Ready: changing it now could hide why, and the rollout waits for it to settle. */
  | 'NotReady'
  /** A pod of the workload is already going away: one disruption at a time. */
  | 'EvictionInFlight'
  /** The PodDisruptionBudget allows no disruption now. */
  | 'PdbBlocks'
  /** Another pod is being evicted in this round. */
  | 'OneEvictionAtATime';

export type RolloutAction =
  | { readonly kind: 'Resize' }
  | { readonly kind: 'Evict' }
  | { readonly kind: 'Hold'; readonly reason: HoldReason }
  /** The plan asks for nothing (NoChange, Skip, Deferred, Infeasible). */
  | { readonly kind: 'Nothing' };

export interface RolloutCandidate {
  readonly pod: PodView;
  readonly plan: ResizePlan;
}

export interface RolloutInput {
  /** Every pod of the workload, including those with nothing to do: they count toward percentages. */
  readonly candidates: readonly RolloutCandidate[];
  /** A number of pods, or a percentage of them ("25%") rounded up; at least one either way. */
  readonly maxPodsAtOnce: number | string;
  /** status.disruptionsAllowed of the PDBs covering these pods (the smallest one); undefined: none covers them. */
  readonly disruptionsAllowed?: number;
}

export interface Rollout {
  /** In candidate order. */
  readonly actions: readonly { readonly pod: string; readonly action: RolloutAction }[];
  readonly budget: number;
  /** Pods already changing before this round: resizing, waiting for room, or terminating. */
  readonly inFlight: number;
}

export function budgetOf(maxPodsAtOnce: number | string, total: number): number {
  if (typeof maxPodsAtOnce === 'number') return Math.max(1, Math.floor(maxPodsAtOnce));
  const m = /^(\d{1,3})%$/.exec(maxPodsAtOnce.trim());
  // The schema rejects anything else; should one slip through, one pod at a time is the careful reading.
  if (!m) return 1;
  return Math.max(1, Math.ceil((total * Number(m[1])) / 100));
}

/**
 * A pod whose resize the kubelet has not finished (Infeasible never will: it must not hold the
 * rollout), including one patched so recently that the kubelet has not yet observed the generation.
 */
function changing(p: PodView): boolean {
  if (p.generation !== undefined && p.observedGeneration !== undefined && p.observedGeneration < p.generation)
    return true;
  switch (p.resize.kind) {
    case 'InProgress':
    case 'InProgressError':
    case 'Deferred':
      return true;
    case 'Infeasible':
    case 'None':
      return p.terminating;
  }
}

export function planRollout(input: RolloutInput): Rollout {
  const budget = budgetOf(input.maxPodsAtOnce, input.candidates.length);
  const inFlight = input.candidates.filter((c) => changing(c.pod)).length;
  let slots = budget - inFlight;
  const terminating = input.candidates.some((c) => c.pod.terminating);
  const actions = new Map<string, RolloutAction>();

  // OOM raises first and outside the budget: a crash-looping pod (never Ready) must not wait for others.
  const resizes = input.candidates
    .filter((c) => c.plan.decision.kind === 'InPlace')
    .sort((a, b) => b.plan.priority - a.plan.priority || a.pod.name.localeCompare(b.pod.name));
  for (const c of resizes) {
    const urgent = c.plan.decision.kind === 'InPlace' && c.plan.decision.urgent;
    if (changing(c.pod)) {
      // A new plan replacing this pod's own unfinished resize: it already holds a slot.
      actions.set(c.pod.name, { kind: 'Resize' });
    } else if (urgent) {
      actions.set(c.pod.name, { kind: 'Resize' });
      slots--;
    } else if (!c.pod.ready) {
      actions.set(c.pod.name, { kind: 'Hold', reason: 'NotReady' });
    } else if (slots > 0) {
      actions.set(c.pod.name, { kind: 'Resize' });
      slots--;
    } else {
      actions.set(c.pod.name, { kind: 'Hold', reason: 'Budget' });
    }
  }

  // An eviction is taken from a pod that is not Ready too: it costs no availability, and an
  // Infeasible pod crash-looping on a node too small is exactly the one to move.
  let evicting = false;
  for (const c of input.candidates.filter((x) => x.plan.decision.kind === 'Evict')) {
    const hold = (reason: HoldReason) => actions.set(c.pod.name, { kind: 'Hold', reason });
    if (terminating) hold('EvictionInFlight');
    else if (evicting) hold('OneEvictionAtATime');
    else if (input.disruptionsAllowed !== undefined && input.disruptionsAllowed < 1) hold('PdbBlocks');
    else if (slots <= 0) hold('Budget');
    else {
      actions.set(c.pod.name, { kind: 'Evict' });
      evicting = true;
      slots--;
    }
  }

  return {
    actions: input.candidates.map((c) => ({
      pod: c.pod.name,
      action: actions.get(c.pod.name) ?? { kind: 'Nothing' },
    })),
    budget,
    inFlight,
  };
}

/**
 * Whether the replacement of an evicted pod would be sized: Tailor's webhook covers the namespace,
 * or not, or this operator serves one whose registration is not seen yet.
 */
export type ReplacementSizing = 'Webhook' | 'NoWebhook' | 'Registering';

/** Why a policy may not evict now, or that it may. */
export type EvictionGate =
  | { readonly kind: 'Allowed' }
  /** Nothing sizes the replacement: it would come back at its old size and be evicted again, forever. */
  | { readonly kind: 'NoAdmissionWebhook'; readonly message: string }
  | { readonly kind: 'WebhookRegistering'; readonly message: string }
  | { readonly kind: 'Cooldown'; readonly untilSeconds: number; readonly message: string }
  | { readonly kind: 'HourlyCap'; readonly message: string };

export interface EvictionGateInput {
  /** Seconds since the epoch. */
  readonly now: number;
  /** When this policy evicted pods, seconds since the epoch (kept across restarts by the checkpoint). */
  readonly evictions: readonly number[];
  readonly cooldownSeconds: number;
  /** update.maxEvictionsPerHour; 0 never evicts. */
  readonly maxPerHour: number;
  readonly replacement: ReplacementSizing;
}

export function evictionGate(i: EvictionGateInput): EvictionGate {
  switch (i.replacement) {
    case 'NoWebhook':
      return {
        kind: 'NoAdmissionWebhook',
        message:
          "mode Auto evicts only when Tailor's admission webhook sizes the replacement, and none is registered " +
          'for this namespace: run the operator with --webhook (or use mode InPlace)',
      };
    case 'Registering':
      return { kind: 'WebhookRegistering', message: "waiting for this operator's webhook registration" };
    case 'Webhook':
      break;
  }
  const last = i.evictions.length > 0 ? Math.max(...i.evictions) : undefined;
  if (last !== undefined && i.now - last < i.cooldownSeconds) {
    return {
      kind: 'Cooldown',
      untilSeconds: last + i.cooldownSeconds,
      message: `the last eviction was ${Math.round(i.now - last)}s ago; update.cooldown is ${i.cooldownSeconds}s`,
    };
  }
  const lastHour = i.evictions.filter((t) => t > i.now - 3600 && t <= i.now).length;
  if (lastHour >= i.maxPerHour) {
    return {
      kind: 'HourlyCap',
      message:
        i.maxPerHour === 0
          ? 'update.maxEvictionsPerHour is 0: this policy never evicts'
          : `${lastHour} eviction${lastHour === 1 ? '' : 's'} in the last hour: update.maxEvictionsPerHour is ${i.maxPerHour}`,
    };
  }
  return { kind: 'Allowed' };
}

/** A node's allocatable CPU (cores) and memory (bytes). */
export interface NodeRoom {
  readonly name: string;
  readonly cpu: number;
  readonly memory: number;
}

/**
 * An eviction only helps when the pod, at its new size, fits some node: a plan to evict a pod whose
 * requests exceed every node's allocatable becomes Infeasible (with the numbers), so nothing is
 * evicted into Pending. Without nodes to compare (none listed yet) the plan stays as it is: the
 * controller holds evictions until the node list is in.
 */
export function boundByNodes(plan: ResizePlan, nodes: readonly NodeRoom[]): ResizePlan {
  if (plan.decision.kind !== 'Evict' || nodes.length === 0) return plan;
  let cpu = 0;
  let memory = 0;
  for (const c of plan.containers) {
    cpu += c.after.requests.cpu ?? 0;
    memory += c.after.requests.memory ?? 0;
  }
  if (nodes.some((n) => n.cpu >= cpu && n.memory >= memory)) return plan;
  const biggest = [...nodes].sort((a, b) => b.cpu - a.cpu || b.memory - a.memory)[0]!;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)}Gi`;
  return {
    ...plan,
    decision: {
      kind: 'Infeasible',
      cause: plan.decision.cause,
      message:
        `the pod would ask for cpu ${cpu.toFixed(3)} and memory ${gib(memory)}, more than any node can ` +
        `allocate (largest: ${biggest.name}, cpu ${biggest.cpu}, memory ${gib(biggest.memory)}); not evicted: ` +
        'set containers[].maxAllowed at most that, or add a larger node',
    },
  };
}
