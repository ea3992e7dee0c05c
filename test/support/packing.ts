// The packing what-if's vocabulary for tests and the benchmark: nodes of a pool, pods on them with
// requests now and recommended, and the scheduler rules they carry, in a few words each.
import type { PackNode, PackPdb, PackPod, PodKind, Spread, Taint } from '../../src/core/packing/types.ts';

export const GiB = 2 ** 30;

export interface NodeShape {
  readonly pool?: string;
  readonly cpu?: number;
  readonly memoryGiB?: number;
  readonly pods?: number;
  readonly gpus?: number;
  readonly gpuProduct?: string;
  readonly mig?: Readonly<Record<string, number>>;
  readonly instanceType?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  readonly cordoned?: boolean;
}

export function node(name: string, s: NodeShape = {}): PackNode {
  const cpu = s.cpu ?? 4;
  const memoryGiB = s.memoryGiB ?? 16;
  const gpus = s.gpus ?? 0;
  const labels = {
    'kubernetes.io/hostname': name,
    ...(s.pool ? { 'karpenter.sh/nodepool': s.pool } : {}),
    ...(s.instanceType ? { 'node.kubernetes.io/instance-type': s.instanceType } : {}),
    ...(s.gpuProduct ? { 'nvidia.com/gpu.product': s.gpuProduct } : {}),
    ...s.labels,
  };
  return {
    name,
    pool: s.pool ?? 'general',
    labels,
    taints: s.taints ?? [],
    allocatable: {
      cpu,
      memory: memoryGiB * GiB,
      pods: s.pods ?? 110,
      ...(gpus > 0 ? { 'nvidia.com/gpu': gpus } : {}),
      ...s.mig,
    },
    unschedulable: s.cordoned ?? false,
    facts: {
      name,
      labels,
      cpuCores: cpu,
      memoryBytes: memoryGiB * GiB,
      gpus,
      ...(s.mig ? { migDevices: s.mig } : {}),
    },
  };
}

export interface PodShape {
  /** The node it runs on; absent: pending. */
  readonly on?: string;
  readonly cpu?: number;
  readonly memoryGiB?: number;
  readonly gpus?: number;
  readonly extra?: Readonly<Record<string, number>>;
  /** Recommended cpu and memory (default: as requested). */
  readonly toCpu?: number;
  readonly toMemoryGiB?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly kind?: PodKind;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerate?: readonly string[];
  /** Required anti-affinity on the hostname against pods with app=<value>. */
  readonly apartFrom?: string;
  /** Required affinity on the hostname to pods with app=<value>. */
  readonly beside?: string;
  /** DoNotSchedule spread over hostnames (app=<own app label>), maxSkew. */
  readonly spreadSkew?: number;
  readonly spreadKey?: string;
}

export function pod(key: string, s: PodShape = {}): PackPod {
  const [namespace, name] = key.includes('/') ? (key.split('/') as [string, string]) : ['default', key];
  const labels = s.labels ?? { app: name.replace(/-\d+$/, '') };
  const base = {
    pods: 1,
    cpu: s.cpu ?? 1,
    memory: (s.memoryGiB ?? 1) * GiB,
    ...(s.gpus ? { 'nvidia.com/gpu': s.gpus } : {}),
    ...s.extra,
  };
  const spread: Spread[] =
    s.spreadSkew !== undefined
      ? [
          {
            topologyKey: s.spreadKey ?? 'kubernetes.io/hostname',
            maxSkew: s.spreadSkew,
            labelSelector: { matchLabels: { app: labels.app ?? name } },
          },
        ]
      : [];
  return {
    namespace,
    name,
    ...(s.on ? { node: s.on } : {}),
    labels,
    kind: s.kind ?? 'Movable',
    requests: base,
    recommended: {
      ...base,
      cpu: s.toCpu ?? base.cpu,
      memory: (s.toMemoryGiB ?? s.memoryGiB ?? 1) * GiB,
    },
    ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.tolerate ? { tolerations: s.tolerate.map((key) => ({ key, operator: 'Exists' })) } : {}),
    ...(s.apartFrom
      ? {
          antiAffinity: [
            { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: s.apartFrom } } },
          ],
        }
      : {}),
    ...(s.beside
      ? {
          affinity: [
            { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: s.beside } } },
          ],
        }
      : {}),
    ...(spread.length > 0 ? { spread } : {}),
  };
}

/** A DaemonSet's pod on every node given. */
export function daemonSet(name: string, nodes: readonly PackNode[], cpu = 0.1, memoryGiB = 0.125): PackPod[] {
  return nodes.map((n) =>
    pod(`kube-system/${name}-${n.name}`, {
      on: n.name,
      cpu,
      memoryGiB,
      kind: 'DaemonSet',
      labels: { app: name },
    }),
  );
}

export function pdb(key: string, app: string, disruptionsAllowed: number): PackPdb {
  const [namespace, name] = key.split('/') as [string, string];
  return { namespace, name, selector: { matchLabels: { app } }, disruptionsAllowed };
}

/** `n` nodes named <prefix>-1..n of one shape. */
export function nodes(prefix: string, n: number, s: NodeShape = {}): PackNode[] {
  return Array.from({ length: n }, (_, i) => node(`${prefix}-${i + 1}`, s));
}
