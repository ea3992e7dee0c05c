// The simulator's scale-down of its node pools (cluster-autoscaler / Karpenter consolidation alike).
export {
  readScaleDown,
  scaleDownPools,
  SCALE_DOWN_DEFAULTS,
  type ScaleDown,
  type LocalStorageRule,
} from './config.ts';
export {
  decideScaleDown,
  podsToEvict,
  type Decision,
  type NodeCall,
  type NodeStanding,
  type ScaleDownState,
} from './decide.ts';
export { Consolidation, type ConsolidationDeps, type RemovedNode } from './loop.ts';
