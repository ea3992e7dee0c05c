// Volume usage for the storage controller: kubelet volume stats, from Prometheus
// (kubelet_volume_stats_*) or, without Prometheus, from the kubelets' Summary API.
import type { VolumeSample } from '../core/volume/types.ts';

/** `namespace/claim` */
export type ClaimKey = string;

export interface VolumeStatsSource {
  /** 'prometheus' or 'kubelet': shown in status and logs. */
  readonly name: string;
  /**
   * Every claim's samples taken at or after `since`, oldest first, keyed `namespace/claim`; only
   * the namespaces given when a list is given. Throws a TailorError when the source cannot be
   * read: the caller then holds still, it never resizes on a guess.
   */
  read(since: number, namespaces?: readonly string[]): Promise<Map<ClaimKey, VolumeSample[]>>;
}
