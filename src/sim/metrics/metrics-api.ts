// The built-in metrics.k8s.io/v1beta1 server, the fallback when the real metrics-server is not
// built: over TLS behind the real APIService, with metrics-server's semantics (a scrape of every
// node's resource metrics each resolution, usage as the rate between the last two scrapes, stamped
// with the kubelet's reading time; a new pod absent until two scrapes; containers not running left
// out), see ./metrics-store.ts.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clients } from '../../kube/client.ts';
import { apiTime } from '../../kube/time.ts';
import { createCertificateAuthority } from '../../devcluster/pki.ts';
import { closer } from '../shutdown.ts';
import type { UsageView } from './view.ts';
import { METRICS_SERVICE, MetricsApiService } from './apiservice.ts';
import { MetricsStore } from './metrics-store.ts';
import type { ResourceReading } from './resource-metrics.ts';

const GV = 'metrics.k8s.io/v1beta1';

export interface MetricsApiOptions {
  /** Replace a metrics.k8s.io APIService that tailor sim did not create (it is deleted on stop). */
  readonly replaceForeign?: boolean;
  /** How often every node is scraped (metrics-server's --metric-resolution), in wall-clock ms. */
  readonly resolutionMs: number;
  /** One node's kubelet resource metrics, as metrics-server would scrape them. */
  readonly read: (node: string) => ResourceReading;
}

/** Equality-based label selectors (`a=b,c!=d,e`), as kubectl top sends them. */
export function matchesSelector(selector: string | null, labels: Record<string, string>): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const t = term.trim();
    if (!t) return true;
    const ne = /^([^!=]+)!=(.*)$/.exec(t);
    if (ne) return labels[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = /^([^=]+)==?(.*)$/.exec(t);
    if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
    if (t.startsWith('!')) return !(t.slice(1) in labels);
    return t in labels;
  });
}

export class MetricsApi {
  private server?: Server;
  private closeServer: () => Promise<void> = () => Promise.resolve();
  private apiService?: MetricsApiService;
  private timer?: NodeJS.Timeout;
  private readonly store: MetricsStore;
  port = 0;
  /** Scrapes done: for tests and the status line. */
  scrapes = 0;

  constructor(
    private readonly view: UsageView,
    private readonly opts: MetricsApiOptions,
  ) {
    this.store = new MetricsStore(opts.resolutionMs);
  }

  /** One scrape of every node (what metrics-server's scraper does each resolution). */
  scrape(): void {
    const readings = new Map<string, ResourceReading>();
    for (const n of this.view.nodes()) readings.set(n.name, this.opts.read(n.name));
    this.store.store(readings);
    this.scrapes++;
  }

  private podMetrics(p: {
    namespace: string;
    name: string;
    labels: Record<string, string>;
  }): object | undefined {
    const m = this.store.pod(p.namespace, p.name);
    if (!m) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: GV,
      metadata: {
        name: p.name,
        namespace: p.namespace,
        labels: p.labels,
        creationTimestamp: apiTime(new Date()),
      },
      timestamp: apiTime(new Date(m.timestampMs)),
      window: duration(m.windowMs),
      containers: m.containers.map((c) => ({ name: c.name, usage: quantities(c.usage) })),
    };
  }

  private nodeMetrics(n: { name: string; labels?: Record<string, string> }): object | undefined {
    const u = this.store.node(n.name);
    if (!u) return undefined;
    return {
      kind: 'NodeMetrics',
      apiVersion: GV,
      metadata: { name: n.name, labels: n.labels ?? {}, creationTimestamp: apiTime(new Date()) },
      timestamp: apiTime(new Date(u.timestampMs)),
      window: duration(u.windowMs),
      usage: quantities(u),
    };
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://sim');
    const path = url.pathname.replace(/\/$/, '');
    const selector = url.searchParams.get('labelSelector');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const notFound = (what: string) =>
      send(404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: `${what} not found`,
      });
    if (path === '/healthz' || path === '/livez') return void res.end('ok');
    // Ready once a first rate can be computed, as metrics-server's metric-storage-ready check.
    if (path === '/readyz') {
      if (this.store.ready()) return void res.end('ok');
      res.writeHead(500).end('[-]metric-storage-ready failed\n');
      return;
    }
    if (path === '/openapi/v2')
      return send(200, {
        swagger: '2.0',
        info: { title: 'tailor-sim metrics', version: 'v1beta1' },
        paths: {},
      });
    if (path === '/openapi/v3') return send(200, { paths: {} });
    if (path === '/apis') return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [group()] });
    if (path === '/apis/metrics.k8s.io') return send(200, group());
    if (path === `/apis/${GV}`) {
      return send(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: GV,
        resources: [
          { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    const m =
      /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/(pods|nodes)(?:\/([^/]+))?$/.exec(path);
    if (!m) return notFound(path);
    const [, namespace, resource, name] = m;
    if (resource === 'nodes') {
      const nodes = [...this.view.nodes()].filter(
        (n) => (!name || n.name === name) && matchesSelector(selector, n.labels ?? {}),
      );
      const items = nodes.flatMap((n) => this.nodeMetrics(n) ?? []);
      if (name) return items[0] ? send(200, items[0]) : notFound(`nodemetrics.metrics.k8s.io "${name}"`);
      return send(200, { kind: 'NodeMetricsList', apiVersion: GV, metadata: {}, items });
    }
    const pods = [...this.view.pods()].filter(
      (p) =>
        (!namespace || p.namespace === namespace) &&
        (!name || p.name === name) &&
        matchesSelector(selector, p.labels),
    );
    const items = pods.flatMap((p) => this.podMetrics(p) ?? []);
    if (name)
      return items[0] ? send(200, items[0]) : notFound(`podmetrics.metrics.k8s.io "${namespace}/${name}"`);
    return send(200, { kind: 'PodMetricsList', apiVersion: GV, metadata: {}, items });
  }

  /**
   * Serves on a free loopback port with a certificate of its own CA, scrapes at once and every
   * resolution after, then registers the APIService.
   */
  async start(clients: Clients): Promise<void> {
    const ca = await createCertificateAuthority('tailor-sim-metrics-ca');
    const serviceHost = `${METRICS_SERVICE.name}.${METRICS_SERVICE.namespace}.svc`;
    const cert = await ca.issue({
      commonName: serviceHost,
      usage: 'server',
      dnsNames: [serviceHost, 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    this.server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => this.handle(req, res));
    this.closeServer = closer(this.server);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.scrape();
    this.timer = setInterval(() => this.scrape(), this.opts.resolutionMs);
    this.timer.unref();
    this.apiService = new MetricsApiService(clients, this.opts.replaceForeign ?? false);
    await this.apiService.register(this.port, ca.certPem);
  }

  /** Unregisters (when given the clients), then closes, whatever the unregistering did. */
  async stop(clients?: Clients): Promise<void> {
    try {
      if (clients) await this.unregister();
    } finally {
      await this.close();
    }
  }

  /**
   * Removes the APIService and Service it registered (aggregated requests would fail from now on).
   * Separate from close() so that a hung API call cannot keep the server, and the process, alive.
   */
  async unregister(): Promise<void> {
    await this.apiService?.unregister();
  }

  /**
   * Stops serving. The aggregator holds keep-alive connections and opens new ones (TLS handshakes
   * included) every few seconds: close() alone waits for them forever, closeAllConnections misses
   * those in their handshake; every accepted socket is ended.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.closeServer();
  }
}

/**
 * As metrics-server writes them (resource.Quantity's canonical form): CPU from whole nanocores
 * (DecimalSI: 250m, 12345n, 2), memory from whole bytes (BinarySI: 384Mi, 1536Ki, 1000).
 */
export function quantities(u: { cpuCores: number; memoryBytes: number }): { cpu: string; memory: string } {
  const nano = Math.max(0, Math.floor(u.cpuCores * 1e9));
  const bytes = Math.max(0, Math.round(u.memoryBytes));
  const cpu =
    nano === 0
      ? '0'
      : nano % 1e9 === 0
        ? String(nano / 1e9)
        : nano % 1e6 === 0
          ? `${nano / 1e6}m`
          : nano % 1e3 === 0
            ? `${nano / 1e3}u`
            : `${nano}n`;
  let memory = String(bytes);
  for (const [unit, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) {
      memory = `${bytes / size}${unit}`;
      break;
    }
  }
  return { cpu, memory };
}

/** A metav1.Duration as Go prints it (15s, 14.999s, 1m0s). */
function duration(ms: number): string {
  const s = Math.round(ms) / 1000;
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${Math.round((s % 60) * 1000) / 1000}s`;
}

function group() {
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: 'metrics.k8s.io',
    versions: [{ groupVersion: GV, version: 'v1beta1' }],
    preferredVersion: { groupVersion: GV, version: 'v1beta1' },
  };
}
