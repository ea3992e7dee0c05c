// The admission decision for one AdmissionReview: which policy covers the new pod, what it should
// start with, and the JSONPatch that says so. Pure but for its deps; it never denies a pod.
import type {
  V1Container,
  V1LimitRange,
  V1Pod,
  V1ResourceQuota,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { SizingPolicySpec, validate } from '../api/index.ts';
import type { SizingMode, SizingPolicy } from '../api/index.ts';
import { describe } from '../errors.ts';
import { parseQuantity } from '../core/quantity.ts';
import {
  describeFrozen,
  format,
  frozenByHpas,
  sameAmount,
  withoutFrozen,
  RESOURCES,
  type ContainerPlan,
} from '../core/resize/index.ts';
import {
  controllerOf,
  workloadOf,
  workloadLabel,
  type OwnerLink,
  type WorkloadRef,
} from '../sources/workloads.ts';
import { limitRangeViolations } from './limit-ranges.ts';
import { coveringPolicy, needsWorkload } from './match.ts';
import { quotaViolations } from './quota.ts';
import {
  allow,
  allowWithPatch,
  pointerSegment,
  readRequest,
  type AdmissionRequest,
  type AdmissionReview,
  type JsonPatchOp,
} from './review.ts';
import { changed, recommendationsOf, sizeNewPod } from './size-pod.ts';
import { BOOST_ANNOTATION as STARTUP_BOOST_ANNOTATION } from '../core/boost/annotations.ts';

/** A start-up boost controller owns pods carrying this: their first size is its business. */
export { BOOST_ANNOTATION as STARTUP_BOOST_ANNOTATION } from '../core/boost/annotations.ts';
/** The policy that sized the pod. */
export const SIZED_BY_ANNOTATION = 'tailor.dev/sized-by';
/** What changed, in words: "app: cpu 2 -> 500m, memory 4Gi -> 1Gi (limit 8Gi -> 2Gi)". */
export const SIZED_ANNOTATION = 'tailor.dev/sized';
/** The changed containers' resources as the pod was submitted, JSON: {"app":{"requests":{...},"limits":{...}}}. */
export const BEFORE_ANNOTATION = 'tailor.dev/resources-before';
/** Why a recommended size was not sent: "ResourceQuota compute: requests.memory ... is above hard 2Gi". */
export const SKIPPED_ANNOTATION = 'tailor.dev/sizing-skipped';

export type SkipReason =
  /** Not a pod, or not a CREATE: running pods are the actuator's. */
  | 'NotPodCreate'
  | 'StartupBoost'
  | 'NoPolicy'
  /** The policy's mode is Off or Recommend: it never touches a pod. */
  | 'ModeDoesNotSize'
  /** The policy has no recommendation yet (or none for this pod's containers). */
  | 'NoRecommendation'
  | 'BadPolicy'
  | 'NothingToChange'
  | 'WouldChangeQos'
  /**
   * The pod sets pod-level resources (spec.resources): its containers' requests must fit under them,
   * which the container sizing does not check, and an invalid patched pod would be rejected, not admitted.
   */
  | 'PodLevelResources'
  /** The new values break a LimitRange of the namespace: the apiserver would reject the pod. */
  | 'LimitRange'
  /** The new values take the namespace past a ResourceQuota: the apiserver would reject the pod. */
  | 'ResourceQuota';

export type AdmitDecision =
  | {
      readonly kind: 'Sized';
      readonly policy: string;
      readonly summary: string;
      readonly patch: readonly JsonPatchOp[];
    }
  | {
      readonly kind: 'Skipped';
      readonly reason: SkipReason;
      readonly message: string;
      readonly policy?: string;
    }
  /** Something went wrong; the pod is admitted as it was written (fails open). */
  | { readonly kind: 'FailedOpen'; readonly message: string };

export type OwnerLookupResult = OwnerLink | null | undefined;

export interface AdmitDeps {
  /** The SizingPolicies of a namespace, from a cache: admission must not wait on a list. */
  readonly policiesIn: (namespace: string) => readonly SizingPolicy[];
  /**
   * The controller of a ReplicaSet or Job (e.g. its Deployment): `null` when it has none, `undefined`
   * when it is unknown. Only asked when a policy of the namespace has a targetRef.
   */
  readonly ownerOf: (
    namespace: string,
    kind: 'ReplicaSet' | 'Job',
    name: string,
  ) => OwnerLookupResult | Promise<OwnerLookupResult>;
  /** The operator's margin over the memory peak (plan settings); left out, the default. */
  readonly peakMargin?: number;
  /**
   * The namespace's LimitRanges, from a cache; undefined while not listed yet (then no size is sent).
   * Left out, none are checked.
   */
  readonly limitRangesIn?: (namespace: string) => readonly V1LimitRange[] | undefined;
  /** The namespace's ResourceQuotas with the apiserver's status.used, as limitRangesIn. */
  readonly quotasIn?: (namespace: string) => readonly V1ResourceQuota[] | undefined;
  /** The namespace's HorizontalPodAutoscalers, from a cache; a resource one scales on by utilisation keeps its request. */
  readonly hpasIn?: (namespace: string) => readonly V2HorizontalPodAutoscaler[];
}

/** Patch: answer with the patch. ReportOnly: decide and report, send no patch (an operator's dry run). */
export type Actuation = 'Patch' | 'ReportOnly';

export interface AdmitResult {
  /** The answer for the apiserver. */
  readonly review: AdmissionReview;
  /** What was decided and why, for logs, metrics and tests. */
  readonly decision: AdmitDecision;
}

/** Modes that size new pods: Initial is exactly that; InPlace and Auto do it too, besides resizing. */
function sizesNewPods(mode: SizingMode): boolean {
  switch (mode) {
    case 'Initial':
    case 'InPlace':
    case 'Auto':
      return true;
    case 'Off':
    case 'Recommend':
      return false;
  }
}

export async function admit(
  body: unknown,
  deps: AdmitDeps,
  actuation: Actuation = 'Patch',
): Promise<AdmitResult> {
  const read = readRequest(body);
  switch (read.kind) {
    case 'Malformed':
      return failOpen(read.uid, `malformed AdmissionReview: ${read.problem}`);
    case 'Ok':
      break;
  }
  const req = read.request;
  try {
    const { decision, warnings } = await decide(req, deps);
    if (actuation === 'Patch') {
      if (decision.kind === 'Sized')
        return { review: allowWithPatch(req.uid, decision.patch, warnings), decision };
      if (decision.kind === 'Skipped' && saysWhy(decision.reason) && req.object)
        return {
          review: allowWithPatch(req.uid, skippedPatch(req.object, decision.message), warnings),
          decision,
        };
    }
    return { review: allow(req.uid, warnings), decision };
  } catch (err) {
    return failOpen(req.uid, describe(err));
  }
}

function failOpen(uid: string, message: string): AdmitResult {
  return {
    review: allow(uid, [`tailor: pod admitted unchanged: ${message}`]),
    decision: { kind: 'FailedOpen', message },
  };
}

async function decide(
  req: AdmissionRequest,
  deps: AdmitDeps,
): Promise<{ decision: AdmitDecision; warnings: string[] }> {
  const warnings: string[] = [];
  const done = (decision: AdmitDecision) => ({ decision, warnings });
  const skip = (reason: SkipReason, message: string, policy?: string) =>
    done({ kind: 'Skipped', reason, message, ...(policy !== undefined ? { policy } : {}) });

  const isPod = req.kind.group === '' && req.kind.kind === 'Pod';
  if (!isPod || req.operation !== 'CREATE' || !req.object)
    return skip('NotPodCreate', `${req.operation} of ${req.kind.kind}: only new pods are sized`);
  const namespace = req.namespace ?? req.object.metadata?.namespace ?? '';
  // The object may not carry its namespace yet (a pod created with `kubectl run`); the request does.
  const pod: V1Pod = { ...req.object, metadata: { ...req.object.metadata, namespace } };
  if (Object.hasOwn(pod.metadata?.annotations ?? {}, STARTUP_BOOST_ANNOTATION))
    return skip(
      'StartupBoost',
      `annotation ${STARTUP_BOOST_ANNOTATION}: the start-up boost controller sizes this pod`,
    );

  const policies = deps.policiesIn(namespace);
  const hpas = deps.hpasIn?.(namespace) ?? [];
  const workload =
    needsWorkload(policies) || hpas.length > 0 ? await resolveWorkload(pod, deps, warnings) : undefined;
  const coverage = coveringPolicy(pod, workload, policies);
  if (coverage.kind === 'NotCovered') return skip('NoPolicy', 'no SizingPolicy covers this pod');
  const name = coverage.policy.metadata.name ?? '';
  if (coverage.alsoMatching.length > 0) {
    warnings.push(
      `tailor: SizingPolicies ${coverage.alsoMatching.join(', ')} also cover this pod; ${name} is used (a targetRef beats a selector, then the oldest)`,
    );
  }
  let spec: SizingPolicySpec;
  try {
    // Defaults filled as the apiserver would; an object cached from before a default existed still reads.
    spec = validate(SizingPolicySpec, coverage.policy.spec, `SizingPolicy ${namespace}/${name}`);
  } catch (err) {
    warnings.push(`tailor: SizingPolicy ${name} is not valid, pod left as written`);
    return skip('BadPolicy', describe(err), name);
  }
  if (!sizesNewPods(spec.mode))
    return skip('ModeDoesNotSize', `mode ${spec.mode}: pods are never changed`, name);
  const inputs = recommendationsOf(coverage.policy);
  if (Object.keys(inputs.recommendations).length === 0)
    return skip('NoRecommendation', `SizingPolicy ${name} has no recommendations yet`, name);
  // Requests an HPA divides usage by stay as written, as on running pods (core/resize/hpa.ts).
  const frozen = workload ? frozenByHpas(hpas, workload) : [];
  if (frozen.length > 0)
    warnings.push(
      `tailor: requests left as written for ${describeFrozen(frozen)}: it scales on their utilisation`,
    );

  const podLevel = pod.spec?.resources;
  if (RESOURCES.some((r) => podLevel?.requests?.[r] !== undefined || podLevel?.limits?.[r] !== undefined))
    return skip(
      'PodLevelResources',
      'the pod sets pod-level resources: its containers are left as written',
      name,
    );

  const sizing = sizeNewPod(
    pod,
    spec,
    { ...inputs, recommendations: withoutFrozen(inputs.recommendations, frozen) },
    deps.peakMargin !== undefined ? { peakMargin: deps.peakMargin } : undefined,
  );
  switch (sizing.kind) {
    case 'BadPolicy':
      warnings.push(`tailor: SizingPolicy ${name} is not usable, pod left as written`);
      return skip('BadPolicy', sizing.message, name);
    case 'NoRecommendation':
      return skip('NoRecommendation', sizing.message, name);
    case 'NothingToChange':
      return skip('NothingToChange', sizing.message, name);
    case 'WouldChangeQos':
      return skip('WouldChangeQos', sizing.message, name);
    case 'Sized': {
      // Left as written rather than clamped: see docs/decisions/0008-webhook-certificates.md.
      const after = sizing.containers.map((c) => ({ name: c.name, spec: c.after }));
      const ranges = deps.limitRangesIn ? deps.limitRangesIn(namespace) : [];
      if (ranges === undefined)
        return skip('LimitRange', "the namespace's LimitRanges are not read yet: pod left as written", name);
      const broken = limitRangeViolations(after, ranges);
      if (broken.length > 0) {
        warnings.push(`tailor: pod left as written: ${broken[0]!}`);
        return skip('LimitRange', `the recommended size breaks ${broken.join('; ')}`, name);
      }
      const quotas = deps.quotasIn ? deps.quotasIn(namespace) : [];
      if (quotas === undefined)
        return skip(
          'ResourceQuota',
          "the namespace's ResourceQuotas are not read yet: pod left as written",
          name,
        );
      const over = quotaViolations(pod, after, quotas);
      if (over.length > 0) {
        warnings.push(`tailor: pod left as written: ${over[0]!}`);
        return skip('ResourceQuota', `the recommended size breaks ${over.join('; ')}`, name);
      }
      return done({
        kind: 'Sized',
        policy: name,
        summary: sizing.summary,
        patch: patchFor(pod, sizing.containers, name, sizing.summary),
      });
    }
  }
}

/**
 * The pod's workload through its owner chain. A failed lookup is not a reason to give up: the
 * ReplicaSet's name and the pod-template-hash label still name the Deployment (workloadOf's guess).
 */
async function resolveWorkload(pod: V1Pod, deps: AdmitDeps, warnings: string[]): Promise<WorkloadRef> {
  const owner = controllerOf(pod);
  const namespace = pod.metadata?.namespace ?? '';
  let up: OwnerLookupResult;
  if (owner && (owner.kind === 'ReplicaSet' || owner.kind === 'Job')) {
    try {
      up = await deps.ownerOf(namespace, owner.kind, owner.name);
    } catch (err) {
      const w = workloadOf(pod, () => undefined);
      warnings.push(
        `tailor: could not read ${owner.kind} ${owner.name} (${describe(err)}); taken as ${workloadLabel(w)}`,
      );
      return w;
    }
  }
  return workloadOf(pod, () => up);
}

/**
 * Skips worth a word on the pod itself: Tailor had a size for it, and the namespace's own rules
 * (LimitRange, ResourceQuota) stood in the way. The others are the ordinary case, said in logs.
 */
function saysWhy(reason: SkipReason): boolean {
  switch (reason) {
    case 'LimitRange':
    case 'ResourceQuota':
      return true;
    case 'NotPodCreate':
    case 'StartupBoost':
    case 'NoPolicy':
    case 'ModeDoesNotSize':
    case 'NoRecommendation':
    case 'BadPolicy':
    case 'NothingToChange':
    case 'WouldChangeQos':
    case 'PodLevelResources':
      return false;
  }
}

/** Only the annotation: the pod keeps the resources it was written with. */
function skippedPatch(pod: V1Pod, message: string): JsonPatchOp[] {
  // Annotation values have no length limit of their own, but the whole set is capped at 256 KiB.
  const value = message.length > 1024 ? `${message.slice(0, 1021)}...` : message;
  return pod.metadata?.annotations
    ? [{ op: 'add', path: `/metadata/annotations/${pointerSegment(SKIPPED_ANNOTATION)}`, value }]
    : [{ op: 'add', path: '/metadata/annotations', value: { [SKIPPED_ANNOTATION]: value } }];
}

/** The JSONPatch: each changed container's requests and limits maps, and the annotations. */
export function patchFor(
  pod: V1Pod,
  plans: readonly ContainerPlan[],
  policy: string,
  summary: string,
): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const before: Record<string, { requests?: Record<string, string>; limits?: Record<string, string> }> = {};
  const specs = pod.spec?.containers ?? [];
  plans.forEach((plan, i) => {
    const c = specs[i];
    if (!c || c.name !== plan.name || !changed(plan)) return;
    const base = `/spec/containers/${i}/resources`;
    const requests = merged(c.resources?.requests, plan.after.requests);
    const limits = merged(c.resources?.limits, plan.after.limits);
    if (!c.resources) {
      ops.push({
        op: 'add',
        path: base,
        value: { requests, ...(Object.keys(limits).length ? { limits } : {}) },
      });
    } else {
      // Whole maps: "add" replaces a present member, and a missing requests/limits map needs no special case.
      ops.push({ op: 'add', path: `${base}/requests`, value: requests });
      if (Object.keys(limits).length > 0) ops.push({ op: 'add', path: `${base}/limits`, value: limits });
      else if (c.resources.limits) ops.push({ op: 'remove', path: `${base}/limits` });
    }
    before[c.name] = resourcesAsWritten(c);
  });
  if (ops.length === 0) return ops;
  const annotations = {
    [SIZED_BY_ANNOTATION]: policy,
    [SIZED_ANNOTATION]: summary,
    [BEFORE_ANNOTATION]: JSON.stringify(before),
  };
  if (!pod.metadata?.annotations) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: annotations });
  } else {
    for (const [k, v] of Object.entries(annotations))
      ops.push({ op: 'add', path: `/metadata/annotations/${pointerSegment(k)}`, value: v });
  }
  return ops;
}

/**
 * The container's map with cpu and memory as planned; every other resource (ephemeral-storage,
 * nvidia.com/gpu) and any unchanged value keeps the exact string it was written with.
 */
function merged(
  written: Record<string, string> | undefined,
  planned: Partial<Record<'cpu' | 'memory', number>>,
): Record<string, string> {
  const out: Record<string, string> = { ...written };
  for (const r of RESOURCES) {
    const v = planned[r];
    if (v === undefined) delete out[r];
    else {
      const cur = parseQuantity(out[r]);
      if (cur === undefined || !sameAmount(r, cur, v)) out[r] = format(r, v);
    }
  }
  return out;
}

function resourcesAsWritten(c: V1Container): {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
} {
  const pick = (m: Record<string, string> | undefined) =>
    m ? Object.fromEntries(RESOURCES.filter((r) => m[r] !== undefined).map((r) => [r, m[r]!])) : undefined;
  const requests = pick(c.resources?.requests);
  const limits = pick(c.resources?.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
