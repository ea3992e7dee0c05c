// `tailor advise`: for each ModelDeployment in scope, its pods' live serving figures from Prometheus
// (p95 KV-cache usage and waiting requests over a window, peak GPU memory used) against the estimate,
// and what to change: a smaller GPU or MIG slice, gpu_memory_utilization, or more sequences.
import type { Command } from 'commander';
import { TailorError } from '../../errors.ts';
import { GROUP, VERSION } from '../../api/common.ts';
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
import type { ModelDeployment, RuntimeName } from '../../api/modeldeployment.ts';
import { p95Query, type SignalQuery } from '../../core/llm/runtime-metrics.ts';
import { contextNamespace, makeClients, type Clients } from '../../kube/client.ts';
import { PrometheusClient } from '../../sources/prometheus.ts';
import { PASS_PROMETHEUS_HINT } from '../../sources/prometheus-discovery.ts';
import { checkPrometheusFlags, choosePrometheus } from '../prometheus-choice.ts';
import { advise, type Advice, type LiveMetrics } from '../../core/gpu/advise.ts';
import { resolve, secretReader } from '../../controllers/models/resolve.ts';

export const ADVISE_FORMATS = ['table', 'json'] as const;
export type AdviseFormat = (typeof ADVISE_FORMATS)[number];

interface Options extends ClusterFlags, PrometheusFlags {
  namespace?: string;
  allNamespaces: boolean;
  selector?: string;
  window: string;
  output: string;
}

export interface AdviseQueries {
  /** By the runtime's own metric names (src/core/llm/runtime-metrics.ts), or why it has none. */
  kvCacheUsageP95: SignalQuery;
  requestsWaitingP95: SignalQuery;
  /** Peak framebuffer used per GPU, in bytes. */
  gpuMemoryUsedBytes: string;
}

/** A Prometheus regex matching the pods of a Deployment named `name` (name-<template hash>-<suffix>). */
function podPattern(name: string): string {
  return `${name.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')}-[a-z0-9]+-[a-z0-9]+`;
}

/**
 * The PromQL for one ModelDeployment's pods over a window: the highest per-pod p95 of KV-cache usage
 * and waiting requests by its runtime's own names, and the peak DCGM framebuffer used (MiB, as DCGM
 * reports it) in bytes.
 */
export function adviseQueries(
  namespace: string,
  name: string,
  runtime: RuntimeName,
  windowSeconds: number,
): AdviseQueries {
  const pods = { namespace, podRegex: podPattern(name) };
  const ns = namespace.replace(/[\\"]/g, '\\$&');
  const w = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  return {
    kvCacheUsageP95: p95Query(runtime, 'kvCacheUsage', pods, windowSeconds),
    requestsWaitingP95: p95Query(runtime, 'requestsWaiting', pods, windowSeconds),
    gpuMemoryUsedBytes: `max(max_over_time(DCGM_FI_DEV_FB_USED{namespace="${ns}",pod=~"${pods.podRegex}"}${w})) * 1048576`,
  };
}

/** The single value of an aggregated query, or undefined when there were no series. */
export function scalarOf(
  series: readonly { values: readonly (readonly [number, number])[] }[],
): number | undefined {
  const v = series[0]?.values.at(-1)?.[1];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/**
 * Live metrics from the query answers: undefined when a figure the runtime exports has no series
 * (nothing scraped yet); a KV-cache usage the runtime does not export is left out.
 */
export function liveMetrics(
  kv: number | 'NotExported' | undefined,
  waiting: number | undefined,
  gpuMemory: number | undefined,
): LiveMetrics | undefined {
  if (kv === undefined || waiting === undefined) return undefined;
  return {
    ...(kv !== 'NotExported' ? { kvCacheUsageP95: Math.round(kv * 1000) / 1000 } : {}),
    requestsWaitingP95: Math.round(waiting * 100) / 100,
    ...(gpuMemory !== undefined && gpuMemory > 0 ? { gpuMemoryUsedBytes: gpuMemory } : {}),
  };
}

export interface AdviseItem {
  namespace: string;
  name: string;
  runtime: RuntimeName;
  gpu: { type: string; count: number };
  live?: LiveMetrics;
  advice: Advice[];
  /** Why there is no advice to give (no live metrics, no estimate). */
  note?: string;
}

export function registerAdvise(program: Command): void {
  const cmd = program
    .command('advise')
    .description(
      'advise a smaller GPU or MIG slice, gpu_memory_utilization or more sequences for each ModelDeployment, from live metrics',
    )
    .option('-n, --namespace <ns>', "namespace to read (default: the kubeconfig context's)")
    .option('-A, --all-namespaces', 'read every namespace', false);
  selectorOption(clusterOptions(cmd), 'ModelDeployments');
  prometheusOption(cmd, 'Prometheus scraping the model servers (vllm:*, llamacpp:*, tgi_*) and DCGM');
  cmd
    .option('--window <duration>', 'how far back the p95 and peak are read', '1h')
    .option('-o, --output <format>', ADVISE_FORMATS.join('|'), 'table')
    .action(async (o: Options) => {
      const format = ADVISE_FORMATS.find((f) => f === o.output);
      if (!format) {
        throw new TailorError('InvalidInput', `unknown output format "${o.output}"`, {
          hint: `use -o ${ADVISE_FORMATS.join(', -o ')}`,
        });
      }
      const checked = checkPrometheusFlags(o);
      const windowMs = durationFlag('--window', o.window);
      if (!(windowMs > 0))
        throw new TailorError('InvalidInput', '--window must be longer than 0', { hint: 'e.g. --window 1h' });
      checkNamespaceFlags(o);
      const selected = selectorFilter(o.selector);
      const kc = kubeConfigFrom(o);
      const clients = makeClients(kc);
      const ns = o.allNamespaces ? undefined : (o.namespace ?? contextNamespace(kc));
      const say = (line: string) => process.stderr.write(`${line}\n`);
      const source = await choosePrometheus(o, checked, kc, clients.core, say);
      if (source === undefined) {
        throw new TailorError('InvalidInput', 'advise reads Prometheus: none given and none found', {
          hint: PASS_PROMETHEUS_HINT,
        });
      }
      const prom = new PrometheusClient({ timeoutMs: 30_000, ...source.client });
      const items = await run(clients, prom, ns, windowMs / 1000, selected);
      process.stdout.write(
        format === 'json' ? `${JSON.stringify({ items }, null, 2)}\n` : table(items, o.window),
      );
    });
}

async function listModels(clients: Clients, namespace: string | undefined): Promise<ModelDeployment[]> {
  const common = { group: GROUP, version: VERSION, plural: 'modeldeployments' };
  const list = (
    namespace === undefined
      ? await clients.custom.listClusterCustomObject(common)
      : await clients.custom.listNamespacedCustomObject({ ...common, namespace })
  ) as { items?: ModelDeployment[] };
  return (list.items ?? []).sort(
    (a, b) =>
      a.metadata.namespace!.localeCompare(b.metadata.namespace!) ||
      a.metadata.name!.localeCompare(b.metadata.name!),
  );
}

async function run(
  clients: Clients,
  prom: PrometheusClient,
  namespace: string | undefined,
  windowSeconds: number,
  selected: (labels: Readonly<Record<string, string>> | undefined) => boolean,
): Promise<AdviseItem[]> {
  const now = Math.floor(Date.now() / 1000);
  // Unreachable or not Prometheus: fail before anything else, with the client's hint.
  await prom.queryRange('vector(1)', now, now, 60);
  const models = (await listModels(clients, namespace)).filter((md) => selected(md.metadata.labels));
  const one = async (q: string) => scalarOf(await prom.queryRange(q, now, now, 60));
  const readSecret = secretReader(clients.core);
  const items: AdviseItem[] = [];
  for (const md of models) {
    const ns = md.metadata.namespace!;
    const name = md.metadata.name!;
    const gpu = {
      type: md.status?.gpu?.type ?? md.spec.gpu.type,
      count: md.status?.gpu?.count ?? md.spec.gpu.count ?? 0,
    };
    const runtime = md.spec.runtime.name;
    const item: AdviseItem = { namespace: ns, name, runtime, gpu, advice: [] };
    items.push(item);
    const q = adviseQueries(ns, name, runtime, windowSeconds);
    const read = async (sq: SignalQuery) => {
      switch (sq.kind) {
        case 'Query':
          return one(sq.promql);
        case 'Absent':
          return undefined;
      }
    };
    if (q.requestsWaitingP95.kind === 'Absent') {
      item.note = `no live metrics for ${name}: ${q.requestsWaitingP95.why}`;
      continue;
    }
    const live = liveMetrics(
      q.kvCacheUsageP95.kind === 'Absent' ? 'NotExported' : await read(q.kvCacheUsageP95),
      await read(q.requestsWaitingP95),
      await one(q.gpuMemoryUsedBytes),
    );
    if (live === undefined) {
      item.note = `no live metrics for ${name}`;
      continue;
    }
    item.live = live;
    const r = await resolve(md, { hub: {}, readSecret });
    if (r.kind === 'Problem') {
      item.note = `no estimate for ${name}: ${r.problem.message}`;
      continue;
    }
    if (gpu.count === 0 || gpu.type === 'cpu') {
      item.note = `${name} runs on CPU: no GPU to advise on`;
      continue;
    }
    if (gpu.type === 'auto') {
      item.note = `${name} has no GPU chosen yet (status.gpu)`;
      continue;
    }
    if (live.kvCacheUsageP95 === undefined && q.kvCacheUsageP95.kind === 'Absent')
      item.note = `no KV-cache advice for ${name}: ${q.kvCacheUsageP95.why}`;
    item.advice = advise(r.value.estimate, live, {
      gpu: gpu.type,
      gpus: gpu.count,
      ...(md.spec.serving.gpuMemoryUtilization !== undefined
        ? { gpuMemoryUtilization: md.spec.serving.gpuMemoryUtilization }
        : {}),
      ...(md.spec.serving.maxSequences !== undefined ? { maxNumSeqs: md.spec.serving.maxSequences } : {}),
    });
    if (item.advice.length === 0 && item.note === undefined)
      item.note = `${name} is sized right for its live load`;
  }
  return items;
}

export function table(items: readonly AdviseItem[], window: string): string {
  if (items.length === 0) return 'no ModelDeployments in scope\n';
  const out: string[] = [];
  for (const i of items) {
    out.push(
      `${i.namespace}/${i.name}  GPU now: ${i.gpu.count === 0 ? 'cpu' : `${i.gpu.count} x ${i.gpu.type}`}`,
    );
    if (i.live) {
      const mem =
        i.live.gpuMemoryUsedBytes !== undefined
          ? `, GPU memory peak ${(i.live.gpuMemoryUsedBytes / 2 ** 30).toFixed(1)} GiB`
          : '';
      out.push(
        `  live (${window}): KV cache p95 ${i.live.kvCacheUsageP95 !== undefined ? `${Math.round(i.live.kvCacheUsageP95 * 100)}%` : 'not exported'}, waiting p95 ${i.live.requestsWaitingP95}${mem}`,
      );
    }
    for (const a of i.advice) {
      const saving = a.hourlySaving !== undefined ? ` (saves $${a.hourlySaving}/h per replica)` : '';
      out.push(`  ${a.kind}: ${a.message}${saving}`);
    }
    if (i.note) out.push(`  ${i.note}`);
  }
  return `${out.join('\n')}\n`;
}
