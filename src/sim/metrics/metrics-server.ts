// Runs the real metrics-server (sigs.k8s.io/metrics-server v0.8.0) in front of the simulated
// kubelets, as its official manifests install it (manifests/base/rbac.yaml, apiservice.yaml): its
// own ServiceAccount with nodes/metrics and the auth-delegator / authentication-reader bindings,
// a token kubeconfig, a serving certificate the APIService trusts, scraping each node's
// /metrics/resource on its InternalIP and daemonEndpoints port every resolution.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { TailorError } from '../../errors.ts';
import type { Clients } from '../../kube/client.ts';
import { classify } from '../../kube/errors.ts';
import { createCertificateAuthority } from '../../devcluster/pki.ts';
import { freePort } from '../../devcluster/ports.ts';
import { startProcess, type RunningProcess } from '../../devcluster/process.ts';
import { MANAGED_BY, METRICS_SERVICE, MetricsApiService } from './apiservice.ts';

/** Its identity, named apart from a real install's `metrics-server` so neither overwrites the other. */
export const METRICS_SERVER_IDENTITY = { name: 'tailor-sim-metrics-server', namespace: 'kube-system' };
const FIELD_MANAGER = 'tailor-sim';
/** Token lifetime; renewed at a tenth of it (client-go re-reads a kubeconfig's tokenFile each minute). */
const TOKEN_SECONDS = 24 * 3600;
const READY_TIMEOUT_MS = 60_000;

/** metrics-server refuses a resolution under 10 s (cmd/metrics-server/app/options/options.go). */
export const MIN_RESOLUTION_SECONDS = 10;
/** What the official manifests pass (--metric-resolution=15s). */
export const DEFAULT_RESOLUTION_SECONDS = 15;

/**
 * The scrape period in wall seconds for a clock running `speed` times faster: 15 s of simulated
 * time when that is possible, else the 10 s minimum (at speed 60 a sample then spans 10 simulated
 * minutes: metrics.k8s.io is coarse in simulated time, as a real one is in real time).
 */
export function resolutionFor(speed: number, requestedSeconds = DEFAULT_RESOLUTION_SECONDS): number {
  if (!(requestedSeconds >= MIN_RESOLUTION_SECONDS))
    throw new TailorError(
      'InvalidInput',
      `metric resolution ${requestedSeconds}s: metrics-server needs at least ${MIN_RESOLUTION_SECONDS}s`,
      { hint: `give ${MIN_RESOLUTION_SECONDS} seconds or more` },
    );
  return Math.max(MIN_RESOLUTION_SECONDS, Math.min(requestedSeconds, requestedSeconds / Math.max(1, speed)));
}

/** The command line, as the official Deployment's, adapted to run beside the control plane on loopback. */
export function metricsServerArgs(o: {
  port: number;
  dir: string;
  resolutionSeconds: number;
  nodeSelector: string;
}): string[] {
  const kubeconfig = join(o.dir, 'kubeconfig');
  return [
    '--bind-address=127.0.0.1',
    `--secure-port=${o.port}`,
    `--tls-cert-file=${join(o.dir, 'serving.crt')}`,
    `--tls-private-key-file=${join(o.dir, 'serving.key')}`,
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--kubelet-use-node-status-port',
    // The simulated kubelets' serving certificate names each node's address: verified, not skipped.
    `--kubelet-certificate-authority=${join(o.dir, 'kubelet-ca.crt')}`,
    `--metric-resolution=${o.resolutionSeconds}s`,
    // It must be under 90% of the resolution (options.go); the default 10 s is at 15 s.
    `--kubelet-request-timeout=${Math.min(10, Math.floor(o.resolutionSeconds * 0.9))}s`,
    `--node-selector=${o.nodeSelector}`,
    '--profiling=false',
  ];
}

export interface MetricsServerOptions {
  readonly binary: string;
  readonly clients: Clients;
  /** The CA the simulated kubelets' certificate chains to. */
  readonly kubeletCaPem: string;
  readonly resolutionSeconds: number;
  /** Which nodes it scrapes (the simulator's). */
  readonly nodeSelector: string;
  readonly replaceForeign: boolean;
  readonly log: (line: string) => void;
}

export class MetricsServer {
  private process?: RunningProcess;
  private dir?: string;
  private apiService?: MetricsApiService;
  private renew?: NodeJS.Timeout;
  port = 0;

  constructor(private readonly o: MetricsServerOptions) {}

  /** Its log file (kept until stop), for a status line and for a failure's message. */
  get logFile(): string | undefined {
    return this.process?.logFile;
  }

  /** Identity, files, process; then, once it answers /healthz, the APIService pointing at it. */
  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-sim-metrics-server-'));
    this.dir = dir;
    await applyIdentity(this.o.clients);
    await rbacSettled(this.o.clients.kc);
    const writeToken = async () => {
      const t = await this.o.clients.core.createNamespacedServiceAccountToken({
        ...METRICS_SERVER_IDENTITY,
        body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } },
      });
      if (!t.status?.token) throw new TailorError('Internal', 'the TokenRequest returned no token');
      writeFileSync(join(dir, 'token'), t.status.token, { mode: 0o600 });
    };
    await writeToken();
    this.renew = setInterval(
      () =>
        void writeToken().catch((e: unknown) =>
          this.o.log(`metrics-server: renewing its token: ${classify(e).message}`),
        ),
      (TOKEN_SECONDS * 1000) / 10,
    );
    this.renew.unref();
    writeFileSync(join(dir, 'kubeconfig'), tokenKubeconfig(this.o.clients.kc, join(dir, 'token')), {
      mode: 0o600,
    });
    writeFileSync(join(dir, 'kubelet-ca.crt'), this.o.kubeletCaPem);
    const ca = await createCertificateAuthority('tailor-sim-metrics-server-ca');
    const serviceHost = `${METRICS_SERVICE.name}.${METRICS_SERVICE.namespace}.svc`;
    const cert = await ca.issue({
      commonName: serviceHost,
      usage: 'server',
      dnsNames: [serviceHost, 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    writeFileSync(join(dir, 'serving.crt'), cert.certPem);
    writeFileSync(join(dir, 'serving.key'), cert.keyPem, { mode: 0o600 });
    this.port = await freePort();
    const args = metricsServerArgs({
      port: this.port,
      dir,
      resolutionSeconds: this.o.resolutionSeconds,
      nodeSelector: this.o.nodeSelector,
    });
    this.process = startProcess('metrics-server', this.o.binary, args, join(dir, 'metrics-server.log'));
    await this.waitHealthy(ca.certPem);
    this.apiService = new MetricsApiService(this.o.clients, this.o.replaceForeign);
    await this.apiService.register(this.port, ca.certPem);
  }

  private async waitHealthy(caPem: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const p = this.process!;
      if (p.hasExited())
        throw new TailorError(
          'Prerequisite',
          `metrics-server exited at start (${await p.exited}):\n    ${p.tail(15).split('\n').join('\n    ')}`,
          { hint: `its log is ${p.logFile}` },
        );
      if ((await get(`https://127.0.0.1:${this.port}/healthz`, caPem)) === 200) return;
      if (Date.now() > deadline)
        throw new TailorError(
          'Timeout',
          `metrics-server did not answer /healthz within ${READY_TIMEOUT_MS / 1000}s:\n    ${p.tail(15).split('\n').join('\n    ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Removes the APIService (separate: an unreachable apiserver must not keep the process alive). */
  async unregister(): Promise<void> {
    await this.apiService?.unregister();
  }

  /** Ends the process and removes its files. */
  async close(): Promise<void> {
    clearInterval(this.renew);
    await this.process?.stop(2000);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** GET over TLS trusting `caPem`: the status code, 0 when nothing answers. */
function get(url: string, caPem: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca: caPem, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The admin kubeconfig's cluster, with the ServiceAccount's token file as the user. */
function tokenKubeconfig(admin: k8s.KubeConfig, tokenFile: string): string {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new TailorError('Internal', 'the kubeconfig has no current cluster');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'cluster' }],
    users: [{ name: METRICS_SERVER_IDENTITY.name }],
    contexts: [{ name: 'metrics-server', cluster: 'cluster', user: METRICS_SERVER_IDENTITY.name }],
    currentContext: 'metrics-server',
  });
  // The client library's export has no tokenFile: add it to the user, which client-go re-reads.
  const doc = JSON.parse(kc.exportConfig()) as { users: { name: string; user: Record<string, string> }[] };
  doc.users[0]!.user = { tokenFile };
  return JSON.stringify(doc, null, 2);
}

/** The official manifests' RBAC (manifests/base/rbac.yaml), under this simulator's names. */
export function identityObjects(): k8s.KubernetesObject[] {
  const { name, namespace } = METRICS_SERVER_IDENTITY;
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  const labels = { ...MANAGED_BY };
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    {
      // Who may read metrics.k8s.io: whoever may view (the manifest's system:aggregated-metrics-reader).
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: {
        name: 'system:tailor-sim-aggregated-metrics-reader',
        labels: {
          ...labels,
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
        },
      },
      rules: [
        { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } },
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: { name: `system:${name}`, labels },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: { name: `system:${name}`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `system:${name}` },
      subjects,
    },
    {
      // Delegated authentication and authorization of the aggregator's requests (TokenReview, SAR).
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: { name: `${name}:system:auth-delegator`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects,
    },
    {
      // The requestheader CA and names it trusts the aggregator by (kube-system/extension-apiserver-authentication).
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: { name: `${name}-auth-reader`, namespace, labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'extension-apiserver-authentication-reader',
      },
      subjects,
    },
  ] as k8s.KubernetesObject[];
}

async function applyIdentity(c: Clients): Promise<void> {
  for (const obj of identityObjects()) {
    try {
      await c.objects.patch(
        obj,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw new TailorError(
        'KubernetesApi',
        `applying ${obj.kind} ${obj.metadata?.name} for metrics-server: ${classify(err).message}`,
        { cause: err },
      );
    }
  }
}

/**
 * Bindings take a moment to reach the apiserver's RBAC cache, and metrics-server exits when it
 * cannot read the requestheader configuration at start: wait until its rules hold.
 */
async function rbacSettled(kc: k8s.KubeConfig, timeoutMs = 30_000): Promise<void> {
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  const user = `system:serviceaccount:${METRICS_SERVER_IDENTITY.namespace}:${METRICS_SERVER_IDENTITY.name}`;
  const checks: k8s.V1ResourceAttributes[] = [
    {
      verb: 'get',
      resource: 'configmaps',
      namespace: 'kube-system',
      name: 'extension-apiserver-authentication',
    },
    { verb: 'get', resource: 'nodes', subresource: 'metrics' },
    { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
  ];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const allowed = await Promise.all(
      checks.map((resourceAttributes) =>
        authz
          .createSubjectAccessReview({ body: { spec: { user, resourceAttributes } } })
          .then((r) => r.status?.allowed === true)
          .catch(() => false),
      ),
    );
    if (allowed.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new TailorError('Timeout', `RBAC for ${user} did not settle within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
