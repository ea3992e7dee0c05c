// The usage the simulator's metrics endpoints report: a read-only view over the kubelet's pods.
import type { Kubelet } from '../kubelet/kubelet.ts';
import type { SimNodeSpec } from '../nodes.ts';
import type { ContainerState, PodState } from '../kubelet/state.ts';

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
}

export interface UsageView {
  now(): number;
  nodes(): Iterable<SimNodeSpec>;
  pods(): Iterable<PodState>;
  volumes(): VolumeUsage[];
}

/** CPU a container gets: what it wants, capped by its limit (the rest is throttled). */
export function cpuUsed(c: ContainerState): number {
  return c.actual.cpuLimit !== undefined ? Math.min(c.usage.cpuCores, c.actual.cpuLimit) : c.usage.cpuCores;
}

export function usageView(
  kubelet: Kubelet,
  nodes: ReadonlyMap<string, SimNodeSpec>,
  now: () => number,
  capacityOf: (namespace: string, claim: string) => number | undefined,
): UsageView {
  return {
    now,
    nodes: () => nodes.values(),
    pods: () => [...kubelet.pods.values()].filter((p) => !p.unsupported),
    volumes() {
      const t = now();
      const used = new Map<string, VolumeUsage>();
      for (const p of kubelet.pods.values()) {
        for (const claim of p.claims) {
          const capacity = capacityOf(p.namespace, claim);
          if (capacity === undefined) continue;
          const key = `${p.namespace}/${claim}`;
          const bytes = [...p.containers.values()].reduce((s, c) => s + c.profile.volumeBytes(t), 0);
          const prev = used.get(key);
          const total = Math.min(capacity, (prev?.usedBytes ?? 0) + bytes);
          used.set(key, { namespace: p.namespace, claim, usedBytes: total, capacityBytes: capacity });
        }
      }
      return [...used.values()];
    },
  };
}
