// A Prometheus endpoint with the metric names and labels real exporters use: cAdvisor (through
// the kubelet), kube-state-metrics, kubelet volume stats, NVIDIA DCGM and each runtime's own, so
// queries written for a real cluster work unchanged against the simulator. Each exporter has its
// own path, so a Prometheus scrapes each under the job name a real setup gives it.
import { createServer, type Server } from 'node:http';
import { closer } from '../shutdown.ts';
import type { AddressInfo } from 'node:net';
import { TailorError } from '../../errors.ts';
import type { UsageView } from './view.ts';
import { Exposition } from './exposition.ts';
import { cadvisor } from './exporters/cadvisor.ts';
import { dcgm } from './exporters/dcgm.ts';
import { kubeStateMetrics } from './exporters/kube-state-metrics.ts';
import { kubeletVolumes } from './exporters/kubelet-volumes.ts';
import { runtimes } from './exporters/runtimes.ts';
import { podExposition, podTargets } from './pod-targets.ts';

type Exporter = (e: Exposition, view: UsageView) => void;

export interface ScrapeJob {
  /** The `job` label a real setup gives these series. */
  readonly job: string;
  /** The path on the simulator's endpoint that serves them. */
  readonly path: string;
  /** Target labels a real setup adds (kube-prometheus labels the kubelet's series by metrics_path). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly exporters: readonly Exporter[];
}

/**
 * What a real cluster's Prometheus scrapes, one job per exporter as kube-prometheus names them
 * (prometheus-operator/kube-prometheus manifests/kubernetesControlPlane-serviceMonitorKubelet.yaml:
 * job "kubelet" on /metrics/cadvisor and /metrics; manifests/kubeStateMetrics-serviceMonitor.yaml:
 * job "kube-state-metrics"). DCGM's job is its Service's name in the dcgm-exporter chart; the
 * inference servers' series are a pod scrape of the simulator's own (job tailor-sim).
 */
export const SCRAPE_JOBS: readonly ScrapeJob[] = [
  {
    job: 'kubelet',
    path: '/metrics/cadvisor',
    labels: { metrics_path: '/metrics/cadvisor' },
    exporters: [cadvisor],
  },
  // The kubelet serves its volume stats on its own /metrics.
  {
    job: 'kubelet',
    path: '/metrics/kubelet',
    labels: { metrics_path: '/metrics' },
    exporters: [kubeletVolumes],
  },
  { job: 'kube-state-metrics', path: '/metrics/kube-state-metrics', exporters: [kubeStateMetrics] },
  { job: 'dcgm-exporter', path: '/metrics/dcgm', exporters: [dcgm] },
  { job: 'tailor-sim', path: '/metrics/runtimes', exporters: [runtimes] },
];

/** The exporters' series in one exposition, as one scrape of the simulated targets (default: all of them). */
export function exposition(
  view: UsageView,
  exporters: readonly Exporter[] = SCRAPE_JOBS.flatMap((j) => j.exporters),
): string {
  const e = new Exposition();
  for (const x of exporters) x(e, view);
  return e.text();
}

/**
 * A Prometheus configuration's scrape_configs scraping the simulator at `target` (host:port) as a
 * real cluster's jobs, every `interval`: one scrape config per path, the job label set to the real
 * job's name (two paths share job "kubelet", told apart by metrics_path as kube-prometheus does).
 */
export function scrapeConfigs(target: string | readonly string[], interval = '15s'): string {
  const targets = (typeof target === 'string' ? [target] : target).map((t) => `'${t}'`).join(', ');
  return SCRAPE_JOBS.map((j) => {
    const labels = Object.entries({ job: j.job, ...j.labels })
      .map(([k, v]) => `${k}: '${v}'`)
      .join(', ');
    return (
      `  - job_name: ${j.job}${j.path.replaceAll('/', '-')}\n` +
      `    scrape_interval: ${interval}\n` +
      `    metrics_path: ${j.path}\n` +
      `    honor_labels: true\n` +
      `    static_configs:\n      - targets: [${targets}]\n` +
      `        labels: {${labels}}\n`
    );
  }).join('');
}

/** How long a rendered exposition is served again (wall ms): less than a 1 s scrape interval. */
const RENDER_REUSE_MS = 900;

export class PrometheusEndpoint {
  private server?: Server;
  private close: () => Promise<void> = () => Promise.resolve();
  port = 0;

  /** The last text of each path and when it was written (wall ms). */
  private readonly rendered = new Map<string, { at: number; text: string }>();

  constructor(private readonly view: UsageView) {}

  /**
   * One rendering per path per second, however many scrapers ask (each test runs its own
   * Prometheus at a 1 s interval): the kubelet ticks once a second, so a newer text would be the
   * same figures, and rendering thousands of series per scraper held up the kubelet's tick.
   */
  private text(path: string, exporters: Parameters<typeof exposition>[1]): string {
    const now = Date.now();
    const hit = this.rendered.get(path);
    if (hit && now - hit.at < RENDER_REUSE_MS) return hit.text;
    const text = exposition(this.view, exporters);
    this.rendered.set(path, { at: now, text });
    return text;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      // Each inference server on its own, for a `kubernetes-pods` job through http_sd (./pod-targets.ts).
      const one = /^\/metrics\/pods\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
      if (one) {
        const body = podExposition(this.view, decodeURIComponent(one[1]!), decodeURIComponent(one[2]!));
        if (body === undefined) res.writeHead(404).end('no metrics served by that pod\n');
        else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
        return;
      }
      if (req.url?.startsWith('/sd/kubernetes-pods')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(podTargets(this.view, `127.0.0.1:${this.port}`)));
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      // /metrics: every exporter at once (one job, or a look with curl).
      const exporters = path === '/metrics' ? undefined : SCRAPE_JOBS.find((j) => j.path === path)?.exporters;
      if (path === '/metrics' || exporters) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.text(path ?? '/metrics', exporters));
        return;
      }
      res.writeHead(404).end(`not found: try /metrics or ${SCRAPE_JOBS.map((j) => j.path).join(', ')}\n`);
    });
    this.close = closer(this.server);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new TailorError('InvalidInput', `port ${port} on 127.0.0.1 is already in use`, {
                hint: 'pass --prometheus-port 0 for any free port',
              })
            : err,
        ),
      );
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    // A scraper holds keep-alive connections: close() alone waits for them forever.
    await this.close();
  }
}
