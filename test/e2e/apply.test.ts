// `tailor apply` on the real control plane and simulator: a Deployment's pod requesting 4x what it
// uses is shown the exact pods/resize patch by --dry-run (nothing changes, not even with the
// apiserver judging it), then resized in place by `tailor apply`, with no restart and no flapping.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { installCrds } from '../../src/api/install.ts';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { readPodMetrics } from '../../src/sources/metrics-api.ts';
import { namespaces } from '../../src/sources/scope.ts';
import type { RecommendationRecord } from '../../src/core/resize/types.ts';
import { condition, eventually, expectReady, idleDeployment, useCluster } from '../support/cluster.ts';
import { runTailor, type CliResult } from '../support/cli.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const work = mkdtempSync(join(tmpdir(), 'tailor-apply-'));
after(() => rmSync(work, { recursive: true, force: true }));

// Uses 50m and 100Mi; asks for 4x that, with limits at twice the requests.
const USE = { cpuCores: 0.05, memoryBytes: 100 * Mi };
const RESOURCES = { requests: { cpu: '200m', memory: '400Mi' }, limits: { cpu: '400m', memory: '800Mi' } };
// What a recommender says for it: usage plus 15%.
const RECOMMENDED = { cpu: '58m', memory: '115Mi' };
const EXPECTED_PATCH = {
  spec: {
    containers: [
      {
        name: 'app',
        resources: { requests: { cpu: '58m', memory: '115Mi' }, limits: { cpu: '116m', memory: '230Mi' } },
      },
    ],
  },
};

interface ApplyItem {
  pod: string;
  decision: { kind: string; reason?: string; patch?: unknown };
  action: { kind: string };
  command?: string;
  outcome?: { kind: string; message: string };
}

function tailor(...args: string[]): Promise<CliResult> {
  return runTailor(args, { kubeconfig: cluster.kubeconfigPath });
}

async function applyJson(...args: string[]): Promise<ApplyItem> {
  const r = await tailor('apply', ...args, '-o', 'json');
  assert.equal(r.code, 0, `tailor apply ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { items: ApplyItem[]; notes: string[] };
  assert.equal(report.items.length, 1, `one pod in ${r.stdout}`);
  assert.deepEqual(report.notes, [], 'no notes: usage was known, the pod was found');
  return report.items[0]!;
}

function deployment(name: string): k8s.V1Deployment {
  return idleDeployment(name, 1, USE, RESOURCES);
}

/** Creates the Deployment and returns its pod once it is Ready and metrics.k8s.io has its usage. */
async function runningPodOf(app: string): Promise<string> {
  const { core, apps, namespace } = cluster;
  await apps.createNamespacedDeployment({ namespace, body: deployment(app) });
  const name = await eventually(
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
      assert.equal(pods.items.length, 1, `${pods.items.length} pods of ${app}`);
      return pods.items[0]!.metadata!.name!;
    },
    { what: `the Deployment ${app} to create its pod` },
  );
  await expectReady(core, namespace, name);
  // Memory is only lowered when its usage is known: wait until metrics.k8s.io has the pod.
  const clients = makeClients(cluster.kc);
  await eventually(
    async () => {
      const samples = await readPodMetrics(clients.custom, namespaces(namespace));
      const s = samples.find((x) => x.pod === name);
      assert.ok(s && s.memoryBytes > 0, `metrics.k8s.io has ${name}: ${JSON.stringify(samples)}`);
    },
    { timeoutMs: 60_000, what: `usage of ${name} in metrics.k8s.io` },
  );
  return name;
}

test('a pod over-provisioned 4x: --dry-run prints the patch and changes nothing; apply resizes it in place', async () => {
  const { core, namespace } = cluster;
  const name = await runningPodOf('web');
  const file = join(work, 'recs.json');
  const records: RecommendationRecord[] = [
    {
      namespace,
      workload: { kind: 'Deployment', name: 'web' },
      container: 'app',
      recommendation: {
        target: RECOMMENDED,
        lowerBound: { cpu: '50m', memory: '100Mi' },
        upperBound: { cpu: '100m', memory: '200Mi' },
      },
    },
  ];
  writeFileSync(file, JSON.stringify(records));
  const before = await core.readNamespacedPod({ name, namespace });

  // --dry-run: the decision and the exact patch, in both forms; nothing is sent.
  const text = await tailor('apply', '--dry-run', '-f', file);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /dry run \(client\): nothing is changed/);
  assert.ok(
    text.stdout.includes(
      `kubectl patch pod ${name} -n ${namespace} --subresource resize --type strategic -p '${JSON.stringify(EXPECTED_PATCH)}'`,
    ),
    text.stdout,
  );
  // The printed command is real kubectl: run it with the apiserver judging and storing nothing.
  const command = text.stdout
    .split('\n')
    .find((l) => l.trim().startsWith('kubectl patch'))!
    .trim();
  const argv = command
    .split(' ')
    .slice(1)
    .map((a) => a.replace(/^'|'$/g, ''));
  const byKubectl = cluster.kubectl(...argv, '--dry-run=server');
  assert.equal(byKubectl.status, 0, `${command}: ${byKubectl.stderr}`);
  const dry = await applyJson('--dry-run', '-f', file);
  assert.equal(dry.pod, name);
  assert.equal(dry.decision.kind, 'InPlace');
  assert.deepEqual(dry.decision.patch, EXPECTED_PATCH);
  assert.equal(dry.outcome, undefined, 'a client dry run sends nothing');
  // --dry-run=server: the real apiserver judges the patch (admission, QoS, node capacity), stores nothing.
  const judged = await applyJson('--dry-run=server', '-f', file);
  assert.equal(judged.outcome?.kind, 'Applied', JSON.stringify(judged.outcome));
  const unchanged = await core.readNamespacedPod({ name, namespace });
  assert.equal(
    unchanged.metadata?.generation,
    before.metadata?.generation,
    'generation unchanged by dry runs',
  );
  assert.deepEqual(unchanged.spec?.containers[0]?.resources, before.spec?.containers[0]?.resources);

  // The real thing: one patch through pods/resize, done in place.
  const applied = await applyJson('-f', file);
  assert.equal(applied.outcome?.kind, 'Applied', JSON.stringify(applied.outcome));
  const done = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name, namespace });
      const cs = p.status?.containerStatuses?.[0];
      assert.deepEqual(
        { ...cs?.resources?.requests },
        { cpu: '58m', memory: '115Mi' },
        `actual requests of ${name}`,
      );
      assert.deepEqual(
        { ...cs?.resources?.limits },
        { cpu: '116m', memory: '230Mi' },
        `actual limits of ${name}`,
      );
      assert.equal(p.status?.observedGeneration, p.metadata?.generation, 'the kubelet observed the resize');
      return p;
    },
    { timeoutMs: 30_000, what: 'the container resources to follow the resize' },
  );
  assert.ok(
    (done.metadata?.generation ?? 0) > (before.metadata?.generation ?? 0),
    'the resize bumped the generation',
  );
  assert.equal(done.metadata?.uid, before.metadata?.uid, 'the same pod: not recreated');
  assert.equal(done.status?.containerStatuses?.[0]?.restartCount, 0, 'no restart');
  assert.equal(condition(done, 'PodResizePending'), undefined);
  assert.equal(condition(done, 'PodResizeInProgress'), undefined);
  assert.equal(done.status?.qosClass, 'Burstable');

  // Run again: the pod is at its recommendation, so nothing to do (no flapping).
  const again = await applyJson('-f', file);
  assert.equal(again.decision.kind, 'NoChange');
  assert.equal(again.outcome, undefined);
  // A new recommendation right away: the resize recorded in managedFields starts the cooldown.
  const moved = join(work, 'moved.json');
  writeFileSync(
    moved,
    JSON.stringify([{ ...records[0]!, recommendation: { target: { cpu: '200m', memory: '115Mi' } } }]),
  );
  const cooling = await applyJson('-f', moved);
  assert.equal(`${cooling.decision.kind}:${cooling.decision.reason ?? ''}`, 'Skip:Cooldown');
  assert.equal(cooling.outcome, undefined);
  const still = await core.readNamespacedPod({ name, namespace });
  assert.equal(still.metadata?.generation, done.metadata?.generation, 'no second resize');
});

test('without -f, apply follows the SizingPolicies of the namespace: their recommendations, mode and bounds', async () => {
  const { namespace } = cluster;
  await installCrds(cluster.ext);
  const name = await runningPodOf('api');
  const custom = makeClients(cluster.kc).custom;
  const group = { group: 'tailor.dev', version: 'v1alpha1', namespace, plural: 'sizingpolicies' };
  await custom.createNamespacedCustomObject({
    ...group,
    body: {
      apiVersion: 'tailor.dev/v1alpha1',
      kind: 'SizingPolicy',
      metadata: { name: 'api' },
      spec: {
        targetRef: { kind: 'Deployment', name: 'api' },
        mode: 'Recommend',
        containers: [{ name: '*', maxAllowed: { cpu: '40m' } }],
      },
    },
  });
  // What the sizing controller would publish.
  await custom.patchNamespacedCustomObjectStatus(
    {
      ...group,
      name: 'api',
      body: {
        status: {
          recommendations: [
            {
              name: 'app',
              target: RECOMMENDED,
              lowerBound: { cpu: '50m', memory: '100Mi' },
              upperBound: { cpu: '100m', memory: '200Mi' },
            },
          ],
        },
      },
    },
    mergePatch,
  );
  // Mode Recommend: never a change, even through apply.
  const recommend = await applyJson('--dry-run', '-n', namespace);
  assert.equal(recommend.pod, name, 'only the pod the policy targets');
  assert.equal(`${recommend.decision.kind}:${recommend.decision.reason ?? ''}`, 'Skip:Mode');
  // --mode InPlace over it: the policy's maxAllowed still caps CPU.
  const inPlace = await applyJson('--dry-run=server', '-n', namespace, '--mode', 'InPlace');
  assert.equal(inPlace.decision.kind, 'InPlace');
  assert.deepEqual(inPlace.decision.patch, {
    spec: {
      containers: [
        {
          name: 'app',
          resources: { requests: { cpu: '40m', memory: '115Mi' }, limits: { cpu: '80m', memory: '230Mi' } },
        },
      ],
    },
  });
  assert.equal(inPlace.outcome?.kind, 'Applied', JSON.stringify(inPlace.outcome));
  const pod = await cluster.core.readNamespacedPod({ name, namespace });
  assert.equal(pod.metadata?.generation, 1, 'dry runs change nothing');
});
