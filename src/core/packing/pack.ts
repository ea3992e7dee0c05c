// First-fit decreasing over today's nodes: which nodes to keep so every pod fits with its
// recommended requests, and where each pod goes. Nodes open lazily (those holding pinned pods
// first); the kept set is then filled again from the start so pods stay where they are when they
// can and every spread rule is checked against the nodes that really remain; a bounded search
// backs first fit up before a node is added.
import {
  add,
  admission,
  domainKeys,
  hostConflict,
  hostSpreads,
  labelsMatch,
  matchesNode,
  shortOf,
} from './rules.ts';
import type { LabelSelector, PackNode, PackPod, Resources } from './types.ts';

export const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** A pod that must stay on its node (a DaemonSet pod, or one pinned there). */
export interface Fixed {
  readonly pod: PackPod;
  readonly node: string;
  /** A DaemonSet pod leaves with its node and pins nothing; a pinned pod keeps its node. */
  readonly role: 'DaemonSet' | 'Pinned';
}

export type PackAttempt =
  | { readonly kind: 'Placed'; readonly kept: ReadonlySet<string>; readonly at: ReadonlyMap<string, string> }
  | { readonly kind: 'NoRoom'; readonly pod: PackPod };

interface Bin {
  readonly node: PackNode;
  used: Record<string, number>;
  readonly pods: PackPod[];
}

/** How much of the cluster's largest node a pod takes, by its most demanding resource: the "decreasing" of FFD. */
function sizer(nodes: readonly PackNode[]): (p: PackPod) => number {
  const largest: Record<string, number> = {};
  for (const n of nodes)
    for (const [r, q] of Object.entries(n.allocatable)) largest[r] = Math.max(largest[r] ?? 0, q);
  return (p) => {
    let s = 0;
    for (const [r, q] of Object.entries(p.recommended))
      if (r !== 'pods' && largest[r]) s = Math.max(s, q / largest[r]);
    return s;
  };
}

function byDecreasingSize(pods: readonly PackPod[], size: (p: PackPod) => number): PackPod[] {
  return [...pods].sort((a, b) => size(b) - size(a) || podKey(a).localeCompare(podKey(b)));
}

/** Matching pods of `pod`'s namespace on a bin for one spread constraint's selector. */
function spreadCount(bin: Bin, pod: PackPod, selector: LabelSelector | undefined): number {
  if (!selector) return 0;
  let n = 0;
  for (const q of bin.pods) if (q.namespace === pod.namespace && labelsMatch(selector, q.labels)) n++;
  return n;
}

class Packing {
  readonly bins = new Map<string, Bin>();
  readonly open: Bin[] = [];
  readonly at = new Map<string, string>();

  /**
   * `spread`: whether hostname spread is checked. The lazy pass leaves it out: its skew is measured
   * over the nodes that remain, unknown until the pass ends (with only one node open every pod
   * would pass); the refill over the kept set checks it, and adds nodes until it holds.
   */
  constructor(
    private readonly nodes: ReadonlyMap<string, PackNode>,
    private readonly fixed: readonly Fixed[],
    private readonly spread = true,
  ) {}

  openBin(name: string): Bin {
    let bin = this.bins.get(name);
    if (bin) return bin;
    const node = this.nodes.get(name)!;
    bin = { node, used: {}, pods: [] };
    this.bins.set(name, bin);
    this.open.push(bin);
    for (const f of this.fixed) if (f.node === name) this.put(bin, f.pod);
    return bin;
  }

  put(bin: Bin, pod: PackPod): void {
    bin.used = add(bin.used, pod.recommended);
    bin.pods.push(pod);
    this.at.set(podKey(pod), bin.node.name);
  }

  /** Undoes the last put on `bin` (the search below backtracks). */
  takeLast(bin: Bin, pod: PackPod): void {
    bin.used = add(bin.used, pod.recommended, -1);
    bin.pods.pop();
    this.at.delete(podKey(pod));
  }

  /** Every filter the scheduler would run for `pod` on `bin`, with `domains` the nodes a spread's skew is measured over. */
  fits(bin: Bin, pod: PackPod, domains: readonly Bin[]): boolean {
    if (admission(bin.node, pod) !== 'Admits') return false;
    const home = pod.node === undefined ? undefined : this.nodes.get(pod.node);
    if (home) for (const k of domainKeys(pod)) if (bin.node.labels[k] !== home.labels[k]) return false;
    if (shortOf(add(bin.node.allocatable, bin.used, -1), pod.recommended) !== undefined) return false;
    for (const q of bin.pods) if (hostConflict(pod, q)) return false;
    for (const s of this.spread ? hostSpreads(pod) : []) {
      const self = s.labelSelector && labelsMatch(s.labelSelector, pod.labels) ? 1 : 0;
      let min = Infinity;
      for (const d of domains)
        if (d === bin || matchesNode(d.node, pod)) min = Math.min(min, spreadCount(d, pod, s.labelSelector));
      if (!domains.includes(bin)) min = Math.min(min, spreadCount(bin, pod, s.labelSelector));
      if (spreadCount(bin, pod, s.labelSelector) + self - min > s.maxSkew) return false;
    }
    return true;
  }

  firstFit(pod: PackPod): Bin | undefined {
    return this.open.find((b) => this.fits(b, pod, this.open));
  }
}

/**
 * The nodes to keep and where every movable pod goes, by first-fit decreasing: nodes open fullest
 * first (the fewest moves to keep them); nodes of `fixed` pinned pods are kept whatever. NoRoom
 * only when every node is kept and neither first fit nor the bounded search places a pod.
 */
export function pack(
  nodeList: readonly PackNode[],
  fixed: readonly Fixed[],
  movable: readonly PackPod[],
): PackAttempt {
  const nodes = new Map(nodeList.map((n) => [n.name, n]));
  const size = sizer(nodeList);
  const pods = byDecreasingSize(movable, size);
  const constrained = (p: PackPod) => (p.antiAffinity ?? []).length + hostSpreads(p).length > 0;
  const constrainedFirst = [...pods.filter(constrained), ...pods.filter((p) => !constrained(p))];
  const load = new Map<string, number>();
  for (const p of [...movable, ...fixed.map((f) => f.pod)])
    if (p.node !== undefined) load.set(p.node, (load.get(p.node) ?? 0) + size(p));
  // Open the fullest nodes first: they need the fewest moves to keep.
  const order = [...nodeList].sort(
    (a, b) => (load.get(b.name) ?? 0) - (load.get(a.name) ?? 0) || a.name.localeCompare(b.name),
  );
  const pinnedNodes = [...new Set(fixed.filter((f) => f.role === 'Pinned').map((f) => f.node))];

  // 1. Lazy FFD decides how many nodes, and which.
  const lazy = new Packing(nodes, fixed, false);
  for (const n of pinnedNodes) lazy.openBin(n);
  for (const pod of pods) {
    let bin = lazy.firstFit(pod);
    if (!bin) {
      const choices = [
        ...(pod.node !== undefined && nodes.has(pod.node) ? [nodes.get(pod.node)!] : []),
        ...order,
      ].filter((n) => !lazy.bins.has(n.name));
      for (const n of choices) {
        const probe = new Packing(nodes, fixed).openBin(n.name);
        if (lazy.fits(probe, pod, [...lazy.open, probe])) {
          bin = lazy.openBin(n.name);
          break;
        }
      }
    }
    // No room in this pass (first fit fragments, anti-affinity): the refill below adds nodes for it.
    if (bin) lazy.put(bin, pod);
  }

  // 2. The kept set filled again from the start: a pod stays where it is when it can, the rest
  // first-fit; when that fails, everything first-fit; when that fails too, one more node.
  const kept = new Set(lazy.open.map((b) => b.node.name));
  for (;;) {
    const stay = fill(nodes, fixed, pods, order, kept, true);
    if (stay.kind === 'Filled') return { kind: 'Placed', kept, at: stay.at };
    const any = fill(nodes, fixed, pods, order, kept, false);
    if (any.kind === 'Filled') return { kind: 'Placed', kept, at: any.at };
    // Size first can leave no node for the last replica kept apart from the others: place the
    // pods with anti-affinity or spread first.
    const apart = fill(nodes, fixed, constrainedFirst, order, kept, false);
    if (apart.kind === 'Filled') return { kind: 'Placed', kept, at: apart.at };
    // One more node, one the pod that did not fit may run on.
    const next =
      order.find((n) => !kept.has(n.name) && admission(n, any.pod) === 'Admits') ??
      order.find((n) => !kept.has(n.name));
    // First fit leaves a pod out: a bounded depth-first search over the same nodes before one
    // more (tight spread and anti-affinity can need it).
    const found = search(nodes, fixed, constrainedFirst, order, kept);
    if (found) return { kind: 'Placed', kept, at: found };
    if (!next) return { kind: 'NoRoom', pod: any.pod };
    kept.add(next.name);
  }
}

function fill(
  nodes: ReadonlyMap<string, PackNode>,
  fixed: readonly Fixed[],
  pods: readonly PackPod[],
  order: readonly PackNode[],
  kept: ReadonlySet<string>,
  stayFirst: boolean,
): { kind: 'Filled'; at: ReadonlyMap<string, string> } | { kind: 'NoRoom'; pod: PackPod } {
  const p = new Packing(nodes, fixed);
  for (const n of order) if (kept.has(n.name)) p.openBin(n.name);
  const rest: PackPod[] = [];
  for (const pod of pods) {
    const home = stayFirst && pod.node !== undefined ? p.bins.get(pod.node) : undefined;
    if (home && p.fits(home, pod, p.open)) p.put(home, pod);
    else rest.push(pod);
  }
  for (const pod of rest) {
    const bin = p.firstFit(pod);
    if (!bin) return { kind: 'NoRoom', pod };
    p.put(bin, pod);
  }
  return { kind: 'Filled', at: p.at };
}

/** Steps the last-resort search may take: milliseconds on a small cluster, then it gives up. */
const SEARCH_STEPS = 50_000;

function search(
  nodes: ReadonlyMap<string, PackNode>,
  fixed: readonly Fixed[],
  pods: readonly PackPod[],
  order: readonly PackNode[],
  kept: ReadonlySet<string>,
): ReadonlyMap<string, string> | undefined {
  const p = new Packing(nodes, fixed);
  for (const n of order) if (kept.has(n.name)) p.openBin(n.name);
  let steps = 0;
  const place = (i: number): boolean => {
    if (i === pods.length) return true;
    const pod = pods[i]!;
    for (const bin of p.open) {
      if (++steps > SEARCH_STEPS) return false;
      if (!p.fits(bin, pod, p.open)) continue;
      p.put(bin, pod);
      if (place(i + 1)) return true;
      p.takeLast(bin, pod);
    }
    return false;
  };
  return place(0) ? p.at : undefined;
}

/** Free room on a node holding `pods` (for the diagnosis of a pod that fits nowhere). */
export function freeOn(node: PackNode, pods: readonly PackPod[]): Resources {
  return pods.reduce<Resources>((free, q) => add(free, q.recommended, -1), node.allocatable);
}
