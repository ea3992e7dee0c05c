// Reads what a savings report is built from (Nodes, the scope's Pods with their workloads, its
// SizingPolicies and their SizingCheckpoints' ledgers, the prices ConfigMap) through the operator's
// clients, and returns a ReportProvider; the CLI and the operator share it.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingCheckpoint, type SizingPolicy } from '../api/index.ts';
import type { Clients } from '../kube/client.ts';
import { classify, errorLine, toTailorError } from '../kube/errors.ts';
import { parseQuantity } from '../core/quantity.ts';
import type { NodeFacts } from '../core/cost/types.ts';
import { requestsOf } from '../core/report/amounts.ts';
import {
  buildReport,
  recommendationsOf,
  type BuildInput,
  type PodFacts,
  type PolicyFacts,
} from '../core/report/build.ts';
import { decodeLedger, EMPTY_LEDGER, type Ledger } from '../core/report/ledger.ts';
import type { ReportProvider, ReportQuery } from '../core/report/model.ts';
import { ALL_NAMESPACES, namespaces as namespaceScope } from '../sources/scope.ts';
import { listPodsWithWorkloads, type PodWithWorkload } from '../sources/workloads.ts';
import { controllingPolicy } from '../controllers/sizing/matching.ts';
import { priceOverridesOf } from './prices.ts';
import { gatherPacking, gatherRemovedNodes, type PackingReader } from './packing.ts';
import type { StorageClassFacts } from '../core/cost/storage.ts';
import type { VolumeFacts } from '../core/report/volumes.ts';
import type { VolumeStatsSource } from '../sources/volume-stats.ts';

/** Where the objects come from: the API (the CLI) or the operator's watch caches (see src/operator/report-source.ts). */
export interface ReportReader {
  nodes(): Promise<readonly k8s.V1Node[]>;
  /** Live pods with their workloads; every namespace when `namespaces` is undefined. */
  pods(namespaces: readonly string[] | undefined): Promise<readonly PodWithWorkload[]>;
  policies(namespaces: readonly string[] | undefined): Promise<readonly SizingPolicy[]>;
  checkpoints(namespaces: readonly string[] | undefined): Promise<readonly SizingCheckpoint[]>;
  /** Undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<k8s.V1ConfigMap | undefined>;
  /** PersistentVolumeClaims, for their StorageClass (the volumes section; optional: no classes, default prices). */
  claims?(namespaces: readonly string[] | undefined): Promise<readonly k8s.V1PersistentVolumeClaim[]>;
  storageClasses?(): Promise<readonly k8s.V1StorageClass[]>;
  /** Cluster-wide reads for the packing what-if; absent (a one-namespace operator): no packing section. */
  readonly packing?: PackingReader;
  /** Events on Nodes (reason ScaleDown) in `default`: the nodes a scale-down removed; absent: none counted. */
  nodeEvents?(): Promise<readonly k8s.CoreV1Event[]>;
}

/**
 * The removal Events of a scale-down (on Nodes, in `default`), for `tailor report` only: the
 * operator's RBAC does not list Events, so its reader has none.
 */
export function nodeEventsReader(clients: Clients): Pick<ReportReader, 'nodeEvents'> {
  return {
    nodeEvents: async () =>
      (
        await wrap('listing Node events', () =>
          clients.core.listNamespacedEvent({
            namespace: 'default',
            fieldSelector: 'involvedObject.kind=Node,reason=ScaleDown',
          }),
        )
      ).items,
  };
}

/** Every object read with one list per kind and namespace (the CLI). */
export function apiReader(clients: Clients): ReportReader {
  return {
    nodes: async () => (await wrap('listing nodes', () => clients.core.listNode())).items,
    pods: (namespaces) =>
      listPodsWithWorkloads(clients, namespaces ? namespaceScope(...namespaces) : ALL_NAMESPACES),
    policies: (namespaces) => listCustom<SizingPolicy>(clients, 'sizingpolicies', namespaces),
    checkpoints: (namespaces) => listCustom<SizingCheckpoint>(clients, 'sizingcheckpoints', namespaces),
    claims: async (namespaces) =>
      namespaces
        ? (
            await Promise.all(
              namespaces.map(
                async (namespace) =>
                  (
                    await wrap(`listing PersistentVolumeClaims in ${namespace}`, () =>
                      clients.core.listNamespacedPersistentVolumeClaim({ namespace }),
                    )
                  ).items,
              ),
            )
          ).flat()
        : (
            await wrap('listing PersistentVolumeClaims', () =>
              clients.core.listPersistentVolumeClaimForAllNamespaces(),
            )
          ).items,
    storageClasses: async () =>
      (await wrap('listing StorageClasses', () => clients.storage.listStorageClass())).items,
    packing: {
      pods: () => listPodsWithWorkloads(clients, ALL_NAMESPACES),
      policies: () => listCustom<SizingPolicy>(clients, 'sizingpolicies', undefined),
      pdbs: async () =>
        (
          await wrap('listing PodDisruptionBudgets', () =>
            clients.policy.listPodDisruptionBudgetForAllNamespaces(),
          )
        ).items,
    },
    configMap: async (namespace, name) => {
      try {
        return await clients.core.readNamespacedConfigMap({ namespace, name });
      } catch (err) {
        if (classify(err).kind === 'NotFound') return undefined;
        throw toTailorError(`reading ConfigMap ${namespace}/${name}`, err);
      }
    },
  };
}

export const DEFAULT_PRICES_CONFIGMAP = { namespace: 'tailor-system', name: 'tailor-prices' } as const;

export interface GatherOptions {
  /** The ConfigMap with price overrides; absent from the cluster: the built-in sheets. */
  readonly pricesConfigMap?: { readonly namespace: string; readonly name: string };
  /** Progress lines (the CLI writes them to stderr). */
  readonly progress?: (line: string) => void;
  /** Seconds since the epoch. */
  readonly now?: () => number;
  /** Where volume usage comes from: with one, the report has a volumes section (waste over its range). */
  readonly volumeStats?: VolumeStatsSource;
  /**
   * `tailor report -l`: which of Tailor's records (ledger entries, pods gone included) count, by the
   * labels the workload's pods carried. The reader's pods are filtered by the caller.
   */
  readonly selected?: (labels: Readonly<Record<string, string>>) => boolean;
}

/** Everything buildReport needs, read from the cluster. */
export async function gather(read: ReportReader, q: ReportQuery, o: GatherOptions = {}): Promise<BuildInput> {
  const say = o.progress ?? (() => {});
  const where = q.namespaces
    ? `namespace${q.namespaces.length === 1 ? '' : 's'} ${q.namespaces.join(', ')}`
    : 'all namespaces';

  say(`reading prices (ConfigMap ${cmName(o)})`);
  const cm = o.pricesConfigMap ?? DEFAULT_PRICES_CONFIGMAP;
  const overrides = priceOverridesOf(
    (await read.configMap(cm.namespace, cm.name))?.data,
    `ConfigMap ${cm.namespace}/${cm.name}`,
  );
  say('reading nodes');
  const nodeObjects = await read.nodes();
  const nodes = nodeObjects.map(nodeFacts);
  say(`  ${nodes.length} node${nodes.length === 1 ? '' : 's'}`);
  say(`reading SizingPolicies and SizingCheckpoints in ${where}`);
  const [policies, checkpoints] = await Promise.all([
    read.policies(q.namespaces),
    read.checkpoints(q.namespaces),
  ]);
  say(
    `  ${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}, ${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'}`,
  );
  say(`reading pods in ${where}`);
  const pods = await read.pods(q.namespaces);
  const byNamespace = new Map<string, SizingPolicy[]>();
  // Pods are matched to the one policy that controls them, by the controller's own rule.
  for (const p of policies) {
    const ns = p.metadata.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), p]);
  }
  const podFacts: PodFacts[] = [];
  // -l on the records: by the labels the ledger kept; an older record without them counts when its
  // workload has a live pod that matches (the pods are already filtered), and is named.
  const liveWorkloads = new Set(
    pods.map(({ pod, workload }) => `${pod.metadata?.namespace}/${workload.kind}/${workload.name}`),
  );
  const unlabelled = new Set<string>();
  const selectRecords = (
    ledger: Ledger,
    namespace: string,
    selected: (labels: Readonly<Record<string, string>>) => boolean,
  ): Ledger => ({
    containers: ledger.containers.filter((c) => {
      if (c.labels !== undefined) return selected(c.labels);
      const key = `${namespace}/${c.workload.kind}/${c.workload.name}`;
      if (!liveWorkloads.has(key)) return false;
      unlabelled.add(key);
      return true;
    }),
  });
  for (const { pod, workload } of pods) {
    const control = controllingPolicy(pod, workload, byNamespace.get(pod.metadata?.namespace ?? '') ?? []);
    if (control.kind !== 'Controlled') continue;
    podFacts.push({
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      workload: { kind: workload.kind, name: workload.name },
      policy: control.policy.metadata.name ?? '',
      containers: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        // What the kubelet says the container holds (after an in-place resize), else the spec's.
        requests: requestsOf({
          requests: {
            ...c.resources?.limits,
            ...c.resources?.requests,
            ...(pod.status?.containerStatuses?.find((s) => s.name === c.name)?.resources?.requests ?? {}),
          },
        }),
      })),
    });
  }
  say(`  ${pods.length} pod${pods.length === 1 ? '' : 's'}, ${podFacts.length} covered by a policy`);
  const policyFacts: PolicyFacts[] = policies.map((p) => {
    const cp = checkpoints.find(
      (c) =>
        c.metadata.namespace === p.metadata.namespace &&
        c.metadata.name === p.metadata.name &&
        (c.metadata.ownerReferences ?? []).some((r) => r.uid === p.metadata.uid),
    );
    const decoded = decodeLedger(cp?.spec.ledger?.data);
    if (decoded.error)
      say(`  ${p.metadata.namespace}/${p.metadata.name}: ledger not read (${decoded.error})`);
    const ledger = decoded.error ? EMPTY_LEDGER : decoded.ledger;
    return {
      namespace: p.metadata.namespace ?? '',
      name: p.metadata.name ?? '',
      mode: p.spec.mode,
      recommendations: recommendationsOf(p),
      ledger: o.selected ? selectRecords(ledger, p.metadata.namespace ?? '', o.selected) : ledger,
      ...(p.status?.lastApplied ? { lastApplied: p.status.lastApplied } : {}),
    };
  });
  if (unlabelled.size > 0)
    say(
      `  -l: ${unlabelled.size} record${unlabelled.size === 1 ? '' : 's'} written before Tailor kept labels, counted by ${unlabelled.size === 1 ? 'its' : 'their'} workload's live pods: ${[...unlabelled].join(', ')}`,
    );
  const buckets = policyFacts.reduce(
    (n, p) => n + p.ledger.containers.reduce((m, c) => m + c.buckets.length, 0),
    0,
  );
  say(`  history: ${buckets} bucket${buckets === 1 ? '' : 's'} of Tailor's records`);
  const now = o.now?.() ?? Date.now() / 1000;
  let volumes: VolumeFacts | undefined;
  if (o.volumeStats) {
    say(`reading volume stats (${o.volumeStats.name}) in ${where}`);
    volumes = await gatherVolumes(o.volumeStats, read, now - q.sinceSeconds, q.namespaces);
    say(`  ${volumes.samples.size} volume${volumes.samples.size === 1 ? '' : 's'} with stats`);
  }
  let packing: BuildInput['packing'];
  if (read.packing) {
    say('reading every pod and PodDisruptionBudget for the packing what-if');
    try {
      packing = await gatherPacking(nodeObjects, read.packing);
      say(`  ${packing.pods.length} pods, ${packing.pdbs.length} PodDisruptionBudgets`);
    } catch (err) {
      // The report stands without it (RBAC may allow one namespace only).
      say(`  packing what-if left out: ${errorLine(err)}`);
    }
  }
  const removedNodes = await gatherRemovedNodes(read, say);
  return {
    now,
    query: q,
    nodes,
    pods: podFacts,
    policies: policyFacts,
    overrides,
    ...(volumes ? { volumes } : {}),
    ...(packing ? { packing } : {}),
    ...(removedNodes.length > 0 ? { removedNodes } : {}),
  };
}

/**
 * Volume samples since `since` and the claims' StorageClasses, for the volumes section and
 * `tailor recommend`. Never throws: an unread source or class list is said in the facts (a note),
 * and the rest of the report stands.
 */
export async function gatherVolumes(
  stats: VolumeStatsSource,
  read: Pick<ReportReader, 'claims' | 'storageClasses'>,
  since: number,
  namespaces: readonly string[] | undefined,
): Promise<VolumeFacts> {
  let samples: VolumeFacts['samples'] = new Map();
  let error: string | undefined;
  try {
    samples = await stats.read(since, namespaces);
  } catch (err) {
    error = errorLine(err);
  }
  const storageClassOf = new Map<string, string>();
  const claimCapacity = new Map<string, number>();
  let storageClasses: StorageClassFacts[] = [];
  let classesUnread: string | undefined;
  if (samples.size > 0 && read.claims && read.storageClasses) {
    try {
      const [claims, classes] = await Promise.all([read.claims(namespaces), read.storageClasses()]);
      for (const c of claims) {
        const key = `${c.metadata?.namespace}/${c.metadata?.name}`;
        const cls = c.spec?.storageClassName;
        if (cls) storageClassOf.set(key, cls);
        const capacity = parseQuantity(c.status?.capacity?.storage);
        if (capacity !== undefined) claimCapacity.set(key, capacity);
      }
      storageClasses = classes.map((c) => ({
        name: c.metadata?.name ?? '',
        provisioner: c.provisioner,
        ...(c.parameters ? { parameters: c.parameters } : {}),
      }));
    } catch (err) {
      classesUnread = errorLine(err);
    }
  }
  return {
    source: stats.name,
    samples,
    storageClassOf,
    storageClasses,
    claimCapacity,
    ...(error !== undefined ? { error } : {}),
    ...(classesUnread !== undefined ? { classesUnread } : {}),
  };
}

/** The report from the cluster, on demand: what `tailor report` and the operator's /ui call. */
export function reportProvider(read: ReportReader, o: GatherOptions = {}): ReportProvider {
  return async (q) => buildReport(await gather(read, q, o));
}

function cmName(o: GatherOptions): string {
  const c = o.pricesConfigMap ?? DEFAULT_PRICES_CONFIGMAP;
  return `${c.namespace}/${c.name}`;
}

/**
 * A read, retried while the apiserver answers 429 (as client-go does with Retry-After): a CRD just
 * installed says "storage is (re)initializing" for a moment, and a busy server sheds load.
 */
async function wrap<T>(what: string, f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (classify(err).kind !== 'TooManyRequests' || attempt >= READ_ATTEMPTS)
        throw toTailorError(what, err);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

const READ_ATTEMPTS = 10;

async function listCustom<T>(
  clients: Clients,
  plural: string,
  namespaces: readonly string[] | undefined,
): Promise<T[]> {
  const list = async (namespace?: string) =>
    (
      (await wrap(`listing ${plural}`, () =>
        namespace === undefined
          ? clients.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
          : clients.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural }),
      )) as { items: T[] }
    ).items;
  if (!namespaces) return list();
  return (await Promise.all(namespaces.map((ns) => list(ns)))).flat();
}

function nodeFacts(n: k8s.V1Node): NodeFacts {
  const cap = n.status?.capacity ?? {};
  const mig = Object.fromEntries(
    Object.entries(cap)
      .filter(([k]) => k.startsWith('nvidia.com/mig-'))
      .map(([k, v]) => [k, parseQuantity(v) ?? 0]),
  );
  return {
    name: n.metadata?.name ?? '',
    labels: n.metadata?.labels ?? {},
    cpuCores: parseQuantity(cap.cpu) ?? 0,
    memoryBytes: parseQuantity(cap.memory) ?? 0,
    gpus: parseQuantity(cap['nvidia.com/gpu']) ?? 0,
    ...(Object.keys(mig).length > 0 ? { migDevices: mig } : {}),
  };
}
