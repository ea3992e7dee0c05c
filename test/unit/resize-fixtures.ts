// Builders for the resize tests: pods, policies and recommendations in a line each.
import { Value } from '@sinclair/typebox/value';
import { SizingPolicySpec } from '../../src/api/index.ts';
import type { ResizePolicyInput } from '../../src/core/resize/policy.ts';
import type { PlanInput } from '../../src/core/resize/plan.ts';
import type {
  Amounts,
  Bounds,
  ContainerRecommendation,
  ContainerView,
  PodView,
  ResizeState,
  RestartPolicy,
} from '../../src/core/resize/types.ts';

export const Mi = 2 ** 20;
export const Gi = 2 ** 30;
export const NOW = 1_700_000_000;

export interface ContainerOptions {
  name?: string;
  req?: Amounts;
  lim?: Amounts;
  restart?: Partial<Record<'cpu' | 'memory', RestartPolicy>>;
  oomAt?: number | 'unknown';
  actualLimitMemory?: number;
}

export function container(o: ContainerOptions = {}): ContainerView {
  const req = o.req ?? { cpu: 1, memory: 1 * Gi };
  const lim = o.lim ?? {};
  return {
    name: o.name ?? 'app',
    spec: { requests: req, limits: lim },
    resizePolicy: { cpu: o.restart?.cpu ?? 'NotRequired', memory: o.restart?.memory ?? 'NotRequired' },
    actual: {
      requests: req,
      limits: o.actualLimitMemory !== undefined ? { ...lim, memory: o.actualLimitMemory } : lim,
    },
    allocated: req,
    restartCount: o.oomAt !== undefined ? 1 : 0,
    ...(o.oomAt !== undefined
      ? { lastTermination: { reason: 'OOMKilled', finishedAt: o.oomAt === 'unknown' ? undefined : o.oomAt } }
      : {}),
  };
}

export function pod(containers: ContainerView[] = [container()], o: Partial<PodView> = {}): PodView {
  return {
    namespace: 'ns',
    name: 'web-0',
    generation: 1,
    observedGeneration: 1,
    phase: 'Running',
    ready: true,
    terminating: false,
    resize: { kind: 'None' } satisfies ResizeState,
    containers,
    ...o,
  };
}

/** A policy spec with the apiserver's defaults filled in and NOT validated (so bad ones can be built). */
export function policy(spec: Record<string, unknown> = {}): ResizePolicyInput {
  return Value.Default(
    SizingPolicySpec,
    structuredClone({ selector: {}, mode: 'InPlace', ...spec }),
  ) as ResizePolicyInput;
}

/** Bounds around a target: lower 0.8x, upper 1.5x (narrow enough that 4x over-provisioning is outside). */
export function bounds(target: number, lower = target * 0.8, upper = target * 1.5): Bounds {
  return { target, lowerBound: lower, upperBound: upper };
}

export function rec(cpu?: number, memory?: number): ContainerRecommendation {
  return {
    ...(cpu !== undefined ? { cpu: bounds(cpu) } : {}),
    ...(memory !== undefined ? { memory: bounds(memory) } : {}),
  };
}

export function input(o: Partial<PlanInput> & Pick<PlanInput, 'pod'>): PlanInput {
  return {
    recommendations: {},
    usage: {},
    policy: policy(),
    shrink: { kind: 'Allowed' },
    changesLastHour: 0,
    now: NOW,
    ...o,
  };
}
