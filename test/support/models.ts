// End-to-end vocabulary for ModelDeployments: tenant namespaces of the test's own, each with the
// whole operator (models, start-up boost and sizing controllers) running in the test process
// against the real control plane, a fixture Hugging Face hub on loopback, and small readers for
// the objects a ModelDeployment owns.
import { after, before } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { installCrds } from '../../src/api/install.ts';
import type { ModelDeployment } from '../../src/api/modeldeployment.ts';
import type { SizingPolicy } from '../../src/api/sizingpolicy.ts';
import { startOperator, type RunningOperator } from '../../src/operator/index.ts';
import { MODEL_LABEL } from '../../src/core/boost/index.ts';
import { makeClients } from '../../src/kube/client.ts';
import { KubeletVolumeStats } from '../../src/sources/volume-stats/kubelet.ts';
import { clients as testClients, eventually } from './cluster.ts';
import { operatorIdentity, recordRbacDenials } from './identity.ts';

export interface ModelsEnv {
  /** Tenant namespaces created for this file and deleted after it. */
  tenants: string[];
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  custom: k8s.CustomObjectsApi;
  hubUrl: string;
}

/** A hub that knows no repository: every file is 404 RepoNotFound, as huggingface.co answers. */
function emptyHub(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'x-error-code': 'RepoNotFound', 'content-type': 'text/plain' });
    res.end('Repository not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export interface UseModelsOptions {
  /** The operator's --allowed-image prefixes. */
  allowedImages?: readonly string[];
  /**
   * Volume usage from the simulated kubelets' Summary API (as the operator's own token reads it in a
   * pod), polled every 10 s, for the storage and models controllers. Left out: the operator's default.
   */
  kubeletVolumeStats?: boolean;
}

export function useModels(stem: string, tenantCount: number, opts: UseModelsOptions = {}): ModelsEnv {
  const c = testClients();
  const kc = c.kc;
  const clients = makeClients(kc);
  const suffix = randomBytes(3).toString('hex');
  const env: ModelsEnv = {
    tenants: Array.from(
      { length: tenantCount },
      (_, i) => `t-${stem}-${String.fromCharCode(97 + i)}-${suffix}`,
    ),
    core: clients.core,
    apps: clients.apps,
    custom: clients.custom,
    hubUrl: '',
  };
  let hub: Server | undefined;
  const running: RunningOperator[] = [];
  let denials: ReturnType<typeof recordRbacDenials> | undefined;
  let stats: KubeletVolumeStats | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tailor-models-'));
  before(async () => {
    await installCrds(clients.ext);
    for (const ns of env.tenants) {
      await clients.core.createNamespace({
        body: { metadata: { name: ns, labels: { 'tailor.dev/test': stem } } },
      });
      await eventually(() => clients.core.readNamespacedServiceAccount({ name: 'default', namespace: ns }), {
        what: `default ServiceAccount in ${ns}`,
      });
    }
    hub = await emptyHub();
    env.hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
    // The operators run as their own ServiceAccount bound to deploy/rbac/operator.yaml, not as the admin.
    const identity = await operatorIdentity();
    denials = recordRbacDenials(identity.kc);
    const log = pino({ level: process.env.TAILOR_TEST_DEBUG ? 'debug' : 'warn' }, pino.destination(2));
    if (opts.kubeletVolumeStats) {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, identity.kc.getCurrentUser()?.token ?? '', { mode: 0o600 });
      stats = new KubeletVolumeStats({
        listNodes: async () => (await clients.core.listNode()).items,
        bearerTokenFile: tokenFile,
        insecureSkipTlsVerify: true,
        pollSeconds: 10,
        log,
      });
      stats.start();
    }
    // One operator per tenant, as a tenant's own operator would run (-n NAMESPACE). Its sizing
    // controller publishes recommendations at once but applies them only after a minute of history,
    // so the start-up boost's shrink is what the tests see on the pods.
    for (const namespace of env.tenants) {
      running.push(
        await startOperator({
          kc: identity.kc,
          historyPath: join(dir, `${namespace}.db`),
          pollIntervalMs: 1000,
          namespace,
          log,
          sizing: { minHistorySeconds: 60, busyRequeueMs: 1000, resyncMs: 3000 },
          ...(stats ? { volumeStats: stats } : {}),
          models: {
            hub: { baseUrl: env.hubUrl, timeoutMs: 2_000 },
            resyncMs: 5_000,
            ...(opts.allowedImages ? { allowedImages: opts.allowedImages } : {}),
          },
        }),
      );
    }
  });
  after(async () => {
    await Promise.all(running.map((o) => o.stop()));
    stats?.stop();
    denials?.stop();
    rmSync(dir, { recursive: true, force: true });
    hub?.close();
    for (const ns of env.tenants) await clients.core.deleteNamespace({ name: ns }).catch(() => {});
    denials?.check();
  });
  return env;
}

export async function createModel(
  env: ModelsEnv,
  md: Omit<ModelDeployment, 'metadata'> & { metadata: k8s.V1ObjectMeta },
) {
  return (await env.custom.createNamespacedCustomObject({
    group: 'tailor.dev',
    version: 'v1alpha1',
    namespace: md.metadata.namespace!,
    plural: 'modeldeployments',
    body: md,
  })) as ModelDeployment;
}

export async function readModel(env: ModelsEnv, namespace: string, name: string): Promise<ModelDeployment> {
  return (await env.custom.getNamespacedCustomObject({
    group: 'tailor.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'modeldeployments',
    name,
  })) as ModelDeployment;
}

export async function patchModel(
  env: ModelsEnv,
  namespace: string,
  name: string,
  body: unknown,
): Promise<ModelDeployment> {
  return (await env.custom.patchNamespacedCustomObject(
    { group: 'tailor.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name, body },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  )) as ModelDeployment;
}

export async function readSizingPolicy(env: ModelsEnv, namespace: string, name: string) {
  return (await env.custom.getNamespacedCustomObject({
    group: 'tailor.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'sizingpolicies',
    name,
  })) as SizingPolicy;
}

/** The live (not terminating) pods of a ModelDeployment. */
export async function modelPods(env: ModelsEnv, namespace: string, name: string): Promise<k8s.V1Pod[]> {
  const list = await env.core.listNamespacedPod({ namespace, labelSelector: `${MODEL_LABEL}=${name}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

export async function eventReasons(env: ModelsEnv, namespace: string, pod: string): Promise<string[]> {
  const list = await env.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${pod}` });
  return list.items.map((e) => e.reason ?? '');
}

/** The ModelDeployment's condition of that type. */
export async function modelCondition(env: ModelsEnv, namespace: string, name: string, type: string) {
  const m = await readModel(env, namespace, name);
  return { md: m, condition: m.status?.conditions?.find((c) => c.type === type) };
}

/** Names of the Deployments, Services, PVCs and SizingPolicies in the namespace. */
export async function objectNames(env: ModelsEnv, namespace: string) {
  const [d, s, pvc, sp] = await Promise.all([
    env.apps.listNamespacedDeployment({ namespace }),
    env.core.listNamespacedService({ namespace }),
    env.core.listNamespacedPersistentVolumeClaim({ namespace }),
    env.custom.listNamespacedCustomObject({
      group: 'tailor.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'sizingpolicies',
    }) as Promise<{ items: k8s.KubernetesObject[] }>,
  ]);
  const names = (items: k8s.KubernetesObject[]) => items.map((o) => o.metadata?.name ?? '').sort();
  return {
    deployments: names(d.items),
    services: names(s.items),
    pvcs: names(pvc.items),
    sizingPolicies: names(sp.items),
  };
}
