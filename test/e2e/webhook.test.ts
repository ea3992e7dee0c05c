// The admission webhook against the real kube-apiserver: registered for this file's namespace only,
// it gives a new Deployment pod its SizingPolicy's recommendation (InPlace), leaves a Recommend-mode
// workload as written, and once stopped, pods are still created as written (failurePolicy Ignore).
import { after, test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { installCrds } from '../../src/api/install.ts';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { isNotFound } from '../../src/kube/errors.ts';
import {
  SIZED_BY_ANNOTATION,
  SKIPPED_ANNOTATION,
  startWebhook,
  unregisterWebhook,
  type WebhookHandle,
} from '../../src/webhook/index.ts';
import { eventually, expectReady, idleDeployment, useCluster } from '../support/cluster.ts';
import {
  allowWebhookConfiguration,
  allowWebhookHome,
  operatorIdentity,
  recordRbacDenials,
} from '../support/identity.ts';

const cluster = useCluster(import.meta.url);
const clients = makeClients(cluster.kc);
// Cluster-scoped: named after this file's namespace so parallel runs never share or delete another's.
const CONFIG = `tailor-webhook-${cluster.namespace}`;
const Mi = 2 ** 20;
const WRITTEN = { requests: { cpu: '200m', memory: '400Mi' }, limits: { cpu: '400m', memory: '800Mi' } };
const RECOMMENDED = { cpu: '100m', memory: '128Mi' };
// KeepRatio (the default): limits stay at twice the requests.
const SIZED = { requests: RECOMMENDED, limits: { cpu: '200m', memory: '256Mi' } };

/** client-node returns class instances; compare their data only. */
const plain = (v: unknown): unknown => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

const CLI_CONFIG = `${CONFIG}-cli`;

let hook: WebhookHandle | undefined;
let denials: ReturnType<typeof recordRbacDenials> = { check: () => {}, stop: () => {} };
let cli: ChildProcess | undefined;
after(async () => {
  await hook?.stop();
  if (cli && cli.exitCode === null) cli.kill('SIGKILL');
  await unregisterWebhook(clients, CONFIG);
  await unregisterWebhook(clients, CLI_CONFIG);
});

async function createPolicy(name: string, spec: Record<string, unknown>): Promise<void> {
  const { namespace } = cluster;
  const group = { group: 'tailor.dev', version: 'v1alpha1', namespace, plural: 'sizingpolicies' };
  await clients.custom.createNamespacedCustomObject({
    ...group,
    body: { apiVersion: 'tailor.dev/v1alpha1', kind: 'SizingPolicy', metadata: { name }, spec },
  });
  // What the sizing controller would publish (not this file's business: written here by hand).
  await clients.custom.patchNamespacedCustomObjectStatus(
    {
      ...group,
      name,
      body: {
        status: {
          recommendations: [
            {
              name: 'app',
              target: RECOMMENDED,
              lowerBound: RECOMMENDED,
              upperBound: { cpu: '200m', memory: '256Mi' },
              // The workload's memory peak: new pods are never given less than it (+ 5%).
              peak: { memory: '100Mi' },
            },
          ],
        },
      },
    },
    mergePatch,
  );
}

function deployment(name: string, replicas = 1): k8s.V1Deployment {
  return idleDeployment(name, replicas, { cpuCores: 0.02, memoryBytes: 50 * Mi }, WRITTEN);
}

/** A dry-run create of a pod labelled for `policy`'s selector: what admission would make of it. */
async function probe(label: string): Promise<k8s.V1Pod> {
  return cluster.core.createNamespacedPod({
    namespace: cluster.namespace,
    dryRun: 'All',
    body: {
      metadata: { name: 'probe', labels: { 'tailor.dev/probe': label } },
      spec: { containers: [{ name: 'app', image: 'example.com/app:1', resources: WRITTEN }] },
    },
  });
}

async function podsOf(app: string, count: number): Promise<k8s.V1Pod[]> {
  const { core, namespace } = cluster;
  return eventually(
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
      assert.equal(pods.items.length, count, `${pods.items.length} pods of ${app}, want ${count}`);
      return pods.items;
    },
    { what: `${count} pods of ${app}` },
  );
}

test('new pods get the recommendation; Recommend leaves them; a stopped webhook fails open', async () => {
  const { core, apps, namespace } = cluster;
  await installCrds(cluster.ext);
  await createPolicy('sized', { targetRef: { kind: 'Deployment', name: 'sized' }, mode: 'InPlace' });
  await createPolicy('watched', { targetRef: { kind: 'Deployment', name: 'watched' }, mode: 'Recommend' });
  await createPolicy('probe', { selector: { matchLabels: { 'tailor.dev/probe': 'true' } }, mode: 'Initial' });

  // As the operator's own ServiceAccount with the shipped role (plus this file's configuration name).
  const identity = await operatorIdentity();
  await allowWebhookConfiguration(CONFIG);
  await allowWebhookHome(namespace);
  denials = recordRbacDenials(identity.kc);
  hook = await startWebhook({
    clients: makeClients(identity.kc),
    tlsSecret: { namespace },
    register: { name: CONFIG, namespaces: { kind: 'Only', namespaces: [namespace] } },
  });
  assert.match(hook.url, /^https:\/\/127\.0\.0\.1:\d+\/mutate-pods$/);
  const config = await clients.admission.readMutatingWebhookConfiguration({ name: CONFIG });
  const w = config.webhooks![0]!;
  assert.equal(w.failurePolicy, 'Ignore');
  assert.equal(w.sideEffects, 'None');
  assert.deepEqual(plain(w.namespaceSelector?.matchExpressions), [
    { key: 'kubernetes.io/metadata.name', operator: 'In', values: [namespace] },
  ]);

  // The apiserver loads webhook configurations through an informer: wait until a (dry-run) pod of
  // the probe policy comes back sized, so the next pods certainly pass through the webhook.
  await eventually(
    async () => {
      const probe = await core.createNamespacedPod({
        namespace,
        dryRun: 'All',
        body: {
          metadata: { name: 'probe', labels: { 'tailor.dev/probe': 'true' } },
          spec: { containers: [{ name: 'app', image: 'example.com/app:1', resources: WRITTEN }] },
        },
      });
      assert.equal(
        probe.metadata?.annotations?.[SIZED_BY_ANNOTATION],
        'probe',
        'the webhook sized the probe',
      );
    },
    { what: 'the apiserver to call the webhook' },
  );

  // InPlace: the Deployment's pod is created with the recommendation, and runs with it.
  await apps.createNamespacedDeployment({ namespace, body: deployment('sized') });
  const [sized] = await podsOf('sized', 1);
  assert.deepEqual(plain(sized!.spec!.containers[0]!.resources), SIZED);
  assert.equal(sized!.metadata?.annotations?.[SIZED_BY_ANNOTATION], 'sized');
  assert.deepEqual(JSON.parse(sized!.metadata.annotations['tailor.dev/resources-before']!), { app: WRITTEN });
  const running = await expectReady(core, namespace, sized!.metadata.name!);
  assert.deepEqual(plain(running.status?.containerStatuses?.[0]?.resources?.requests), RECOMMENDED);
  assert.equal(running.status?.qosClass, 'Burstable');

  // Recommend: the pod is as written.
  await apps.createNamespacedDeployment({ namespace, body: deployment('watched') });
  const [watched] = await podsOf('watched', 1);
  assert.deepEqual(plain(watched!.spec!.containers[0]!.resources), WRITTEN);
  assert.equal(watched!.metadata?.annotations?.[SIZED_BY_ANNOTATION], undefined);

  // Stopped (still registered): the apiserver cannot reach it and admits pods as written.
  await hook.stop();
  denials.stop();
  denials.check();
  hook = undefined;
  const started = Date.now();
  await apps.patchNamespacedDeploymentScale(
    { name: 'sized', namespace, body: { spec: { replicas: 2 } } },
    mergePatch,
  );
  const both = await podsOf('sized', 2);
  const fresh = both.find((p) => p.metadata?.name !== sized!.metadata?.name)!;
  assert.deepEqual(plain(fresh.spec!.containers[0]!.resources), WRITTEN, 'created as written');
  assert.equal(fresh.metadata?.annotations?.[SIZED_BY_ANNOTATION], undefined);
  assert.ok(
    Date.now() - started < 20_000,
    `created in ${Date.now() - started}ms despite the webhook being down`,
  );
});

test('`tailor webhook --register` serves until Ctrl-C, then removes its configuration', async () => {
  const { namespace } = cluster;
  await installCrds(cluster.ext);
  await allowWebhookConfiguration(CLI_CONFIG);
  await createPolicy('cli-probe', {
    selector: { matchLabels: { 'tailor.dev/probe': 'cli' } },
    mode: 'Initial',
  });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'webhook',
      '--port',
      '0',
      '--register',
      '--namespaces',
      namespace,
      '--name',
      CLI_CONFIG,
      '--kubeconfig',
      (await operatorIdentity()).kubeconfigPath,
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  cli = child;
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await eventually(
    () =>
      assert.ok(
        /webhook serving https:\/\/127\.0\.0\.1:\d+\/mutate-pods; registered/.test(stderr),
        `stderr: ${stderr}`,
      ),
    { what: 'tailor webhook to serve', timeoutMs: 60_000 },
  );
  await eventually(
    async () => {
      const p = await probe('cli');
      assert.equal(
        p.metadata?.annotations?.[SIZED_BY_ANNOTATION],
        'cli-probe',
        'the CLI webhook sized the probe',
      );
      assert.deepEqual(plain(p.spec?.containers[0]?.resources), SIZED);
    },
    { what: 'the apiserver to call the CLI webhook' },
  );
  child.kill('SIGINT');
  assert.equal(await exited, 0, `exit code; stderr: ${stderr}`);
  await assert.rejects(
    clients.admission.readMutatingWebhookConfiguration({ name: CLI_CONFIG }),
    (err: unknown) => isNotFound(err),
    'the configuration is deleted on exit',
  );
});

test('a raise past a ResourceQuota is not sent: the pod is admitted as written, not rejected', async () => {
  const { core, namespace } = cluster;
  await installCrds(cluster.ext);
  const group = { group: 'tailor.dev', version: 'v1alpha1', namespace, plural: 'sizingpolicies' };
  const RAISED = { cpu: '200m', memory: '600Mi' };
  await clients.custom.createNamespacedCustomObject({
    ...group,
    body: {
      apiVersion: 'tailor.dev/v1alpha1',
      kind: 'SizingPolicy',
      metadata: { name: 'quota-probe' },
      spec: { selector: { matchLabels: { 'tailor.dev/probe': 'quota' } }, mode: 'Initial' },
    },
  });
  await clients.custom.patchNamespacedCustomObjectStatus(
    {
      ...group,
      name: 'quota-probe',
      body: { status: { recommendations: [{ name: 'app', target: RAISED, peak: { memory: '300Mi' } }] } },
    },
    mergePatch,
  );
  // Scoped to pods with activeDeadlineSeconds, so the other tests' pods do not count: 400Mi as
  // written fits under 500Mi, the recommended 600Mi does not.
  await core.createNamespacedResourceQuota({
    namespace,
    body: {
      metadata: { name: 'compute' },
      spec: { hard: { 'requests.memory': '500Mi' }, scopes: ['Terminating'] },
    },
  });
  await eventually(
    async () => {
      const q = await core.readNamespacedResourceQuota({ name: 'compute', namespace });
      assert.equal(q.status?.hard?.['requests.memory'], '500Mi', 'the quota controller has seen it');
    },
    { what: 'the ResourceQuota to be processed' },
  );
  hook = await startWebhook({
    clients,
    tlsSecret: { namespace },
    register: { name: CONFIG, namespaces: { kind: 'Only', namespaces: [namespace] } },
  });
  const body = (deadline: boolean): k8s.V1Pod => ({
    metadata: { name: deadline ? 'bounded' : 'probe', labels: { 'tailor.dev/probe': 'quota' } },
    spec: {
      ...(deadline ? { activeDeadlineSeconds: 3600 } : {}),
      containers: [{ name: 'app', image: 'example.com/app:1', resources: WRITTEN }],
    },
  });
  // Outside the quota's scope the raise goes through: the webhook is called, and raises.
  await eventually(
    async () => {
      const p = await core.createNamespacedPod({ namespace, dryRun: 'All', body: body(false) });
      assert.deepEqual(plain(p.spec?.containers[0]?.resources?.requests), RAISED, 'raised');
    },
    { what: 'the apiserver to call the webhook' },
  );
  // Inside it: admitted with the resources it was written with, and the reason on the pod.
  const created = await core.createNamespacedPod({ namespace, body: body(true) });
  assert.deepEqual(plain(created.spec?.containers[0]?.resources), WRITTEN, 'as written');
  assert.match(
    created.metadata?.annotations?.[SKIPPED_ANNOTATION] ?? '',
    /ResourceQuota compute: requests\.memory .* is above hard 500Mi/,
  );
  assert.equal(created.metadata?.annotations?.[SIZED_BY_ANNOTATION], undefined);
  await hook.stop();
  hook = undefined;
  await core.deleteNamespacedResourceQuota({ name: 'compute', namespace });
});

test('certificates persist (same caBundle after a restart); the last replica standing removes the configuration', async () => {
  const { namespace } = cluster;
  await installCrds(cluster.ext);
  const HA = `${CONFIG}-ha`;
  const start = () =>
    startWebhook({
      clients,
      // The Secret and the Leases in this file's namespace: parallel files share the cluster.
      tlsSecret: { namespace },
      register: { name: HA, namespaces: { kind: 'Only', namespaces: [namespace] } },
    });
  const bundle = async () =>
    (await clients.admission.readMutatingWebhookConfiguration({ name: HA })).webhooks?.[0]?.clientConfig
      .caBundle;
  const first = await start();
  const secret = await cluster.core.readNamespacedSecret({ name: 'tailor-webhook-tls', namespace });
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  assert.equal(await bundle(), first.caBundle);

  // A rolling update: the new replica starts (same CA from the Secret), then the old one stops.
  const second = await start();
  assert.equal(second.caBundle, first.caBundle, 'the same CA for every replica');
  assert.equal(await bundle(), first.caBundle, 'the configuration keeps its caBundle');
  const leases = await clients.coordination.listNamespacedLease({
    namespace,
    labelSelector: `tailor.dev/webhook-configuration=${HA}`,
  });
  assert.equal(leases.items.length, 2, 'one Lease per replica');
  assert.deepEqual(await first.unregister(), { kind: 'KeepConfiguration', others: [second.lease] });
  await first.stop();
  assert.equal(await bundle(), first.caBundle, 'the configuration stays while a replica serves');
  await eventually(
    async () => {
      const p = await probe('true');
      assert.equal(p.metadata?.annotations?.[SIZED_BY_ANNOTATION], 'probe', 'still sized, by the second');
    },
    { what: 'the remaining replica to size pods' },
  );
  assert.deepEqual(await second.unregister(), { kind: 'RemoveConfiguration' });
  await second.stop();
  await assert.rejects(
    clients.admission.readMutatingWebhookConfiguration({ name: HA }),
    (err: unknown) => isNotFound(err),
    'the last replica removes the configuration',
  );
  const left = await clients.coordination.listNamespacedLease({
    namespace,
    labelSelector: `tailor.dev/webhook-configuration=${HA}`,
  });
  assert.equal(left.items.length, 0, 'no Lease left behind');

  // A restart: the same CA again, so the same caBundle is registered.
  const third = await start();
  assert.equal(third.caBundle, first.caBundle, 'same caBundle after a restart');
  assert.equal(await bundle(), first.caBundle);
  await third.unregister();
  await third.stop();
});
