// Reads what the packing what-if needs, cluster-wide whatever the report's scope: every node, every
// live pod with the recommendation of the policy that controls it, every PodDisruptionBudget.
import type * as k8s from '@kubernetes/client-node';
import type { SizingPolicy } from '../api/index.ts';
import { controllingPolicy } from '../controllers/sizing/matching.ts';
import { recommendationsOf } from '../core/report/build.ts';
import { holdsResources, packNode, packPdb, packPod } from '../core/packing/view.ts';
import type { PackingInput } from '../core/packing/types.ts';
import {
  decodeRemovedNode,
  REMOVED_NODE_ANNOTATION,
  type RemovedNodeRecord,
} from '../core/packing/removed.ts';
import { errorLine } from '../kube/errors.ts';
import type { PodWithWorkload } from '../sources/workloads.ts';

/** Cluster-wide reads, apart from the report's own (which `-l` and namespaces narrow). */
export interface PackingReader {
  pods(): Promise<readonly PodWithWorkload[]>;
  policies(): Promise<readonly SizingPolicy[]>;
  pdbs(): Promise<readonly k8s.V1PodDisruptionBudget[]>;
}

export async function gatherPacking(
  nodes: readonly k8s.V1Node[],
  read: PackingReader,
): Promise<PackingInput> {
  const [pods, policies, pdbs] = await Promise.all([read.pods(), read.policies(), read.pdbs()]);
  const byNamespace = new Map<string, SizingPolicy[]>();
  for (const p of policies) {
    const ns = p.metadata.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), p]);
  }
  return {
    nodes: nodes.map(packNode),
    pods: pods
      .filter(({ pod }) => holdsResources(pod) && !pod.metadata?.deletionTimestamp)
      .map(({ pod, workload }) => {
        const control = controllingPolicy(
          pod,
          workload,
          byNamespace.get(pod.metadata?.namespace ?? '') ?? [],
        );
        switch (control.kind) {
          case 'Controlled':
            return packPod(pod, recommendationsOf(control.policy));
          case 'NotCovered':
            return packPod(pod);
        }
      }),
    pdbs: pdbs.map(packPdb),
  };
}

/**
 * The nodes a scale-down removed, from its removal Events (the Node is gone; the Event's
 * annotation keeps its shape). Never throws: unreadable Events (RBAC) are said and none counted.
 * Events live for the apiserver's --event-ttl (1 h by default): a longer range counts only the last hour's.
 */
export async function gatherRemovedNodes(
  read: { nodeEvents?(): Promise<readonly k8s.CoreV1Event[]> },
  say: (line: string) => void,
): Promise<RemovedNodeRecord[]> {
  if (!read.nodeEvents) return [];
  try {
    const records = (await read.nodeEvents()).flatMap((e) => {
      const r = decodeRemovedNode(e.metadata?.annotations?.[REMOVED_NODE_ANNOTATION]);
      return r ? [r] : [];
    });
    if (records.length > 0)
      say(`  ${records.length} node${records.length === 1 ? '' : 's'} removed by scale-down`);
    return records;
  } catch (err) {
    say(`  nodes removed by scale-down not counted: ${errorLine(err)}`);
    return [];
  }
}
