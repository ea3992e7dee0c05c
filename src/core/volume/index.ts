// Volumes: the pure core of growing PersistentVolumeClaims before they fill and finding waste.
export type * from './types.ts';
export * from './waste.ts';
