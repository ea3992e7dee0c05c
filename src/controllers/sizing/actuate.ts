// The sizing controller's writes to pods: one pods/resize patch per pod, or an eviction through the
// Eviction API, each re-checked against a fresh read of the pod and told as Events on the pod and the
// policy and as a log line with before and after.
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, type SizingPolicy } from '../../api/index.ts';
import type { OperatorContext } from '../controller.ts';
import { strategicMergePatch } from '../../kube/client.ts';
import { classify } from '../../kube/errors.ts';
import {
  outcomeOfPatchError,
  planResize,
  podView,
  type PlanInput,
  type ResizeOutcome,
  type ResizePlan,
} from '../../core/resize/index.ts';
import type { OperatorMetrics } from '../../operator/metrics.ts';
import { outcomeLabels } from '../../operator/metrics.ts';
import type { PodChanges } from './pod-changes.ts';

export type ResizeResult =
  | { readonly kind: 'Applied'; readonly plan: ResizePlan }
  /** The fresh pod asks for something else now (or nothing): the next pass plans again. */
  | { readonly kind: 'Replanned'; readonly decision: string }
  | { readonly kind: 'Gone' }
  | { readonly kind: 'Failed'; readonly outcome: ResizeOutcome };

export type EvictResult = 'Evicted' | 'Blocked' | 'Gone' | 'Failed';

export interface Actuator {
  resize(policy: SizingPolicy, input: Omit<PlanInput, 'pod'>, cached: k8s.V1Pod): Promise<ResizeResult>;
  evict(policy: SizingPolicy, pod: k8s.V1Pod, why: string): Promise<EvictResult>;
}

export function podRef(pod: k8s.V1Pod): k8s.KubernetesObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata ?? {} };
}

export function policyRef(policy: SizingPolicy): k8s.KubernetesObject {
  return { apiVersion: API_VERSION, kind: 'SizingPolicy', metadata: policy.metadata };
}

export function actuator(ctx: OperatorContext, metrics: OperatorMetrics, changes: PodChanges): Actuator {
  const both = (
    policy: SizingPolicy,
    pod: k8s.V1Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ) => {
    ctx.events.record(podRef(pod), type, reason, message);
    ctx.events.record(policyRef(policy), type, reason, `pod ${pod.metadata?.name}: ${message}`);
  };
  const policyName = (p: SizingPolicy) => `${p.metadata.namespace}/${p.metadata.name}`;

  return {
    async resize(policy, input, cached) {
      const namespace = cached.metadata?.namespace ?? '';
      const name = cached.metadata?.name ?? '';
      // The cache may lag the apiserver (our own last patch, a restart, a relist after an outage):
      // plan again on a fresh read, so nothing is applied from a stale view.
      let fresh: k8s.V1Pod;
      try {
        fresh = await ctx.clients.core.readNamespacedPod({ name, namespace });
      } catch (err) {
        const f = classify(err);
        metrics.apiErrors.inc({ kind: f.kind });
        if (f.kind === 'NotFound') return { kind: 'Gone' };
        throw err;
      }
      if (fresh.metadata?.uid !== cached.metadata?.uid) return { kind: 'Gone' };
      const plan = planResize({ ...input, pod: podView(fresh) });
      if (plan.decision.kind !== 'InPlace') return { kind: 'Replanned', decision: plan.decision.kind };
      const decision = plan.decision;
      const uid = fresh.metadata?.uid ?? '';
      const before = plan.containers.map((c) => ({ name: c.name, ...c.before }));
      const after = plan.containers.map((c) => ({ name: c.name, ...c.after }));
      const log = ctx.log.child({ policy: policyName(policy), pod: `${namespace}/${name}` });
      try {
        await ctx.clients.core.patchNamespacedPodResize(
          { name, namespace, body: decision.patch, fieldManager: ctx.fieldManager },
          strategicMergePatch,
        );
      } catch (err) {
        const outcome = outcomeOfPatchError(err);
        metrics.resizes.inc(outcomeLabels(outcome));
        metrics.apiErrors.inc({ kind: classify(err).kind });
        switch (outcome.kind) {
          case 'Infeasible':
            changes.recordAttempt(uid, {
              outcome: 'Infeasible',
              patch: decision.patch,
              message: outcome.message,
            });
            both(
              policy,
              fresh,
              'Warning',
              'ResizeInfeasible',
              `${plan.summary}: the node cannot fit it: ${outcome.message}`,
            );
            log.warn({ before, after, outcome }, 'resize infeasible on this node');
            return { kind: 'Failed', outcome };
          case 'Rejected':
            if (outcome.reason === 'NotFound') return { kind: 'Gone' };
            changes.recordAttempt(uid, {
              outcome: 'Rejected',
              patch: decision.patch,
              message: outcome.message,
            });
            both(
              policy,
              fresh,
              'Warning',
              'ResizeRejected',
              `${plan.summary}: ${outcome.reason}: ${outcome.message}`,
            );
            log.warn({ before, after, outcome }, 'resize rejected');
            return { kind: 'Failed', outcome };
          case 'Error':
            // A 409, a timeout or a 5xx: the next pass re-reads and plans again.
            log.warn({ before, after, outcome }, 'resize failed; retrying on the next pass');
            return { kind: 'Failed', outcome };
          case 'Applied':
          case 'InProgress':
          case 'Deferred':
            return { kind: 'Failed', outcome };
        }
      }
      changes.recordChange(uid, input.now);
      metrics.resizes.inc({ result: 'Applied', reason: '' });
      const reason = decision.urgent ? 'OOMRaised' : 'Resized';
      both(policy, fresh, 'Normal', reason, `${decision.urgent ? 'after an OOM kill: ' : ''}${plan.summary}`);
      log.info(
        { before, after, urgent: decision.urgent, restarts: decision.restarts },
        `resized in place: ${plan.summary}`,
      );
      return { kind: 'Applied', plan };
    },

    async evict(policy, pod, why) {
      const namespace = pod.metadata?.namespace ?? '';
      const name = pod.metadata?.name ?? '';
      const log = ctx.log.child({ policy: policyName(policy), pod: `${namespace}/${name}` });
      try {
        await ctx.clients.core.createNamespacedPodEviction({
          name,
          namespace,
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name, namespace },
            // Only this pod, as we saw it: a replacement of the same name is not ours to evict.
            deleteOptions: { preconditions: { uid: pod.metadata?.uid } },
          },
        });
      } catch (err) {
        const f = classify(err);
        metrics.apiErrors.inc({ kind: f.kind });
        switch (f.kind) {
          case 'TooManyRequests':
            // A PodDisruptionBudget allows no disruption now: hold, and look again later.
            metrics.evictions.inc({ result: 'Blocked' });
            log.info({ reason: f.message }, 'eviction held: a PodDisruptionBudget blocks it');
            return 'Blocked';
          case 'NotFound':
          case 'Conflict':
            return 'Gone';
          case 'AlreadyExists':
          case 'Invalid':
          case 'Forbidden':
          case 'Unavailable':
          case 'Other':
            metrics.evictions.inc({ result: 'Failed' });
            both(policy, pod, 'Warning', 'EvictionFailed', `${why}: ${f.kind}: ${f.message}`);
            log.warn({ err: f }, 'eviction failed');
            return 'Failed';
        }
      }
      metrics.evictions.inc({ result: 'Evicted' });
      both(policy, pod, 'Normal', 'Evicted', why);
      log.info({ why }, 'evicted through the Eviction API');
      return 'Evicted';
    },
  };
}
