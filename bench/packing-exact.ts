// An exact packing for small cases, to check the what-if's first-fit decreasing against: the
// fewest of today's nodes that hold every pod under the same rules, by trying every kept set in
// increasing size and a branch-and-bound assignment of the pods into it. Exponential: tens of pods
// and a handful of nodes at most.
import { pinsOf } from '../src/core/packing/pins.ts';
import { podKey } from '../src/core/packing/pack.ts';
import {
  add,
  admission,
  domainKeys,
  hostConflict,
  hostSpreads,
  labelsMatch,
  matchesNode,
  shortOf,
} from '../src/core/packing/rules.ts';
import type { PackingInput, PackNode, PackPod } from '../src/core/packing/types.ts';

export type ExactResult =
  | { readonly kind: 'Optimal'; readonly kept: ReadonlySet<string> }
  /** No kept set, not even every node, holds every pod. */
  | { readonly kind: 'Infeasible' }
  /** The search gave up after `budget` assignment steps. */
  | { readonly kind: 'GaveUp' };

export function exactPacking(input: PackingInput, budget = 2_000_000): ExactResult {
  const pins = pinsOf(input.pods, input.pdbs);
  const byName = new Map(input.nodes.map((n) => [n.name, n]));
  const daemons = input.pods.filter((p) => p.kind === 'DaemonSet' && p.node !== undefined);
  const others = input.pods.filter((p) => p.kind !== 'DaemonSet');
  const pinned = others.filter((p) => p.node !== undefined && byName.has(p.node) && pins.has(podKey(p)));
  const movable = others
    .filter((p) => !pinned.includes(p))
    .sort((a, b) => weight(b) - weight(a) || podKey(a).localeCompare(podKey(b)));
  const mustKeep = new Set(pinned.map((p) => p.node!));
  const optional = input.nodes.filter((n) => !mustKeep.has(n.name));
  let steps = 0;

  for (let extra = 0; extra <= optional.length; extra++) {
    for (const chosen of combinations(optional, extra)) {
      const kept = [...input.nodes.filter((n) => mustKeep.has(n.name)), ...chosen];
      const load = new Map(kept.map((n) => [n.name, [] as PackPod[]]));
      for (const p of [...daemons, ...pinned]) load.get(p.node!)?.push(p);
      const used = new Map(kept.map((n) => [n.name, sumOf(load.get(n.name)!)]));
      if (kept.some((n) => Object.values(add(n.allocatable, used.get(n.name)!, -1)).some((q) => q < -1e-9)))
        continue;
      const place = (i: number): boolean | 'budget' => {
        if (++steps > budget) return 'budget';
        if (i === movable.length) return spreadHolds(kept, load, movable);
        const pod = movable[i]!;
        const home = pod.node === undefined ? undefined : byName.get(pod.node);
        for (const n of kept) {
          if (admission(n, pod) !== 'Admits') continue;
          if (home && domainKeys(pod).some((k) => n.labels[k] !== home.labels[k])) continue;
          const u = used.get(n.name)!;
          if (shortOf(add(n.allocatable, u, -1), pod.recommended) !== undefined) continue;
          const here = load.get(n.name)!;
          if (here.some((q) => hostConflict(pod, q))) continue;
          here.push(pod);
          used.set(n.name, add(u, pod.recommended));
          const r = place(i + 1);
          here.pop();
          used.set(n.name, u);
          if (r) return r;
        }
        return false;
      };
      const r = place(0);
      if (r === 'budget') return { kind: 'GaveUp' };
      if (r) return { kind: 'Optimal', kept: new Set(kept.map((n) => n.name)) };
    }
  }
  return { kind: 'Infeasible' };
}

/**
 * Hostname spread, as a bound: a node that took a moved pod of the group ends within maxSkew of
 * the least loaded kept node it may run on. The scheduler checks each placement against the
 * minimum at that moment, which is never above the final one, so this holds for every placement
 * it would accept (and lets pods that already stand stay, as it does).
 */
function spreadHolds(
  kept: readonly PackNode[],
  load: ReadonlyMap<string, PackPod[]>,
  pods: readonly PackPod[],
): boolean {
  for (const p of pods)
    for (const s of hostSpreads(p)) {
      const sel = s.labelSelector;
      if (!sel) continue;
      const count = (n: PackNode) =>
        load.get(n.name)!.filter((q) => q.namespace === p.namespace && labelsMatch(sel, q.labels)).length;
      const eligible = kept.filter((n) => matchesNode(n, p));
      const min = Math.min(...eligible.map(count));
      const at = kept.find((n) => load.get(n.name)!.includes(p));
      if (at && count(at) - min > s.maxSkew) return false;
    }
  return true;
}

function weight(p: PackPod): number {
  return (
    (p.recommended.cpu ?? 0) +
    (p.recommended.memory ?? 0) / 2 ** 30 / 4 +
    (p.recommended['nvidia.com/gpu'] ?? 0) * 8
  );
}

function sumOf(pods: readonly PackPod[]): Record<string, number> {
  return pods.reduce<Record<string, number>>((a, p) => add(a, p.recommended), {});
}

function* combinations<T>(items: readonly T[], k: number, from = 0): Generator<T[]> {
  if (k === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= items.length - k; i++)
    for (const rest of combinations(items, k - 1, i + 1)) yield [items[i]!, ...rest];
}
