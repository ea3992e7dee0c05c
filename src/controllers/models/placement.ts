// Where a model's pod can run, and so how large it may ask to be while it loads. The start-up boost
// is there to load faster; a boost larger than any node that could run the pod would leave it
// Pending for a node that never comes, which is slower than no boost at all.
import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '../../core/quantity.ts';

/** A node as placement needs it: allocatable CPU (cores) and memory (bytes), labels, taints. */
export interface NodeShape {
  readonly name: string;
  readonly cpu: number;
  readonly memory: number;
  readonly labels: Readonly<Record<string, string>>;
  /** NoSchedule and NoExecute taints only: PreferNoSchedule does not keep a pod off. */
  readonly taints: readonly string[];
}

/** Where the pod template sends the pod: its nodeSelector and the taint keys it tolerates. */
export interface Placement {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly toleratedKeys?: readonly string[];
}

/**
 * A loading pod asks for at most this share of the largest node that could run it: it then fits
 * beside the pods already there instead of waiting for an empty node.
 */
export const BOOST_NODE_SHARE = 0.5;

/** The schedulable nodes' shapes; read once per generation (a pool scaling must not roll a model out). */
export function nodeShapes(nodes: readonly k8s.V1Node[]): NodeShape[] {
  return nodes
    .filter((n) => !n.spec?.unschedulable)
    .map((n) => ({
      name: n.metadata?.name ?? '',
      cpu: parseQuantity(n.status?.allocatable?.cpu) ?? 0,
      memory: parseQuantity(n.status?.allocatable?.memory) ?? 0,
      labels: n.metadata?.labels ?? {},
      taints: (n.spec?.taints ?? [])
        .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
        .map((t) => t.key),
    }));
}

/**
 * The largest requests a loading pod should have under `placement`: BOOST_NODE_SHARE of the largest
 * allocatable CPU and memory among the nodes it could land on. Undefined when no node is known (an
 * empty list, or a cluster whose autoscaler adds nodes on demand): the boost is then not capped.
 */
export function loadingCap(
  shapes: readonly NodeShape[],
  placement: Placement,
): { cpu: number; memory: number } | undefined {
  const tolerated = new Set(placement.toleratedKeys ?? []);
  const fits = shapes.filter(
    (n) =>
      Object.entries(placement.nodeSelector ?? {}).every(([k, v]) => n.labels[k] === v) &&
      n.taints.every((t) => tolerated.has(t)),
  );
  if (fits.length === 0) return undefined;
  return {
    cpu: Math.max(...fits.map((n) => n.cpu)) * BOOST_NODE_SHARE,
    memory: Math.max(...fits.map((n) => n.memory)) * BOOST_NODE_SHARE,
  };
}
