// The pods/resize patch for a planned resize, and the ways people see it: the kubectl command that
// sends the same patch, and a one-line before -> after summary for Events and logs.
import { formatBytes, formatCpu } from '../quantity.ts';
import { sameAmount } from './qos.ts';
import { show, type ContainerPlan } from './size.ts';
import type { Amounts, ResizePatch, ResourceName } from './types.ts';
import { RESOURCES } from './types.ts';

/**
 * One strategic-merge patch for the whole pod: containers merge by name and requests/limits are
 * maps, so only the changed cpu/memory keys are sent and nothing else in the pod is touched.
 * Undefined when nothing changes.
 */
export function buildPatch(containers: readonly ContainerPlan[]): ResizePatch | undefined {
  const entries: ResizePatch['spec']['containers'][number][] = [];
  for (const c of containers) {
    const requests = changed(c.before.requests, c.after.requests);
    const limits = changed(c.before.limits, c.after.limits);
    if (!requests && !limits) continue;
    entries.push({
      name: c.name,
      resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
    });
  }
  return entries.length > 0 ? { spec: { containers: entries } } : undefined;
}

function changed(before: Amounts, after: Amounts): Partial<Record<ResourceName, string>> | undefined {
  const out: Partial<Record<ResourceName, string>> = {};
  let any = false;
  for (const r of RESOURCES) {
    const a = after[r];
    if (a === undefined) continue;
    const b = before[r];
    if (b !== undefined && sameAmount(r, a, b)) continue;
    out[r] = format(r, a);
    any = true;
  }
  return any ? out : undefined;
}

export function format(r: ResourceName, v: number): string {
  return r === 'cpu' ? formatCpu(v) : formatBytes(v);
}

/** The same patch as a kubectl command a person can read, copy and run. */
export function kubectlCommand(namespace: string, pod: string, patch: ResizePatch): string {
  // JSON from our own builder holds no single quote (names are DNS labels), so one pair of quotes is safe.
  return `kubectl patch pod ${pod} -n ${namespace} --subresource resize --type strategic -p '${JSON.stringify(patch)}'`;
}

/** "app: cpu 2 -> 500m, memory 4Gi -> 1Gi (limit 8Gi -> 2Gi)"; empty when nothing changes. */
export function summarize(containers: readonly ContainerPlan[]): string {
  const parts: string[] = [];
  for (const c of containers) {
    const moves: string[] = [];
    for (const r of RESOURCES) {
      const move = (field: 'requests' | 'limits') => {
        const b = c.before[field][r];
        const a = c.after[field][r];
        if (a === undefined || b === undefined || sameAmount(r, a, b)) return undefined;
        return `${show(r, b)} -> ${show(r, a)}`;
      };
      const req = move('requests');
      const lim = move('limits');
      if (req && lim) moves.push(`${r} ${req} (limit ${lim})`);
      else if (req) moves.push(`${r} ${req}`);
      else if (lim) moves.push(`${r} limit ${lim}`);
    }
    if (moves.length > 0) parts.push(`${c.name}: ${moves.join(', ')}`);
  }
  return parts.join('; ');
}
