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
import type { ModelDeployment } from '../../api/modeldeployment.ts';
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
  kvCacheUsageP95: string;
  requestsWaitingP95: string;
  /** Peak framebuffer used per GPU, in bytes. */
  gpuMemoryUsedBytes: string;
}

/** A Prometheus regex matching the pods of a Deployment named `name` (name-<template hash>-<suffix>). */
function podPattern(name: string): string {
  return `${name.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')}-[a-z0-9]+-[a-z0-9]+`;
}

/**
 * The PromQL for one ModelDeployment's pods over a window: the highest per-pod p95 (vLLM and llama.cpp
 * metric names), and the peak DCGM framebuffer used (MiB, as DCGM reports it) in bytes.
 */
export function adviseQueries(namespace: string, name: string, windowSeconds: number): AdviseQueries {
  const ns = namespace.replace(/[\\"]/g, '\\$&');
  const sel = (names: string) => `{__name__=~"${names}",namespace="${ns}",pod=~"${podPattern(name)}"}`;
  const w = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  return {
    kvCacheUsageP95: `max(quantile_over_time(0.95, ${sel('vllm:kv_cache_usage_perc|llamacpp:kv_cache_usage_ratio')}${w}))`,
    requestsWaitingP95: `max(quantile_over_time(0.95, ${sel('vllm:num_requests_waiting|llamacpp:requests_deferred')}${w}))`,
    gpuMemoryUsedBytes: `max(max_over_time(${sel('DCGM_FI_DEV_FB_USED')}${w})) * 1048576`,
  };
}

/** The single value of an aggregated query, or undefined when there were no series. */
export function scalarOf(
  series: readonly { values: readonly (readonly [number, number])[] }[],
): number | undefined {
  const v = series[0]?.values.at(-1)?.[1];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** Live metrics from the three query answers; undefined unless both KV-cache and waiting figures exist. */
export function liveMetrics(
  kv: number | undefined,
  waiting: number | undefined,
  gpuMemory: number | undefined,
): LiveMetrics | undefined {
  if (kv === undefined || waiting === undefined) return undefined;
  return {
    kvCacheUsageP95: Math.round(kv * 1000) / 1000,
    requestsWaitingP95: Math.round(waiting * 100) / 100,
    ...(gpuMemory !== undefined && gpuMemory > 0 ? { gpuMemoryUsedBytes: gpuMemory } : {}),
  };
}

export interface AdviseItem {
  namespace: string;
  name: string;
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
  prometheusOption(cmd, 'Prometheus scraping the model servers (vLLM/llama.cpp) and DCGM');
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
    const item: AdviseItem = { namespace: ns, name, gpu, advice: [] };
    items.push(item);
    const q = adviseQueries(ns, name, windowSeconds);
    const live = liveMetrics(
      await one(q.kvCacheUsageP95),
      await one(q.requestsWaitingP95),
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
    item.advice = advise(r.value.estimate, live, {
      gpu: gpu.type,
      gpus: gpu.count,
      ...(md.spec.serving.gpuMemoryUtilization !== undefined
        ? { gpuMemoryUtilization: md.spec.serving.gpuMemoryUtilization }
        : {}),
      ...(md.spec.serving.maxSequences !== undefined ? { maxNumSeqs: md.spec.serving.maxSequences } : {}),
    });
    if (item.advice.length === 0) item.note = `${name} is sized right for its live load`;
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
        `  live (${window}): KV cache p95 ${Math.round(i.live.kvCacheUsageP95 * 100)}%, waiting p95 ${i.live.requestsWaitingP95}${mem}`,
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
