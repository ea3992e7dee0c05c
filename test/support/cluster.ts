// The end-to-end test vocabulary: a namespace of its own per test file on the run's one real
// control plane (started by test/run.ts), typed clients, and `eventually` for asynchronous truths.
import { after, before } from 'node:test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/kube/client.ts';

export interface TestCluster {
  kc: k8s.KubeConfig;
  kubeconfigPath: string;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  ext: k8s.ApiextensionsV1Api;
  coordination: k8s.CoordinationV1Api;
  objects: k8s.KubernetesObjectApi;
  /** The namespace this test file owns; deleted after the file's tests. */
  namespace: string;
  kubectl(...args: string[]): { status: number; stdout: string; stderr: string };
}

export function kubeconfigPath(): string {
  const path = process.env.TAILOR_TEST_KUBECONFIG;
  if (!path)
    throw new Error('no control plane: run end-to-end tests through `npm test` (test/run.ts starts one)');
  return path;
}

export function clients(path = kubeconfigPath()) {
  const kc = loadKubeConfig(path);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    ext: kc.makeApiClient(k8s.ApiextensionsV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

/** Call at the top of a test file: `const cluster = useCluster(import.meta.url)`. Fields fill in `before`. */
export function useCluster(fileUrl: string): TestCluster {
  const path = kubeconfigPath();
  const c = clients(path);
  const stem = basename(new URL(fileUrl).pathname, '.test.ts')
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 40);
  const namespace = `t-${stem}-${randomBytes(3).toString('hex')}`;
  const cluster: TestCluster = {
    ...c,
    kubeconfigPath: path,
    namespace,
    kubectl: (...args) => {
      const r = spawnSync(process.env.TAILOR_TEST_KUBECTL ?? 'kubectl', ['--kubeconfig', path, ...args], {
        encoding: 'utf8',
      });
      return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
  };
  before(async () => {
    await c.core.createNamespace({
      body: { metadata: { name: namespace, labels: { 'tailor.dev/test': stem } } },
    });
    // The ServiceAccount admission plugin rejects pods until the namespace's default SA exists.
    await eventually(() => c.core.readNamespacedServiceAccount({ name: 'default', namespace }), {
      what: 'default ServiceAccount',
    });
  });
  after(async () => {
    await c.core.deleteNamespace({ name: namespace }).catch(() => {});
  });
  return cluster;
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what?: string;
}

/** Retries `fn` until it returns without throwing; returns its value, or rethrows the last error. */
export async function eventually<T>(fn: () => Promise<T> | T, opts: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const msg = last instanceof Error ? last.message : String(last);
      throw new Error(
        `${opts.what ?? 'condition'} not met within ${(opts.timeoutMs ?? 30_000) / 1000}s: ${msg}`,
        { cause: last },
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** The HTTP status and message of a Kubernetes API error from client-node. */
export function apiError(err: unknown): { code: number; message: string } {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body: { message?: string } = {};
  try {
    body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body ?? {});
  } catch {
    // not JSON
  }
  return { code: e.code ?? 0, message: body.message ?? e.message ?? String(err) };
}

/** A Node object as a kubelet would register it (capacity, Ready), for scheduling tests. */
export async function registerNode(
  core: k8s.CoreV1Api,
  name: string,
  capacity: Record<string, string> = { cpu: '4', memory: '8Gi', pods: '110' },
): Promise<void> {
  await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
  await core.patchNodeStatus(
    {
      name,
      body: {
        status: {
          capacity,
          allocatable: capacity,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'test node',
              lastHeartbeatTime: new Date(),
              lastTransitionTime: new Date(),
            },
          ],
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Pools of the shared simulated cluster test/run.ts starts (see test/fixtures/cluster.yaml). */
export const POOL = {
  general: { 'sim.tailor.dev/pool': 'general' },
  small: { 'sim.tailor.dev/pool': 'small' },
  resize: { 'sim.tailor.dev/pool': 'resize' },
  gpu: { 'sim.tailor.dev/pool': 'gpu' },
  hog: { 'sim.tailor.dev/pool': 'hog' },
  physics: { 'sim.tailor.dev/pool': 'physics' },
} as const;

/** Tolerates the taint of a tainted test pool (hog, physics). */
export function toleratePool(pool: 'hog' | 'physics'): k8s.V1Toleration {
  return { key: 'sim.tailor.dev/pool', operator: 'Equal', value: pool, effect: 'NoSchedule' };
}

export function prometheusTarget(): string {
  const target = process.env.TAILOR_TEST_SIM_PROMETHEUS;
  if (!target) throw new Error('no simulator: run end-to-end tests through `npm test`');
  return target;
}

export interface PodOptions {
  name: string;
  pool?: keyof typeof POOL;
  profile?: string;
  params?: Record<string, unknown>;
  resources: k8s.V1ResourceRequirements;
  resizePolicy?: k8s.V1ContainerResizePolicy[];
  annotations?: Record<string, string>;
  volumes?: k8s.V1Volume[];
  mounts?: k8s.V1VolumeMount[];
}

/** A one-container pod for the simulator, with its usage profile in annotations. */
export function simPod(o: PodOptions): k8s.V1Pod {
  return {
    metadata: {
      name: o.name,
      labels: { app: o.name },
      annotations: {
        ...(o.profile ? { 'sim.tailor.dev/profile': o.profile } : {}),
        ...(o.params ? { 'sim.tailor.dev/params': JSON.stringify(o.params) } : {}),
        ...o.annotations,
      },
    },
    spec: {
      nodeSelector: POOL[o.pool ?? 'general'],
      ...(o.pool === 'hog' || o.pool === 'physics' ? { tolerations: [toleratePool(o.pool)] } : {}),
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'app',
          image: 'example.com/app:1',
          resources: o.resources,
          ...(o.resizePolicy ? { resizePolicy: o.resizePolicy } : {}),
          ...(o.mounts ? { volumeMounts: o.mounts } : {}),
        },
      ],
      ...(o.volumes ? { volumes: o.volumes } : {}),
    },
  };
}

export async function expectReady(
  core: k8s.CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs = 30_000,
): Promise<k8s.V1Pod> {
  return eventually(
    async () => {
      const p = await core.readNamespacedPod({ name, namespace });
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      if (ready !== 'True')
        throw new Error(`pod ${name} is ${p.status?.phase ?? 'unknown'}, Ready=${ready ?? '-'}`);
      return p;
    },
    { timeoutMs, what: `pod ${name} Ready` },
  );
}

/** Sends a pods/resize patch with the given container resources. */
export function resize(
  core: k8s.CoreV1Api,
  namespace: string,
  name: string,
  resources: k8s.V1ResourceRequirements,
  container = 'app',
) {
  return core.patchNamespacedPodResize(
    { name, namespace, body: { spec: { containers: [{ name: container, resources }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

export function condition(pod: k8s.V1Pod, type: string): k8s.V1PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

// Note for test authors: inside `eventually`, give every `assert.ok` a message. Without one,
// Node 20 re-reads and re-parses the test's source on each failure to print the expression,
// and under tsx's transformed positions that took minutes and starved the test process.

/** A Deployment of `replicas` one-container pods on the general pool that use `use` (idle profile). */
export function idleDeployment(
  name: string,
  replicas: number,
  use: { cpuCores: number; memoryBytes: number },
  resources: k8s.V1ResourceRequirements,
): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: {
            'sim.tailor.dev/profile': 'idle',
            'sim.tailor.dev/params': JSON.stringify({ ...use, noise: 0, startupSeconds: 0 }),
          },
        },
        spec: {
          nodeSelector: POOL.general,
          terminationGracePeriodSeconds: 5,
          containers: [{ name: 'app', image: 'example.com/web:1', resources }],
        },
      },
    },
  };
}
