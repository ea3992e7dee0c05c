// Volumes (issue 12): the pure core the storage controller, the waste report and the benchmark share.
export * from './types.ts';
export * from './rules.ts';
export * from './forecast.ts';
export * from './plan.ts';
export * from './annotations.ts';
