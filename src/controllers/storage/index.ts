// The storage controller (issue 12): grows PersistentVolumeClaims before they fill.
export {
  STORAGE_CONTROLLER,
  storageController,
  type StorageDeps,
  type StorageOptions,
} from './controller.ts';
export { LAST_EXPANSION_ANNOTATION, claimState, coveredClaims, targetLabel } from './claims.ts';
export { VolumeUsage } from './usage.ts';
