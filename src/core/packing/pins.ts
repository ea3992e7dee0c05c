// What holds a pod on its node, so the node cannot empty: local storage or no controller (the
// cluster autoscaler's defaults, cluster-autoscaler/utils/drain/drain.go), required pod affinity
// (co-location the what-if does not model), or a PodDisruptionBudget that cannot spare every one
// of its pods on that node at once (the autoscaler's drain check, simulator/drain.go).
import { podKey } from './pack.ts';
import { labelsMatch } from './rules.ts';
import type { PackPdb, PackPod, Pin } from './types.ts';

/** The pins of every scheduled, non-DaemonSet pod, by pod key (a pod may have several). */
export function pinsOf(pods: readonly PackPod[], pdbs: readonly PackPdb[]): Map<string, Pin[]> {
  const pins = new Map<string, Pin[]>();
  const pin = (p: PackPod, x: Omit<Pin, 'pod'>) =>
    pins.set(podKey(p), [...(pins.get(podKey(p)) ?? []), { pod: podKey(p), ...x }]);
  const scheduled = pods.filter((p) => p.node !== undefined && p.kind !== 'DaemonSet');
  for (const p of scheduled) {
    switch (p.kind) {
      case 'LocalStorage':
        pin(p, {
          reason: 'LocalStorage',
          detail: 'has an emptyDir or hostPath volume: its data would be lost',
        });
        break;
      case 'NoController':
        pin(p, { reason: 'NoController', detail: 'no controller would recreate it elsewhere' });
        break;
      case 'Movable':
      case 'DaemonSet':
        break;
    }
    if ((p.affinity ?? []).length > 0)
      pin(p, {
        reason: 'Affinity',
        detail: `required pod affinity (${(p.affinity ?? []).map((t) => t.topologyKey).join(', ')}) ties it to the pods beside it`,
      });
  }
  for (const b of pdbs) {
    const selector = b.selector;
    if (!selector) continue; // a null selector selects no pod (policy/v1)
    const byNode = new Map<string, PackPod[]>();
    for (const p of scheduled)
      if (p.namespace === b.namespace && labelsMatch(selector, p.labels))
        byNode.set(p.node!, [...(byNode.get(p.node!) ?? []), p]);
    for (const [node, members] of byNode) {
      if (members.length <= b.disruptionsAllowed) continue;
      for (const p of members)
        pin(p, {
          reason: 'PodDisruptionBudget',
          detail: `PodDisruptionBudget ${b.namespace}/${b.name} allows ${b.disruptionsAllowed} disruption${b.disruptionsAllowed === 1 ? '' : 's'}, ${members.length} of its pods ${members.length === 1 ? 'is' : 'are'} on ${node}`,
        });
    }
  }
  return pins;
}
