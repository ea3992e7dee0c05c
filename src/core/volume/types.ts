// Volumes: the pure vocabulary of growing PersistentVolumeClaims before they fill (issue 12).
// Nothing here reads the cluster: the storage controller (src/controllers/storage) gathers a
// claim's state and its usage samples, asks `planExpansion` (./plan.ts) what to do, and acts.
// Sizes are bytes, times are seconds since the epoch, rates are per second.

/** One reading of a volume's file system, as the kubelet reports it (statfs, about once a minute). */
export interface VolumeSample {
  /** When the kubelet took it (not when it was read). */
  at: number;
  usedBytes: number;
  capacityBytes: number;
  availableBytes: number;
  inodesUsed?: number;
  inodes?: number;
  inodesFree?: number;
}

/** When free space is too little: a share of capacity, or an amount. */
export type FreeSpace = { percent: number } | { bytes: number };

/** How much one expansion adds: a share of the current capacity, or an amount. Rounded up to a whole GiB. */
export type Growth = { percent: number } | { bytes: number };

/** A policy's rules for one claim, every field resolved (defaults applied, quantities parsed). */
export interface VolumeRules {
  /** Expand when free space falls below this (or would within `horizonSeconds`). */
  threshold: FreeSpace;
  /** Expand when free inodes fall below this share of all inodes (percent). */
  inodesThresholdPercent: number;
  step: Growth;
  /** Never grow past this. */
  maxBytes: number;
  /** Least time between two expansions of one claim (clouds allow one modification per six hours). */
  cooldownSeconds: number;
  /** Look this far ahead on the recent growth. */
  horizonSeconds: number;
  /** Recommend: say what would be done, never patch. Auto: patch the claim. */
  mode: VolumeMode;
}

export const VOLUME_MODES = ['Recommend', 'Auto'] as const;
export type VolumeMode = (typeof VOLUME_MODES)[number];

/** Where an expansion stands, from the PVC's status (KEP-1790 names). */
export const RESIZE_STATUSES = [
  'ControllerResizeInProgress',
  'ControllerResizeInfeasible',
  'NodeResizePending',
  'NodeResizeInProgress',
  'NodeResizeInfeasible',
] as const;
export type ResizeStatus = (typeof RESIZE_STATUSES)[number];

/** A claim as the controller sees it. */
export interface ClaimState {
  namespace: string;
  name: string;
  /** spec.resources.requests.storage */
  requestBytes: number;
  /** status.capacity.storage: what the file system has now. */
  capacityBytes: number;
  /** status.allocatedResources.storage, while an expansion is under way or failed. */
  allocatedBytes?: number;
  /** status.allocatedResourceStatuses.storage */
  resizeStatus?: ResizeStatus;
  /** Condition Resizing or FileSystemResizePending is True. */
  resizing: boolean;
  /** The StorageClass has allowVolumeExpansion: true. */
  expandable: boolean;
  /** The last expansion Tailor made of this claim (from the policy's status). */
  lastExpansionAt?: number;
}

/** Room a known step will need (a ModelDeployment's next revision, an added model file). */
export interface KnownGrowth {
  bytes: number;
  /** What it is, for the Event: "revision 3f2a… of meta-llama/Llama-3.1-8B". */
  reason: string;
}

/** What to do about one claim. Decisions are named, not booleans (as VPA's). */
export type VolumeDecision =
  | {
      action: 'Expand';
      toBytes: number;
      why: ExpandReason;
      /** Seconds until full (available bytes at 0) at the recent growth; undefined when not growing. */
      timeToFullSeconds?: number;
      message: string;
    }
  | {
      /** A failed expansion: lower the request back to what can be had, never below status.capacity (Kubernetes 1.34+). */
      action: 'Recover';
      toBytes: number;
      message: string;
    }
  | {
      action: 'Hold';
      why: HoldReason;
      timeToFullSeconds?: number;
      message: string;
    };

export type ExpandReason =
  /** Free space (or inodes) is below the threshold now. */
  | 'BelowThreshold'
  /** At the recent growth, free space would fall below the threshold within the horizon. */
  | 'Forecast'
  /** A known step needs more room than is free. */
  | 'KnownGrowth';

export type HoldReason =
  /** No sample newer than the freshness limit: never resize on a guess. */
  | 'NoFreshStats'
  /** The StorageClass does not allow expansion. */
  | 'NotExpandable'
  /** Already at (or the next step would pass) maxBytes. */
  | 'AtMaximum'
  /** The last expansion is more recent than the cooldown. */
  | 'CoolingDown'
  /** An expansion is under way (Resizing, FileSystemResizePending, or an allocatedResourceStatus in progress). */
  | 'ResizeInProgress'
  /** Enough room for the horizon. */
  | 'EnoughRoom';

/** A volume that stayed mostly empty over the whole window. */
export interface VolumeWaste {
  namespace: string;
  claim: string;
  capacityBytes: number;
  /** Most used over the window. */
  peakUsedBytes: number;
  /** What a new volume would need: peak + the threshold's room + the horizon's growth, whole GiB. */
  suggestedBytes: number;
  /** Seconds the window covered. */
  windowSeconds: number;
}
