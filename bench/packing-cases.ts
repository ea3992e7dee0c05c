// Small packing cases from a seed, for checking first-fit decreasing against the exact search:
// one or two pools (a general one, sometimes a tainted GPU one), a DaemonSet on every node,
// workloads with requests now and a recommendation below (sometimes above) them, laid out today
// first-fit in a shuffled order, some with anti-affinity, hostname spread, a node selector, local
// storage or a PodDisruptionBudget.
import { mulberry32 } from '../src/sim/usage/prng.ts';
import type { PackingInput, PackNode, PackPod } from '../src/core/packing/types.ts';
import { add, admission, hostConflict, shortOf } from '../src/core/packing/rules.ts';
import { daemonSet, nodes, pdb, pod, type PodShape } from '../test/support/packing.ts';

export interface CaseShape {
  /** Nodes in the general pool (a GPU pool of 1-2 nodes is added on some seeds). */
  readonly nodes: readonly [number, number];
  readonly workloads: readonly [number, number];
  readonly replicas: readonly [number, number];
}

export const SMALL: CaseShape = { nodes: [2, 5], workloads: [2, 4], replicas: [1, 3] };
/** About the demo fleet's size (examples/scenarios/demo.yaml: 7 nodes, 7 workloads), a little wider. */
export const DEMO: CaseShape = { nodes: [5, 8], workloads: [6, 12], replicas: [1, 3] };
/** A mid-sized cluster, for how the time grows. */
export const LARGE: CaseShape = { nodes: [40, 60], workloads: [80, 120], replicas: [1, 4] };

export function generateCase(seed: number, shape: CaseShape = SMALL): PackingInput {
  const rnd = mulberry32(seed);
  const int = ([lo, hi]: readonly [number, number]) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const size = pick([
    { cpu: 4, memoryGiB: 16 },
    { cpu: 8, memoryGiB: 32 },
  ]);
  const general = nodes('n', int(shape.nodes), { pool: 'general', ...size, instanceType: 'm6i.xlarge' });
  const gpu =
    rnd() < 0.3
      ? nodes('g', int([1, 2]), {
          pool: 'gpu',
          cpu: 8,
          memoryGiB: 32,
          gpus: pick([1, 2]),
          gpuProduct: 'NVIDIA-L4',
          instanceType: 'g6.2xlarge',
          taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
        })
      : [];
  const all = [...general, ...gpu];
  const pods: PackPod[] = [...daemonSet('agent', all)];
  const pdbs = [];
  const want: PackPod[] = [];
  const workloads = int(shape.workloads);
  for (let w = 0; w < workloads; w++) {
    const app = `app${w}`;
    const replicas = int(shape.replicas);
    const onGpu = gpu.length > 0 && rnd() < 0.25;
    const cpu = Math.round((0.25 + rnd() * (size.cpu / 2)) * 4) / 4;
    const memoryGiB = Math.round((0.5 + rnd() * (size.memoryGiB / 3)) * 2) / 2;
    const shrink = rnd() < 0.85 ? 0.3 + rnd() * 0.6 : 1 + rnd() * 0.2;
    const rule = rnd();
    const base: PodShape = {
      cpu,
      memoryGiB,
      toCpu: Math.max(0.05, Math.round(cpu * shrink * 20) / 20),
      toMemoryGiB: Math.max(0.25, Math.round(memoryGiB * shrink * 4) / 4),
      labels: { app },
      ...(onGpu
        ? { gpus: 1, tolerate: ['nvidia.com/gpu'], nodeSelector: { 'karpenter.sh/nodepool': 'gpu' } }
        : {}),
      ...(rule < 0.15 ? { apartFrom: app } : {}),
      ...(rule >= 0.15 && rule < 0.3 ? { spreadSkew: 1 } : {}),
      ...(rule >= 0.3 && rule < 0.35 ? { kind: 'LocalStorage' as const } : {}),
    };
    for (let r = 0; r < replicas; r++) want.push(pod(`ns${w % 2}/${app}-${r}`, base));
    if (rnd() < 0.15) pdbs.push(pdb(`ns${w % 2}/${app}`, app, rnd() < 0.5 ? 0 : 1));
  }
  // Today's layout: first fit of the requests now, in a shuffled order over shuffled nodes.
  const used = new Map<string, Record<string, number>>(all.map((n) => [n.name, {}]));
  const onNode = new Map<string, PackPod[]>(all.map((n) => [n.name, []]));
  for (const d of pods) {
    used.set(d.node!, add(used.get(d.node!)!, d.requests));
    onNode.get(d.node!)!.push(d);
  }
  for (const p of shuffle(want, rnd)) {
    const home = shuffle(all, rnd).find((n: PackNode) => {
      if (admission(n, p) !== 'Admits') return false;
      if (shortOf(add(n.allocatable, used.get(n.name)!, -1), p.requests) !== undefined) return false;
      return !onNode.get(n.name)!.some((q) => hostConflict(p, q));
    });
    if (home) {
      used.set(home.name, add(used.get(home.name)!, p.requests));
      onNode.get(home.name)!.push(p);
      pods.push({ ...p, node: home.name });
    } else pods.push(p);
  }
  return { nodes: all, pods, pdbs };
}

function shuffle<T>(xs: readonly T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
