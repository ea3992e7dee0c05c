// The usage the simulator's metrics endpoints report: a read-only view over the kubelet's pods.
import type * as k8s from '@kubernetes/client-node';
import type { Kubelet } from '../kubelet/kubelet.ts';
import type { SimNodeSpec } from '../nodes.ts';
import type { ContainerState, PodState } from '../kubelet/state.ts';
import type { SimVolumes } from '../volumes/store.ts';

export interface VolumeUsage {
  namespace: string;
  claim: string;
  usedBytes: number;
  capacityBytes: number;
  /** statfs's available: capacity - used - the blocks reserved for root. */
  availableBytes?: number;
  inodes?: number;
  inodesUsed?: number;
  /** When the kubelet took this reading (seconds since the epoch). */
  at?: number;
  /** Times the volume filled up (a write refused for want of room or inodes). */
  fullTotal?: number;
}

export interface UsageView {
  now(): number;
  nodes(): Iterable<SimNodeSpec>;
  pods(): Iterable<PodState>;
  /** The pods as the API shows them, status as the kubelet last wrote it (kube-state-metrics' view). */
  apiPods(): Iterable<k8s.V1Pod>;
  volumes(): VolumeUsage[];
}

/** CPU a container gets: what it wants, held by its quota or by the node's other containers. */
export function cpuUsed(c: ContainerState): number {
  if (c.cpuGrantedCores !== undefined) return c.cpuGrantedCores;
  return c.actual.cpuLimit !== undefined ? Math.min(c.usage.cpuCores, c.actual.cpuLimit) : c.usage.cpuCores;
}

export function usageView(
  kubelet: Kubelet,
  nodes: ReadonlyMap<string, SimNodeSpec>,
  now: () => number,
  volumes: SimVolumes,
): UsageView {
  return {
    now,
    nodes: () => nodes.values(),
    pods: () => [...kubelet.pods.values()].filter((p) => !p.unsupported && !p.terminal),
    apiPods: () => kubelet.apiPods(),
    volumes() {
      // As a kubelet: the volumes of the pods it runs, each from its stats cache (about a minute old).
      const t = now();
      const out = new Map<string, VolumeUsage>();
      for (const p of kubelet.pods.values()) {
        if (p.unsupported || p.terminal) continue;
        for (const claim of p.claims) {
          const key = `${p.namespace}/${claim}`;
          if (out.has(key)) continue;
          const s = volumes.statOf(p.namespace, claim, t);
          if (!s) continue;
          const v = volumes.get(p.namespace, claim);
          out.set(key, {
            namespace: p.namespace,
            claim,
            usedBytes: s.usedBytes,
            capacityBytes: s.capacityBytes,
            availableBytes: s.availableBytes,
            inodes: s.inodes,
            inodesUsed: s.inodesUsed,
            at: s.at,
            fullTotal: v?.fullTotal ?? 0,
          });
        }
      }
      return [...out.values()];
    },
  };
}
