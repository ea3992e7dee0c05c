// One container's new requests and limits from its recommendation, policy and usage, with every
// adjustment said as a note: the safety rules of the actuator live here, per resource.
import { bumpAfterOom } from '../recommend/oom.ts';
import { sameAmount } from './qos.ts';
import type { ResolvedContainerPolicy } from './policy.ts';
import type {
  Amounts,
  Bounds,
  ContainerRecommendation,
  ContainerUsage,
  ContainerView,
  QosClass,
  ResourceName,
  ResourceSpec,
} from './types.ts';
import { RESOURCES } from './types.ts';

const Mi = 2 ** 20;

export type NoteCode =
  /** The policy's container entry says mode Off. */
  | 'NotControlled'
  /** The resource is not in controlledResources. */
  | 'ResourceNotControlled'
  /** No request for this resource in the spec: Tailor does not add one (it could change the QoS class). */
  | 'NoRequest'
  /** No usable recommendation for this resource. */
  | 'NoRecommendation'
  | 'ClampedToMin'
  | 'ClampedToMax'
  /** Memory held at the observed peak plus a margin instead of going lower. */
  | 'HeldAtPeak'
  /** No memory usage known: memory is not lowered. */
  | 'NoUsage'
  /** Raised after an OOM kill. */
  | 'OomBump'
  /** The OOM bump was cut to maxAllowed. */
  | 'OomBumpCapped'
  /** The request was cut to the limit, which Tailor may not change here. */
  | 'CappedAtLimit'
  /** The limit stays as it is (RequestsOnly, or NoLimit on a running pod: removing a limit is not possible in place). */
  | 'LimitKept'
  /** Guaranteed needs requests == limits, and the limits are not Tailor's to change (RequestsOnly). */
  | 'GuaranteedNeedsLimits'
  /** Only raises allowed now (an OOM bump inside a cooldown or rate limit, a shrink hold): a decrease is held back. */
  | 'RaiseOnly'
  /** A HorizontalPodAutoscaler scales the workload on this resource's utilisation: its request stays. */
  | 'ScaledByHpa';

export interface Note {
  readonly code: NoteCode;
  readonly resource?: ResourceName;
  readonly message: string;
}

export interface SizeContext {
  /** The pod's QoS class now (computed from the spec), which the resize must keep. */
  readonly qos: QosClass;
  readonly policy: ResolvedContainerPolicy;
  readonly recommendation: ContainerRecommendation | undefined;
  readonly usage: ContainerUsage | undefined;
  /** Memory in use when the container was OOM-killed since the last change; undefined: no such kill. */
  readonly oomUsage: number | undefined;
  readonly oom: { readonly factor: number; readonly minBump: number };
  readonly minChangePercent: number;
  readonly peakMargin: number;
  /** Set: only raises may pass now, and this says why (a cooldown, a shrink hold). */
  readonly raiseOnly: string | undefined;
  /** Resources whose request must stay as it is, with who scales on them (see hpa.ts). */
  readonly frozen?: ReadonlyMap<ResourceName, string>;
}

export interface ContainerPlan {
  readonly name: string;
  readonly before: ResourceSpec;
  readonly after: ResourceSpec;
  /** A request is out of bounds, past the change threshold, or raised after an OOM kill. */
  readonly triggered: boolean;
  /** Memory raised after an OOM kill: this may bypass cooldown and rate limits. */
  readonly urgent: boolean;
  /** A changed resource has resizePolicy RestartContainer: the kubelet restarts this container. */
  readonly restarts: boolean;
  /** Largest relative change of a request (0.5 = 50%), to order pods in a rollout. */
  readonly change: number;
  /** The resources Tailor computed a value for (controlled, with a request and a recommendation or an OOM bump). */
  readonly sized: readonly ResourceName[];
  readonly notes: readonly Note[];
}

export function sizeContainer(c: ContainerView, ctx: SizeContext): ContainerPlan {
  const notes: Note[] = [];
  if (!ctx.policy.controlled) {
    notes.push({ code: 'NotControlled', message: `container ${c.name}: the policy says mode Off for it` });
    return unchanged(c, notes);
  }
  const requests: Amounts = { ...c.spec.requests };
  const limits: Amounts = { ...c.spec.limits };
  let triggered = false;
  let urgent = false;
  let restarts = false;
  let change = 0;
  const sized: ResourceName[] = [];
  for (const r of RESOURCES) {
    const out = sizeResource(c, r, ctx, notes);
    if (!out) continue;
    sized.push(r);
    requests[r] = out.request;
    if (out.limit !== undefined) limits[r] = out.limit;
    triggered ||= out.triggered;
    urgent ||= out.urgent;
    const cur = c.spec.requests[r]!;
    const changed =
      !sameAmount(r, out.request, cur) ||
      (out.limit !== undefined && !sameAmount(r, out.limit, c.spec.limits[r]!));
    if (changed && c.resizePolicy[r] === 'RestartContainer') restarts = true;
    change = Math.max(change, Math.abs(out.request - cur) / cur);
  }
  return {
    name: c.name,
    before: c.spec,
    after: { requests, limits },
    triggered,
    urgent,
    restarts,
    change,
    sized,
    notes,
  };
}

interface Sized {
  request: number;
  /** Undefined: the container has no limit for this resource, and gets none. */
  limit: number | undefined;
  triggered: boolean;
  urgent: boolean;
}

function sizeResource(c: ContainerView, r: ResourceName, ctx: SizeContext, notes: Note[]): Sized | undefined {
  const note = (code: NoteCode, message: string) =>
    notes.push({ code, resource: r, message: `${c.name} ${r}: ${message}` });
  const p = ctx.policy;
  if (!p.resources.has(r)) {
    note('ResourceNotControlled', 'not in controlledResources');
    return undefined;
  }
  const cur = c.spec.requests[r];
  const curLimit = c.spec.limits[r];
  const scaledBy = ctx.frozen?.get(r);
  if (scaledBy !== undefined) return frozenResource(c, r, scaledBy, ctx, note);
  if (cur === undefined || !(cur > 0)) {
    note('NoRequest', 'no request set; Tailor does not add one (that could change the QoS class)');
    return undefined;
  }
  if (curLimit !== undefined && ctx.qos === 'Guaranteed' && p.controlledValues === 'RequestsOnly') {
    note(
      'GuaranteedNeedsLimits',
      'Guaranteed pod: requests must equal limits, and RequestsOnly forbids changing limits',
    );
    return undefined;
  }
  const bounds = usable(ctx.recommendation?.[r]);
  const bump =
    r === 'memory' && ctx.oomUsage !== undefined
      ? bumpAfterOom(ctx.oomUsage, { ...ctx.oom, halfLifeSeconds: 0 })
      : undefined;
  if (!bounds && bump === undefined) {
    note('NoRecommendation', 'no usable recommendation');
    return undefined;
  }

  let want = bounds?.target ?? cur;
  const min = p.min[r];
  const max = p.max[r];
  if (min !== undefined && want < min) {
    note('ClampedToMin', `${show(r, want)} raised to minAllowed ${show(r, min)}`);
    want = min;
  }
  let overMax = false;
  if (max !== undefined && want > max) {
    note('ClampedToMax', `${show(r, want)} cut to maxAllowed ${show(r, max)}`);
    want = max;
    overMax = cur > max;
  }
  let urgent = false;
  if (bump !== undefined && bump > want) {
    note('OomBump', `OOM-killed at about ${show(r, ctx.oomUsage!)}: raised to ${show(r, bump)}`);
    want = bump;
    if (max !== undefined && want > max) {
      note('OomBumpCapped', `OOM bump cut to maxAllowed ${show(r, max)}`);
      want = max;
    }
  }
  if (r === 'memory') want = memoryFloor(cur, want, max, ctx, note);
  want = roundUp(r, want);
  if (bump !== undefined && want > cur && !sameAmount(r, want, cur)) urgent = true;
  if (ctx.raiseOnly !== undefined && want < cur) {
    note('RaiseOnly', `not lowered to ${show(r, want)} now: ${ctx.raiseOnly}`);
    want = cur;
  }

  let limit: number | undefined;
  if (curLimit !== undefined) {
    limit = limitFor(r, want, cur, curLimit, ctx, note);
    if (limit === curLimit && want > curLimit) {
      note('CappedAtLimit', `request ${show(r, want)} cut to the limit ${show(r, curLimit)}, which stays`);
      want = curLimit;
    }
    if (ctx.raiseOnly !== undefined && limit < curLimit) limit = curLimit;
  }

  // Whether this moves the pod. A raise goes out when the value is below the lower bound (unsafe)
  // or the move is at least minChangePercent; a shrink only when the move is that large (or the
  // value is over the policy's maxAllowed). A value above the upper bound by less than that waits:
  // with "outside the bounds" enough for a shrink too, a target wobbling between two values a
  // little more than minChangePercent apart (neighbouring histogram buckets) raised the pod at one
  // pass and lowered it at the next, every cooldown.
  const moved = !sameAmount(r, want, cur);
  const unsafe = bounds !== undefined && cur < bounds.lowerBound;
  const past = (Math.abs(want - cur) / cur) * 100 >= ctx.minChangePercent;
  const worth = want > cur ? unsafe || past : past || overMax;
  return { request: want, limit, triggered: moved && (worth || urgent), urgent };
}

/**
 * A resource an HPA scales on by utilisation keeps its request, whatever the recommendation: that
 * ratio is the HPA's input. Only an OOM kill still moves something: the memory limit alone goes up
 * (the HPA reads usage over the request, never the limit), where the policy lets Tailor set limits
 * and the pod is not Guaranteed (whose requests must equal its limits).
 */
function frozenResource(
  c: ContainerView,
  r: ResourceName,
  scaledBy: string,
  ctx: SizeContext,
  note: (code: NoteCode, message: string) => void,
): Sized | undefined {
  const cur = c.spec.requests[r];
  const curLimit = c.spec.limits[r];
  const why = `${scaledBy} scales on ${r} utilisation, so the request stays`;
  const bump =
    r === 'memory' && ctx.oomUsage !== undefined
      ? bumpAfterOom(ctx.oomUsage, { ...ctx.oom, halfLifeSeconds: 0 })
      : undefined;
  if (
    bump !== undefined &&
    cur !== undefined &&
    curLimit !== undefined &&
    ctx.qos !== 'Guaranteed' &&
    ctx.policy.controlledValues === 'RequestsAndLimits'
  ) {
    const max = ctx.policy.max[r];
    const limit = roundUp(r, max !== undefined ? Math.min(bump, Math.max(max, curLimit)) : bump);
    if (limit > curLimit && !sameAmount(r, limit, curLimit)) {
      note(
        'OomBump',
        `OOM-killed at about ${show(r, ctx.oomUsage!)}: limit raised to ${show(r, limit)}; ${why}`,
      );
      return { request: cur, limit, triggered: true, urgent: true };
    }
  }
  note(
    'ScaledByHpa',
    `${why}${bump !== undefined ? ' (the OOM kill cannot be answered by a limit alone)' : ''}`,
  );
  return undefined;
}

/** The new limit; the current one when Tailor may not change it (then returned as the same number). */
function limitFor(
  r: ResourceName,
  want: number,
  cur: number,
  curLimit: number,
  ctx: SizeContext,
  note: (code: NoteCode, message: string) => void,
): number {
  // Whatever the strategy says: Guaranteed stays requests == limits.
  if (ctx.qos === 'Guaranteed') return want;
  if (ctx.policy.controlledValues === 'RequestsOnly') {
    note('LimitKept', 'limit kept (RequestsOnly)');
    return curLimit;
  }
  const s = ctx.policy.limits[r];
  switch (s.kind) {
    case 'KeepRatio':
      return roundUp(r, want * (curLimit / cur));
    case 'Headroom':
      return roundUp(r, want * (1 + s.percent / 100));
    case 'NoLimit':
      note('LimitKept', 'limit kept: NoLimit applies to new pods; a limit cannot be removed in place');
      return curLimit;
  }
}

/**
 * Memory never goes below what the container was seen to use (plus a margin): lower than that is an
 * OOM kill, or a limit the kubelet refuses. maxAllowed still caps raises, but never forces a shrink
 * below the peak. Without usage data memory is not lowered at all.
 */
function memoryFloor(
  cur: number,
  want: number,
  max: number | undefined,
  ctx: SizeContext,
  note: (code: NoteCode, message: string) => void,
): number {
  const seen = Math.max(ctx.usage?.memoryPeak ?? -1, ctx.usage?.memoryNow ?? -1);
  if (seen < 0) {
    if (want < cur) note('NoUsage', `not lowered to ${show('memory', want)}: no memory usage known for it`);
    return Math.max(want, cur);
  }
  const floor = seen * (1 + ctx.peakMargin);
  if (want >= floor) return want;
  const held = max !== undefined && floor > max ? Math.max(want, Math.min(cur, floor)) : floor;
  if (held > want) {
    note(
      'HeldAtPeak',
      `held at ${show('memory', held)}, not ${show('memory', want)}: it has used ${show('memory', seen)}`,
    );
  }
  return held;
}

/** Recommendations the planner can trust; anything else is treated as missing (never a shrink on bad data). */
function usable(b: Bounds | undefined): Bounds | undefined {
  if (!b) return undefined;
  const { target, lowerBound, upperBound } = b;
  if (!Number.isFinite(target) || !(target > 0)) return undefined;
  if (Number.isNaN(lowerBound) || Number.isNaN(upperBound) || lowerBound > upperBound) return undefined;
  return b;
}

/** Up to whole millicores and whole MiB: values the API keeps as written, so the next read compares equal. */
export function roundUp(r: ResourceName, v: number): number {
  if (r === 'cpu') return Math.max(1, Math.ceil(v * 1000 - 1e-6)) / 1000;
  return Math.max(1, Math.ceil(v / Mi - 1e-9)) * Mi;
}

export function show(r: ResourceName, v: number): string {
  if (r === 'cpu') return v >= 1 && Number.isInteger(v) ? String(v) : `${Math.round(v * 1000)}m`;
  if (v >= 2 ** 30 && v % 2 ** 30 === 0) return `${v / 2 ** 30}Gi`;
  return `${Math.round((v / Mi) * 10) / 10}Mi`;
}

export function unchanged(c: ContainerView, notes: Note[]): ContainerPlan {
  return {
    name: c.name,
    before: c.spec,
    after: c.spec,
    triggered: false,
    urgent: false,
    restarts: false,
    change: 0,
    sized: [],
    notes,
  };
}
