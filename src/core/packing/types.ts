// The packing what-if's contract: the nodes and pods it packs (plain numbers, read from the objects
// by view.ts) and what it answers: per pool the nodes still needed, the nodes that would empty and
// the moves that empty them, or the pods that fit nowhere and why.
import type { Figure, NodeFacts } from '../cost/types.ts';

/** Amounts by resource name: cpu in cores, memory and ephemeral-storage in bytes, pods and extended resources as counts. */
export type Resources = Readonly<Record<string, number>>;

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
}

/** A node selector requirement (In, NotIn, Exists, DoesNotExist, Gt, Lt), as core/v1 spells it. */
export interface NodeRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

/** One of requiredDuringScheduling's nodeSelectorTerms: its requirements all hold (terms are OR'ed). */
export interface NodeTerm {
  readonly matchExpressions?: readonly NodeRequirement[];
  readonly matchFields?: readonly NodeRequirement[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[];
}

/** A required pod (anti-)affinity term: pods selected in `namespaces` (the pod's own when empty) per topology domain. */
export interface PodTerm {
  readonly topologyKey: string;
  readonly labelSelector?: LabelSelector;
  readonly namespaces?: readonly string[];
}

/** A topology spread constraint with whenUnsatisfiable DoNotSchedule (ScheduleAnyway ones never block). */
export interface Spread {
  readonly topologyKey: string;
  readonly maxSkew: number;
  readonly labelSelector?: LabelSelector;
}

export interface PackNode {
  readonly name: string;
  /** The node pool (Karpenter NodePool, managed node group, GKE node pool, AKS agent pool; else the instance type). */
  readonly pool: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly allocatable: Resources;
  /** Cordoned: takes no pod, its own must move. */
  readonly unschedulable: boolean;
  /** Capacity and labels, for the price and power of the whole node (src/core/cost). */
  readonly facts: NodeFacts;
}

/**
 * What a pod is to the what-if: a DaemonSet pod stays on every node and leaves with it; a pod with
 * local storage or without a controller holds its node, as the cluster autoscaler's defaults do
 * (--skip-nodes-with-local-storage, pods not backed by a controller); the rest may move.
 */
export type PodKind = 'DaemonSet' | 'LocalStorage' | 'NoController' | 'Movable';

export interface PackPod {
  readonly namespace: string;
  readonly name: string;
  /** The node it runs on; absent: pending (it still needs a home). */
  readonly node?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly kind: PodKind;
  /** The pod's requests as the scheduler counts them (max of init containers and the sum of the rest, plus overhead), with `pods: 1`. */
  readonly requests: Resources;
  /** The same with Tailor's recommendations applied. */
  readonly recommended: Resources;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly nodeTerms?: readonly NodeTerm[];
  readonly tolerations?: readonly Toleration[];
  readonly antiAffinity?: readonly PodTerm[];
  readonly affinity?: readonly PodTerm[];
  readonly spread?: readonly Spread[];
}

export interface PackPdb {
  readonly namespace: string;
  readonly name: string;
  readonly selector?: LabelSelector;
  /** status.disruptionsAllowed: evictions the budget allows now. */
  readonly disruptionsAllowed: number;
}

export interface PackingInput {
  readonly nodes: readonly PackNode[];
  readonly pods: readonly PackPod[];
  readonly pdbs: readonly PackPdb[];
}

/** Why a pod fits on no node even alone (the first that holds for the node closest to fitting). */
export type UnschedulableReason =
  /** No node matches its nodeSelector or required node affinity. */
  | 'NoMatchingNode'
  /** Nodes match, but each has a taint it does not tolerate (or is cordoned). */
  | 'TaintNotTolerated'
  /** Nodes admit it, but it requests more of a resource than any of them has allocatable. */
  | 'TooLarge'
  /** It fits a node alone, but not beside the pods that must stay (DaemonSets, pinned pods, anti-affinity). */
  | 'NoRoom';

export interface UnschedulablePod {
  readonly pod: string;
  readonly reason: UnschedulableReason;
  /** "requests nvidia.com/gpu 2, the most any matching node has is 1". */
  readonly detail: string;
}

/** What keeps a pod on its node, so that node cannot empty (the caveat). */
export type PinReason = 'PodDisruptionBudget' | 'LocalStorage' | 'NoController' | 'Affinity';

export interface Pin {
  readonly pod: string;
  readonly reason: PinReason;
  readonly detail: string;
}

export interface Move {
  readonly pod: string;
  readonly from: string;
  readonly to: string;
}

/** A node of today after packing: it empties (its pods move, its DaemonSet pods leave with it) or stays. */
export type NodeVerdict = 'Empties' | 'Stays';

/** Why a node stays: its pods are needed there, or a pod on it is pinned (and it would otherwise empty). */
export type StayReason = 'Needed' | 'Pinned';

export interface NodePlan {
  readonly name: string;
  readonly pool: string;
  readonly verdict: NodeVerdict;
  /** Stays only. */
  readonly why?: StayReason;
  /** Pods that hold this node where they are. */
  readonly pins: readonly Pin[];
  /** Empties only: where each of its (non-DaemonSet) pods goes. */
  readonly moves: readonly Move[];
  /** What the whole node costs and emits per month. */
  readonly monthly: Figure;
  /** Whole GPUs (MIG devices summed back) and their model. */
  readonly gpus: number;
  readonly gpuModel?: string;
}

export interface GpusFreed {
  /** The GPU model (src/core/cost's kind id, "unknown" when the labels name none). */
  readonly model: string;
  readonly gpus: number;
}

export interface PoolPlan {
  readonly pool: string;
  readonly nodesToday: number;
  /** The fewest of today's nodes that hold every pod with the recommendations applied. */
  readonly nodesNeeded: number;
  readonly nodesFreed: number;
  readonly gpusFreed: readonly GpusFreed[];
  /** What the freed nodes cost and emit per month. */
  readonly saving: Figure;
  /** Nodes that stay only because a pod on them is pinned (PDB, local storage, affinity, no controller). */
  readonly heldByPins: number;
}

export interface Packed {
  readonly kind: 'Packed';
  readonly pools: readonly PoolPlan[];
  readonly nodes: readonly NodePlan[];
  readonly total: { readonly nodesFreed: number; readonly gpusFreed: number; readonly saving: Figure };
}

export interface Unpackable {
  readonly kind: 'Unschedulable';
  readonly pods: readonly UnschedulablePod[];
}

export type PackingResult = Packed | Unpackable;
