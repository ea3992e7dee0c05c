// Each simulated node's kubelet endpoint, over HTTPS on the node's own loopback address (its
// InternalIP) at the kubelet port 10250 (another free port when taken; status.daemonEndpoints says
// which): GET /stats/summary (the Summary API, stats/v1alpha1: pods[].volume[] with pvcRef,
// used/capacity/available bytes, inodes, and the reading's time; the volume figures the same the
// Prometheus endpoint exports) and GET /metrics/resource (what metrics-server scrapes, see
// ./resource-metrics.ts). As a real kubelet with webhook authn/authz: a bearer token is checked
// with a TokenReview, then `get nodes/stats` or `get nodes/metrics` with a SubjectAccessReview.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import { createCertificateAuthority } from '../../devcluster/pki.ts';
import { classify } from '../../kube/errors.ts';
import type { Clock } from '../clock.ts';
import { cpuUsed, type UsageView } from './view.ts';
import type { SimVolumes } from '../volumes/store.ts';
import { resourceMetricsText, type ResourceReading } from './resource-metrics.ts';

/** The kubelet's port (--port, the default every metrics-server manifest assumes). */
export const KUBELET_PORT = 10250;

/** The node subresource a path is authorized as (the kubelet's server.go: /stats -> stats, /metrics -> metrics). */
export type KubeletSubresource = 'stats' | 'metrics';

/** Who may read: a token's user, from TokenReview + SubjectAccessReview; undefined skips the checks (unit tests). */
export type Authorize = (
  token: string,
  node: string,
  subresource: KubeletSubresource,
) => Promise<{ allowed: boolean; user: string }>;

/**
 * The node's own loopback address, from its name: each node listens at 10250 like a real kubelet,
 * and a second simulator with other node names gets other addresses. 127.64.0.0/10 keeps clear of
 * 127.0.0.1 (the control plane) and 127.0.0.53 (resolvers).
 */
export function loopbackAddressOf(node: string): string {
  const h = createHash('sha256').update(node).digest();
  return `127.${64 + (h[0]! % 64)}.${h[1]!}.${1 + (h[2]! % 254)}`;
}

type Route =
  { path: '/stats/summary'; subresource: 'stats' } | { path: '/metrics/resource'; subresource: 'metrics' };

function routeOf(path: string): Route | undefined {
  if (path === '/stats/summary') return { path, subresource: 'stats' };
  if (path === '/metrics/resource') return { path, subresource: 'metrics' };
  return undefined;
}

export class KubeletApi {
  private servers = new Map<string, Server>();
  readonly ports = new Map<string, number>();
  readonly addresses = new Map<string, string>();
  /** PEM of the CA the endpoints' certificate chains to (IP SANs: every node's address, 127.0.0.1). */
  caPem = '';
  /** Requests answered, by status code: for tests and benches. */
  readonly stats = { requests: 0, refused: 0, resourceScrapes: 0 };

  constructor(
    private readonly view: UsageView,
    private readonly volumes: SimVolumes,
    private readonly clock: Clock,
    private readonly authorize?: Authorize,
    /** One node's resource metrics; without it /metrics/resource answers 404. */
    private readonly readResources?: (node: string) => ResourceReading,
  ) {}

  /**
   * One listener per node on its own address, all with one certificate (cheap: a hundred nodes are
   * a hundred sockets). Port 10250 when free there, else any free port (another simulator with the
   * same node names, or a test's own kubelet); `ports` says which.
   */
  async start(nodes: readonly { name: string; address: string; port?: number }[]): Promise<void> {
    const ca = await createCertificateAuthority('tailor-sim-kubelet-ca');
    const cert = await ca.issue({
      commonName: 'tailor-sim-kubelet',
      usage: 'server',
      dnsNames: ['localhost', ...nodes.map((n) => n.name)],
      ipAddresses: [...new Set(['127.0.0.1', ...nodes.map((n) => n.address)])],
    });
    this.caPem = ca.certPem;
    for (const { name: node, address, port = KUBELET_PORT } of nodes) {
      const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
        this.handle(node, req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500).end('internal error\n');
        });
      });
      const listen = (port: number) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, address, () => {
            server.off('error', reject);
            resolve();
          });
        });
      try {
        await listen(port);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
        await listen(0);
      }
      this.servers.set(node, server);
      this.addresses.set(node, address);
      this.ports.set(node, (server.address() as AddressInfo).port);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.servers.values()].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
    this.servers.clear();
  }

  private async handle(node: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routeOf(path);
    if (this.authorize) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token) {
        this.stats.refused++;
        res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized\n');
        return;
      }
      const subresource = route?.subresource ?? 'stats';
      const who = await this.authorize(token, node, subresource);
      if (!who.allowed) {
        this.stats.refused++;
        res
          .writeHead(403, { 'content-type': 'text/plain' })
          .end(`Forbidden (user=${who.user}, verb=get, resource=nodes, subresource(s)=[${subresource}])\n`);
        return;
      }
    }
    if (req.method !== 'GET' || !route || (route.path === '/metrics/resource' && !this.readResources)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    switch (route.path) {
      case '/stats/summary':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.summary(node)));
        return;
      case '/metrics/resource':
        this.stats.resourceScrapes++;
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(resourceMetricsText(this.readResources!(node)));
        return;
    }
  }

  /** The Summary of one node: its pods, their containers' CPU and memory, their persistent volumes. */
  summary(node: string): unknown {
    const now = this.view.now();
    const time = (t: number) =>
      this.clock
        .wall(t)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
    const pods = [...this.view.pods()].filter((p) => p.node === node);
    return {
      node: { nodeName: node, startTime: time(now), systemContainers: [] },
      pods: pods.map((p) => ({
        podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
        startTime: time(p.startTime),
        containers: [...p.containers.values()].map((c) => ({
          name: c.name,
          startTime: time(c.startedAt),
          cpu: {
            time: time(now),
            usageNanoCores: Math.round(cpuUsed(c) * 1e9),
            usageCoreNanoSeconds: Math.round(c.cpuSecondsTotal * 1e9),
          },
          memory: { time: time(now), workingSetBytes: Math.round(c.usage.memoryBytes) },
        })),
        volume: (p.volumes ?? []).flatMap((v) => {
          const s = this.volumes.statOf(p.namespace, v.claim, now);
          if (!s) return [];
          return [
            {
              time: time(s.at),
              availableBytes: s.availableBytes,
              capacityBytes: s.capacityBytes,
              usedBytes: s.usedBytes,
              inodesFree: s.inodesFree,
              inodes: s.inodes,
              inodesUsed: s.inodesUsed,
              name: v.volumeName,
              pvcRef: { name: v.claim, namespace: p.namespace },
            },
          ];
        }),
      })),
    };
  }
}

/**
 * The kubelet's webhook authentication and authorization against the apiserver (TokenReview, then
 * SubjectAccessReview for get nodes/stats or nodes/metrics), each answer kept a minute as the
 * kubelet caches them.
 */
export function apiserverAuthorizer(
  kc: k8s.KubeConfig,
  makeApis: (kc: k8s.KubeConfig) => {
    authn: k8s.AuthenticationV1Api;
    authz: k8s.AuthorizationV1Api;
  },
  log: (msg: string) => void,
): Authorize {
  const { authn, authz } = makeApis(kc);
  const cache = new Map<string, { until: number; allowed: boolean; user: string }>();
  return async (token, node, subresource) => {
    const key = `${createHash('sha256').update(token).digest('hex')}/${node}/${subresource}`;
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit;
    let allowed = false;
    let user = 'system:anonymous';
    try {
      const review = await authn.createTokenReview({ body: { spec: { token } } });
      if (review.status?.authenticated && review.status.user?.username) {
        user = review.status.user.username;
        const sar = await authz.createSubjectAccessReview({
          body: {
            spec: {
              user,
              groups: review.status.user.groups ?? [],
              uid: review.status.user.uid ?? '',
              resourceAttributes: { verb: 'get', resource: 'nodes', subresource, name: node },
            },
          },
        });
        allowed = sar.status?.allowed === true;
      }
    } catch (err) {
      log(`kubelet ${node}: cannot check a token: ${classify(err).message}`);
      return { allowed: false, user };
    }
    const answer = { until: Date.now() + 60_000, allowed, user };
    if (cache.size > 1000) cache.clear();
    cache.set(key, answer);
    return answer;
  };
}
