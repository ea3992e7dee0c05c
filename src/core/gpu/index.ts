// Public surface of GPU sizing: the catalogue, choosing a GPU for an estimate, and advice from live metrics.
export type { GpuModel } from './catalogue.ts';
export { GPU_CATALOGUE, findGpu } from './catalogue.ts';
export type { FitOption, FitOutcome, FitRequest, FitResult, LargestFit, OptionStatus } from './fit.ts';
export { fit, supportsWeights } from './fit.ts';
export type { Advice, AdviceKind, CurrentDeployment, LiveMetrics } from './advise.ts';
export { advise } from './advise.ts';
