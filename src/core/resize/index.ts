// The resize actuator's pure core: plan one pod, pick the pods of a workload to change now, and
// classify what the apiserver and the kubelet answered.
export * from './types.ts';
export * from './pod-view.ts';
export * from './policy.ts';
export * from './qos.ts';
export * from './size.ts';
export * from './patch.ts';
export * from './plan.ts';
export * from './rollout.ts';
export * from './outcome.ts';
export * from './recommendations.ts';
export * from './hpa.ts';
