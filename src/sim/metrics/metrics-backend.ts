// Who serves metrics.k8s.io for the simulator: the real metrics-server when its binary is built
// (or named), else the built-in fallback with the same semantics; chosen once, said at start.
import { TailorError } from '../../errors.ts';
import type { Clients } from '../../kube/client.ts';
import { MetricsApi } from './metrics-api.ts';
import { findMetricsServer, METRICS_SERVER_ENV, METRICS_SERVER_VERSION } from './metrics-server-binary.ts';
import { MetricsServer } from './metrics-server.ts';
import type { ResourceReading } from './resource-metrics.ts';
import type { UsageView } from './view.ts';

/** What the simulator is asked for: the real one when built ('auto'), or one of them. */
export type MetricsServerChoice = 'auto' | 'metrics-server' | 'built-in';
export const METRICS_SERVER_CHOICES: readonly MetricsServerChoice[] = ['auto', 'metrics-server', 'built-in'];
/** What runs. */
export type MetricsBackendKind = 'metrics-server' | 'built-in';

/** The command that builds the binary once (as CI does), for messages. */
export const BUILD_METRICS_SERVER = 'node --import tsx test/support/build-cache.ts';

export interface MetricsBackend {
  readonly kind: MetricsBackendKind;
  /** One line for logs and `tailor sim`: which server, its resolution, and why it was chosen. */
  readonly description: string;
  start(): Promise<void>;
  unregister(): Promise<void>;
  close(): Promise<void>;
}

export interface MetricsBackendOptions {
  readonly choice: MetricsServerChoice;
  readonly clients: Clients;
  readonly view: UsageView;
  readonly read: (node: string) => ResourceReading;
  readonly resolutionSeconds: number;
  readonly replaceForeign: boolean;
  /** The simulated kubelets' endpoints (their CA, known once started); undefined when none is served. */
  readonly kubelets: { readonly caPem: string } | undefined;
  readonly nodeSelector: string;
  readonly log: (line: string) => void;
}

/** Picks the server; asking for the real one when it is not built (or no kubelets serve) is refused. */
export function metricsBackend(o: MetricsBackendOptions): MetricsBackend {
  const binary = o.choice === 'built-in' ? undefined : findMetricsServer();
  if (o.choice === 'metrics-server' && !binary)
    throw new TailorError('Prerequisite', `metrics-server ${METRICS_SERVER_VERSION} is not built`, {
      hint: `build it once with \`${BUILD_METRICS_SERVER}\` (cached in ~/.cache/tailor/metrics-server), set ${METRICS_SERVER_ENV} to its binary, or use the built-in server`,
    });
  const every = `every ${o.resolutionSeconds}s`;
  const kubelets = o.kubelets;
  if (o.choice === 'metrics-server' && !kubelets)
    throw new TailorError(
      'InvalidInput',
      'metrics-server needs the simulated kubelet endpoints, which are off',
      {
        hint: 'serve them (the default), or use the built-in metrics server',
      },
    );
  if (binary && kubelets) {
    const server = new MetricsServer({
      binary: binary.path,
      clients: o.clients,
      get kubeletCaPem() {
        return kubelets.caPem;
      },
      resolutionSeconds: o.resolutionSeconds,
      nodeSelector: o.nodeSelector,
      replaceForeign: o.replaceForeign,
      log: o.log,
    });
    return {
      kind: 'metrics-server',
      get description() {
        return `metrics.k8s.io served by metrics-server ${METRICS_SERVER_VERSION} (${binary.path}), scraping the simulated kubelets' /metrics/resource ${every}${server.logFile ? `; log ${server.logFile}` : ''}`;
      },
      start: () => server.start(),
      unregister: () => server.unregister(),
      close: () => server.close(),
    };
  }
  const api = new MetricsApi(o.view, {
    replaceForeign: o.replaceForeign,
    resolutionMs: o.resolutionSeconds * 1000,
    read: o.read,
  });
  const why =
    o.choice === 'built-in'
      ? 'as asked'
      : `metrics-server not built: \`${BUILD_METRICS_SERVER}\` builds it, or set ${METRICS_SERVER_ENV}`;
  return {
    kind: 'built-in',
    description: `metrics.k8s.io served by the built-in fallback (metrics-server's semantics, a scrape ${every}; ${why})`,
    start: () => api.start(o.clients),
    unregister: () => api.unregister(),
    close: () => api.close(),
  };
}
