// The start-up boost controller: pods that start with `tailor.dev/startup-boost` (their template
// carries the boosted sizes, the annotation the steady ones) are shrunk in place through
// pods/resize once Ready, or after their deadline, then marked `tailor.dev/startup-boost-done`.
// It watches the pods of ModelDeployments only (label tailor.dev/model-deployment).
import type * as k8s from '@kubernetes/client-node';
import {
  BOOST_ANNOTATION,
  BOOST_DEADLINE_ANNOTATION,
  BOOST_DONE_ANNOTATION,
  MODEL_LABEL,
  parseBoostAnnotation,
  steadyPlan,
} from '../../core/boost/index.ts';
import { buildPatch, summarize } from '../../core/resize/patch.ts';
import { outcomeOfPatchError } from '../../core/resize/outcome.ts';
import { podView } from '../../core/resize/pod-view.ts';
import { parseQuantity } from '../../core/quantity.ts';
import { mergePatch, strategicMergePatch } from '../../kube/client.ts';
import { classify, toTailorError } from '../../kube/errors.ts';
import { watchResource, type Watched } from '../../kube/informer.ts';
import { WorkQueue, type ReconcileResult } from '../../kube/workqueue.ts';
import type { Controller, OperatorContext } from '../controller.ts';

/** How often a boost held for want of memory usage looks again. */
const HOLD_RETRY_MS = 15_000;

/** A pod's memory usage now: per container when metrics.k8s.io answered, else why not. */
type MemoryUsage =
  | { readonly kind: 'Read'; readonly byContainer: ReadonlyMap<string, number> }
  | { readonly kind: 'Unreadable'; readonly reason: string };

/** Without a deadline annotation: release the boost this long after the pod started. */
const DEFAULT_DEADLINE_S = 600;

export type BoostStep =
  /** Still loading: look again at the deadline (or when the pod changes). */
  | 'Waiting'
  /** Shrunk in place (or nothing was left to shrink) and marked done. */
  | 'Released'
  /** The pod cannot be shrunk (bad annotation, QoS change, refused patch): marked done with a Warning. */
  | 'GaveUp'
  /** Gone, terminating or already done. */
  | 'Skipped';

export interface BoostOptions {
  /** Only pods in these namespaces; default all. Tests use it to share a cluster. */
  namespaces?: readonly string[];
}

export function startupBoostController(ctx: OperatorContext, opts: BoostOptions = {}): Controller {
  const { clients, log, events } = ctx;
  let pods: Watched<k8s.V1Pod> | undefined;
  // Pods whose boost was announced (one BoostApplied Event per pod, not per look).
  const announced = new Set<string>();
  // Pods held for want of a usage sample (one BoostHeld Event per pod).
  const held = new Set<string>();
  const queue = new WorkQueue(
    async (key) => (await reconcile(key)).result,
    (key, err, retryInMs) => log.warn({ key, err: String(err), retryInMs }, 'boost: reconcile failed'),
    { concurrency: 4 },
  );
  const boosted = (p: k8s.V1Pod) =>
    (opts.namespaces === undefined || opts.namespaces.includes(p.metadata?.namespace ?? '')) &&
    p.metadata?.annotations?.[BOOST_ANNOTATION] !== undefined &&
    p.metadata.annotations[BOOST_DONE_ANNOTATION] === undefined;
  const enqueue = (p: k8s.V1Pod) => {
    if (boosted(p)) queue.add(`${p.metadata!.namespace}/${p.metadata!.name}`);
  };

  async function reconcile(key: string): Promise<{ step: BoostStep; result?: ReconcileResult }> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = pods?.get(name, namespace);
    if (pod === undefined || pod.metadata?.deletionTimestamp || !boosted(pod)) {
      if (pod === undefined) {
        // Keyed by uid (a pod recreated under its name is another pod): forget every one of this name.
        for (const set of [announced, held]) for (const k of set) if (k.startsWith(`${key}/`)) set.delete(k);
      }
      return { step: 'Skipped' };
    }
    const parsed = parseBoostAnnotation(pod.metadata?.annotations?.[BOOST_ANNOTATION]);
    if (parsed.kind === 'Invalid') {
      events.record(asPod(pod), 'Warning', 'BoostInvalid', `${parsed.message}; the pod keeps its resources`);
      await markDone(pod, 'invalid');
      return { step: 'GaveUp' };
    }
    const view = podView(pod);
    const uidKey = `${key}/${pod.metadata?.uid}`;
    if (!announced.has(uidKey)) {
      announced.add(uidKey);
      const server = view.containers.find((c) => parsed.steady.has(c.name));
      if (server) {
        events.record(
          asPod(pod),
          'Normal',
          'BoostApplied',
          `starts boosted while the model loads: cpu ${pod.spec?.containers.find((c) => c.name === server.name)?.resources?.requests?.cpu ?? '-'}, memory ${pod.spec?.containers.find((c) => c.name === server.name)?.resources?.requests?.memory ?? '-'}; shrinks in place once Ready`,
        );
      }
    }
    const started = pod.status?.startTime ? new Date(pod.status.startTime).getTime() / 1000 : undefined;
    const deadline = Number(pod.metadata?.annotations?.[BOOST_DEADLINE_ANNOTATION] ?? DEFAULT_DEADLINE_S);
    const elapsed = started === undefined ? 0 : ctx.now() - started;
    const overdue = started !== undefined && elapsed >= deadline;
    if (!view.ready && !overdue) {
      // Not Ready yet: the watch brings it back when it is; the timer covers a pod that never is.
      const wait = started === undefined ? deadline : deadline - elapsed;
      return { step: 'Waiting', result: { requeueAfterMs: Math.max(1000, wait * 1000) } };
    }
    if (view.resize.kind !== 'None') {
      // Someone's resize is still on its way: shrinking on top of it would race the kubelet.
      return { step: 'Waiting', result: { requeueAfterMs: 5_000 } };
    }
    const usage = await memoryUsage(namespace, name);
    if (usage.kind === 'Unreadable') {
      // Shrinking memory without knowing what the model holds could set a limit below it: hold
      // everything (the pod stays boosted) and look again; say so once per pod.
      if (!held.has(uidKey)) {
        held.add(uidKey);
        events.record(
          asPod(pod),
          'Warning',
          'BoostHeld',
          `memory usage cannot be read from metrics.k8s.io (${usage.reason}): the pod keeps its boosted sizes until it can; retrying every ${HOLD_RETRY_MS / 1000}s`,
        );
        log.warn({ pod: key, reason: usage.reason }, 'boost: held, memory usage unreadable');
      }
      return { step: 'Waiting', result: { requeueAfterMs: HOLD_RETRY_MS } };
    }
    const plan = steadyPlan(view, parsed.steady, usage.byContainer);
    const why =
      overdue && !view.ready ? `not Ready after ${Math.round(elapsed)}s (deadline ${deadline}s)` : 'Ready';
    switch (plan.kind) {
      case 'WouldChangeQos':
        events.record(asPod(pod), 'Warning', 'BoostNotReleased', plan.message);
        await markDone(pod, 'qos');
        return { step: 'GaveUp' };
      case 'NothingToDo':
        await markDone(pod, 'unchanged');
        return { step: 'Released' };
      case 'Shrink': {
        const patch = buildPatch(plan.containers);
        const summary = summarize(plan.containers);
        if (ctx.dryRun) {
          log.info({ pod: key, summary }, 'boost: would release (dry run)');
          return { step: 'Waiting' };
        }
        if (patch !== undefined) {
          try {
            await clients.core.patchNamespacedPodResize(
              { name, namespace, body: patch },
              strategicMergePatch,
            );
          } catch (err) {
            const outcome = outcomeOfPatchError(err);
            switch (outcome.kind) {
              case 'Error':
                if (outcome.retryable) throw toTailorError(`resize pod ${key}`, err);
                break;
              case 'Rejected':
                if (outcome.reason === 'NotFound') return { step: 'Skipped' };
                break;
              case 'Applied':
              case 'InProgress':
              case 'Deferred':
              case 'Infeasible':
                break;
            }
            events.record(asPod(pod), 'Warning', 'BoostNotReleased', `resize refused: ${outcome.message}`);
            await markDone(pod, 'refused');
            return { step: 'GaveUp' };
          }
        }
        await markDone(pod, 'released');
        const notes = plan.notes.length > 0 ? ` (${plan.notes.join('; ')})` : '';
        events.record(
          asPod(pod),
          'Normal',
          'BoostReleased',
          `${why}: shrunk in place to the serving size: ${summary}${notes}`,
        );
        log.info({ pod: key, summary, why }, 'boost: released');
        return { step: 'Released' };
      }
    }
  }

  async function markDone(pod: k8s.V1Pod, how: string): Promise<void> {
    if (ctx.dryRun) return;
    const at = new Date(ctx.now() * 1000).toISOString();
    try {
      await clients.core.patchNamespacedPod(
        {
          name: pod.metadata!.name!,
          namespace: pod.metadata!.namespace!,
          body: {
            metadata: {
              annotations: { [BOOST_DONE_ANNOTATION]: how === 'released' ? at : `${at} (${how})` },
            },
          },
          fieldManager: ctx.fieldManager,
        },
        mergePatch,
      );
    } catch (err) {
      if (classify(err).kind === 'NotFound') return;
      throw toTailorError(`annotate pod ${pod.metadata?.namespace}/${pod.metadata?.name}`, err);
    }
  }

  /** Working-set memory per container now, from metrics.k8s.io, or why it cannot be read. */
  async function memoryUsage(namespace: string, name: string): Promise<MemoryUsage> {
    const out = new Map<string, number>();
    try {
      const m = (await clients.custom.getNamespacedCustomObject({
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        namespace,
        plural: 'pods',
        name,
      })) as { containers?: { name: string; usage?: { memory?: string } }[] };
      for (const c of m.containers ?? []) {
        const v = parseQuantity(c.usage?.memory);
        if (v !== undefined) out.set(c.name, v);
      }
    } catch (err) {
      // No metrics pipeline, no sample yet (404), or no RBAC rule (403, counted by the operator).
      const f = classify(err);
      return {
        kind: 'Unreadable',
        reason: `${f.kind}${f.status ? ` (HTTP ${f.status})` : ''}: ${f.message}`,
      };
    }
    return { kind: 'Read', byContainer: out };
  }

  return {
    name: 'startup-boost',
    queue,
    async start() {
      // Only the pods of ModelDeployments (they carry its label, and the boost annotation comes
      // from it): a cache of every pod in the cluster would double the operator's memory.
      pods = watchResource<k8s.V1Pod>(
        clients.kc,
        '/api/v1/pods',
        (page) => clients.core.listPodForAllNamespaces({ labelSelector: MODEL_LABEL, ...page }),
        {
          add: enqueue,
          update: enqueue,
          error: (err) =>
            log[classify(err).kind === 'TooManyRequests' ? 'debug' : 'warn'](
              { err: classify(err).message },
              'boost: pod watch failed; restarting',
            ),
        },
        { labelSelector: MODEL_LABEL },
      );
      await pods.synced;
      for (const p of pods.list()) enqueue(p);
      log.info('boost: controller started');
    },
    unsynced: () => (pods !== undefined && pods.health() !== 'Synced' ? ['pods'] : []),
    async stop() {
      queue.stop();
      await pods?.stop();
      await queue.idle();
    },
  };
}

function asPod(p: k8s.V1Pod): k8s.V1Pod {
  return { ...p, apiVersion: 'v1', kind: 'Pod' };
}
