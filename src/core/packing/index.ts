// The packing what-if: the nodes and GPUs right-sizing frees per pool (see whatif.ts).
export type * from './types.ts';
export { packingWhatIf, type WhatIfOptions } from './whatif.ts';
export {
  holdsResources,
  packNode,
  packPdb,
  packPod,
  poolOf,
  podRequests,
  type ContainerRecommendation,
} from './view.ts';
export { HOSTNAME } from './rules.ts';
