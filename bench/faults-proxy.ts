// An HTTPS proxy in front of the apiserver for the fault suite: unlike the TCP pass-through of
// test/support/outage.ts it terminates TLS (a CA of its own) so it can read each request, and while
// `conflicts` is on it answers 409 Conflict to every PATCH or PUT of a status subresource, as an
// apiserver does when another writer got there first; and it reports the resizes the apiserver
// refused for node capacity (the ground truth for an Auto eviction's cause). Upstream it
// authenticates as the admin.
import { createServer, request, Agent, type RequestOptions, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type * as k8s from '@kubernetes/client-node';
import { createCertificateAuthority } from '../src/devcluster/pki.ts';
import { kubeconfig } from '../src/devcluster/kubeconfig.ts';
import { nodeCapacityRefusal } from './faults-harm.ts';

export interface FaultProxy {
  readonly port: number;
  /** A kubeconfig (YAML) whose server is this proxy. */
  readonly kubeconfig: string;
  /** While true, 409 to every PATCH or PUT of a status subresource. */
  conflicts: boolean;
  /** Called for each pods/resize PATCH the apiserver answered 403 NodeCapacity. */
  onNodeCapacityRefusal: ((pod: { namespace: string; name: string }) => void) | undefined;
  /** Called for each request before it is forwarded (the vs-vpa benchmark tells resizes and evictions apart). */
  onRequest: ((method: string, url: string) => void) | undefined;
  readonly stats: {
    requests: number;
    conflictsAnswered: number;
    upstreamErrors: number;
    nodeCapacityRefusals: number;
  };
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'host']);

function forwardable(h: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

function bodyText(b: Buffer, encoding: string | undefined): string {
  try {
    return encoding === 'gzip' ? gunzipSync(b).toString() : b.toString();
  } catch {
    return '';
  }
}

export function isStatusWrite(method: string | undefined, url: string | undefined): boolean {
  return (method === 'PATCH' || method === 'PUT') && /\/status(?:\?|$)/.test(url ?? '');
}

/** `admin` is the upstream kubeconfig (its client certificate authenticates every proxied request). */
export async function faultProxy(admin: k8s.KubeConfig): Promise<FaultProxy> {
  const upstream = new URL(admin.getCurrentCluster()!.server);
  const tls: RequestOptions = {};
  await admin.applyToHTTPSOptions(tls);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const ca = await createCertificateAuthority('tailor-fault-proxy-ca');
  const serving = await ca.issue({
    commonName: 'tailor-fault-proxy',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const stats = { requests: 0, conflictsAnswered: 0, upstreamErrors: 0, nodeCapacityRefusals: 0 };
  const state: Pick<FaultProxy, 'conflicts' | 'onNodeCapacityRefusal' | 'onRequest'> = {
    conflicts: false,
    onNodeCapacityRefusal: undefined,
    onRequest: undefined,
  };
  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    stats.requests++;
    state.onRequest?.(req.method ?? '', req.url ?? '');
    if (state.conflicts && isStatusWrite(req.method, req.url)) {
      stats.conflictsAnswered++;
      req.resume();
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Conflict',
          code: 409,
          message:
            'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (fault injected)',
        }),
      );
      return;
    }
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...forwardable(req.headers), host: upstream.host },
        agent,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
      },
      (ur) => {
        if (process.env.FAULTS_PROXY_DEBUG) console.log(`proxy ${req.method} ${req.url} -> ${ur.statusCode}`);
        res.writeHead(ur.statusCode ?? 502, forwardable(ur.headers));
        // A watch may send no body for minutes: the client must see its headers now, not with the
        // first event (fetch resolves on headers; informers count as synced only then).
        res.flushHeaders();
        // A refused resize: read its Status body on the way through (small; only 403s of PATCHes).
        if (req.method === 'PATCH' && ur.statusCode === 403) {
          const chunks: Buffer[] = [];
          ur.on('data', (c: Buffer) => chunks.push(c));
          ur.on('end', () => {
            const pod = nodeCapacityRefusal(
              req.method,
              req.url,
              ur.statusCode,
              bodyText(Buffer.concat(chunks), ur.headers['content-encoding']),
            );
            if (!pod) return;
            stats.nodeCapacityRefusals++;
            state.onNodeCapacityRefusal?.(pod);
          });
        }
        ur.pipe(res);
        ur.on('error', () => res.destroy());
      },
    );
    up.on('error', (err) => {
      stats.upstreamErrors++;
      if (process.env.FAULTS_PROXY_DEBUG) console.log(`proxy ${req.method} ${req.url} error ${err.message}`);
      if (!res.headersSent) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'ServiceUnavailable',
            code: 503,
            message: `apiserver unreachable: ${err.message}`,
          }),
        );
      } else res.destroy();
    });
    // The client went away (a watch stopped): stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const user = admin.getCurrentUser()!;
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();
  return {
    port,
    kubeconfig: kubeconfig(`https://127.0.0.1:${port}`, ca.certPem, user.name, {
      certPem: b64(user.certData),
      keyPem: b64(user.keyData),
    }),
    get conflicts() {
      return state.conflicts;
    },
    set conflicts(v: boolean) {
      state.conflicts = v;
    },
    get onNodeCapacityRefusal() {
      return state.onNodeCapacityRefusal;
    },
    set onNodeCapacityRefusal(f) {
      state.onNodeCapacityRefusal = f;
    },
    get onRequest() {
      return state.onRequest;
    },
    set onRequest(f) {
      state.onRequest = f;
    },
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
