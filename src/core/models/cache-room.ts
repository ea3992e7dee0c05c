// Room in a ModelDeployment's model cache before a new revision (or an added model file) is
// downloaded: whether it fits in what is free now, else how much more is needed and whether the
// volume can get it. Pure: the models controller gathers the figures and acts on the answer
// (annotate the PVC with the expected growth, hold the Deployment's rollout, say why).
import { humanBytes } from '../quantity.ts';
import { EXPECTED_GROWTH, EXPECTED_GROWTH_REASON } from '../volume/annotations.ts';

/** The PVC annotations the storage controller reads as known growth (planExpansion's `known`). */
export const EXPECTED_GROWTH_ANNOTATION = EXPECTED_GROWTH;
export const EXPECTED_GROWTH_REASON_ANNOTATION = EXPECTED_GROWTH_REASON;

/** Where the cache's current use comes from. */
export type UsedSource =
  /** kubelet volume stats (the storage controller's VolumeStatsSource). */
  | 'VolumeStats'
  /** No fresh stats: the size of the revision the cache holds (what the running pods downloaded). */
  | 'RunningRevision';

/** Who would grow the volume: the cache's VolumePolicy mode (Off: no VolumePolicy). */
export type Grower = 'Auto' | 'Recommend' | 'Off';

export interface CacheRoomInput {
  /** The revision to roll out: "Qwen/Qwen2.5-7B@main". */
  next: string;
  /** Bytes its download writes into the cache. */
  needBytes: number;
  used: { bytes: number; source: UsedSource };
  /** status.capacity.storage; undefined while the claim is not bound. */
  capacityBytes: number | undefined;
  /** The StorageClass allows expansion; undefined when it could not be read. */
  expandable: boolean | undefined;
  grower: Grower;
  /** The VolumePolicy's maximum (undefined: none of ours). */
  maxBytes?: number;
}

export type CacheRoom =
  /** Enough free space now: roll out. */
  | { kind: 'Fits'; message: string }
  /** Not enough: announce the growth and hold the rollout until the capacity shows it. */
  | { kind: 'Waiting'; growthBytes: number; message: string }
  /** Not enough, and the volume cannot get it: hold the rollout and say what to change. */
  | { kind: 'CannotGrow'; why: 'NotExpandable' | 'AtMaximum'; growthBytes: number; message: string };

export function cacheRoom(i: CacheRoomInput): CacheRoom {
  const need = Math.max(0, Math.ceil(i.needBytes));
  const used = Math.max(0, i.used.bytes);
  const usedText = `${humanBytes(used)} used (${i.used.source === 'VolumeStats' ? 'volume stats' : 'the running revision'})`;
  if (i.capacityBytes === undefined) {
    return {
      kind: 'Waiting',
      growthBytes: need,
      message: `${i.next} needs ${humanBytes(need)}; the cache volume has no capacity yet (not bound): rollout held`,
    };
  }
  const free = Math.max(0, i.capacityBytes - used);
  const figures = `${i.next} needs ${humanBytes(need)}; the cache has ${humanBytes(free)} free (${humanBytes(i.capacityBytes)} capacity, ${usedText})`;
  if (free >= need) return { kind: 'Fits', message: `${figures}: it fits` };
  const required = used + need;
  if (i.expandable === false) {
    return {
      kind: 'CannotGrow',
      why: 'NotExpandable',
      growthBytes: need,
      message: `${figures}, and its StorageClass does not allow expansion (allowVolumeExpansion is not true): rollout held. To fix: raise spec.cache.size to at least ${humanBytes(required)} on a StorageClass that allows expansion, or free space on the volume`,
    };
  }
  if (i.maxBytes !== undefined && required > i.maxBytes) {
    return {
      kind: 'CannotGrow',
      why: 'AtMaximum',
      growthBytes: need,
      message: `${figures}; it would need ${humanBytes(required)}, above the volume policy's maximum ${humanBytes(i.maxBytes)}: rollout held. To fix: raise spec.cache.volumePolicy.maxSize to at least ${humanBytes(required)}`,
    };
  }
  const who =
    i.grower === 'Auto'
      ? 'the cache volume policy expands it'
      : i.grower === 'Recommend'
        ? 'the cache volume policy is in Recommend mode: expand the PVC or set spec.cache.volumePolicy.mode to Auto'
        : 'no Tailor volume policy grows it (spec.cache.volumePolicy.mode is Off): expand the PVC or raise spec.cache.size';
  return {
    kind: 'Waiting',
    growthBytes: need,
    message: `${figures}: rollout held until the volume has ${humanBytes(required)}; ${who}`,
  };
}

/**
 * The default maximum of the cache's VolumePolicy: `factor` times the model's files, never below
 * the cache's size (nor its live request, which may have grown), rounded up to a whole GiB.
 */
export function defaultMaxBytes(modelBytes: number, cacheBytes: number, factor: number): number {
  const GiB = 2 ** 30;
  return Math.ceil(Math.max(modelBytes * factor, cacheBytes) / GiB) * GiB;
}
