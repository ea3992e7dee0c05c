// `tailor report`: what was requested, used and recommended per workload, namespace and cluster, and
// the money and CO2e Tailor saved (realised, from its records) and could save (available), built by
// the same gather + build code as the operator's /ui.
import type { Command } from 'commander';
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
import { contextNamespace, makeClients } from '../../kube/client.ts';
import {
  DEFAULT_PRICES_CONFIGMAP,
  apiReader,
  nodeEventsReader,
  reportProvider,
  type ReportReader,
} from '../../report/gather.ts';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../../report/format/index.ts';
import type { Report, ReportQuery } from '../../core/report/model.ts';
import { PrometheusClient } from '../../sources/prometheus.ts';
import { PrometheusVolumeStats } from '../../sources/volume-stats/prometheus.ts';
import { checkPrometheusFlags, choosePrometheus } from '../prometheus-choice.ts';

export interface ReportOptions extends ClusterFlags, PrometheusFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  since: string;
  output: string;
  pricesConfigmap?: string;
}

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description(
      'requested, used and recommended resources, and the money and CO2e saved, per workload, namespace and cluster',
    )
    .option('-n, --namespace <ns>', "namespace to report (default: the kubeconfig context's)")
    .option('-A, --all-namespaces', 'report every namespace', false)
    .option('--since <duration>', 'how far back realised savings and usage count', '7d')
    .option('-o, --output <format>', REPORT_FORMATS.join('|'), 'table');
  selectorOption(clusterOptions(cmd), "pods (live ones, and Tailor's records of those deleted)");
  prometheusOption(
    cmd,
    "read kubelet volume stats from this Prometheus: the report shows volume waste (default: the cluster's, if found)",
  );
  cmd
    .option(
      '--prices-configmap <namespace/name>',
      'ConfigMap with price overrides',
      `${DEFAULT_PRICES_CONFIGMAP.namespace}/${DEFAULT_PRICES_CONFIGMAP.name}`,
    )
    .action(async (o: ReportOptions) => {
      process.stdout.write(await runReport(o, (line) => process.stderr.write(`${line}\n`)));
    });
}

/** The command without the process: flags in, the rendered report out (tests call it in-process). */
export async function runReport(
  o: ReportOptions,
  progress: (line: string) => void = () => {},
): Promise<string> {
  const { report, format } = await reportFor(o, progress);
  return renderReport(report, format);
}

export async function reportFor(
  o: ReportOptions,
  progress: (line: string) => void = () => {},
): Promise<{ report: Report; format: ReportFormat }> {
  // 1. Every flag checked before anything connects.
  const format = REPORT_FORMATS.find((f) => f === o.output);
  if (!format)
    throw new TailorError('InvalidInput', `-o ${o.output}: expected ${REPORT_FORMATS.join(', ')}`, {
      hint: 'e.g. -o table',
    });
  const sinceMs = durationFlag('--since', o.since);
  if (sinceMs <= 0)
    throw new TailorError('InvalidInput', '--since must be longer than 0', { hint: 'e.g. --since 7d' });
  checkNamespaceFlags(o);
  const prices = pricesFlag(o.pricesConfigmap);
  const selected = selectorFilter(o.selector);
  const checked = checkPrometheusFlags(o);
  // 2. The cluster.
  const kc = kubeConfigFrom(o);
  const clients = makeClients(kc);
  const q: ReportQuery = {
    sinceSeconds: sinceMs / 1000,
    ...(o.allNamespaces ? {} : { namespaces: [o.namespace ?? contextNamespace(kc)] }),
  };
  // 3. Volume stats: the Prometheus given, or the cluster's if one is found (said in one line).
  const prometheus = await choosePrometheus(o, checked, kc, clients.core, progress);
  // The Node events: the nodes a scale-down removed (the report's realised node savings).
  const read = { ...apiReader(clients), ...nodeEventsReader(clients) };
  const report = await reportProvider(selectedPods(read, o.selector, selected), {
    pricesConfigMap: prices,
    progress,
    ...(prometheus !== undefined
      ? {
          volumeStats: new PrometheusVolumeStats({
            client: new PrometheusClient(prometheus.client),
            // One point a minute over a long range, finer over a short one (src/cli/commands/recommend.ts).
            stepSeconds: Math.max(1, Math.min(60, Math.floor(q.sinceSeconds / 240))),
          }),
        }
      : {}),
    ...(o.selector !== undefined ? { selected } : {}),
  })(q);
  return { report, format };
}

export function pricesFlag(value: string | undefined): { namespace: string; name: string } {
  if (value === undefined) return DEFAULT_PRICES_CONFIGMAP;
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(value);
  if (!m)
    throw new TailorError('InvalidInput', `--prices-configmap "${value}" is not NAMESPACE/NAME`, {
      hint: 'e.g. --prices-configmap tailor-system/tailor-prices',
    });
  return { namespace: m[1]!, name: m[3]! };
}

/**
 * The reader with -l applied to the live pods (requested, used, recommended, available savings);
 * gather applies it to Tailor's records (realised savings) by the labels they keep.
 */
function selectedPods(
  read: ReportReader,
  text: string | undefined,
  selected: (labels: Readonly<Record<string, string>> | undefined) => boolean,
): ReportReader {
  if (text === undefined) return read;
  return {
    ...read,
    pods: async (namespaces) => (await read.pods(namespaces)).filter((p) => selected(p.pod.metadata?.labels)),
  };
}
