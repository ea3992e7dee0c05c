// The pods the packing what-if reads, fresh on every report. The operator's pod cache is current
// (which pods live, where they are bound, what they request now) but drops the scheduling fields
// the what-if needs (tolerations, affinity, volumes: slimPodSpec). Those are immutable once a pod
// exists, so they are taken from a full list of every pod, listed again only when the cache holds
// a pod that list has not seen, or after `maxAgeSeconds`. Before, the whole list was reused for
// five minutes: pods started since were missing and their nodes counted as emptying.
import type * as k8s from '@kubernetes/client-node';

export interface PackingPodsOptions {
  /** The live pods of the operator's cache (slimmed). */
  readonly cached: () => readonly k8s.V1Pod[];
  /** Every live pod, from the API, with its full spec. */
  readonly listFull: () => Promise<readonly k8s.V1Pod[]>;
  readonly now: () => number;
  readonly maxAgeSeconds: number;
}

const uidOf = (p: k8s.V1Pod): string => p.metadata?.uid ?? `${p.metadata?.namespace}/${p.metadata?.name}`;

export function packingPods(o: PackingPodsOptions): () => Promise<k8s.V1Pod[]> {
  let full: { at: number; byUid: Map<string, k8s.V1Pod> } | undefined;
  return async () => {
    const live = o.cached();
    const stale =
      !full || o.now() - full.at >= o.maxAgeSeconds || live.some((p) => !full!.byUid.has(uidOf(p)));
    if (stale) {
      const at = o.now();
      full = { at, byUid: new Map((await o.listFull()).map((p) => [uidOf(p), p])) };
    }
    const byUid = full!.byUid;
    return live.map((pod) => {
      const spec = byUid.get(uidOf(pod))?.spec;
      // A pod the list still misses (created between the list and now): as cached, without its
      // scheduling constraints, rather than left out (which would count its node as emptying).
      if (!spec || !pod.spec) return pod;
      return {
        ...pod,
        spec: {
          ...pod.spec,
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
          ...(spec.affinity ? { affinity: spec.affinity } : {}),
          ...(spec.volumes ? { volumes: spec.volumes } : {}),
        },
      };
    });
  };
}
