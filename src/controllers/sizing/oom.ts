// OOM kills seen in a pod update: a container whose latest exit is OOMKilled, of an instance (or
// at a finish time) not seen before. Pure, so the controller reacts to the watch event at once.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../../core/quantity.ts';
import { latestExit } from '../../core/resize/pod-view.ts';

export interface OomKill {
  readonly container: string;
  /** Seconds since the epoch. */
  readonly t: number;
  /** The killed instance's container ID, as both of the statuses that show the kill name it. */
  readonly instance?: string;
  /** The memory limit it hit (the best lower estimate of its usage; the API does not carry usage). */
  readonly usageBytes: number | undefined;
}

function statuses(pod: V1Pod | undefined): V1ContainerStatus[] {
  return [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
}

function oomOf(pod: V1Pod, s: V1ContainerStatus): OomKill | undefined {
  const term = latestExit(s);
  if (term?.reason !== 'OOMKilled') return undefined;
  const at = term.finishedAt ?? term.startedAt;
  const t = at ? new Date(at).getTime() / 1000 : NaN;
  if (!Number.isFinite(t)) return undefined;
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === s.name,
  );
  // The limit in force at the kill is the one the runtime reports (status.resources), else the spec's.
  const limit =
    parseQuantity(s.resources?.limits?.memory) ??
    parseQuantity(spec?.resources?.limits?.memory) ??
    parseQuantity(spec?.resources?.requests?.memory);
  return {
    container: s.name,
    t,
    ...(term.containerID ? { instance: term.containerID } : {}),
    usageBytes: limit,
  };
}

/** The last OOM kill of each container the pod's status shows. */
export function oomKills(pod: V1Pod): OomKill[] {
  return statuses(pod).flatMap((s) => oomOf(pod, s) ?? []);
}

/**
 * One string per kill: the same kill read twice is the same string, whether as the state (before
 * the restart) or as the last state (after it, with the restart count one higher).
 */
export function oomSignature(k: OomKill): string {
  return k.instance !== undefined ? `${k.t}/${k.instance}` : `${k.t}`;
}

/**
 * Remembers the last kill seen per pod and container, so a watch update (or a relist) reports each
 * kill once. Bounded by the pods alive: `forget` on delete.
 */
export class OomTracker {
  private readonly seen = new Map<string, Map<string, string>>();

  /** The kills in `pod` not seen before. */
  fresh(pod: V1Pod): OomKill[] {
    const uid = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    let mine = this.seen.get(uid);
    const out: OomKill[] = [];
    for (const k of oomKills(pod)) {
      const sig = oomSignature(k);
      if (mine?.get(k.container) === sig) continue;
      if (!mine) this.seen.set(uid, (mine = new Map<string, string>()));
      mine.set(k.container, sig);
      out.push(k);
    }
    return out;
  }

  forget(uid: string): void {
    this.seen.delete(uid);
  }
}
