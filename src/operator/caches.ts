// The watched objects the operator's controllers share (pods, PodDisruptionBudgets, SizingPolicies,
// and the workloads policies target), each one watch for the whole operator, over every namespace
// or the one it is scoped to. Reading these instead of the API keeps a full pass free of requests.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingPolicy } from '../api/index.ts';
import type { Clients } from '../kube/client.ts';
import { sharedWatch, slimPodSpec, type SharedWatch } from '../kube/shared-watch.ts';

export interface ClusterCaches {
  readonly pods: SharedWatch<k8s.V1Pod>;
  readonly pdbs: SharedWatch<k8s.V1PodDisruptionBudget>;
  /** Every SizingPolicy in scope, as the apiserver returns it (defaults filled in). A webhook can read it too. */
  readonly policies: SharedWatch<SizingPolicy>;
  /** HorizontalPodAutoscalers (autoscaling/v2): a resource an HPA scales on by utilisation is not sized. */
  readonly hpas: SharedWatch<k8s.V2HorizontalPodAutoscaler>;
  /** The workloads a policy can target, for their pod templates and owner chains. */
  readonly workloads: WorkloadCaches;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export interface WorkloadCaches {
  readonly Deployment: SharedWatch<k8s.V1Deployment>;
  readonly StatefulSet: SharedWatch<k8s.V1StatefulSet>;
  readonly DaemonSet: SharedWatch<k8s.V1DaemonSet>;
  readonly ReplicaSet: SharedWatch<k8s.V1ReplicaSet>;
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
    (p) => slimPodSpec(p.spec),
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
  const autoscaling = clients.kc.makeApiClient(k8s.AutoscalingV2Api);
  const hpas = sharedWatch<k8s.V2HorizontalPodAutoscaler>(
    clients.kc,
    ns('/apis/autoscaling/v2', 'horizontalpodautoscalers'),
    () =>
      namespace
        ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace })
        : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
    (e) => onError('horizontalpodautoscalers', e),
  );
  const apps = <T extends k8s.KubernetesObject & { spec?: { template?: k8s.V1PodTemplateSpec } }>(
    plural: string,
    inNs: (namespace: string) => Promise<k8s.KubernetesListObject<T>>,
    everywhere: () => Promise<k8s.KubernetesListObject<T>>,
  ) =>
    sharedWatch<T>(
      clients.kc,
      ns('/apis/apps/v1', plural),
      () => (namespace ? inNs(namespace) : everywhere()),
      (e) => onError(plural, e),
      (w) => slimPodSpec(w.spec?.template?.spec),
    );
  const a = clients.apps;
  const workloads: WorkloadCaches = {
    Deployment: apps(
      'deployments',
      (n) => a.listNamespacedDeployment({ namespace: n }),
      () => a.listDeploymentForAllNamespaces(),
    ),
    StatefulSet: apps(
      'statefulsets',
      (n) => a.listNamespacedStatefulSet({ namespace: n }),
      () => a.listStatefulSetForAllNamespaces(),
    ),
    DaemonSet: apps(
      'daemonsets',
      (n) => a.listNamespacedDaemonSet({ namespace: n }),
      () => a.listDaemonSetForAllNamespaces(),
    ),
    ReplicaSet: apps(
      'replicasets',
      (n) => a.listNamespacedReplicaSet({ namespace: n }),
      () => a.listReplicaSetForAllNamespaces(),
    ),
  };
  const all: readonly { synced: Promise<void>; stop(): Promise<void> }[] = [
    pods,
    pdbs,
    policies,
    hpas,
    workloads.Deployment,
    workloads.StatefulSet,
    workloads.DaemonSet,
    workloads.ReplicaSet,
  ];
  return {
    pods,
    pdbs,
    policies,
    hpas,
    workloads,
    synced: Promise.all(all.map((w) => w.synced)).then(() => undefined),
    stop: async () => {
      await Promise.all(all.map((w) => w.stop()));
    },
  };
}
