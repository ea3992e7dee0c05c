// The operator in-process for end-to-end tests: started against the run's control plane, scoped to
// the test file's namespace (other files run beside it), fast polls; plus SizingPolicy and pod helpers.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, VERSION, type SizingPolicy, type SizingPolicySpec } from '../../src/api/index.ts';
import { installCrds } from '../../src/api/install.ts';
import { makeClients } from '../../src/kube/client.ts';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../src/operator/index.ts';
import { eventually, idleDeployment, toleratePool, type TestCluster } from './cluster.ts';
import {
  allowWebhookConfiguration,
  allowWebhookHome,
  operatorIdentity,
  recordRbacDenials,
} from './identity.ts';

export interface TestOperator extends RunningOperator {
  /** http://127.0.0.1:PORT of /metrics, /healthz, /readyz. */
  readonly url: string;
}

/**
 * Starts the operator for this test file's namespace (CRDs installed first by the admin), as its own
 * ServiceAccount bound to deploy/rbac/operator.yaml; stopping it fails if RBAC refused it anything. It polls
 * metrics.k8s.io every second and applies recommendations without waiting for history. Stop it
 * yourself, or use `useTestOperator` at the top of the file.
 */
export async function startTestOperator(
  cluster: TestCluster,
  overrides: Partial<OperatorOptions> = {},
): Promise<TestOperator> {
  await installCrds(cluster.ext);
  // The operator runs as its own ServiceAccount with the shipped role, never as the admin: a test
  // that needs another kubeconfig (a proxy in front of the API) builds it from the same identity.
  const identity = await operatorIdentity();
  const kc = overrides.kc ?? identity.kc;
  if (overrides.webhook)
    await allowWebhookConfiguration(
      overrides.webhook.register?.name ?? `tailor-webhook-${cluster.namespace}`,
    );
  if (overrides.webhook?.tlsSecret?.namespace) await allowWebhookHome(overrides.webhook.tlsSecret.namespace);
  const denials = recordRbacDenials(kc);
  const dir = mkdtempSync(join(tmpdir(), 'tailor-operator-'));
  const level = process.env.TAILOR_TEST_OPERATOR_LOG ?? 'silent';
  const op = await startOperator({
    historyPath: join(dir, 'history.db'),
    pollIntervalMs: 1000,
    metricsAddr: '127.0.0.1:0',
    namespace: cluster.namespace,
    log: pino({ name: 'tailor-operator', level }, pino.destination({ dest: 2, sync: true })),
    ...overrides,
    kc,
    sizing: { minHistorySeconds: 0, busyRequeueMs: 1000, resyncMs: 5000, ...overrides.sizing },
  });
  return {
    ...op,
    url: `http://127.0.0.1:${op.http!.port}`,
    stop: async () => {
      await op.stop();
      denials.stop();
      rmSync(dir, { recursive: true, force: true });
      denials.check();
    },
  };
}

/**
 * Call at the top of a test file (after useCluster): the operator runs for the file's tests. Hooks
 * are registered here, at the top level: node:test runs an `after` registered inside a `before`
 * hook as soon as that hook ends, which would stop the operator before the first test.
 */
export function useTestOperator(
  cluster: TestCluster,
  overrides: Partial<OperatorOptions> = {},
): { readonly current: TestOperator } {
  let op: TestOperator | undefined;
  before(async () => {
    op = await startTestOperator(cluster, overrides);
  });
  after(async () => {
    await op?.stop();
  });
  return {
    get current() {
      if (!op) throw new Error('the operator is not started yet (use it inside a test)');
      return op;
    },
  };
}

export function createPolicy(
  cluster: TestCluster,
  name: string,
  spec: Partial<SizingPolicySpec> & Pick<SizingPolicySpec, 'mode'>,
): Promise<unknown> {
  return makeClients(cluster.kc).custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: cluster.namespace,
    plural: 'sizingpolicies',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'SizingPolicy', metadata: { name }, spec },
  });
}

export async function readPolicy(cluster: TestCluster, name: string): Promise<SizingPolicy> {
  return (await makeClients(cluster.kc).custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: cluster.namespace,
    plural: 'sizingpolicies',
    name,
  })) as SizingPolicy;
}

/** Waits until `check` passes on the policy (it should assert, with messages); returns the policy. */
export function expectPolicyStatus(
  cluster: TestCluster,
  name: string,
  check: (p: SizingPolicy) => void,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<SizingPolicy> {
  return eventually(
    async () => {
      const p = await readPolicy(cluster, name);
      check(p);
      return p;
    },
    {
      timeoutMs: opts.timeoutMs ?? 60_000,
      intervalMs: 250,
      what: opts.what ?? `status of SizingPolicy ${name}`,
    },
  );
}

export function conditionOf(p: SizingPolicy, type: string) {
  return p.status?.conditions?.find((c) => c.type === type);
}

/** The one pod of a Deployment (labels app=NAME), once it is Ready. */
export async function podOf(cluster: TestCluster, app: string, timeoutMs = 60_000): Promise<k8s.V1Pod> {
  return eventually(
    async () => {
      const pods = await cluster.core.listNamespacedPod({
        namespace: cluster.namespace,
        labelSelector: `app=${app}`,
      });
      const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
      assert.equal(live.length, 1, `${live.length} live pods of ${app}`);
      const ready = live[0]!.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      assert.equal(ready, 'True', `pod of ${app} Ready: ${ready}`);
      return live[0]!;
    },
    { timeoutMs, what: `the Ready pod of ${app}` },
  );
}

/** Waits until the pod's container spec passes `check` (a resize Tailor sent); returns the pod. */
export function expectResized(
  cluster: TestCluster,
  pod: string,
  check: (resources: k8s.V1ResourceRequirements, pod: k8s.V1Pod) => void,
  opts: { timeoutMs?: number; intervalMs?: number; container?: string } = {},
): Promise<k8s.V1Pod> {
  return eventually(
    async () => {
      const p = await cluster.core.readNamespacedPod({ name: pod, namespace: cluster.namespace });
      const c = p.spec?.containers.find((x) => x.name === (opts.container ?? 'app'));
      check(c?.resources ?? {}, p);
      return p;
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: opts.intervalMs ?? 200, what: `pod ${pod} resized` },
  );
}

/** Events with this reason about the object (a pod, or a SizingPolicy) in the test's namespace. */
export async function eventsFor(
  cluster: TestCluster,
  kind: string,
  name: string,
  reason?: string,
): Promise<k8s.CoreV1Event[]> {
  const list = await cluster.core.listNamespacedEvent({
    namespace: cluster.namespace,
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
  });
  return list.items.filter((e) => reason === undefined || e.reason === reason);
}

export const Mi = 2 ** 20;

/** One replica using 50m and 100Mi that asks for 4x that, with limits at twice the requests. */
export function overProvisioned(name: string): k8s.V1Deployment {
  return idleDeployment(
    name,
    1,
    { cpuCores: 0.05, memoryBytes: 100 * Mi },
    { requests: { cpu: '200m', memory: '400Mi' }, limits: { cpu: '400m', memory: '800Mi' } },
  );
}

/** Cores a pod that outgrows its 2-core node uses: nearly all of them, but no more than there are. */
export const HOG_CORES = 1.9;

/**
 * A Deployment whose pods each have a node of the hog pool (2 cores) to themselves: they tolerate
 * its taint and repel each other across namespaces, so two tests running at once never share a
 * node's cores. `pools` are the pools the pods may run on, the first preferred.
 */
export function hogOnItsOwnNode(body: k8s.V1Deployment, pools: string[] = ['hog']): k8s.V1Deployment {
  const template = body.spec!.template;
  template.metadata!.labels = { ...template.metadata!.labels, 'tailor.test/hog': 'true' };
  const spec = template.spec!;
  delete spec.nodeSelector;
  const inPools = (values: string[]) => [{ key: 'sim.tailor.dev/pool', operator: 'In', values }];
  spec.tolerations = [toleratePool('hog')];
  spec.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: inPools(pools) }],
      },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, preference: { matchExpressions: inPools([pools[0]!]) } },
      ],
    },
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchLabels: { 'tailor.test/hog': 'true' } },
          namespaceSelector: {},
          topologyKey: 'kubernetes.io/hostname',
        },
      ],
    },
  };
  return body;
}

/**
 * Pods that use 1.9 cores but ask for 100m, each placed on a 2-core node of the hog pool when one
 * is free (preferred; general allowed): their recommendation (about 2.6 cores with the margins)
 * cannot fit there (allocatable 1930m), so a resize in place is refused (403 NodeCapacity) and in
 * Auto they need an eviction; the replacement fits a general node.
 */
export function outgrowsItsNode(name: string, replicas: number): k8s.V1Deployment {
  return hogOnItsOwnNode(
    idleDeployment(
      name,
      replicas,
      { cpuCores: HOG_CORES, memoryBytes: 50 * Mi },
      { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    ),
    ['hog', 'general'],
  );
}
