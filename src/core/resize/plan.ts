// The resize decision for one pod: from its state, its recommendations, the policy and the time,
// what to do now (NoChange | InPlace | Deferred | Infeasible | Evict | Skip) and the exact patch.
import { frozenFor, type FrozenResource } from './hpa.ts';
import { buildPatch, summarize } from './patch.ts';
import { resolvePolicy, type ResizePolicyInput, type ResolvedPolicy } from './policy.ts';
import { qosOf } from './qos.ts';
import { sizeContainer, unchanged, type ContainerPlan, type Note } from './size.ts';
import type {
  ContainerRecommendation,
  ContainerUsage,
  ContainerView,
  PodView,
  ResizePatch,
} from './types.ts';

export type SkipReason =
  /** mode Off, Recommend or Initial: running pods are not Tailor's to change. */
  | 'Mode'
  /** The policy does not make sense (e.g. minAllowed above maxAllowed): nothing is changed, shrinks least of all. */
  | 'BadPolicy'
  | 'Cooldown'
  | 'RateLimited'
  /** No recommendation (or no usable one) for any controlled resource. */
  | 'MissingData'
  /** The resize would change the pod's QoS class, which the apiserver rejects (and would be a surprise). */
  | 'WouldChangeQos'
  /** Every container is mode Off, or no controlled resource has a request to size. */
  | 'NotControlled'
  /** Every resource Tailor could size is one a HorizontalPodAutoscaler scales on by utilisation. */
  | 'ScaledByHpa'
  /** The kubelet is applying a resize: let it finish. */
  | 'ResizeInProgress'
  /** Not running, or being deleted: nothing to resize. */
  | 'NotRunning'
  /** This exact patch was rejected before; it would be again. */
  | 'Rejected'
  /** Only a shrink was due, and shrinking is held now (see ShrinkGate): nothing to send. */
  | 'ShrinkHeld';

/** Why shrinking is held: the facts a shrink stands on are missing or cannot be trusted now. */
export type ShrinkHoldReason =
  /** The pod's "used now" is older than the freshness limit (metrics.k8s.io down or lagging). */
  | 'StaleUsage'
  /** The usage history of a container spans less than the policy's window (capped at 24 h). */
  | 'ShortHistory'
  /** The usage history store cannot be read or written. */
  | 'HistoryUnavailable';

/**
 * Whether requests and limits may go down now. Held: the planner still plans raises (OOM kills,
 * under-provisioned resources) but never lowers anything; a failure makes Tailor hold still.
 */
export type ShrinkGate =
  | { readonly kind: 'Allowed' }
  | { readonly kind: 'Held'; readonly reason: ShrinkHoldReason; readonly message: string };

export const SHRINK_ALLOWED: ShrinkGate = { kind: 'Allowed' };

export type EvictCause = 'Infeasible' | 'DeferredTooLong';

export type ResizeDecision =
  | { readonly kind: 'NoChange'; readonly message: string }
  | {
      readonly kind: 'InPlace';
      readonly patch: ResizePatch;
      /** Raises after an OOM kill: may bypass cooldown, rate limits and the rollout budget. */
      readonly urgent: boolean;
      /** Containers the kubelet will restart, because their resizePolicy says RestartContainer. */
      readonly restarts: readonly string[];
      readonly message: string;
    }
  | {
      readonly kind: 'Deferred';
      readonly waitedSeconds: number;
      readonly maxWaitSeconds: number;
      readonly message: string;
    }
  | { readonly kind: 'Infeasible'; readonly cause: EvictCause; readonly message: string }
  | { readonly kind: 'Evict'; readonly cause: EvictCause; readonly message: string }
  | { readonly kind: 'Skip'; readonly reason: SkipReason; readonly message: string };

export type DecisionKind = ResizeDecision['kind'];

/** What became of the last patch sent for this pod, when it did not land (see outcome.ts). */
export interface LastAttempt {
  readonly outcome: 'Infeasible' | 'Rejected';
  readonly patch: ResizePatch;
  readonly message: string;
}

export interface PlanSettings {
  /** Memory is never set below the observed peak times (1 + this). */
  readonly peakMargin: number;
  /** How long a Deferred resize may wait for room on its node before it counts as not possible. */
  readonly maxDeferredSeconds: number;
}

export const DEFAULT_PLAN_SETTINGS: PlanSettings = { peakMargin: 0.05, maxDeferredSeconds: 600 };

export interface PlanInput {
  readonly pod: PodView;
  /** By container name. */
  readonly recommendations: Readonly<Record<string, ContainerRecommendation>>;
  /** By container name. */
  readonly usage?: Readonly<Record<string, ContainerUsage>>;
  readonly policy: ResizePolicyInput;
  /** Whether anything may be lowered now; computed by the caller from the freshness of what it knows. */
  readonly shrink: ShrinkGate;
  /** When Tailor last changed this pod, seconds since the epoch. */
  readonly lastChange?: number;
  /** Changes Tailor made to this pod in the hour before `now`. */
  readonly changesLastHour: number;
  readonly lastAttempt?: LastAttempt;
  /** Resources whose requests stay as they are: an HPA scales the workload on their utilisation. */
  readonly frozen?: readonly FrozenResource[];
  /** Seconds since the epoch. */
  readonly now: number;
  readonly settings?: Partial<PlanSettings>;
}

export interface ResizePlan {
  readonly namespace: string;
  readonly pod: string;
  readonly decision: ResizeDecision;
  /** Every container, with before and after (after == before where nothing changes). */
  readonly containers: readonly ContainerPlan[];
  /** "app: cpu 2 -> 500m, memory 4Gi -> 1Gi": what the patch (if any) changes, for Events and logs. */
  readonly summary: string;
  /** Largest relative request change, Infinity for an OOM raise: rollouts take big changes first. */
  readonly priority: number;
  readonly notes: readonly Note[];
}

export function planResize(input: PlanInput): ResizePlan {
  const { pod } = input;
  const settings = { ...DEFAULT_PLAN_SETTINGS, ...input.settings };
  const checked = resolvePolicy(
    input.policy,
    pod.containers.map((c) => c.name),
  );
  const done = (
    decision: ResizeDecision,
    containers: readonly ContainerPlan[] = unchangedPlans(pod),
  ): ResizePlan => result(pod, decision, containers);

  switch (checked.kind) {
    case 'Bad':
      return done(
        skip('BadPolicy', `the policy is not usable, so nothing is changed: ${checked.problems.join('; ')}`),
      );
    case 'Ok':
      break;
  }
  const policy = checked.policy;
  const full = sizeAll(input, policy, settings, undefined);

  switch (policy.mode) {
    case 'Off':
    case 'Recommend':
    case 'Initial':
      return done(skip('Mode', `mode ${policy.mode}: running pods are not changed`), full);
    case 'InPlace':
    case 'Auto':
      break;
  }
  if (pod.terminating || (pod.phase !== undefined && pod.phase !== 'Running')) {
    return done(
      skip('NotRunning', pod.terminating ? 'the pod is being deleted' : `the pod is ${pod.phase}`),
      full,
    );
  }
  const before = qosOf(pod.containers.map((c) => c.spec));
  if (pod.qosClass !== undefined && pod.qosClass !== before) {
    // Something outside the app containers counts (init containers, pod-level resources): the QoS
    // guard cannot see it, so it cannot promise the class is kept.
    return done(
      skip(
        'WouldChangeQos',
        `the pod is ${pod.qosClass} but its containers alone make it ${before}: not resized`,
      ),
      full,
    );
  }
  if (before === 'BestEffort') {
    return done(skip('WouldChangeQos', 'BestEffort pod: giving it requests would make it Burstable'), full);
  }
  if (!full.some((c) => c.sized.length > 0)) {
    if (full.some((c) => c.notes.some((n) => n.code === 'GuaranteedNeedsLimits'))) {
      return done(
        skip(
          'WouldChangeQos',
          'Guaranteed pod: its requests can only move with its limits, and the policy says RequestsOnly',
        ),
        full,
      );
    }
    // Missing data is worth saying apart from "nothing here is ours": one is temporary, the other a setting.
    if (full.some((c) => c.notes.some((n) => n.code === 'NoRecommendation')))
      return done(skip('MissingData', 'no usable recommendation for any controlled resource'), full);
    const scaled = full.flatMap((c) => c.notes.filter((n) => n.code === 'ScaledByHpa'));
    return scaled.length > 0
      ? done(skip('ScaledByHpa', scaled.map((n) => n.message).join('; ')), full)
      : done(skip('NotControlled', 'the policy controls no resource of this pod that has a request'), full);
  }

  const triggered = full.some((c) => c.triggered);
  switch (pod.resize.kind) {
    case 'InProgress':
      return done(skip('ResizeInProgress', 'the kubelet is applying a resize'), full);
    case 'InProgressError':
      // The kubelet cannot apply what the spec asks (e.g. a memory limit below usage): only a different plan helps.
      if (!triggered)
        return done(skip('ResizeInProgress', `the kubelet reports an error: ${pod.resize.message}`), full);
      break;
    case 'Deferred': {
      if (triggered) break; // a new plan supersedes the waiting one
      const waited = pod.resize.since === undefined ? 0 : Math.max(0, input.now - pod.resize.since);
      if (waited <= settings.maxDeferredSeconds) {
        return done(
          {
            kind: 'Deferred',
            waitedSeconds: waited,
            maxWaitSeconds: settings.maxDeferredSeconds,
            message: `waiting for room on the node (${Math.round(waited)}s of ${settings.maxDeferredSeconds}s): ${pod.resize.message}`,
          },
          full,
        );
      }
      return done(
        giveUp(
          policy,
          'DeferredTooLong',
          `deferred for ${Math.round(waited)}s, over ${settings.maxDeferredSeconds}s: ${pod.resize.message}`,
        ),
        full,
      );
    }
    case 'Infeasible':
      if (!triggered)
        return done(giveUp(policy, 'Infeasible', `the node can never fit it: ${pod.resize.message}`), full);
      break;
    case 'None':
      break;
  }
  if (!triggered)
    return done({ kind: 'NoChange', message: 'every request is within its bounds and threshold' }, full);

  const urgent = full.some((c) => c.urgent);
  let chosen = full;
  switch (input.shrink.kind) {
    case 'Allowed':
      break;
    case 'Held':
      // Raises only: what the full plan would lower stays as it is. `full` is still returned with a
      // hold, so a reader sees what would happen once the gate opens.
      chosen = sizeAll(input, policy, settings, `shrinks are held: ${input.shrink.message}`);
      if (!chosen.some((c) => c.triggered)) return done(skip('ShrinkHeld', input.shrink.message), full);
      break;
  }
  const lastChange = input.lastChange;
  const cooling = lastChange !== undefined && input.now - lastChange < policy.cooldownSeconds;
  const limited = input.changesLastHour >= policy.maxChangesPerHour;
  if (cooling || limited) {
    const why = cooling
      ? skip(
          'Cooldown',
          `changed ${Math.round(input.now - lastChange)}s ago; cooldown is ${policy.cooldownSeconds}s`,
        )
      : skip(
          'RateLimited',
          `${input.changesLastHour} changes in the last hour; at most ${policy.maxChangesPerHour}`,
        );
    if (!urgent) return done(why, full);
    // An OOM bump does not wait, but only raises pass: a shrink must still wait its turn.
    chosen = sizeAll(input, policy, settings, 'only raises pass a cooldown or rate limit');
    if (!chosen.some((c) => c.urgent)) return done(why, full);
  }

  const after = qosOf(pod.containers.map((c) => chosen.find((p) => p.name === c.name)?.after ?? c.spec));
  if (after !== before) {
    return done(
      skip('WouldChangeQos', `the new values would make the pod ${after} instead of ${before}`),
      chosen,
    );
  }
  const patch = buildPatch(chosen);
  if (!patch) return done({ kind: 'NoChange', message: 'the new values round to the current ones' }, chosen);
  if (input.lastAttempt && JSON.stringify(input.lastAttempt.patch) === JSON.stringify(patch)) {
    switch (input.lastAttempt.outcome) {
      case 'Infeasible':
        return done(
          giveUp(policy, 'Infeasible', `the node cannot fit it: ${input.lastAttempt.message}`),
          chosen,
        );
      case 'Rejected':
        return done(skip('Rejected', `the same patch was rejected: ${input.lastAttempt.message}`), chosen);
    }
  }
  const restarts = chosen.filter((c) => c.restarts).map((c) => c.name);
  const summary = summarize(chosen);
  return done(
    {
      kind: 'InPlace',
      patch,
      urgent: chosen.some((c) => c.urgent),
      restarts,
      message:
        (chosen.some((c) => c.urgent) ? 'after an OOM kill: ' : '') +
        summary +
        // RestartContainer is the owner's statement that a restart is acceptable for that resource; a container
        // restart keeps the pod, its node, IP and volumes, so it beats an eviction even in Auto.
        (restarts.length > 0 ? ` (restarts ${restarts.join(', ')}: resizePolicy RestartContainer)` : ''),
    },
    chosen,
  );
}

function sizeAll(
  input: PlanInput,
  policy: ResolvedPolicy,
  settings: PlanSettings,
  /** Set: only raises, for this reason. */
  raiseOnly: string | undefined,
): ContainerPlan[] {
  const qos = qosOf(input.pod.containers.map((c) => c.spec));
  return input.pod.containers.map((c) =>
    sizeContainer(c, {
      qos,
      policy: policy.containers.get(c.name)!,
      recommendation: input.recommendations[c.name],
      usage: input.usage?.[c.name],
      oomUsage: oomUsage(c, input.lastChange, input.usage?.[c.name]),
      oom: policy.oom,
      minChangePercent: policy.minChangePercent,
      peakMargin: settings.peakMargin,
      raiseOnly,
      frozen: frozenFor(input.frozen, c.name),
    }),
  );
}

/**
 * Memory in use at an OOM kill after the last change, or undefined. The limit in force at the kill
 * is the one the status shows now, since nothing changed after it; the usage history may know more.
 * A kill with no time is only trusted when Tailor never changed the pod, or it would bump forever.
 */
export function oomUsage(
  c: ContainerView,
  lastChange: number | undefined,
  usage: ContainerUsage | undefined,
): number | undefined {
  const t = c.lastTermination;
  if (!t || t.reason !== 'OOMKilled') return undefined;
  if (lastChange !== undefined && (t.finishedAt === undefined || t.finishedAt <= lastChange))
    return undefined;
  const seen = Math.max(
    c.actual?.limits.memory ?? c.spec.limits.memory ?? 0,
    usage?.memoryPeak ?? 0,
    usage?.memoryNow ?? 0,
  );
  return seen > 0 ? seen : undefined;
}

function giveUp(
  policy: ResolvedPolicy,
  cause: 'Infeasible' | 'DeferredTooLong',
  message: string,
): ResizeDecision {
  switch (policy.mode) {
    case 'Auto':
      return { kind: 'Evict', cause, message: `${message}; evicting so the pod is recreated where it fits` };
    case 'InPlace':
    case 'Off':
    case 'Recommend':
    case 'Initial':
      return { kind: 'Infeasible', cause, message: `${message}; mode ${policy.mode} never evicts` };
  }
}

function skip(reason: SkipReason, message: string): ResizeDecision {
  return { kind: 'Skip', reason, message };
}

function unchangedPlans(pod: PodView): ContainerPlan[] {
  return pod.containers.map((c) => unchanged(c, []));
}

function result(pod: PodView, decision: ResizeDecision, containers: readonly ContainerPlan[]): ResizePlan {
  const acting = decision.kind === 'InPlace';
  return {
    namespace: pod.namespace,
    pod: pod.name,
    decision,
    containers,
    summary: acting ? summarize(containers) : '',
    priority: containers.some((c) => c.urgent)
      ? Number.POSITIVE_INFINITY
      : Math.max(0, ...containers.map((c) => c.change)),
    notes: containers.flatMap((c) => c.notes),
  };
}
