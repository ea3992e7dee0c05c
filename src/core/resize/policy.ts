// A SizingPolicy spec read into the numbers the resize planner works with, checked as a whole: a
// policy that does not make sense (min above max, an unreadable quantity) is refused, never half-used.
import { containerPolicy, parseDuration } from '../../api/index.ts';
import type { SizingPolicySpec } from '../../api/index.ts';
import { parseQuantity } from '../quantity.ts';
import type { Amounts, ResourceName } from './types.ts';
import { RESOURCES } from './types.ts';

/** The parts of a SizingPolicy spec the actuator reads (defaults applied, as the apiserver returns it). */
export type ResizePolicyInput = Pick<SizingPolicySpec, 'mode' | 'containers' | 'update' | 'oom'>;

export type LimitStrategy =
  | { readonly kind: 'KeepRatio' }
  | { readonly kind: 'Headroom'; readonly percent: number }
  | { readonly kind: 'NoLimit' };

export interface ResolvedContainerPolicy {
  readonly controlled: boolean;
  readonly resources: ReadonlySet<ResourceName>;
  readonly controlledValues: 'RequestsOnly' | 'RequestsAndLimits';
  readonly min: Amounts;
  readonly max: Amounts;
  readonly limits: Readonly<Record<ResourceName, LimitStrategy>>;
}

export interface ResolvedPolicy {
  readonly mode: SizingPolicySpec['mode'];
  readonly minChangePercent: number;
  readonly cooldownSeconds: number;
  readonly maxChangesPerHour: number;
  readonly oom: { readonly factor: number; readonly minBump: number };
  readonly containers: ReadonlyMap<string, ResolvedContainerPolicy>;
}

export type PolicyCheck =
  | { readonly kind: 'Ok'; readonly policy: ResolvedPolicy }
  | { readonly kind: 'Bad'; readonly problems: readonly string[] };

/** Resolves the policy for the given containers; every problem found is listed, not just the first. */
export function resolvePolicy(spec: ResizePolicyInput, containerNames: readonly string[]): PolicyCheck {
  const problems: string[] = [];
  const cooldownMs = parseDuration(spec.update.cooldown);
  if (cooldownMs === undefined) problems.push(`update.cooldown "${spec.update.cooldown}" is not a duration`);
  const minBump = parseQuantity(spec.oom.minBumpMemory);
  if (minBump === undefined || minBump < 0)
    problems.push(`oom.minBumpMemory "${String(spec.oom.minBumpMemory)}" is not a quantity`);
  if (!(spec.oom.bumpFactor >= 1))
    problems.push(`oom.bumpFactor ${spec.oom.bumpFactor} is below 1: an OOM bump would shrink memory`);
  if (!(spec.update.minChangePercent >= 0))
    problems.push(`update.minChangePercent ${spec.update.minChangePercent} is negative`);
  if (!(spec.update.maxChangesPerHour >= 1))
    problems.push(`update.maxChangesPerHour ${spec.update.maxChangesPerHour} is below 1`);

  const containers = new Map<string, ResolvedContainerPolicy>();
  for (const name of containerNames) {
    const cp = containerPolicy(spec, name);
    const where = `container ${name} (policy entry "${cp.name}")`;
    const min = amounts(cp.minAllowed, `${where} minAllowed`, problems);
    const max = amounts(cp.maxAllowed, `${where} maxAllowed`, problems);
    for (const r of RESOURCES) {
      const lo = min[r];
      const hi = max[r];
      if (lo !== undefined && hi !== undefined && lo > hi) {
        problems.push(
          `${where}: minAllowed.${r} (${String(cp.minAllowed?.[r])}) is above maxAllowed.${r} (${String(cp.maxAllowed?.[r])})`,
        );
      }
    }
    const limit = (r: ResourceName): LimitStrategy => {
      const l = cp.limits[r];
      switch (l.strategy) {
        case 'KeepRatio':
        case 'NoLimit':
          return { kind: l.strategy };
        case 'Headroom':
          if (l.headroomPercent === undefined || !(l.headroomPercent >= 0)) {
            problems.push(`${where}: limits.${r}.strategy Headroom needs headroomPercent of 0 or more`);
            return { kind: 'KeepRatio' };
          }
          return { kind: 'Headroom', percent: l.headroomPercent };
      }
    };
    containers.set(name, {
      controlled: cp.mode === 'Auto',
      resources: new Set(cp.controlledResources),
      controlledValues: cp.controlledValues,
      min,
      max,
      limits: { cpu: limit('cpu'), memory: limit('memory') },
    });
  }
  if (problems.length > 0) return { kind: 'Bad', problems };
  return {
    kind: 'Ok',
    policy: {
      mode: spec.mode,
      minChangePercent: spec.update.minChangePercent,
      cooldownSeconds: (cooldownMs ?? 0) / 1000,
      maxChangesPerHour: spec.update.maxChangesPerHour,
      oom: { factor: spec.oom.bumpFactor, minBump: minBump ?? 0 },
      containers,
    },
  };
}

function amounts(
  r: Partial<Record<ResourceName, string | number>> | undefined,
  where: string,
  problems: string[],
): Amounts {
  const out: Amounts = {};
  for (const name of RESOURCES) {
    const raw = r?.[name];
    if (raw === undefined) continue;
    const v = parseQuantity(raw);
    if (v === undefined || v < 0) problems.push(`${where}.${name} "${String(raw)}" is not a quantity`);
    else out[name] = v;
  }
  return out;
}
