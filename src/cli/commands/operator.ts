// `tailor operator`: runs the controllers continuously against a cluster until SIGINT/SIGTERM
// (the sizing controller today), with its usage history, /metrics, /healthz and /readyz.
import type { Command } from 'commander';
import { pino } from 'pino';
import { durationFlag } from '../flags.ts';
import { TailorError } from '../../errors.ts';
import { loadKubeConfig } from '../../kube/client.ts';
import { startOperator } from '../../operator/index.ts';
import { PrometheusClient } from '../../sources/prometheus.ts';
import { defaultHistoryPath } from './recommend.ts';
import { list, parseSecretRef, parseService } from './webhook.ts';
import { parseAddr } from '../../operator/http.ts';
import { serviceHosts } from '../../webhook/certs.ts';
import type { OperatorWebhookOptions } from '../../operator/index.ts';

interface Options {
  kubeconfig?: string;
  history: string;
  pollInterval: string;
  metricsAddr: string;
  dryRun: boolean;
  namespace?: string;
  minHistory: string;
  logLevel: string;
  installCrds: boolean;
  webhook?: string | boolean;
  webhookServeAs?: string;
  webhookService?: string;
  webhookTlsSecret?: string;
  prometheusUrl?: string;
}

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description(
      'run continuously: keep SizingPolicy status current and resize pods in place (InPlace, Auto), react to OOM kills',
    )
    .option('--kubeconfig <path>', 'cluster (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--history <path>', 'usage history store (SQLite); survives restarts', defaultHistoryPath())
    .option('--poll-interval <duration>', 'how often metrics.k8s.io is polled', '15s')
    .option('--metrics-addr <host:port>', '/metrics, /healthz and /readyz ("0" turns it off)', ':8080')
    .option('--dry-run', 'compute, log and write status; never resize or evict a pod', false)
    .option('-n, --namespace <ns>', 'watch and act in this namespace only (default: every namespace)')
    .option(
      '--min-history <duration>',
      'apply a recommendation only once its history is this long (OOM raises never wait)',
      '10m',
    )
    .option(
      '--no-install-crds',
      'do not create or update the CRDs at start (deploy/crds applied by other means)',
    )
    .option(
      '--webhook [host:port]',
      'also serve the admission webhook (new pods start with their recommendation) and register it; default address 127.0.0.1:9443',
    )
    .option('--webhook-serve-as <names>', 'host names or IPs the apiserver dials, comma-separated')
    .option(
      '--webhook-tls-secret <[namespace/]name>',
      "the webhook's CA and serving certificate, kept and reused across restarts and replicas (cert-manager's Secret when its annotation is on the configuration); default <operator namespace>/tailor-webhook-tls",
    )
    .option(
      '--webhook-service <namespace/name[:port]>',
      'in-cluster: register the webhook behind this Service instead of its URL',
    )
    .option(
      '--prometheus-url <url>',
      'Prometheus for policies with history.source Prometheus and no history.prometheusURL',
    )
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .action(async (o: Options) => run(o));
}

async function run(o: Options): Promise<void> {
  const pollMs = durationFlag('--poll-interval', o.pollInterval);
  if (pollMs < 1000)
    throw new TailorError('InvalidInput', `--poll-interval ${o.pollInterval} is under 1s`, {
      hint: 'metrics.k8s.io refreshes every 15 s or so; e.g. --poll-interval 15s',
    });
  const minHistoryMs = durationFlag('--min-history', o.minHistory);
  // A malformed --prometheus-url fails here, at start, rather than on each policy that uses it.
  if (o.prometheusUrl) {
    try {
      new PrometheusClient({ baseUrl: o.prometheusUrl });
    } catch (cause) {
      throw new TailorError('InvalidInput', `--prometheus-url "${o.prometheusUrl}" is not an http(s) URL`, {
        cause,
        hint: 'give the Prometheus server root, e.g. --prometheus-url http://prometheus-server.monitoring:9090',
      });
    }
  }
  const log = pino({ name: 'tailor-operator', level: o.logLevel });
  const operator = await startOperator({
    kc: loadKubeConfig(o.kubeconfig),
    historyPath: o.history,
    pollIntervalMs: pollMs,
    ...(o.metricsAddr !== '0' ? { metricsAddr: o.metricsAddr } : {}),
    dryRun: o.dryRun,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    log,
    processMetrics: true,
    installCrds: o.installCrds,
    sizing: { minHistorySeconds: minHistoryMs / 1000 },
    ...(o.webhook || o.webhookServeAs || o.webhookService || o.webhookTlsSecret
      ? { webhook: webhookOptions(o) }
      : {}),
    ...(o.prometheusUrl ? { prometheusUrl: o.prometheusUrl } : {}),
  });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'stopping');
      void operator.stop().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

function webhookOptions(o: Options): OperatorWebhookOptions {
  if ((o.webhookServeAs || o.webhookService || o.webhookTlsSecret) && !o.webhook)
    throw new TailorError(
      'InvalidInput',
      '--webhook-serve-as, --webhook-service and --webhook-tls-secret need --webhook',
    );
  const { host, port } = parseAddr(typeof o.webhook === 'string' ? o.webhook : '127.0.0.1:9443');
  const service = o.webhookService ? parseService(o.webhookService) : undefined;
  const serveAs = [
    ...list(o.webhookServeAs ?? ''),
    ...(service ? serviceHosts(service.namespace, service.name) : []),
  ];
  return {
    host,
    port,
    ...(serveAs.length > 0 ? { serveAs } : {}),
    ...(o.webhookTlsSecret ? { tlsSecret: parseSecretRef(o.webhookTlsSecret, '--webhook-tls-secret') } : {}),
    register: service ? { endpoint: service } : {},
  };
}
