// The simulated kubelet's in-place resize on the real 1.37 control plane, by the kubelet's rules:
// allocation then actuation (PodResizeInProgress between), Deferred with the kubelet's message and
// a lastTransitionTime that moves only with the reason, pending resizes retried in the kubelet's
// order, sidecars and pod-level resources, and graceful deletion. Runs on its own tainted pool.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import * as k8sApi from '@kubernetes/client-node';
import { condition, eventually, expectReady, resize, simPod, useCluster } from '../support/cluster.ts';

const cluster = useCluster(import.meta.url);
const scheduling = cluster.kc.makeApiClient(k8sApi.SchedulingV1Api);
const strategic = k8sApi.setHeaderOptions('Content-Type', k8sApi.PatchStrategy.StrategicMergePatch);

/** An idle pod on the resize pool (2 cores, 2Gi, nobody else's pods), changed by `edit`. */
function poolPod(name: string, cpu: string, edit: (p: k8s.V1Pod) => void = () => {}): k8s.V1Pod {
  const pod = simPod({
    name,
    pool: 'resize',
    profile: 'idle',
    params: { startupSeconds: 0, noise: 0, memoryBytes: 16 * 2 ** 20 },
    resources: { requests: { cpu, memory: '64Mi' } },
  });
  pod.spec!.tolerations = [{ key: 'sim.tailor.dev/pool', value: 'resize', effect: 'NoSchedule' }];
  edit(pod);
  return pod;
}

async function start(pod: k8s.V1Pod): Promise<k8s.V1Pod> {
  await cluster.core.createNamespacedPod({ namespace: cluster.namespace, body: pod });
  return expectReady(cluster.core, cluster.namespace, pod.metadata!.name!);
}

const read = (name: string) => cluster.core.readNamespacedPod({ name, namespace: cluster.namespace });

/** Deletes pods at once (grace 0) and waits until they are gone, so the next test has the pool to itself. */
async function clear(...names: string[]): Promise<void> {
  const { core, namespace } = cluster;
  for (const name of names)
    await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => {});
  await eventually(async () => {
    const left = (await core.listNamespacedPod({ namespace })).items.filter((p) =>
      names.includes(p.metadata!.name!),
    );
    assert.equal(left.length, 0, `${left.length} pods left`);
  });
}

/** Pod-level status fields (1.37) that client-node's V1PodStatus model does not carry. */
interface PodLevelStatus {
  allocatedResources?: Record<string, string>;
  resources?: k8s.V1ResourceRequirements;
  conditions?: { type: string }[];
}

/** The pod's status as JSON from the apiserver (client-node's model drops pod-level status.resources). */
function rawStatus(name: string): PodLevelStatus {
  const r = cluster.kubectl('get', 'pod', name, '-n', cluster.namespace, '-o', 'json');
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { status: PodLevelStatus }).status;
}

// Each test starts with the pool empty, whatever the last one left (a pending resize counts in the
// scheduler's sums too).
afterEach(async () => {
  const pods = await cluster.core.listNamespacedPod({ namespace: cluster.namespace });
  await clear(...pods.items.map((p) => p.metadata!.name!));
});

test('a resize is allocated first (PodResizeInProgress, no reason, at the new generation), then actuated', async () => {
  await start(poolPod('steps', '200m'));
  const patched = await resize(cluster.core, cluster.namespace, 'steps', {
    requests: { cpu: '300m', memory: '64Mi' },
  });
  const generation = patched.metadata!.generation!;
  // Watch closely: the in-progress state lasts about one status write and one tick.
  const seen = await eventually(
    async () => {
      const p = await read('steps');
      const cs = p.status!.containerStatuses![0]!;
      const inProgress = condition(p, 'PodResizeInProgress');
      assert.ok(inProgress, 'PodResizeInProgress');
      return { inProgress, allocated: cs.allocatedResources?.cpu, actual: cs.resources?.requests?.cpu };
    },
    { intervalMs: 20, timeoutMs: 15_000, what: 'PodResizeInProgress' },
  );
  assert.equal(seen.inProgress.reason, undefined, 'in progress, no reason');
  assert.equal(seen.inProgress.observedGeneration, generation);
  assert.equal(seen.allocated, '300m', 'allocated before it is actuated');
  const done = await eventually(async () => {
    const p = await read('steps');
    assert.equal(p.status!.containerStatuses![0]!.resources?.requests?.cpu, '300m');
    assert.equal(condition(p, 'PodResizeInProgress'), undefined, 'the condition is cleared');
    return p;
  });
  assert.equal(done.status?.observedGeneration, generation);
  await clear('steps');
});

test("a Deferred resize carries the kubelet's message; its lastTransitionTime moves only with the reason", async () => {
  await start(poolPod('hog', '1500m'));
  await start(poolPod('grows', '100m'));
  const patched = await resize(cluster.core, cluster.namespace, 'grows', {
    requests: { cpu: '1', memory: '64Mi' },
  });
  const first = await eventually(async () => {
    const c = condition(await read('grows'), 'PodResizePending');
    assert.equal(c?.reason, 'Deferred');
    return c;
  });
  assert.equal(
    first.message,
    "Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 1930",
  );
  assert.equal(first.observedGeneration, patched.metadata!.generation);
  // The hog shrinks (a retry, pod_resized): the message changes, the transition time does not.
  await resize(cluster.core, cluster.namespace, 'hog', { requests: { cpu: '1400m', memory: '64Mi' } });
  const second = await eventually(async () => {
    const c = condition(await read('grows'), 'PodResizePending');
    assert.match(c?.message ?? '', /used: 1400,/);
    return c!;
  });
  assert.equal(second.reason, 'Deferred');
  assert.equal(
    new Date(second.lastTransitionTime!).getTime(),
    new Date(first.lastTransitionTime!).getTime(),
    'same reason: same lastTransitionTime',
  );
  await clear('hog');
  await eventually(async () => {
    const p = await read('grows');
    assert.equal(p.status!.containerStatuses![0]!.resources?.requests?.cpu, '1');
    assert.equal(condition(p, 'PodResizePending'), undefined);
  });
  await clear('grows');
});

test('pending resizes are retried in the kubelet order: the higher PriorityClass first, though it waited less', async () => {
  const name = `${cluster.namespace}-high`;
  await scheduling.createPriorityClass({ body: { metadata: { name }, value: 1000 } });
  after(() => scheduling.deletePriorityClass({ name }).catch(() => {}));
  await start(poolPod('blocker', '1'));
  await start(poolPod('low', '100m'));
  await start(poolPod('high', '100m', (p) => (p.spec!.priorityClassName = name)));
  // Each wants 1.1 cores: either fits once the blocker goes, not both.
  const want = { requests: { cpu: '1100m', memory: '64Mi' } };
  await resize(cluster.core, cluster.namespace, 'low', want);
  await eventually(async () =>
    assert.equal(condition(await read('low'), 'PodResizePending')?.reason, 'Deferred'),
  );
  await new Promise((r) => setTimeout(r, 1100)); // low has waited longer, by a whole second
  await resize(cluster.core, cluster.namespace, 'high', want);
  await eventually(async () =>
    assert.equal(condition(await read('high'), 'PodResizePending')?.reason, 'Deferred'),
  );
  await clear('blocker');
  await eventually(async () => {
    const high = await read('high');
    assert.equal(high.status!.containerStatuses![0]!.allocatedResources?.cpu, '1100m', 'high allocated');
  });
  const low = await read('low');
  assert.equal(condition(low, 'PodResizePending')?.reason, 'Deferred', 'low still waits');
  assert.match(condition(low, 'PodResizePending')!.message!, /requested: 1100, used: 1100, capacity: 1930/);
  await clear('low', 'high');
});

test("a memory limit lowered below usage: reason Error with the runtime's text, at the allocation's generation", async () => {
  await start(
    poolPod('uses-200', '100m', (p) => {
      p.metadata!.annotations!['sim.tailor.dev/params'] = JSON.stringify({
        memoryBytes: 200 * 2 ** 20,
        startupSeconds: 0,
        noise: 0,
      });
      p.spec!.containers[0]!.resources = {
        requests: { cpu: '100m', memory: '256Mi' },
        limits: { memory: '512Mi' },
      };
    }),
  );
  const patched = await resize(cluster.core, cluster.namespace, 'uses-200', {
    requests: { cpu: '100m', memory: '100Mi' },
    limits: { memory: '150Mi' },
  });
  const c = await eventually(async () => {
    const got = condition(await read('uses-200'), 'PodResizeInProgress');
    assert.equal(got?.reason, 'Error');
    return got;
  });
  const limit = 150 * 2 ** 20;
  assert.match(
    c.message!,
    new RegExp(
      `^cannot decrease memory limits: \\[attempting to set pod memory limit \\(${limit}\\) below current usage \\(\\d+\\), attempting to set container "app" memory limit \\(${limit}\\) below current usage \\(\\d+\\)\\]$`,
    ),
  );
  assert.equal(c.observedGeneration, patched.metadata!.generation);
  const cs = (await read('uses-200')).status!.containerStatuses![0]!;
  assert.equal(cs.resources?.limits?.memory, '512Mi', 'nothing applied: the old limit stays');
  assert.equal(cs.allocatedResources?.memory, '100Mi', 'allocated all the same');
});

test('an ordinary init container cannot be resized here: the node does not declare the feature, the apiserver refuses', async () => {
  await start(
    poolPod('with-init', '100m', (p) => {
      p.spec!.initContainers = [
        {
          name: 'setup',
          image: 'example.com/setup:1',
          resources: { requests: { cpu: '100m', memory: '32Mi' } },
        },
      ];
    }),
  );
  const err = await cluster.core
    .patchNamespacedPodResize(
      {
        name: 'with-init',
        namespace: cluster.namespace,
        body: {
          spec: {
            initContainers: [{ name: 'setup', resources: { requests: { cpu: '200m', memory: '32Mi' } } }],
          },
        },
      },
      strategic,
    )
    .then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
  assert.equal(err?.code, 403);
  assert.match(String(err?.body), /InPlacePodVerticalScalingInitContainers which are not available on node/);
});

test('a sidecar (restartable init container) is resized in place, with its resources in initContainerStatuses', async () => {
  await start(
    poolPod('with-sidecar', '200m', (p) => {
      p.spec!.initContainers = [
        {
          name: 'proxy',
          image: 'example.com/proxy:1',
          restartPolicy: 'Always',
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '64Mi' } },
        },
      ];
    }),
  );
  const before = (await read('with-sidecar')).status!.initContainerStatuses!;
  assert.deepEqual(
    before.map((s) => [s.name, s.resources?.requests?.cpu, s.allocatedResources?.cpu]),
    [['proxy', '100m', '100m']],
  );
  // A sidecar lives in spec.initContainers: the resize patches it there.
  await cluster.core.patchNamespacedPodResize(
    {
      name: 'with-sidecar',
      namespace: cluster.namespace,
      body: {
        spec: {
          initContainers: [
            {
              name: 'proxy',
              resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { memory: '96Mi' } },
            },
          ],
        },
      },
    },
    strategic,
  );
  await eventually(async () => {
    const p = await read('with-sidecar');
    const s = p.status!.initContainerStatuses!.find((x) => x.name === 'proxy')!;
    assert.equal(s.resources?.requests?.cpu, '250m');
    assert.equal(s.resources?.limits?.memory, '96Mi');
    assert.equal(s.allocatedResources?.cpu, '250m');
    assert.equal(condition(p, 'PodResizeInProgress'), undefined);
    assert.equal(condition(p, 'PodResizePending'), undefined);
  });
  await clear('with-sidecar');
});

test('pod-level resources (spec.resources) are resized in place, with status.resources and allocatedResources', async () => {
  await start(
    poolPod('pod-level', '100m', (p) => {
      p.spec!.resources = {
        requests: { cpu: '300m', memory: '128Mi' },
        limits: { cpu: '500m', memory: '256Mi' },
      };
    }),
  );
  assert.deepEqual(rawStatus('pod-level').allocatedResources, { cpu: '300m', memory: '128Mi' });
  await cluster.core.patchNamespacedPodResize(
    {
      name: 'pod-level',
      namespace: cluster.namespace,
      body: {
        spec: {
          resources: { requests: { cpu: '400m', memory: '128Mi' }, limits: { cpu: '600m', memory: '256Mi' } },
        },
      },
    },
    strategic,
  );
  await eventually(() => {
    const status = rawStatus('pod-level');
    assert.deepEqual(status.allocatedResources, { cpu: '400m', memory: '128Mi' });
    assert.deepEqual(status.resources, {
      requests: { cpu: '400m', memory: '128Mi' },
      limits: { cpu: '600m', memory: '256Mi' },
    });
    assert.ok(
      !(status.conditions ?? []).some((c) => c.type.startsWith('PodResize')),
      'no resize condition left',
    );
  });
  await clear('pod-level');
});

test('deletion is graceful: an app that ignores SIGTERM stays Terminating for its grace period, then is deleted', async () => {
  const { core, namespace } = cluster;
  await start(
    poolPod('stubborn', '10m', (p) => {
      p.spec!.terminationGracePeriodSeconds = 4;
      p.metadata!.annotations!['sim.tailor.dev/shutdown-seconds'] = 'never';
    }),
  );
  await start(poolPod('prompt', '10m', (p) => (p.spec!.terminationGracePeriodSeconds = 30)));
  const t0 = Date.now();
  await core.deleteNamespacedPod({ name: 'stubborn', namespace });
  await core.deleteNamespacedPod({ name: 'prompt', namespace });
  // The default app exits about a second after SIGTERM, well before its 30 s.
  await eventually(
    async () => {
      const names = (await core.listNamespacedPod({ namespace })).items.map((p) => p.metadata!.name);
      assert.ok(!names.includes('prompt'), 'prompt gone');
    },
    { timeoutMs: 10_000 },
  );
  const stubborn = await read('stubborn');
  assert.ok(stubborn.metadata?.deletionTimestamp, 'still Terminating');
  assert.ok(Date.now() - t0 < 4000, 'checked within the grace period');
  await eventually(
    async () => {
      const names = (await core.listNamespacedPod({ namespace })).items.map((p) => p.metadata!.name);
      assert.ok(!names.includes('stubborn'), 'stubborn gone');
    },
    { timeoutMs: 15_000 },
  );
  assert.ok(Date.now() - t0 >= 3500, `killed at the end of its grace period (${Date.now() - t0} ms)`);
});
