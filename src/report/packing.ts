// Reads what the packing what-if needs, cluster-wide whatever the report's scope: every node, every
// live pod with the recommendation of the policy that controls it, every PodDisruptionBudget.
import type * as k8s from '@kubernetes/client-node';
import type { SizingPolicy } from '../api/index.ts';
import { controllingPolicy } from '../controllers/sizing/matching.ts';
import { recommendationsOf } from '../core/report/build.ts';
import { holdsResources, packNode, packPdb, packPod } from '../core/packing/view.ts';
import type { PackingInput } from '../core/packing/types.ts';
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
