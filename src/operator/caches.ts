// The watched objects the operator's controllers share (pods, PodDisruptionBudgets, SizingPolicies),
// each one watch for the whole operator, over every namespace or the one it is scoped to.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingPolicy } from '../api/index.ts';
import type { Clients } from '../kube/client.ts';
import { sharedWatch, type SharedWatch } from '../kube/shared-watch.ts';

export interface ClusterCaches {
  readonly pods: SharedWatch<k8s.V1Pod>;
  readonly pdbs: SharedWatch<k8s.V1PodDisruptionBudget>;
  /** Every SizingPolicy in scope, as the apiserver returns it (defaults filled in). A webhook can read it too. */
  readonly policies: SharedWatch<SizingPolicy>;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** `namespace` undefined: every namespace. */
export function clusterCaches(
  clients: Clients,
  namespace: string | undefined,
  onError: (what: string, err: unknown) => void,
): ClusterCaches {
  const ns = (prefix: string, plural: string) =>
    namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`;
  const pods = sharedWatch<k8s.V1Pod>(
    clients.kc,
    ns('/api/v1', 'pods'),
    () =>
      namespace ? clients.core.listNamespacedPod({ namespace }) : clients.core.listPodForAllNamespaces(),
    (e) => onError('pods', e),
  );
  const pdbs = sharedWatch<k8s.V1PodDisruptionBudget>(
    clients.kc,
    ns('/apis/policy/v1', 'poddisruptionbudgets'),
    () =>
      namespace
        ? clients.policy.listNamespacedPodDisruptionBudget({ namespace })
        : clients.policy.listPodDisruptionBudgetForAllNamespaces(),
    (e) => onError('poddisruptionbudgets', e),
  );
  const policies = sharedWatch<SizingPolicy>(
    clients.kc,
    ns(`/apis/${GROUP}/${VERSION}`, 'sizingpolicies'),
    async () =>
      (namespace
        ? await clients.custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace,
            plural: 'sizingpolicies',
          })
        : await clients.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'sizingpolicies',
          })) as k8s.KubernetesListObject<SizingPolicy>,
    (e) => onError('sizingpolicies', e),
  );
  const all = [pods, pdbs, policies];
  return {
    pods,
    pdbs,
    policies,
    synced: Promise.all(all.map((w) => w.synced)).then(() => undefined),
    stop: async () => {
      await Promise.all(all.map((w) => w.stop()));
    },
  };
}
