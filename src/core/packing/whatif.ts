// The packing what-if: with Tailor's recommendations applied, the fewest of today's nodes per pool
// that hold every pod, which nodes would empty and the moves that empty them, the nodes and GPUs
// freed and what they cost and emit per month; or, when a pod fits nowhere, which and why.
import { figureOf, HOURS_PER_MONTH, physicalGpus, pricingFor, type PriceOverrides } from '../cost/index.ts';
import { gpuKindOfLabels } from '../cost/cloud.ts';
import type { Figure } from '../cost/types.ts';
import { formatCpu, humanBytes } from '../quantity.ts';
import { freeOn, pack, podKey, type Fixed } from './pack.ts';
import { pinsOf } from './pins.ts';
import { admission, shortOf } from './rules.ts';
import type {
  GpusFreed,
  Move,
  NodePlan,
  PackingInput,
  PackingResult,
  PackNode,
  PackPod,
  Pin,
  PoolPlan,
  UnschedulablePod,
} from './types.ts';

export interface WhatIfOptions {
  readonly overrides?: PriceOverrides;
}

export function packingWhatIf(input: PackingInput, o: WhatIfOptions = {}): PackingResult {
  const pins = pinsOf(input.pods, input.pdbs);
  const daemons = input.pods.filter((p) => p.kind === 'DaemonSet' && p.node !== undefined);
  const others = input.pods.filter((p) => p.kind !== 'DaemonSet');
  const nodeNames = new Set(input.nodes.map((n) => n.name));
  const isPinned = (p: PackPod) => p.node !== undefined && nodeNames.has(p.node) && pins.has(podKey(p));

  // 1. Pods that fit nowhere even alone: which and why, instead of a number.
  const alone = others.flatMap((p) => {
    const why = isPinned(p) ? undefined : aloneProblem(p, input.nodes, daemons);
    return why ? [why] : [];
  });
  const crowded = pinnedOverflow(input.nodes, [...daemons, ...others.filter(isPinned)]);
  if (alone.length + crowded.length > 0) return { kind: 'Unschedulable', pods: [...alone, ...crowded] };

  const fixedOf = (pinned: (p: PackPod) => boolean): Fixed[] => [
    ...daemons.map((p) => ({ pod: p, node: p.node!, role: 'DaemonSet' as const })),
    ...others.filter(pinned).map((p) => ({ pod: p, node: p.node!, role: 'Pinned' as const })),
  ];
  const attempt = pack(
    input.nodes,
    fixedOf(isPinned),
    others.filter((p) => !isPinned(p)),
  );
  switch (attempt.kind) {
    case 'NoRoom':
      return {
        kind: 'Unschedulable',
        pods: [
          {
            pod: podKey(attempt.pod),
            reason: 'NoRoom',
            detail: `fits a node alone but not beside the pods that stay (${describe(attempt.pod.recommended)}), even with every node kept`,
          },
        ],
      };
    case 'Placed':
      break;
  }
  // The same without pins: how many nodes the caveats keep.
  const free = pack(
    input.nodes,
    fixedOf(() => false),
    others,
  );
  const keptFree = free.kind === 'Placed' ? free.kept : undefined;

  const nodes: NodePlan[] = input.nodes.map((n) => {
    const onNode = others.filter((p) => p.node === n.name);
    const nodePins = onNode.flatMap((p) => (isPinned(p) ? (pins.get(podKey(p)) ?? []) : []));
    const moves: Move[] = onNode.flatMap((p) => {
      const to = attempt.at.get(podKey(p));
      return to !== undefined && to !== n.name ? [{ pod: podKey(p), from: n.name, to }] : [];
    });
    const stays = attempt.kept.has(n.name);
    const gpus = physicalGpus(n.facts);
    const model = gpus > 0 ? gpuModelOf(n) : undefined;
    return {
      name: n.name,
      pool: n.pool,
      verdict: stays ? 'Stays' : 'Empties',
      ...(stays ? { why: nodePins.length > 0 ? ('Pinned' as const) : ('Needed' as const) } : {}),
      pins: nodePins,
      moves,
      monthly: rounded(
        figureOf(
          { cpuCores: n.facts.cpuCores, memoryBytes: n.facts.memoryBytes, gpus },
          HOURS_PER_MONTH,
          pricingFor(n.facts, o.overrides ?? {}),
        ),
      ),
      gpus,
      ...(model !== undefined ? { gpuModel: model } : {}),
    };
  });

  const currency = nodes[0]?.monthly.currency ?? o.overrides?.currency ?? 'USD';
  const pools: PoolPlan[] = [...new Set(input.nodes.map((n) => n.pool))].sort().map((pool) => {
    const mine = nodes.filter((n) => n.pool === pool);
    const emptied = mine.filter((n) => n.verdict === 'Empties');
    const gpus = new Map<string, number>();
    for (const n of emptied)
      if (n.gpus > 0) gpus.set(n.gpuModel ?? 'unknown', (gpus.get(n.gpuModel ?? 'unknown') ?? 0) + n.gpus);
    const needed = mine.length - emptied.length;
    const neededFree = keptFree ? mine.filter((n) => keptFree.has(n.name)).length : needed;
    return {
      pool,
      nodesToday: mine.length,
      nodesNeeded: needed,
      nodesFreed: emptied.length,
      gpusFreed: [...gpus]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([model, g]): GpusFreed => ({ model, gpus: g })),
      saving: sum(
        emptied.map((n) => n.monthly),
        currency,
      ),
      heldByPins: Math.max(0, needed - neededFree),
    };
  });
  return {
    kind: 'Packed',
    pools,
    nodes,
    total: {
      nodesFreed: pools.reduce((a, p) => a + p.nodesFreed, 0),
      gpusFreed: pools.reduce((a, p) => a + p.gpusFreed.reduce((b, g) => b + g.gpus, 0), 0),
      saving: sum(
        pools.map((p) => p.saving),
        currency,
      ),
    },
  };
}

/** The GPU model of a node: src/core/cost's kind id, else the product label as it is. */
function gpuModelOf(n: PackNode): string {
  return gpuKindOfLabels(n.labels) ?? n.labels['nvidia.com/gpu.product'] ?? 'unknown';
}

/** Whole cents and milligrams, as the report rounds (src/core/report/build.ts): sums then add up exactly. */
function rounded(f: Figure): Figure {
  return {
    cost: Math.round(f.cost * 100) / 100,
    currency: f.currency,
    co2eKg: Math.round(f.co2eKg * 1e6) / 1e6,
  };
}

function sum(figures: readonly Figure[], currency: string): Figure {
  return rounded({
    cost: figures.reduce((a, f) => a + f.cost, 0),
    currency,
    co2eKg: figures.reduce((a, f) => a + f.co2eKg, 0),
  });
}

/** Why a pod fits on no node even beside nothing but that node's DaemonSet pods; undefined when one node takes it. */
function aloneProblem(
  pod: PackPod,
  nodes: readonly PackNode[],
  daemons: readonly PackPod[],
): UnschedulablePod | undefined {
  const matching = nodes.filter((n) => admission(n, pod) !== 'NoMatchingNode');
  if (matching.length === 0)
    return { pod: podKey(pod), reason: 'NoMatchingNode', detail: `no node matches its ${nodeRuleOf(pod)}` };
  const admitting = matching.filter((n) => admission(n, pod) === 'Admits');
  if (admitting.length === 0)
    return {
      pod: podKey(pod),
      reason: 'TaintNotTolerated',
      detail: `the ${matching.length} node${matching.length === 1 ? '' : 's'} it matches ${matching.length === 1 ? 'is' : 'are'} cordoned or tainted (${[...new Set(matching.flatMap((n) => n.taints.map((t) => `${t.key}:${t.effect}`)))].join(', ') || 'cordoned'}) and it has no toleration`,
    };
  let short: string | undefined;
  for (const n of admitting) {
    const lacking = shortOf(
      freeOn(
        n,
        daemons.filter((d) => d.node === n.name),
      ),
      pod.recommended,
    );
    if (lacking === undefined) return undefined;
    short ??= lacking;
  }
  const r = short!;
  const most = Math.max(
    ...admitting.map(
      (n) =>
        freeOn(
          n,
          daemons.filter((d) => d.node === n.name),
        )[r] ?? 0,
    ),
  );
  return {
    pod: podKey(pod),
    reason: 'TooLarge',
    detail: `requests ${r} ${amount(r, pod.recommended[r] ?? 0)}; the most any node it may run on has free beside its DaemonSets is ${amount(r, most)}`,
  };
}

/** Pinned and DaemonSet pods that, with their recommendations, no longer fit the node they are held on. */
function pinnedOverflow(nodes: readonly PackNode[], held: readonly PackPod[]): UnschedulablePod[] {
  return nodes.flatMap((n) => {
    const here = held.filter((p) => p.node === n.name);
    const free = freeOn(n, here);
    const over = Object.entries(free).find(([, q]) => q < -1e-9);
    const victim = here.find((p) => p.kind !== 'DaemonSet');
    if (!over || !victim) return [];
    return [
      {
        pod: podKey(victim),
        reason: 'NoRoom' as const,
        detail: `held on ${n.name} with the pods pinned there, which then need ${over[0]} ${amount(over[0], (n.allocatable[over[0]] ?? 0) - over[1])} of ${amount(over[0], n.allocatable[over[0]] ?? 0)} allocatable`,
      },
    ];
  });
}

function nodeRuleOf(pod: PackPod): string {
  const sel = Object.entries(pod.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`);
  const parts = [
    ...(sel.length > 0 ? [`nodeSelector ${sel.join(',')}`] : []),
    ...((pod.nodeTerms ?? []).length > 0 ? ['required node affinity'] : []),
  ];
  return parts.join(' and ') || 'node rules';
}

function amount(resource: string, q: number): string {
  if (resource === 'cpu') return formatCpu(q);
  if (resource === 'memory' || resource === 'ephemeral-storage') return humanBytes(q);
  return String(Number(q.toPrecision(6)));
}

function describe(r: PackPod['recommended']): string {
  return Object.entries(r)
    .filter(([k, q]) => k !== 'pods' && q > 0)
    .map(([k, q]) => `${k} ${amount(k, q)}`)
    .join(', ');
}

export type { Pin };
