// `tailor operator`: runs the controllers continuously against a cluster until SIGINT/SIGTERM
// (the sizing controller today), with its usage history, /metrics, /healthz and /readyz.
import type { Command } from 'commander';
import { LOG_FORMAT_HELP, logFormatFlag, makeLogger } from '../../logging/logger.ts';
import { Option } from 'commander';
import {
  clusterOptions,
  durationFlag,
  kubeConfigFrom,
  logLevelFlag,
  positiveDuration,
  prometheusAuthFrom,
  type ClusterFlags,
} from '../flags.ts';
import { makeClients } from '../../kube/client.ts';
import { discoverPrometheus } from '../../sources/prometheus-discovery.ts';
import { DEFAULT_SOURCE, type SourceAuth } from '../../operator/prometheus-sources.ts';
import { TailorError } from '../../errors.ts';
import { startOperator } from '../../operator/index.ts';
import { exitOnUnexpected } from '../crash.ts';
import { sizeOf, sourcesFromFlags } from '../../operator/prometheus-sources.ts';
import { defaultHistoryPath } from './recommend.ts';
import { list, parseSecretRef, parseService } from './webhook.ts';
import { parseAddr } from '../../operator/http.ts';
import { serviceHosts } from '../../webhook/certs.ts';
import type { OperatorWebhookOptions } from '../../operator/index.ts';
import { ALLOWED_IMAGE_HELP, collectAllowedImage } from './models.ts';
import { pricesFlag } from './report.ts';
import { DEFAULT_LEASE_NAME } from '../../operator/leader-election.ts';
import { leaseHome, parseBool } from './leader-election-flags.ts';

interface Options extends ClusterFlags {
  history: string;
  pollInterval: string;
  metricsAddr: string;
  dryRun: boolean;
  namespace?: string;
  minHistory?: string;
  clockSpeed?: string;
  logLevel: string;
  logFormat: string;
  installCrds: boolean;
  webhook?: string | boolean;
  webhookServeAs?: string;
  webhookService?: string;
  prometheus?: string[];
  webhookTlsSecret?: string;
  prometheusUrl?: string;
  prometheusConfig?: string;
  prometheusTimeout: string;
  prometheusMaxResponse: string;
  prometheusBearerTokenFile?: string;
  prometheusBasicAuthFile?: string;
  prometheusCaFile?: string;
  prometheusDiscoveryNamespaces?: string;
  allowedImage: string[];
  notificationsConfigmap: string;
  pricesConfigmap: string;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId: string;
  kubeletInsecureTls: boolean;
}

export function registerOperator(program: Command): void {
  const cmd = program
    .command('operator')
    .description(
      'run continuously: keep SizingPolicy status current and resize pods in place (InPlace, Auto), react to OOM kills',
    );
  clusterOptions(cmd)
    .option('--history <path>', 'usage history store (SQLite); survives restarts', defaultHistoryPath())
    .option('--poll-interval <duration>', 'how often metrics.k8s.io is polled', '15s')
    .option(
      '--metrics-addr <host:port>',
      '/metrics, /healthz, /readyz and the /ui dashboard ("0" turns it off)',
      ':8080',
    )
    .option('--dry-run', 'compute, log and write status; never resize or evict a pod', false)
    .option('-n, --namespace <ns>', 'watch and act in this namespace only (default: every namespace)')
    .option(
      '--min-history <duration>',
      'lower nothing until a series has this much history (default: min(history.window, 24h) per policy; raises and OOM raises never wait)',
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
      '--prometheus <[name=]url>',
      'a Prometheus server policies may read (history.prometheus: NAME); a bare URL is the source "default", read by policies naming none; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option('--prometheus-url <url>', 'deprecated: --prometheus URL (the source "default")').hideHelp(),
    )
    .option(
      '--prometheus-config <file>',
      'YAML file of Prometheus sources (name, url, bearerTokenFile, caFile, timeout, maxResponseSize), e.g. a mounted ConfigMap',
    )
    .option(
      '--prometheus-bearer-token-file <file>',
      'send the token in this file (read at each request) to the source "default" (a bare --prometheus URL, or the one discovered)',
    )
    .option(
      '--prometheus-basic-auth-file <file>',
      'send the "user:password" in this file to the source "default" (basic auth)',
    )
    .option(
      '--prometheus-ca-file <file>',
      'PEM bundle the source "default"\'s https certificate must chain to',
    )
    .option(
      '--prometheus-discovery-namespaces <ns,...>',
      'without a bare --prometheus URL, look for a Prometheus Service with well-known labels (kube-prometheus-stack, prometheus-community, Thanos, VictoriaMetrics) in these namespaces only, and make it the source "default" (needs list on services there)',
    )
    .option('--prometheus-timeout <duration>', 'per Prometheus request, unless a source sets its own', '30s')
    .option(
      '--prometheus-max-response <size>',
      'largest Prometheus answer read (larger ones are aborted), unless a source sets its own',
      '32Mi',
    )
    .option(
      '--kubelet-insecure-tls',
      "volume usage without --prometheus comes from each kubelet's Summary API: do not verify the kubelets' serving certificates (as metrics-server's flag)",
      false,
    )
    .option('--allowed-image <prefix>', ALLOWED_IMAGE_HELP, collectAllowedImage, [])
    .addOption(
      new Option(
        '--clock-speed <n>',
        "development only: the cluster is Tailor's simulator running n times faster than the wall clock; the recommender's half-lives and windows are divided by n",
      ).hideHelp(),
    )
    .option(
      '--notifications-configmap <namespace/name>',
      'the notifications ConfigMap (receivers, routes); its Secrets are read in the same namespace; absent: no notifications',
      'tailor-system/tailor-notifications',
    )
    .option(
      '--prices-configmap <namespace/name>',
      'the price and carbon overrides ConfigMap the savings report reads (see README, Prices and carbon)',
      'tailor-system/tailor-prices',
    )
    .option(
      '--leader-elect [bool]',
      'run the controllers only while holding the leader Lease, so several replicas can run (every one serves the webhook); --leader-elect=false for one process alone',
      parseBool('--leader-elect'),
      true,
    )
    .option(
      '--leader-election-namespace <ns>',
      "the leader Lease's namespace (default: $POD_NAMESPACE or the pod's own in a cluster; else tailor-system, created if missing)",
    )
    .option('--leader-election-id <name>', "the leader Lease's name", DEFAULT_LEASE_NAME)
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .option('--log-format <format>', LOG_FORMAT_HELP, 'auto')
    .action(async (o: Options) => run(o));
}

async function run(o: Options): Promise<void> {
  const pollMs = durationFlag('--poll-interval', o.pollInterval);
  if (pollMs < 1000)
    throw new TailorError('InvalidInput', `--poll-interval ${o.pollInterval} is under 1s`, {
      hint: 'metrics.k8s.io refreshes every 15 s or so; e.g. --poll-interval 15s',
    });
  const minHistoryMs = o.minHistory === undefined ? undefined : durationFlag('--min-history', o.minHistory);
  const clockSpeed = o.clockSpeed === undefined ? 1 : Number(o.clockSpeed);
  if (!(clockSpeed >= 1 && clockSpeed <= 10_000))
    throw new TailorError('InvalidInput', `--clock-speed ${o.clockSpeed} is not a number from 1 to 10000`, {
      hint: 'leave it out on a real cluster; with the simulator pass its speed, e.g. --clock-speed 60',
    });
  // A bad Prometheus source (name, URL, token or CA file) fails here, at start, rather than on
  // each policy that names it.
  if (o.prometheusUrl !== undefined)
    process.stderr.write('tailor: --prometheus-url is deprecated; use --prometheus\n');
  const auth: SourceAuth = prometheusAuthFrom({
    ...(o.prometheusBearerTokenFile !== undefined
      ? { prometheusBearerTokenFile: o.prometheusBearerTokenFile }
      : {}),
    ...(o.prometheusBasicAuthFile !== undefined
      ? { prometheusBasicAuthFile: o.prometheusBasicAuthFile }
      : {}),
    ...(o.prometheusCaFile !== undefined ? { prometheusCaFile: o.prometheusCaFile } : {}),
  });
  const discoveryNamespaces =
    o.prometheusDiscoveryNamespaces === undefined
      ? undefined
      : namespaceList(o.prometheusDiscoveryNamespaces, '--prometheus-discovery-namespaces');
  const sourceFlags = {
    ...(o.prometheus ? { prometheus: o.prometheus } : {}),
    ...(o.prometheusUrl !== undefined ? { prometheusUrl: o.prometheusUrl } : {}),
    ...(o.prometheusConfig !== undefined ? { prometheusConfig: o.prometheusConfig } : {}),
    defaults: {
      timeoutMs: positiveDuration('--prometheus-timeout', o.prometheusTimeout),
      maxResponseBytes: sizeOf(o.prometheusMaxResponse, '--prometheus-max-response'),
    },
    auth,
  };
  let prometheusSources = sourcesFromFlags(sourceFlags);
  const hasDefault = prometheusSources.some((s) => s.name === DEFAULT_SOURCE);
  if (!hasDefault && discoveryNamespaces === undefined && Object.keys(auth).length > 0)
    throw new TailorError('InvalidInput', '--prometheus-*-file flags need the source "default"', {
      hint: 'they go to a bare --prometheus URL (or the one --prometheus-discovery-namespaces finds); for named sources put bearerTokenFile, basicAuthFile, caFile in --prometheus-config',
    });
  const notifications = notificationsConfigMap(o.notificationsConfigmap);
  const prices = pricesFlag(o.pricesConfigmap);
  const level = logLevelFlag(o.logLevel);
  // The address is read here too, so a typo fails before anything connects to the cluster.
  if (o.metricsAddr !== '0') parseAddr(o.metricsAddr);
  const format = logFormatFlag(o.logFormat);
  const log = makeLogger({ name: 'tailor-operator', level, format, fd: 1 });
  // Anything nothing caught ends the process (non-zero): running on in a state no code expected is
  // how an operator harms a workload.
  exitOnUnexpected(process, log);
  const kc = kubeConfigFrom(o);
  if (!hasDefault && discoveryNamespaces !== undefined) {
    // Only where the admin said: a tenant able to create a Service elsewhere must never choose
    // which URL the operator reads. Reached at its cluster DNS name (the operator runs in a pod).
    const d = await discoverPrometheus(kc, makeClients(kc).core, {
      reach: 'ClusterDns',
      namespaces: discoveryNamespaces,
    });
    if (d.kind === 'Found') {
      log.info(d.line);
      prometheusSources = sourcesFromFlags({
        ...sourceFlags,
        prometheus: [...(o.prometheus ?? []), d.client.baseUrl],
      });
    } else log.warn(d.line);
  }
  const operator = await startOperator({
    kc,
    historyPath: o.history,
    pollIntervalMs: pollMs,
    ...(o.metricsAddr !== '0' ? { metricsAddr: o.metricsAddr } : {}),
    dryRun: o.dryRun,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    log,
    processMetrics: true,
    installCrds: o.installCrds,
    sizing: {
      ...(minHistoryMs === undefined ? {} : { minHistorySeconds: minHistoryMs / 1000 }),
      ...(clockSpeed !== 1 ? { clockSpeed } : {}),
    },
    ...(o.webhook || o.webhookServeAs || o.webhookService || o.webhookTlsSecret
      ? { webhook: webhookOptions(o) }
      : {}),
    prometheusSources,
    ...(o.kubeletInsecureTls ? { kubeletInsecureTls: true } : {}),
    ...(o.allowedImage.length > 0 ? { models: { allowedImages: o.allowedImage } } : {}),
    notifications: { configMap: notifications },
    pricesConfigMap: prices,
    ...(o.leaderElect
      ? {
          leaderElection: {
            ...leaseHome(o.leaderElectionNamespace),
            name: o.leaderElectionId,
            onLost: () => {
              // controller-runtime's way: never two leaders acting; the kubelet restarts a clean candidate.
              log.fatal('lost the leader Lease: exiting so that no two replicas act at once');
              log.flush?.();
              process.exit(1);
            },
          },
        }
      : {}),
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

/** A comma-separated list of namespace names, each checked. */
function namespaceList(value: string, flag: string): string[] {
  const names = list(value);
  const bad = names.find((n) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n));
  if (names.length === 0 || bad !== undefined)
    throw new TailorError(
      'InvalidInput',
      `${flag} "${value}": ${bad === undefined ? 'no namespace' : `"${bad}" is not a namespace name`}`,
      {
        hint: `e.g. ${flag} monitoring`,
      },
    );
  return names;
}

/** NAMESPACE/NAME, both required: the Secrets are read in that namespace, so it must be said. */
export function notificationsConfigMap(s: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(s);
  if (!m)
    throw new TailorError(
      'InvalidInput',
      `--notifications-configmap ${s}: expected NAMESPACE/NAME of a ConfigMap`,
      {
        hint: "e.g. --notifications-configmap tailor-system/tailor-notifications (the operator's own namespace)",
      },
    );
  return { namespace: m[1]!, name: m[3]! };
}
