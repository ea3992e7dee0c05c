// The savings report from plain facts: nodes, covered pods, policies' recommendations and Tailor's
// ledgers -> the Report every renderer reads. Pure: the caller brings the objects, prices and `now`.
import type { SizingPolicy } from '../../api/index.ts';
import { parseQuantity } from '../quantity.ts';
import { figureOf, pricingFor, HOURS_PER_MONTH, type PriceOverrides } from '../cost/index.ts';
import type { Amount, Figure, NodeFacts, PowerModel, UnitPrices } from '../cost/types.ts';
import {
  bucketsIn,
  COARSE_WIDTH,
  FINE_SECONDS,
  mergeBuckets,
  type ContainerLedger,
  type Ledger,
  type LedgerAmount,
  type LedgerBucket,
} from './ledger.ts';
import type {
  Amounts,
  ContainerReport,
  Figures,
  NamespaceReport,
  Opportunity,
  Report,
  ReportQuery,
  SeriesPoint,
  WorkloadReport,
} from './model.ts';
import { volumeWasteReport, type VolumeFacts } from './volumes.ts';
import { packingWhatIf } from '../packing/whatif.ts';
import type { PackingInput } from '../packing/types.ts';
import { nodesRemoved, type RemovedNodeRecord } from '../packing/removed.ts';

/** One container of a covered pod, what it requests now (GPUs: whole plus MIG fractions). */
export interface ContainerFacts {
  readonly name: string;
  readonly requests: Amount;
}

/** A live pod a SizingPolicy controls. */
export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  /** Unscheduled: priced at the default sheet. */
  readonly node?: string;
  readonly workload: { readonly kind: string; readonly name: string };
  /** The policy that controls it (the one rule the controller and the webhook follow). */
  readonly policy: string;
  readonly containers: readonly ContainerFacts[];
}

/** A policy's published recommendation for one container, in cores and bytes. */
export interface RecommendationFacts {
  readonly container: string;
  readonly cpu?: number;
  /** The target, raised to the peak seen (the actuator never sets memory below it). */
  readonly memory?: number;
}

export interface PolicyFacts {
  readonly namespace: string;
  readonly name: string;
  readonly mode: string;
  readonly recommendations: readonly RecommendationFacts[];
  /** The policy's ledger, from its SizingCheckpoint (empty when none is written yet). */
  readonly ledger: Ledger;
  /** The policy's status.lastApplied: the last change Tailor made to its pods. */
  readonly lastApplied?: { readonly time: string; readonly pods: number; readonly summary: string };
}

export interface BuildInput {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly query: ReportQuery;
  readonly nodes: readonly NodeFacts[];
  readonly pods: readonly PodFacts[];
  readonly policies: readonly PolicyFacts[];
  readonly overrides?: PriceOverrides;
  /** Volume stats and StorageClasses, when a volume stats source is configured: the volumes section. */
  readonly volumes?: VolumeFacts;
  /** Every node, pod and PodDisruptionBudget of the cluster, recommendations applied: the packing section. */
  readonly packing?: PackingInput;
  /** Nodes a scale-down removed (their removal Events): the realised side of the packing section. */
  readonly removedNodes?: readonly RemovedNodeRecord[];
}

/** What the report's numbers are rounded to: cents, and milligrams of CO2e (sums add up exactly). */
const CENTS = 100;
const MG = 1e6;
const TOP_OPPORTUNITIES = 10;

type Pricing = { prices: UnitPrices; power: PowerModel };

/** The recommendation facts a policy's status publishes (a resource left unapplied counts as not recommended). */
export function recommendationsOf(policy: Pick<SizingPolicy, 'status'>): RecommendationFacts[] {
  return (policy.status?.recommendations ?? []).map((r) => {
    const notApplied = r.notApplied ?? '';
    const skipped = (res: string) => new RegExp(`(^|; )${res}:`).test(notApplied);
    const cpu = skipped('cpu') ? undefined : parseQuantity(r.target.cpu);
    const target = parseQuantity(r.target.memory);
    const peak = parseQuantity(r.peak?.memory);
    const memory = skipped('memory') || target === undefined ? undefined : Math.max(target, peak ?? 0);
    return {
      container: r.name,
      ...(cpu !== undefined ? { cpu } : {}),
      ...(memory !== undefined ? { memory } : {}),
    };
  });
}

export function buildReport(input: BuildInput): Report {
  const { now, query } = input;
  const since = now - query.sinceSeconds;
  const inQuery = (ns: string) => !query.namespaces || query.namespaces.includes(ns);
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const fallbackNode: NodeFacts = { name: '', labels: {}, cpuCores: 0, memoryBytes: 0, gpus: 0 };
  const pricingCache = new Map<string, Pricing>();
  const pricing = (node: string | undefined): Pricing => {
    const key = node ?? '';
    let p = pricingCache.get(key);
    if (!p) pricingCache.set(key, (p = pricingFor(nodes.get(key) ?? fallbackNode, input.overrides ?? {})));
    return p;
  };
  const currency = pricing(undefined).prices.currency;
  const notes: string[] = [];

  // 1. Workloads: the covered pods' (now) and the ledgers' (history in the range), per policy.
  interface Group {
    namespace: string;
    kind: string;
    name: string;
    policy: PolicyFacts;
    pods: PodFacts[];
    ledgers: Map<string, ContainerLedger>;
  }
  const policies = new Map(input.policies.map((p) => [`${p.namespace}/${p.name}`, p]));
  const groups = new Map<string, Group>();
  const groupOf = (namespace: string, kind: string, name: string, policy: PolicyFacts) => {
    const k = `${namespace}/${kind}/${name}/${policy.name}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { namespace, kind, name, policy, pods: [], ledgers: new Map() }));
    return g;
  };
  for (const pod of input.pods) {
    if (!inQuery(pod.namespace)) continue;
    const policy = policies.get(`${pod.namespace}/${pod.policy}`);
    if (!policy) continue;
    groupOf(pod.namespace, pod.workload.kind, pod.workload.name, policy).pods.push(pod);
  }
  for (const policy of input.policies) {
    if (!inQuery(policy.namespace)) continue;
    for (const c of policy.ledger.containers) {
      if (bucketsIn(c, since, now).length === 0) continue;
      groupOf(policy.namespace, c.workload.kind, c.workload.name, policy).ledgers.set(c.container, c);
    }
  }

  // 2. Per container, then summed upwards in whole cents and milligrams.
  const workloads: WorkloadReport[] = [];
  const opportunities: (Opportunity & { cents: number })[] = [];
  const unpriced = new Set<string>();
  let withHistory = 0;
  /** Workloads without records in the range: one note each, unless none has any (one note says it). */
  const unknown: string[] = [];
  for (const g of [...groups.values()].sort((a, b) =>
    `${a.namespace}/${a.name}/${a.kind}`.localeCompare(`${b.namespace}/${b.name}/${b.kind}`),
  )) {
    for (const p of g.pods)
      if (pricing(p.node).prices.source === 'Default') unpriced.add(p.node ?? '(unscheduled)');
    const names = new Set([...g.pods.flatMap((p) => p.containers.map((c) => c.name)), ...g.ledgers.keys()]);
    const containers: ContainerReport[] = [];
    /** What the requests cost over the range, from the ledger (budgets' spend to date). */
    const spentParts: Figure[] = [];
    let oomKills = 0;
    let resizes = 0;
    let hadHistory = false;
    const seriesParts: LedgerBucket[][] = [];
    for (const name of [...names].sort()) {
      const rec = g.policy.recommendations.find((r) => r.container === name);
      const held = g.pods.flatMap((p) => {
        const c = p.containers.find((x) => x.name === name);
        return c ? [{ pod: p, requests: c.requests }] : [];
      });
      const recommendedOf = (a: Amount): Amount => ({
        cpuCores: rec?.cpu ?? a.cpuCores,
        memoryBytes: rec?.memory ?? a.memoryBytes,
        gpus: a.gpus,
      });
      const monthly = (f: (a: Amount) => Amount) =>
        sum(
          held.map((h) => rounded(figureOf(f(h.requests), HOURS_PER_MONTH, pricing(h.pod.node)))),
          currency,
        );
      // The history: mean usage per pod, and the realised saving, over the buckets in the range.
      const ledger = g.ledgers.get(name);
      const buckets = ledger ? bucketsIn(ledger, since, now) : [];
      const total = buckets.reduce((a, b) => mergeBuckets(a, b, a.start, a.width), emptyTotal());
      if (total.podSeconds > 0) hadHistory = true;
      oomKills += total.oomKills;
      resizes += total.resizes;
      if (buckets.length > 0) seriesParts.push(buckets);
      const meanUsed: Amount | undefined =
        total.usedPodSeconds > 0 ? toAmount(total.used, 1 / total.usedPodSeconds) : undefined;
      // Priced on the nodes its pods run on now (a workload without pods: the default sheet).
      const onNodes = held.length > 0 ? held.map((h) => pricing(h.pod.node)) : [pricing(undefined)];
      const averaged = (amountHours: Amount) =>
        sum(
          onNodes.map((p) => rounded(scale(figureOf(amountHours, 1, p), 1 / onNodes.length))),
          currency,
        );
      const realisedHours = toAmount(
        {
          cpu: total.baseline.cpu - total.requested.cpu,
          memory: total.baseline.memory - total.requested.memory,
          gpu: total.baseline.gpu - total.requested.gpu,
        },
        1 / 3600,
      );
      if (total.podSeconds > 0) spentParts.push(averaged(toAmount(total.requested, 1 / 3600)));
      const requested = monthly((a) => a);
      const recommended = monthly(recommendedOf);
      const used = meanUsed
        ? sum(
            held.map((h) => rounded(figureOf(meanUsed, HOURS_PER_MONTH, pricing(h.pod.node)))),
            currency,
          )
        : zeroFigure(currency);
      const figures: Figures = {
        requested,
        used,
        recommended,
        realised: total.podSeconds > 0 ? averaged(realisedHours) : zeroFigure(currency),
        available: difference(requested, recommended),
      };
      const amounts: Amounts = {
        requested: addAll(held.map((h) => h.requests)),
        used: meanUsed ? scaleAmount(meanUsed, held.length) : zeroAmount(),
        recommended: addAll(held.map((h) => recommendedOf(h.requests))),
      };
      containers.push({ name, amounts, figures });
      // One opportunity per resource whose recommendation is below the request.
      for (const resource of ['cpu', 'memory'] as const) {
        const only = (a: Amount, r: Amount): Amount =>
          resource === 'cpu'
            ? { cpuCores: a.cpuCores - r.cpuCores, memoryBytes: 0, gpus: 0 }
            : { cpuCores: 0, memoryBytes: a.memoryBytes - r.memoryBytes, gpus: 0 };
        const saving = sum(
          held.map((h) =>
            rounded(
              figureOf(only(h.requests, recommendedOf(h.requests)), HOURS_PER_MONTH, pricing(h.pod.node)),
            ),
          ),
          currency,
        );
        if (saving.cost <= 0) continue;
        opportunities.push({
          namespace: g.namespace,
          workload: `${g.kind}/${g.name}`,
          container: name,
          resource,
          requested: resource === 'cpu' ? amounts.requested.cpuCores : amounts.requested.memoryBytes,
          recommended: resource === 'cpu' ? amounts.recommended.cpuCores : amounts.recommended.memoryBytes,
          saving,
          cents: Math.round(saving.cost * CENTS),
        });
      }
    }
    if (hadHistory) withHistory++;
    else
      unknown.push(
        `${g.namespace}/${g.kind}/${g.name}: no history between ${iso(since)} and ${iso(now)}: used and realised are not known (shown as 0)`,
      );
    workloads.push({
      namespace: g.namespace,
      kind: g.kind,
      name: g.name,
      policy: g.policy.name,
      mode: g.policy.mode,
      replicas: g.pods.length,
      containers,
      figures: sumFigures(
        containers.map((c) => c.figures),
        currency,
      ),
      oomKills,
      resizes,
      series: seriesOf(seriesParts, query.sinceSeconds),
      ...(g.policy.lastApplied ? { lastApplied: g.policy.lastApplied } : {}),
      spent: sum(spentParts, currency),
      historyHours: round(
        containers.length > 0
          ? Math.max(
              0,
              ...[...g.ledgers.values()].map((l) =>
                bucketsIn(l, since, now).reduce((n, b) => n + b.seconds, 0),
              ),
            ) / 3600
          : 0,
        100,
      ),
    });
  }

  // 3. Namespaces and the cluster: sums of the figures below them, exact in cents.
  const byNamespace = new Map<string, WorkloadReport[]>();
  for (const w of workloads) byNamespace.set(w.namespace, [...(byNamespace.get(w.namespace) ?? []), w]);
  const namespaces: NamespaceReport[] = [...byNamespace]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([namespace, ws]) => ({
      namespace,
      figures: sumFigures(
        ws.map((w) => w.figures),
        currency,
      ),
      oomKills: ws.reduce((n, w) => n + w.oomKills, 0),
      resizes: ws.reduce((n, w) => n + w.resizes, 0),
      spent: sum(
        ws.map((w) => w.spent ?? zeroFigure(currency)),
        currency,
      ),
      workloads: ws,
    }));
  for (const ns of query.namespaces ?? [])
    if (!byNamespace.has(ns)) notes.push(`${ns}: no workload covered by a SizingPolicy`);
  if (withHistory > 0) notes.unshift(...unknown);
  else if (workloads.length > 0)
    notes.unshift(
      `no history between ${iso(since)} and ${iso(now)}: used and realised savings are not known (Tailor records them while its operator runs)`,
    );
  if (workloads.length === 0) notes.unshift('no workload covered by a SizingPolicy in scope');
  if (unpriced.size > 0)
    notes.push(
      `prices: ${pricing([...unpriced][0] === '(unscheduled)' ? undefined : [...unpriced][0]).prices.description} for ${unpriced.size} node(s) not in the price sheet (${[...unpriced].sort().slice(0, 5).join(', ')}${unpriced.size > 5 ? ', ...' : ''})`,
    );
  const ranked = opportunities
    .sort(
      (a, b) =>
        b.cents - a.cents || `${a.namespace}/${a.workload}`.localeCompare(`${b.namespace}/${b.workload}`),
    )
    .slice(0, TOP_OPPORTUNITIES)
    .map(({ cents: _, ...o }) => o);
  return {
    generatedAt: iso(now),
    since: iso(since),
    until: iso(now),
    currency,
    cluster: {
      figures: sumFigures(
        namespaces.map((n) => n.figures),
        currency,
      ),
      oomKills: namespaces.reduce((n, x) => n + x.oomKills, 0),
      resizes: namespaces.reduce((n, x) => n + x.resizes, 0),
    },
    namespaces,
    opportunities: ranked,
    notes,
    ...(input.volumes
      ? {
          volumes: volumeWasteReport({
            now,
            windowSeconds: query.sinceSeconds,
            ...(query.namespaces ? { namespaces: query.namespaces } : {}),
            facts: input.volumes,
            ...(input.overrides ? { overrides: input.overrides } : {}),
          }),
        }
      : {}),
    ...(input.packing
      ? { packing: packingWhatIf(input.packing, input.overrides ? { overrides: input.overrides } : {}) }
      : {}),
    ...(input.removedNodes
      ? (() => {
          const removed = nodesRemoved(input.removedNodes, since, now, input.overrides ?? {});
          return removed.total.nodes > 0 ? { nodesRemoved: removed } : {};
        })()
      : {}),
  };
}

// ---- the series: per workload, per bucket, totals over its pods and containers ----

function seriesOf(parts: readonly LedgerBucket[][], sinceSeconds: number): SeriesPoint[] {
  const coarse = sinceSeconds > FINE_SECONDS;
  const points = new Map<number, { requested: Amount; used: Amount; recommended: Amount }>();
  for (const buckets of parts) {
    const merged = new Map<number, LedgerBucket>();
    for (const b of buckets) {
      const start = coarse ? Math.floor(b.start / COARSE_WIDTH) * COARSE_WIDTH : b.start;
      const width = coarse ? COARSE_WIDTH : b.width;
      const prev = merged.get(start);
      merged.set(
        start,
        prev ? mergeBuckets(prev, b, start, width) : mergeBuckets(emptyTotal(), b, start, width),
      );
    }
    for (const [t, b] of merged) {
      if (b.seconds <= 0 || b.podSeconds <= 0) continue;
      const pods = b.podSeconds / b.seconds;
      const requested = toAmount(b.requested, 1 / b.seconds);
      const used = b.usedPodSeconds > 0 ? toAmount(b.used, pods / b.usedPodSeconds) : zeroAmount();
      const recommended =
        b.recommendedPodSeconds > 0 ? toAmount(b.recommended, pods / b.recommendedPodSeconds) : requested;
      const p = points.get(t);
      points.set(
        t,
        p
          ? {
              requested: addAll([p.requested, requested]),
              used: addAll([p.used, used]),
              recommended: addAll([p.recommended, recommended]),
            }
          : { requested, used, recommended },
      );
    }
  }
  return [...points]
    .sort(([a], [b]) => a - b)
    .map(([t, p]) => ({ t: iso(t), requested: p.requested, used: p.used, recommended: p.recommended }));
}

// ---- arithmetic in whole cents and milligrams ----

function rounded(f: Figure): Figure {
  return {
    cost: Math.round(f.cost * CENTS) / CENTS,
    currency: f.currency,
    co2eKg: Math.round(f.co2eKg * MG) / MG,
  };
}

/** Sums of rounded figures, added as integers so the namespaces add up to the cluster exactly. */
function sum(fs: readonly Figure[], currency: string): Figure {
  let cents = 0;
  let mg = 0;
  for (const f of fs) {
    cents += Math.round(f.cost * CENTS);
    mg += Math.round(f.co2eKg * MG);
  }
  return { cost: cents / CENTS, currency, co2eKg: mg / MG };
}

function difference(a: Figure, b: Figure): Figure {
  return {
    cost: (Math.round(a.cost * CENTS) - Math.round(b.cost * CENTS)) / CENTS,
    currency: a.currency,
    co2eKg: (Math.round(a.co2eKg * MG) - Math.round(b.co2eKg * MG)) / MG,
  };
}

function sumFigures(fs: readonly Figures[], currency: string): Figures {
  return {
    requested: sum(
      fs.map((f) => f.requested),
      currency,
    ),
    used: sum(
      fs.map((f) => f.used),
      currency,
    ),
    recommended: sum(
      fs.map((f) => f.recommended),
      currency,
    ),
    realised: sum(
      fs.map((f) => f.realised),
      currency,
    ),
    available: sum(
      fs.map((f) => f.available),
      currency,
    ),
  };
}

function scale(f: Figure, k: number): Figure {
  return { cost: f.cost * k, currency: f.currency, co2eKg: f.co2eKg * k };
}

const zeroFigure = (currency: string): Figure => ({ cost: 0, currency, co2eKg: 0 });
const zeroAmount = (): Amount => ({ cpuCores: 0, memoryBytes: 0, gpus: 0 });

function toAmount(a: LedgerAmount, k: number): Amount {
  return { cpuCores: a.cpu * k, memoryBytes: a.memory * k, gpus: a.gpu * k };
}

function scaleAmount(a: Amount, k: number): Amount {
  return { cpuCores: a.cpuCores * k, memoryBytes: a.memoryBytes * k, gpus: a.gpus * k };
}

function addAll(as: readonly Amount[]): Amount {
  return as.reduce(
    (x, a) => ({
      cpuCores: x.cpuCores + a.cpuCores,
      memoryBytes: x.memoryBytes + a.memoryBytes,
      gpus: x.gpus + a.gpus,
    }),
    zeroAmount(),
  );
}

function emptyTotal(): LedgerBucket {
  const z = { cpu: 0, memory: 0, gpu: 0 };
  return {
    start: 0,
    width: COARSE_WIDTH,
    seconds: 0,
    podSeconds: 0,
    requested: z,
    baseline: z,
    usedPodSeconds: 0,
    used: z,
    recommendedPodSeconds: 0,
    recommended: z,
    oomKills: 0,
    resizes: 0,
  };
}

function round(x: number, k: number): number {
  return Math.round(x * k) / k;
}

function iso(seconds: number): string {
  return new Date(Math.round(seconds) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
