// What a simulated node holds back from its pods: kube-reserved, system-reserved and the hard
// eviction threshold, and the allocatable that is left (the kubelet's Node Allocatable).
//
// Follows https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/ and
// pkg/kubelet/cm/node_container_manager_linux.go (allocatable = capacity - kube-reserved -
// system-reserved - hard eviction; the `kubepods` cgroup is limited to capacity - kube-reserved -
// system-reserved, since enforceNodeAllocatable defaults to ["pods"]).

/** How much of a node is not for pods, in cores and bytes. */
export interface NodeReservations {
  kubeReserved: { cpu: number; memoryBytes: number };
  systemReserved: { cpu: number; memoryBytes: number };
  /** evictionHard memory.available: below this the kubelet evicts pods. */
  evictionHardMemoryBytes: number;
}

/** The kubelet's default evictionHard memory.available (pkg/kubelet/eviction/defaults_linux.go). */
export const DEFAULT_EVICTION_HARD_MEMORY_BYTES = 100 * 2 ** 20;

const Mi = 2 ** 20;
const Gi = 2 ** 30;

/**
 * kube-reserved as a managed cluster sets it by machine size (GKE's published table, "Node
 * allocatable resources", cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes; EKS
 * and AKS use similar sliding scales): memory 255 MiB below 1 GiB, else 25% of the first 4 GiB,
 * 20% of the next 4, 10% of the next 8, 6% of the next 112 and 2% above 128 GiB; CPU 6% of the
 * first core, 1% of the second, 0.5% of the next two and 0.25% of every core above four. Rounded
 * up to whole MiB and millicores.
 */
export function managedKubeReserved(cpu: number, memoryBytes: number): { cpu: number; memoryBytes: number } {
  const tiers = (total: number, steps: readonly [upTo: number, fraction: number][]) => {
    let reserved = 0;
    let from = 0;
    for (const [upTo, fraction] of steps) {
      if (total <= from) break;
      reserved += (Math.min(total, upTo) - from) * fraction;
      from = upTo;
    }
    return reserved;
  };
  const memory =
    memoryBytes < Gi
      ? 255 * Mi
      : tiers(memoryBytes, [
          [4 * Gi, 0.25],
          [8 * Gi, 0.2],
          [16 * Gi, 0.1],
          [128 * Gi, 0.06],
          [Infinity, 0.02],
        ]);
  const cores = tiers(cpu, [
    [1, 0.06],
    [2, 0.01],
    [4, 0.005],
    [Infinity, 0.0025],
  ]);
  return { cpu: Math.ceil(cores * 1000 - 1e-9) / 1000, memoryBytes: Math.ceil(memory / Mi - 1e-9) * Mi };
}

/** A node's settings as given (any part left out takes the managed default). */
export interface ReservationSettings {
  cpu: number;
  memoryBytes: number;
  kubeReserved?: { cpu: number; memoryBytes: number };
  systemReserved?: { cpu: number; memoryBytes: number };
  evictionHardMemoryBytes?: number;
}

export function reservationsOf(n: ReservationSettings): NodeReservations {
  return {
    kubeReserved: n.kubeReserved ?? managedKubeReserved(n.cpu, n.memoryBytes),
    systemReserved: n.systemReserved ?? { cpu: 0, memoryBytes: 0 },
    evictionHardMemoryBytes: n.evictionHardMemoryBytes ?? DEFAULT_EVICTION_HARD_MEMORY_BYTES,
  };
}

export interface NodeAllocatable {
  cpu: number;
  memoryBytes: number;
  /** The `kubepods` cgroup's memory limit: past it the kernel OOM-kills inside the pods. */
  podsMemoryLimitBytes: number;
}

/** Capacity minus kube-reserved, system-reserved and (for memory) the hard eviction threshold. */
export function allocatableOf(n: ReservationSettings): NodeAllocatable {
  const r = reservationsOf(n);
  const cpu = Math.max(0, Math.round((n.cpu - r.kubeReserved.cpu - r.systemReserved.cpu) * 1000) / 1000);
  const podsMemoryLimitBytes = Math.max(
    0,
    n.memoryBytes - r.kubeReserved.memoryBytes - r.systemReserved.memoryBytes,
  );
  return {
    cpu,
    memoryBytes: Math.max(0, podsMemoryLimitBytes - r.evictionHardMemoryBytes),
    podsMemoryLimitBytes,
  };
}
