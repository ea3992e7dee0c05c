// Which node of a scale-down pool to drain next, and why each other node stays: the decision of
// cluster-autoscaler's scale-down / Karpenter's consolidation, pure. The fit check is the packing
// what-if (src/core/packing) over today's requests: a node is unneeded when the fewest nodes that
// hold every pod leave it empty; after `unneededSeconds` of that, one node per pool is chosen.
import { packingWhatIf, type PackingInput, type PackPod } from '../../core/packing/index.ts';
import type { ScaleDown } from './config.ts';

/** Where a node of a scale-down pool stands this round. */
export type NodeStanding =
  /** The packing needs it (its pods have nowhere else to go). */
  | 'Needed'
  /** A pod on it cannot move (local storage, no controller, a mirror pod). */
  | 'Pinned'
  /** It would empty, but has not been unneeded for long enough yet. */
  | 'Unneeded'
  /** Its last drain failed; left alone until the recheck time. */
  | 'BackingOff'
  /** The pool is at its min size. */
  | 'MinSize'
  /** Another node of the pool is being drained (one at a time). */
  | 'PoolBusy'
  /** Being drained now. */
  | 'Draining'
  /** Chosen: cordon and drain it. */
  | 'ScaleDown';

export interface NodeCall {
  readonly node: string;
  readonly pool: string;
  readonly standing: NodeStanding;
  readonly detail: string;
}

export interface ScaleDownState {
  /** Simulated time since when each node has been unneeded. */
  readonly unneededSince: ReadonlyMap<string, number>;
  /** Nodes whose drain failed, until when they are left alone. */
  readonly backOffUntil: ReadonlyMap<string, number>;
  /** Nodes being drained now. */
  readonly draining: ReadonlySet<string>;
}

export type Decision =
  | {
      readonly kind: 'Decided';
      readonly unneededSince: ReadonlyMap<string, number>;
      readonly calls: readonly NodeCall[];
      /** The nodes to cordon and drain now, at most one per pool. */
      readonly chosen: readonly NodeCall[];
    }
  /** Some pod needs room the nodes do not have beside the others: no scale-down while that holds. */
  | { readonly kind: 'Unschedulable'; readonly detail: string };

/**
 * `input`: every node and every pod holding resources (the pods' `recommended` equal to their
 * requests: the simulator acts on what pods request now, after right-sizing). PodDisruptionBudgets
 * are left to the apiserver's Eviction API (see README: a 429 fails the drain), so `input.pdbs` is ignored.
 */
export function decideScaleDown(
  input: PackingInput,
  pools: ReadonlyMap<string, ScaleDown>,
  state: ScaleDownState,
  now: number,
): Decision {
  const evict = (p: PackPod): PackPod =>
    p.kind === 'LocalStorage' && pools.get(poolOfNode(input, p.node))?.localStorage === 'Evict'
      ? { ...p, kind: 'Movable' }
      : p;
  const pods = input.pods.map(evict);
  let result = packingWhatIf({ nodes: input.nodes, pods, pdbs: [] });
  if (result.kind === 'Unschedulable') {
    // A pod that fits on no node even alone (no node matches or admits it, or it is larger than
    // any) is no reason to keep a node: no node kept would take it. Packed without them; a pod
    // that needs room beside the others (NoRoom) still stops the scale-down.
    const hopeless = new Set(result.pods.filter((p) => p.reason !== 'NoRoom').map((p) => p.pod));
    if (hopeless.size === result.pods.length)
      result = packingWhatIf({
        nodes: input.nodes,
        pods: pods.filter((p) => !hopeless.has(`${p.namespace}/${p.name}`)),
        pdbs: [],
      });
  }
  if (result.kind === 'Unschedulable')
    return {
      kind: 'Unschedulable',
      detail: result.pods.map((p) => `${p.pod}: ${p.reason} (${p.detail})`).join('; '),
    };
  const unneededSince = new Map<string, number>();
  const calls: NodeCall[] = [];
  const chosen: NodeCall[] = [];
  for (const [pool, rule] of [...pools].sort(([a], [b]) => a.localeCompare(b))) {
    if (!rule.enabled) continue;
    const plans = result.nodes.filter((n) => n.pool === pool);
    const busy = plans.some((n) => state.draining.has(n.name));
    const size = plans.length - plans.filter((n) => state.draining.has(n.name)).length;
    const ready: { call: NodeCall; since: number; moves: number }[] = [];
    for (const n of plans) {
      const call = (standing: NodeStanding, detail: string): NodeCall => ({
        node: n.name,
        pool,
        standing,
        detail,
      });
      if (state.draining.has(n.name)) {
        calls.push(call('Draining', 'its pods are being evicted'));
        continue;
      }
      if (n.verdict === 'Stays') {
        calls.push(
          n.why === 'Pinned'
            ? call('Pinned', n.pins.map((p) => `${p.pod}: ${p.detail}`).join('; '))
            : call('Needed', 'its pods fit on no other node'),
        );
        continue;
      }
      const since = state.unneededSince.get(n.name) ?? now;
      unneededSince.set(n.name, since);
      const until = state.backOffUntil.get(n.name);
      if (until !== undefined && now < until) {
        calls.push(call('BackingOff', `its last drain failed; rechecked in ${Math.ceil(until - now)}s`));
        continue;
      }
      const waited = now - since;
      if (waited < rule.unneededSeconds) {
        calls.push(call('Unneeded', `unneeded for ${Math.floor(waited)}s of ${rule.unneededSeconds}s`));
        continue;
      }
      if (size <= rule.minNodes) {
        calls.push(call('MinSize', `the pool has ${size} nodes, its min size is ${rule.minNodes}`));
        continue;
      }
      if (busy) {
        calls.push(call('PoolBusy', 'another node of the pool is being drained'));
        continue;
      }
      const moves = n.moves.map((m) => `${m.pod} to ${m.to}`);
      ready.push({
        call: call(
          'ScaleDown',
          `unneeded for ${Math.floor(waited)}s; ${moves.length === 0 ? 'no pods to move' : `its pods fit elsewhere (${moves.join(', ')})`}`,
        ),
        since,
        moves: n.moves.length,
      });
    }
    // Like Karpenter's disruption cost: the node with the fewest pods to move, then the longest unneeded.
    ready.sort((a, b) => a.moves - b.moves || a.since - b.since || a.call.node.localeCompare(b.call.node));
    const [first, ...rest] = ready;
    if (first) {
      chosen.push(first.call);
      calls.push(first.call);
    }
    for (const r of rest)
      calls.push({ ...r.call, standing: 'PoolBusy', detail: 'another node of the pool goes first' });
  }
  return { kind: 'Decided', unneededSince, calls, chosen };
}

function poolOfNode(input: PackingInput, node: string | undefined): string {
  return input.nodes.find((n) => n.name === node)?.pool ?? '';
}

/**
 * The pods a drain evicts from a node: all but DaemonSet and mirror pods (they leave with the node)
 * and pods already terminating; the drain is done when none is left.
 */
export function podsToEvict<T extends { pod: PackPod; terminating: boolean; mirror: boolean }>(
  onNode: readonly T[],
): { evict: T[]; waiting: number } {
  const moving = onNode.filter((p) => p.pod.kind !== 'DaemonSet' && !p.mirror);
  return { evict: moving.filter((p) => !p.terminating), waiting: moving.filter((p) => p.terminating).length };
}
