// The kubelet's volume stats (kubelet_volume_stats_*), one series set per mounted claim.
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

export function kubeletVolumes(e: Exposition, view: UsageView): void {
  for (const v of view.volumes()) {
    const labels: Labels = { namespace: v.namespace, persistentvolumeclaim: v.claim };
    e.add(
      'kubelet_volume_stats_used_bytes',
      'gauge',
      'Number of used bytes in the volume',
      labels,
      v.usedBytes,
    );
    e.add(
      'kubelet_volume_stats_capacity_bytes',
      'gauge',
      'Capacity in bytes of the volume',
      labels,
      v.capacityBytes,
    );
    e.add(
      'kubelet_volume_stats_available_bytes',
      'gauge',
      'Number of available bytes in the volume',
      labels,
      v.availableBytes ?? Math.max(0, v.capacityBytes - v.usedBytes),
    );
    if (v.inodes !== undefined && v.inodesUsed !== undefined) {
      e.add(
        'kubelet_volume_stats_inodes',
        'gauge',
        'Maximum number of inodes in the volume',
        labels,
        v.inodes,
      );
      e.add(
        'kubelet_volume_stats_inodes_used',
        'gauge',
        'Number of used inodes in the volume',
        labels,
        v.inodesUsed,
      );
      e.add(
        'kubelet_volume_stats_inodes_free',
        'gauge',
        'Number of free inodes in the volume',
        labels,
        Math.max(0, v.inodes - v.inodesUsed),
      );
    }
    e.add(
      'tailor_sim_volume_full_total',
      'counter',
      'Times the simulated volume filled up (a write refused: no space or no inodes left).',
      labels,
      v.fullTotal ?? 0,
    );
  }
}
