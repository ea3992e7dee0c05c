// The metrics.k8s.io/v1beta1 API (what metrics-server serves), over TLS behind a real APIService,
// so `kubectl top` and any metrics-server client read the simulator's usage.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clients } from '../../kube/client.ts';
import { randomUUID } from 'node:crypto';
import { TailorError } from '../../errors.ts';
import { classify, isNotFound } from '../../kube/errors.ts';
import { apiTime } from '../../kube/time.ts';
import { createCertificateAuthority } from '../../devcluster/pki.ts';
import { closer } from '../shutdown.ts';
import { cpuUsed, type UsageView } from './view.ts';
import type { PodState } from '../kubelet/state.ts';

const GV = 'metrics.k8s.io/v1beta1';
export const METRICS_SERVICE = { name: 'tailor-sim-metrics', namespace: 'kube-system' };
export const METRICS_APISERVICE = 'v1beta1.metrics.k8s.io';
/** Marks the objects the simulator created: only those it replaces, and only its own it deletes. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = { [MANAGED_BY_LABEL]: 'tailor-sim' } as const;
/** Which simulator process registered the objects (the last one to start wins, and removes them). */
export const INSTANCE_ANNOTATION = 'sim.tailor.dev/instance';

export interface MetricsApiOptions {
  /** Replace a metrics.k8s.io APIService that tailor sim did not create (it is deleted on stop). */
  readonly replaceForeign?: boolean;
}

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
  private closeServer: () => Promise<void> = () => Promise.resolve();
  private registered?: Registered;
  private readonly instance = randomUUID();
  port = 0;

  constructor(
    private readonly view: UsageView,
    private readonly opts: MetricsApiOptions = {},
  ) {}

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
    this.closeServer = closer(this.server);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    // The aggregator writes the APIService's status (Available) on its own: a replace based on our
    // read may lose that race (409). Read, check ownership and write again.
    for (let attempt = 1; ; attempt++) {
      try {
        this.registered = await register(
          clients,
          this.port,
          ca.certPem,
          this.opts.replaceForeign ?? false,
          this.instance,
        );
        return;
      } catch (err) {
        if (attempt >= 5 || classify(err).kind !== 'Conflict') throw err;
      }
    }
  }

  /** Unregisters (when given the clients), then closes, whatever the unregistering did. */
  async stop(clients?: Clients): Promise<void> {
    try {
      if (clients) await this.unregister(clients);
    } finally {
      await this.close();
    }
  }

  /**
   * Removes the APIService and Service it registered (aggregated requests would fail from now on).
   * Separate from close() so that a hung API call cannot keep the server, and the process, alive.
   */
  async unregister(clients: Clients): Promise<void> {
    const registered = this.registered;
    this.registered = undefined;
    if (registered) await unregister(clients, registered, this.instance);
  }

  /**
   * Stops serving. The aggregator holds keep-alive connections and opens new ones (TLS handshakes
   * included) every few seconds: close() alone waits for them forever, closeAllConnections misses
   * those in their handshake; every accepted socket is ended.
   */
  async close(): Promise<void> {
    await this.closeServer();
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
 * Both objects carry MANAGED_BY; one that exists without it (a real metrics-server's APIService)
 * is not replaced unless `replace` says so, since that would break `kubectl top` and every HPA.
 */
async function register(
  clients: Clients,
  port: number,
  caPem: string,
  replace: boolean,
  instance: string,
): Promise<Registered> {
  const metadata = (name: string, namespace?: string) => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: { 'sim.tailor.dev/metrics': 'true', ...MANAGED_BY },
    annotations: { [INSTANCE_ANNOTATION]: instance },
  });
  const svc = {
    metadata: metadata(METRICS_SERVICE.name, METRICS_SERVICE.namespace),
    spec: {
      type: 'ExternalName',
      externalName: 'localhost',
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  };
  const apiService = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: metadata(METRICS_APISERVICE),
    spec: {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      groupPriorityMinimum: 100,
      versionPriority: 100,
      caBundle: Buffer.from(caPem).toString('base64'),
      service: { name: METRICS_SERVICE.name, namespace: METRICS_SERVICE.namespace, port },
    },
  };
  // 1. Check both before writing either: a refusal leaves the cluster as it was.
  const [currentSvc, currentApi] = await Promise.all([
    clients.core.readNamespacedService(METRICS_SERVICE).catch(orNotFound),
    clients.apiregistration.readAPIService({ name: METRICS_APISERVICE }).catch(orNotFound),
  ]);
  if (!replace) {
    if (currentApi && !isManaged(currentApi.metadata)) {
      const to = currentApi.spec?.service
        ? `Service ${currentApi.spec.service.namespace}/${currentApi.spec.service.name}`
        : 'the apiserver itself';
      throw new TailorError(
        'InvalidInput',
        `APIService ${METRICS_APISERVICE} exists and was not created by tailor sim (it points at ${to}): replacing it would break kubectl top and every HorizontalPodAutoscaler on this cluster`,
        {
          hint: `run with --no-metrics-api to keep the cluster's metrics server, or --replace-metrics-apiservice to replace it (deleted on exit, not restored)`,
        },
      );
    }
    if (currentSvc && !isManaged(currentSvc.metadata))
      throw new TailorError(
        'InvalidInput',
        `Service ${METRICS_SERVICE.namespace}/${METRICS_SERVICE.name} exists and was not created by tailor sim`,
        { hint: 'delete it, run with --no-metrics-api, or pass --replace-metrics-apiservice' },
      );
  }
  // 2. The Service, then the APIService that points at it.
  const service = currentSvc
    ? await clients.core.replaceNamespacedService({
        ...METRICS_SERVICE,
        body: {
          ...svc,
          metadata: { ...svc.metadata, resourceVersion: currentSvc.metadata?.resourceVersion },
        },
      })
    : await clients.core.createNamespacedService({ namespace: METRICS_SERVICE.namespace, body: svc });
  const registered = currentApi
    ? await clients.apiregistration.replaceAPIService({
        name: METRICS_APISERVICE,
        body: {
          ...apiService,
          metadata: { ...apiService.metadata, resourceVersion: currentApi.metadata?.resourceVersion },
        },
      })
    : await clients.apiregistration.createAPIService({ body: apiService });
  return { serviceUid: service.metadata?.uid ?? '', apiServiceUid: registered.metadata?.uid ?? '' };
}

interface Registered {
  readonly serviceUid: string;
  readonly apiServiceUid: string;
}

function isManaged(meta: { labels?: Record<string, string> } | undefined): boolean {
  return meta?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY[MANAGED_BY_LABEL];
}

function orNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}

/** Deleted meanwhile, or replaced by another object of the name (uid precondition failed). */
function orGone(err: unknown): undefined {
  const kind = classify(err).kind;
  if (kind === 'NotFound' || kind === 'Conflict') return undefined;
  throw err;
}

/**
 * Deletes the APIService and Service this process registered, and only those: a uid precondition
 * and the instance annotation keep it from deleting what another simulator has taken over since.
 */
async function unregister(clients: Clients, mine: Registered, instance: string): Promise<void> {
  const ours = (meta: { annotations?: Record<string, string>; uid?: string } | undefined, uid: string) =>
    meta?.uid === uid && meta.annotations?.[INSTANCE_ANNOTATION] === instance;
  const api = await clients.apiregistration.readAPIService({ name: METRICS_APISERVICE }).catch(orNotFound);
  if (api && ours(api.metadata, mine.apiServiceUid))
    await clients.apiregistration
      .deleteAPIService({ name: METRICS_APISERVICE, body: { preconditions: { uid: mine.apiServiceUid } } })
      .catch(orGone);
  const svc = await clients.core.readNamespacedService(METRICS_SERVICE).catch(orNotFound);
  if (svc && ours(svc.metadata, mine.serviceUid))
    await clients.core
      .deleteNamespacedService({ ...METRICS_SERVICE, body: { preconditions: { uid: mine.serviceUid } } })
      .catch(orGone);
}
