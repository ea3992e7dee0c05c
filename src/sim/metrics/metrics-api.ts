// The metrics.k8s.io/v1beta1 API (what metrics-server serves), over TLS behind a real APIService,
// so `kubectl top` and any metrics-server client read the simulator's usage.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clients } from '../../kube/client.ts';
import { isAlreadyExists } from '../../kube/errors.ts';
import { apiTime } from '../../kube/time.ts';
import { createCertificateAuthority } from '../../devcluster/pki.ts';
import { cpuUsed, type UsageView } from './view.ts';
import type { PodState } from '../kubelet/state.ts';

const GV = 'metrics.k8s.io/v1beta1';
export const METRICS_SERVICE = { name: 'tailor-sim-metrics', namespace: 'kube-system' };

function nanocores(cores: number): string {
  return `${Math.round(cores * 1e9)}n`;
}

function kibibytes(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
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
  port = 0;

  constructor(private readonly view: UsageView) {}

  podMetrics(p: PodState): object {
    // Like metrics-server: the wall-clock time of the measurement, whatever the simulated clock says.
    const now = apiTime(new Date());
    return {
      kind: 'PodMetrics',
      apiVersion: GV,
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels, creationTimestamp: now },
      timestamp: now,
      window: '10s',
      containers: [...p.containers.values()].map((c) => ({
        name: c.name,
        usage: { cpu: nanocores(cpuUsed(c)), memory: kibibytes(c.usage.memoryBytes) },
      })),
    };
  }

  private nodeMetrics(name: string): object {
    // Like metrics-server: the wall-clock time of the measurement, whatever the simulated clock says.
    const now = apiTime(new Date());
    let cpu = 0;
    let memory = 0;
    for (const p of this.view.pods()) {
      if (p.node !== name) continue;
      for (const c of p.containers.values()) {
        cpu += cpuUsed(c);
        memory += c.usage.memoryBytes;
      }
    }
    return {
      kind: 'NodeMetrics',
      apiVersion: GV,
      metadata: { name, creationTimestamp: now },
      timestamp: now,
      window: '10s',
      usage: { cpu: nanocores(cpu), memory: kibibytes(memory) },
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
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return void res.end('ok');
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
      const names = [...this.view.nodes()]
        .filter((n) => matchesSelector(selector, n.labels ?? {}))
        .map((n) => n.name);
      if (name)
        return names.includes(name) ? send(200, this.nodeMetrics(name)) : notFound(`nodemetrics ${name}`);
      return send(200, {
        kind: 'NodeMetricsList',
        apiVersion: GV,
        metadata: {},
        items: names.map((n) => this.nodeMetrics(n)),
      });
    }
    const pods = [...this.view.pods()].filter(
      (p) =>
        (!namespace || p.namespace === namespace) &&
        (!name || p.name === name) &&
        matchesSelector(selector, p.labels),
    );
    if (name)
      return pods[0] ? send(200, this.podMetrics(pods[0])) : notFound(`podmetrics ${namespace}/${name}`);
    return send(200, {
      kind: 'PodMetricsList',
      apiVersion: GV,
      metadata: {},
      items: pods.map((p) => this.podMetrics(p)),
    });
  }

  /** Serves on a free loopback port with a certificate of its own CA, then registers the APIService. */
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
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    await register(clients, this.port, ca.certPem);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
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

/**
 * The aggregator reaches the simulator through an ExternalName Service pointing at localhost:
 * there is no kube-proxy here to route a ClusterIP, and Endpoints may not hold loopback addresses.
 */
async function register(clients: Clients, port: number, caPem: string): Promise<void> {
  const svc = {
    metadata: {
      name: METRICS_SERVICE.name,
      namespace: METRICS_SERVICE.namespace,
      labels: { 'sim.tailor.dev/metrics': 'true' },
    },
    spec: {
      type: 'ExternalName',
      externalName: 'localhost',
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  };
  try {
    await clients.core.createNamespacedService({ namespace: METRICS_SERVICE.namespace, body: svc });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await clients.core.replaceNamespacedService({
      name: METRICS_SERVICE.name,
      namespace: METRICS_SERVICE.namespace,
      body: {
        ...svc,
        metadata: {
          ...svc.metadata,
          resourceVersion: (await clients.core.readNamespacedService(METRICS_SERVICE)).metadata
            ?.resourceVersion,
        },
      },
    });
  }
  const apiService = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'sim.tailor.dev/metrics': 'true' } },
    spec: {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      groupPriorityMinimum: 100,
      versionPriority: 100,
      caBundle: Buffer.from(caPem).toString('base64'),
      service: { name: METRICS_SERVICE.name, namespace: METRICS_SERVICE.namespace, port },
    },
  };
  try {
    await clients.apiregistration.createAPIService({ body: apiService });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const current = await clients.apiregistration.readAPIService({ name: apiService.metadata.name });
    await clients.apiregistration.replaceAPIService({
      name: apiService.metadata.name,
      body: {
        ...apiService,
        metadata: { ...apiService.metadata, resourceVersion: current.metadata?.resourceVersion },
      },
    });
  }
}
