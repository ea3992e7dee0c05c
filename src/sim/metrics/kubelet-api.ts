// Each simulated node's kubelet endpoint: GET /stats/summary (the Summary API, stats/v1alpha1:
// pods[].volume[] with pvcRef, used/capacity/available bytes, inodes, and the reading's time) over
// HTTPS on loopback, one port per node (status.daemonEndpoints.kubeletEndpoint.Port), the volume
// figures the same the Prometheus endpoint exports. As a real kubelet with webhook authn/authz: a
// bearer token is checked with a TokenReview, then `get nodes/stats` with a SubjectAccessReview.
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

/** Who may read: a token's user, from TokenReview + SubjectAccessReview; undefined skips the checks (unit tests). */
export type Authorize = (token: string, node: string) => Promise<{ allowed: boolean; user: string }>;

export class KubeletApi {
  private servers = new Map<string, Server>();
  readonly ports = new Map<string, number>();
  /** PEM of the CA the endpoints' certificate chains to (IP SAN 127.0.0.1, DNS localhost). */
  caPem = '';
  /** Requests answered, by status code: for tests and benches. */
  readonly stats = { requests: 0, refused: 0 };

  constructor(
    private readonly view: UsageView,
    private readonly volumes: SimVolumes,
    private readonly clock: Clock,
    private readonly authorize?: Authorize,
  ) {}

  /** One listener per node, all with one certificate (cheap: a hundred nodes are a hundred sockets). */
  async start(nodes: readonly string[]): Promise<void> {
    const ca = await createCertificateAuthority('tailor-sim-kubelet-ca');
    const cert = await ca.issue({
      commonName: 'tailor-sim-kubelet',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    this.caPem = ca.certPem;
    for (const node of nodes) {
      const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
        this.handle(node, req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500).end('internal error\n');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.servers.set(node, server);
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
    const path = (req.url ?? '/').split('?')[0];
    if (this.authorize) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token) {
        this.stats.refused++;
        res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized\n');
        return;
      }
      const who = await this.authorize(token, node);
      if (!who.allowed) {
        this.stats.refused++;
        res
          .writeHead(403, { 'content-type': 'text/plain' })
          .end(`Forbidden (user=${who.user}, verb=get, resource=nodes, subresource(s)=[stats])\n`);
        return;
      }
    }
    if (req.method !== 'GET' || path !== '/stats/summary') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.summary(node)));
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
 * SubjectAccessReview for get nodes/stats), each answer kept a minute as the kubelet caches them.
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
  return async (token, node) => {
    const key = `${createHash('sha256').update(token).digest('hex')}/${node}`;
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
              resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats', name: node },
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
