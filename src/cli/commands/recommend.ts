// `tailor recommend`: for each workload and container in scope, current requests and limits, usage
// percentiles and Tailor's recommendation, from the usage history (SQLite store or Prometheus),
// sampling metrics.k8s.io first where there is none.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type * as k8s from '@kubernetes/client-node';
import { TailorError } from '../../errors.ts';
import {
  checkNamespaceFlags,
  clusterOptions,
  durationFlag,
  kubeConfigFrom,
  prometheusOption,
  selectorFilter,
  selectorOption,
  type ClusterFlags,
  type PrometheusFlags,
} from '../flags.ts';
import { checkPrometheusFlags, choosePrometheus, type PrometheusChoice } from '../prometheus-choice.ts';
import { contextNamespace, makeClients, type Clients } from '../../kube/client.ts';
import { parseQuantity } from '../../core/quantity.ts';
import { ALL_NAMESPACES, namespaces, type Scope } from '../../sources/scope.ts';
import {
  inferWorkloadFromPodName,
  listPodsWithWorkloads,
  workloadKey,
  kindLabel,
  type PodWithWorkload,
  type WorkloadRef,
} from '../../sources/workloads.ts';
import { MetricsPoller, sampleFor, type ContainerSample } from '../../sources/metrics-api.ts';
import { PrometheusClient, readPrometheusHistory } from '../../sources/prometheus.ts';
import {
  DEFAULT_RESOURCE_CONFIGS,
  UsageHistory,
  type OomRecord,
  type SeriesKey,
} from '../../sources/history.ts';
import { ESTIMATE_ANNOTATION, MODEL_LABEL } from '../../core/boost/index.ts';
import type { PriceOverrides } from '../../core/cost/index.ts';
import type { VolumesReport } from '../../core/report/model.ts';
import { volumeWasteReport } from '../../core/report/volumes.ts';
import { errorLine } from '../../kube/errors.ts';
import { DEFAULT_PRICES_CONFIGMAP, apiReader, gatherVolumes } from '../../report/gather.ts';
import { priceOverridesOf } from '../../report/prices.ts';
import { PrometheusVolumeStats } from '../../sources/volume-stats/prometheus.ts';
import {
  OUTPUT_FORMATS,
  render,
  resourceReport,
  type ContainerReport,
  type ModelEstimate,
  type OutputFormat,
  type RecommendReport,
} from './recommend-report.ts';

interface Options extends ClusterFlags, PrometheusFlags {
  namespace?: string;
  allNamespaces: boolean;
  selector?: string;
  history: string;
  sampleFor: string;
  window: string;
  output: string;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

export function defaultHistoryPath(): string {
  return join(process.env.TAILOR_HOME ?? join(homedir(), '.tailor'), 'history.db');
}

export function registerRecommend(program: Command): void {
  const cmd = program
    .command('recommend')
    .description('recommend CPU and memory requests for each workload and container, from observed usage')
    .option('-n, --namespace <ns>', "namespace to read (default: the kubeconfig context's)")
    .option('-A, --all-namespaces', 'read every namespace', false);
  selectorOption(clusterOptions(cmd), 'pods');
  prometheusOption(
    cmd,
    "read usage history from this Prometheus instead of the store, and volume waste from its kubelet volume stats (default: the cluster's, if found)",
  );
  cmd
    .option('--history <path>', 'usage history store (SQLite), read and extended', defaultHistoryPath())
    .option(
      '--sample-for <duration>',
      'sample metrics.k8s.io this long where there is no history (given explicitly: always); 0s never',
      '60s',
    )
    .option('--window <duration>', 'how far back usage counts (Prometheus read, percentiles)', '8d')
    .option('-o, --output <format>', OUTPUT_FORMATS.join('|'), 'table')
    .action(async (o: Options, cmd: Command) => {
      const format = parseFormat(o.output);
      const sampleMs = durationFlag('--sample-for', o.sampleFor);
      const windowMs = durationFlag('--window', o.window);
      if (windowMs <= 0)
        throw new TailorError('InvalidInput', '--window must be longer than 0', { hint: 'e.g. --window 8d' });
      checkNamespaceFlags(o);
      const checked = checkPrometheusFlags(o);
      const selected = selectorFilter(o.selector);
      const kc = kubeConfigFrom(o);
      const clients = makeClients(kc);
      const scope: Scope = o.allNamespaces ? ALL_NAMESPACES : namespaces(o.namespace ?? contextNamespace(kc));
      const source = await choosePrometheus(o, checked, kc, clients.core, progress);
      const report = await run(clients, scope, {
        ...o,
        ...(source !== undefined ? { source } : {}),
        selected,
        sampleMs,
        windowSeconds: windowMs / 1000,
        sampleExplicit: cmd.getOptionValueSource('sampleFor') === 'cli',
      });
      process.stdout.write(render(report, format));
    });
}

interface RunOptions extends Options {
  selected: (labels: Readonly<Record<string, string>> | undefined) => boolean;
  /** The Prometheus to read history from (given or found); absent: the store. */
  source?: PrometheusChoice;
  sampleMs: number;
  windowSeconds: number;
  sampleExplicit: boolean;
}

/** One container of one workload, with the live pods that run it. */
interface Group {
  key: SeriesKey;
  pods: k8s.V1Pod[];
}

async function run(clients: Clients, scope: Scope, o: RunOptions): Promise<RecommendReport> {
  const live = (await listPodsWithWorkloads(clients, scope)).filter((p) =>
    o.selected(p.pod.metadata?.labels),
  );
  const groups = groupContainers(live);
  const notes: string[] = [];
  const fromPrometheus = o.source !== undefined;
  const store = UsageHistory.open(fromPrometheus ? ':memory:' : o.history);
  try {
    let now = Date.now() / 1000;
    if (o.source !== undefined) {
      const resolve = podResolver(live);
      const result = await readPrometheusHistory(new PrometheusClient(o.source.client), {
        scope,
        start: now - o.windowSeconds,
        end: now,
        onChunk: (points, ooms) => {
          store.record(points.flatMap((p) => withWorkload(resolve, p)));
          store.recordOoms(ooms.flatMap((e) => withWorkload(resolve, e)));
        },
      });
      progress(
        `read ${result.points} points of ${result.containers} containers from Prometheus (OOM kills: ${result.oomSource})`,
      );
      if (result.oomSource === 'None')
        notes.push(
          'Prometheus has no OOM signal (kube-state-metrics kube_pod_container_status_restarts_total, or cAdvisor container_oom_events_total): OOM kills before now are not known.',
        );
    }
    // Prometheus may have seen the same kills a step apart: one kill, not two.
    store.recordOoms(oomsFromPods(live), fromPrometheus ? 90 : 0);

    const missing = groups.filter((g) => store.minutes(g.key, now - o.windowSeconds).length === 0);
    let sampledSeconds = 0;
    if (o.sampleMs > 0 && groups.length > 0 && (o.sampleExplicit || missing.length > 0)) {
      const why = o.sampleExplicit
        ? ''
        : ` (no usage history for ${missing.length} of ${groups.length} containers)`;
      progress(`sampling metrics.k8s.io for ${o.sampleMs / 1000}s${why}...`);
      const started = Date.now();
      const resolve = podResolver(live);
      await sampleFor(new MetricsPoller(clients.custom, scope), {
        durationMs: o.sampleMs,
        intervalMs: Math.min(15_000, Math.max(2_000, o.sampleMs / 4)),
        onSamples: (batch: ContainerSample[]) => store.record(batch.flatMap((s) => withWorkload(resolve, s))),
      });
      sampledSeconds = Math.round((Date.now() - started) / 1000);
    } else if (missing.length > 0) {
      const which = missing.length === 1 ? '1 container has' : `${missing.length} containers have`;
      notes.push(
        `${which} no usage history and sampling is off (--sample-for 0s): no recommendation without data.`,
      );
    }

    now = Date.now() / 1000;
    const volumes =
      o.source !== undefined
        ? await wastedVolumes(clients, new PrometheusClient(o.source.client), scope, now, o)
        : undefined;
    const items = groups.map((g) => containerReport(store, g, now, o.windowSeconds));
    if (items.some((i) => i.cpu.status === 'NoData' && i.memory.status === 'NoData') && sampledSeconds > 0) {
      notes.push(
        'no data: metrics.k8s.io had no usage for these containers (not running yet, or the pipeline lags a scrape).',
      );
    }
    if (!fromPrometheus) {
      store.prune(now);
      store.checkpoint(now);
    }
    return {
      apiVersion: 'tailor.dev/v1alpha1',
      kind: 'RecommendationReport',
      generatedAt: new Date(now * 1000).toISOString(),
      scope: {
        allNamespaces: scope.kind === 'AllNamespaces',
        namespaces: scope.kind === 'Namespaces' ? scope.namespaces : [],
      },
      history: {
        source: fromPrometheus ? 'Prometheus' : 'Store',
        location: o.source?.location ?? o.history,
        window: o.window,
        sampledSeconds,
        shortHistorySeconds: SHORT_HISTORY_SECONDS,
      },
      items,
      notes,
      ...(volumes ? { volumes } : {}),
    };
  } finally {
    store.close();
  }
}

/**
 * Claims never half full over the whole window, from kubelet_volume_stats_* in Prometheus, priced
 * by their StorageClass and the tailor-prices ConfigMap (when this user may read it): only the
 * namespaces in scope are read.
 */
async function wastedVolumes(
  clients: Clients,
  prometheus: PrometheusClient,
  scope: Scope,
  now: number,
  o: RunOptions,
): Promise<VolumesReport> {
  const namespaces = scope.kind === 'Namespaces' ? scope.namespaces : undefined;
  // One point per minute over a long window (the kubelet refreshes about once a minute); finer over
  // a short one, so the first step's lag is a small part of the window's coverage.
  const stepSeconds = Math.max(1, Math.min(60, Math.floor(o.windowSeconds / 240)));
  const stats = new PrometheusVolumeStats({ client: prometheus, now: () => now, stepSeconds });
  progress(`reading volume stats from Prometheus (window ${o.window})`);
  const read = apiReader(clients);
  const facts = await gatherVolumes(stats, read, now - o.windowSeconds, namespaces);
  let overrides: PriceOverrides = {};
  const extra: string[] = [];
  try {
    const cm = DEFAULT_PRICES_CONFIGMAP;
    overrides = priceOverridesOf(
      (await read.configMap(cm.namespace, cm.name))?.data,
      `ConfigMap ${cm.namespace}/${cm.name}`,
    );
  } catch (err) {
    extra.push(`price overrides not read (${errorLine(err)}): built-in storage prices`);
  }
  const v = volumeWasteReport({
    now,
    windowSeconds: o.windowSeconds,
    ...(namespaces ? { namespaces } : {}),
    facts,
    overrides,
  });
  return extra.length > 0 ? { ...v, notes: [...v.notes, ...extra] } : v;
}

/** The longest horizon over which the recommender still adds its young-history margin. */
const SHORT_HISTORY_SECONDS = Math.max(
  DEFAULT_RESOURCE_CONFIGS.cpu.shortHistorySeconds,
  DEFAULT_RESOURCE_CONFIGS.memory.shortHistorySeconds,
);

function containerReport(store: UsageHistory, g: Group, now: number, windowSeconds: number): ContainerReport {
  const rec = store.recommend(g.key, now);
  const minutes = store.minutes(g.key, now - windowSeconds);
  const info = rec.info;
  const seconds = info ? Math.max(0, info.lastSample - info.firstSample) : 0;
  const current = currentResources(g.pods, g.key.container);
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t * 1000).toISOString());
  return {
    namespace: g.key.workload.namespace,
    workload: { kind: kindLabel(g.key.workload), name: g.key.workload.name },
    container: g.key.container,
    pods: g.pods.length,
    history: {
      first: iso(info?.firstSample),
      last: iso(info?.lastSample),
      seconds: Math.round(seconds),
      minutes: minutes.length,
      short: info !== undefined && now - info.firstSample < SHORT_HISTORY_SECONDS,
      ooms: rec.ooms,
    },
    cpu: resourceReport('cpu', {
      request: current.cpuRequest,
      limit: current.cpuLimit,
      values: minutes.flatMap((m) => (m.cpuMax === undefined ? [] : [m.cpuMax])),
      recommendation: rec.cpu.recommendation,
    }),
    memory: resourceReport('memory', {
      request: current.memoryRequest,
      limit: current.memoryLimit,
      values: minutes.flatMap((m) => (m.memoryMax === undefined ? [] : [m.memoryMax])),
      recommendation: rec.memory.recommendation,
    }),
    ...estimateOf(g.pods, g.key.container),
  };
}

/** The ModelDeployment's estimate for a container, from the annotation its pod template carries. */
export function estimateOf(pods: readonly k8s.V1Pod[], container: string): { estimate?: ModelEstimate } {
  for (const p of pods) {
    const owner = p.metadata?.labels?.[MODEL_LABEL];
    const text = p.metadata?.annotations?.[ESTIMATE_ANNOTATION];
    if (owner === undefined || text === undefined) continue;
    try {
      const all = JSON.parse(text) as Record<string, { cpu?: string; memory?: string } | undefined>;
      const e = all[container];
      if (e === undefined) continue;
      return {
        estimate: {
          modelDeployment: owner,
          cpu: parseQuantity(e.cpu) ?? null,
          memory: parseQuantity(e.memory) ?? null,
        },
      };
    } catch {
      // not ours to judge: a hand-edited annotation just shows no estimate
    }
  }
  return {};
}

/** Containers that run for the pod's life: app containers and restartable init containers (sidecars). */
function runningContainers(pod: k8s.V1Pod): k8s.V1Container[] {
  return [
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ...(pod.spec?.containers ?? []),
  ];
}

export function groupContainers(live: readonly PodWithWorkload[]): Group[] {
  const groups = new Map<string, Group>();
  for (const { pod, workload } of live) {
    for (const c of runningContainers(pod)) {
      const key = `${workloadKey(workload)}/${c.name}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { key: { workload, container: c.name }, pods: [] }));
      g.pods.push(pod);
    }
  }
  return [...groups.values()].sort((a, b) =>
    `${workloadKey(a.key.workload)}/${a.key.container}`.localeCompare(
      `${workloadKey(b.key.workload)}/${b.key.container}`,
    ),
  );
}

/**
 * The requests and limits the workload's pods run with: per field the most common value, since pods
 * of one workload differ during a rollout or after an in-place resize of some of them.
 */
export function currentResources(pods: readonly k8s.V1Pod[], container: string) {
  const values = (pick: (r: k8s.V1ResourceRequirements) => string | undefined) => {
    const counts = new Map<number, number>();
    for (const p of pods) {
      const c = runningContainers(p).find((x) => x.name === container);
      const v = parseQuantity(c?.resources ? pick(c.resources) : undefined);
      if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    let best: number | undefined;
    for (const [v, n] of counts) if (best === undefined || n > counts.get(best)!) best = v;
    return best;
  };
  return {
    cpuRequest: values((r) => r.requests?.cpu),
    cpuLimit: values((r) => r.limits?.cpu),
    memoryRequest: values((r) => r.requests?.memory),
    memoryLimit: values((r) => r.limits?.memory),
  };
}

/**
 * Maps a pod named in usage data to its workload: a live pod by its owners, a pod that is gone by
 * the name its controller gave it (history of old replicas counts for the workload).
 */
function podResolver(
  live: readonly PodWithWorkload[],
): (namespace: string, pod: string) => WorkloadRef | undefined {
  const byPod = new Map(
    live.map((p) => [`${p.pod.metadata?.namespace}/${p.pod.metadata?.name}`, p.workload]),
  );
  const known = [...new Map(live.map((p) => [workloadKey(p.workload), p.workload])).values()];
  return (namespace, pod) =>
    byPod.get(`${namespace}/${pod}`) ?? inferWorkloadFromPodName(namespace, pod, known);
}

function withWorkload<T extends { namespace: string; pod: string; container: string }>(
  resolve: (namespace: string, pod: string) => WorkloadRef | undefined,
  item: T,
): (T & { workload: WorkloadRef })[] {
  const workload = resolve(item.namespace, item.pod);
  return workload ? [{ ...item, workload }] : [];
}

/** OOM kills the API still shows: the last (or current) termination of each container. */
export function oomsFromPods(live: readonly PodWithWorkload[]): OomRecord[] {
  const out: OomRecord[] = [];
  for (const { pod, workload } of live) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const s of statuses) {
      const spec = runningContainers(pod).find((c) => c.name === s.name);
      // Usage at the kill is not in the API; the limit it hit is the best lower estimate.
      const usage =
        parseQuantity(spec?.resources?.limits?.memory) ?? parseQuantity(spec?.resources?.requests?.memory);
      for (const term of [s.lastState?.terminated, s.state?.terminated]) {
        if (term?.reason !== 'OOMKilled' || !usage) continue;
        const at = term.finishedAt ?? term.startedAt;
        if (!at) continue;
        out.push({
          workload,
          container: s.name,
          pod: pod.metadata?.name ?? '',
          t: new Date(at).getTime() / 1000,
          usageBytes: usage,
        });
      }
    }
  }
  return out;
}

function parseFormat(value: string): OutputFormat {
  const found = OUTPUT_FORMATS.find((f) => f === value);
  if (!found) {
    throw new TailorError('InvalidInput', `unknown output format "${value}"`, {
      hint: `use -o ${OUTPUT_FORMATS.join(', -o ')}`,
    });
  }
  return found;
}
