// The simulated kubelet on the real control plane: lifecycle, KEP-1287 resizes, OOM kills,
// pods it cannot run, and graceful deletion.
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import {
  apiError,
  condition,
  eventually,
  expectReady,
  resize,
  simPod,
  useCluster,
} from '../support/cluster.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;

test('simulated nodes are Ready with fresh leases, and a pod goes Running then Ready with its resources in status', async () => {
  const { core, namespace } = cluster;
  const nodes = await core.listNode({ labelSelector: 'sim.tailor.dev/node=true' });
  assert.ok(nodes.items.length >= 3, `${nodes.items.length} simulated nodes`);
  for (const n of nodes.items) {
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const lease = await cluster.coordination.readNamespacedLease({
      name: n.metadata!.name!,
      namespace: 'kube-node-lease',
    });
    const age = Date.now() - new Date(lease.spec!.renewTime as unknown as string).getTime();
    assert.ok(age < 30_000, `lease of ${n.metadata?.name} renewed ${age}ms ago`);
  }
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'starts',
      profile: 'idle',
      params: { memoryBytes: 50 * Mi, cpuCores: 0.05, startupSeconds: 3, noise: 0 },
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    }),
  });
  const running = await eventually(async () => {
    const p = await core.readNamespacedPod({ name: 'starts', namespace });
    assert.equal(p.status?.phase, 'Running');
    return p;
  });
  assert.equal(condition(running, 'Ready')?.status, 'False', 'not Ready before its start-up time');
  const ready = await expectReady(core, namespace, 'starts');
  const cs = ready.status!.containerStatuses![0]!;
  assert.equal(cs.started, true);
  assert.equal(cs.ready, true);
  assert.equal(cs.restartCount, 0);
  assert.deepEqual({ ...cs.allocatedResources }, { cpu: '100m', memory: '64Mi' });
  assert.deepEqual({ ...cs.resources?.requests }, { cpu: '100m', memory: '64Mi' });
  assert.deepEqual({ ...cs.resources?.limits }, { memory: '128Mi' });
});

test('a resize that fits completes in place and keeps the restartCount', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'fits',
      profile: 'idle',
      params: { memoryBytes: 100 * Mi, cpuCores: 0.1, startupSeconds: 1, noise: 0 },
      resources: { requests: { cpu: '400m', memory: '400Mi' }, limits: { cpu: '800m', memory: '800Mi' } },
    }),
  });
  await expectReady(core, namespace, 'fits');
  const patched = await resize(core, namespace, 'fits', {
    requests: { cpu: '100m', memory: '150Mi' },
    limits: { cpu: '200m', memory: '300Mi' },
  });
  const generation = patched.metadata!.generation!;
  const done = await eventually(async () => {
    const p = await core.readNamespacedPod({ name: 'fits', namespace });
    const cs = p.status!.containerStatuses![0]!;
    assert.deepEqual(cs.resources?.limits, { cpu: '200m', memory: '300Mi' });
    assert.equal(p.status?.observedGeneration, generation);
    return p;
  });
  const cs = done.status!.containerStatuses![0]!;
  assert.deepEqual(cs.allocatedResources, { cpu: '100m', memory: '150Mi' });
  assert.equal(cs.restartCount, 0);
  assert.equal(condition(done, 'PodResizePending'), undefined);
  assert.equal(condition(done, 'PodResizeInProgress'), undefined);
});

test('a resize larger than the node is refused: by the apiserver at admission (1.37), never applied', async () => {
  // Since in-place resize went GA the apiserver itself checks a resize against the node's
  // allocatable and answers 403 NodeCapacity; the kubelet (through a stale node object) would
  // say Deferred, as it does since 1.34 (src/sim/kubelet/resize.ts, unit-tested).
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'too-big',
      pool: 'small',
      profile: 'idle',
      params: { startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    }),
  });
  await expectReady(core, namespace, 'too-big');
  const err = await resize(core, namespace, 'too-big', {
    requests: { cpu: '64', memory: '64Mi' },
    limits: { cpu: '64', memory: '64Mi' },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const { code, message } = apiError(err);
  assert.equal(code, 403);
  assert.match(
    message,
    /node didn't have enough allocatable resources: cpu, requested: 64000, allocatable: 1930/,
  );
  const p = await core.readNamespacedPod({ name: 'too-big', namespace });
  assert.equal(p.metadata?.generation, 1);
  assert.deepEqual(
    { ...p.status!.containerStatuses![0]!.resources?.requests },
    { cpu: '100m', memory: '64Mi' },
  );
});

test('a resize that fits the node but not beside other pods is Deferred, then done once room frees up', async () => {
  const { core, namespace } = cluster;
  // The small pool's node has 2 cores; `hog` holds 1.5 of them.
  const idle = { profile: 'idle', params: { startupSeconds: 0, noise: 0 } };
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'hog',
      pool: 'small',
      ...idle,
      resources: { requests: { cpu: '1500m', memory: '64Mi' } },
    }),
  });
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'grows',
      pool: 'small',
      ...idle,
      resources: { requests: { cpu: '100m', memory: '64Mi' } },
    }),
  });
  await expectReady(core, namespace, 'hog');
  await expectReady(core, namespace, 'grows');
  await resize(core, namespace, 'grows', { requests: { cpu: '1', memory: '64Mi' } });
  await eventually(async () => {
    const pod = await core.readNamespacedPod({ name: 'grows', namespace });
    assert.equal(condition(pod, 'PodResizePending')?.reason, 'Deferred');
  });
  await core.deleteNamespacedPod({ name: 'hog', namespace, gracePeriodSeconds: 1 });
  await eventually(
    async () => {
      const pod = await core.readNamespacedPod({ name: 'grows', namespace });
      assert.equal(pod.status!.containerStatuses![0]!.resources?.requests?.cpu, '1');
      assert.equal(condition(pod, 'PodResizePending'), undefined);
    },
    { timeoutMs: 30_000, what: 'the deferred resize to complete' },
  );
});

test('a memory limit below current usage leaves the resize in progress with reason Error', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'uses-200',
      profile: 'idle',
      params: { memoryBytes: 200 * Mi, startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '200m', memory: '512Mi' } },
    }),
  });
  await expectReady(core, namespace, 'uses-200');
  await resize(core, namespace, 'uses-200', {
    requests: { cpu: '100m', memory: '100Mi' },
    limits: { cpu: '200m', memory: '150Mi' },
  });
  const p = await eventually(async () => {
    const pod = await core.readNamespacedPod({ name: 'uses-200', namespace });
    assert.equal(condition(pod, 'PodResizeInProgress')?.reason, 'Error');
    return pod;
  });
  assert.match(condition(p, 'PodResizeInProgress')!.message!, /below current usage/);
  const cs = p.status!.containerStatuses![0]!;
  assert.equal(cs.resources?.limits?.memory, '512Mi', 'the old limit stays in force');
  assert.equal(cs.restartCount, 0);
});

test('resizePolicy RestartContainer restarts the container; NotRequired does not', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'restarts',
      profile: 'idle',
      params: { memoryBytes: 50 * Mi, startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
      resizePolicy: [
        { resourceName: 'cpu', restartPolicy: 'NotRequired' },
        { resourceName: 'memory', restartPolicy: 'RestartContainer' },
      ],
    }),
  });
  await expectReady(core, namespace, 'restarts');
  await resize(core, namespace, 'restarts', {
    requests: { cpu: '150m', memory: '128Mi' },
    limits: { cpu: '300m', memory: '256Mi' },
  });
  await eventually(async () => {
    const cs = (await core.readNamespacedPod({ name: 'restarts', namespace })).status!.containerStatuses![0]!;
    assert.equal(cs.resources?.limits?.cpu, '300m');
    assert.equal(cs.restartCount, 0, 'a CPU change with NotRequired keeps the container');
  });
  await resize(core, namespace, 'restarts', {
    requests: { cpu: '150m', memory: '192Mi' },
    limits: { cpu: '300m', memory: '384Mi' },
  });
  await eventually(async () => {
    const cs = (await core.readNamespacedPod({ name: 'restarts', namespace })).status!.containerStatuses![0]!;
    assert.equal(cs.resources?.limits?.memory, '384Mi');
    assert.equal(cs.restartCount, 1, 'a memory change with RestartContainer restarts it');
  });
});

/** A pod whose 300Mi of memory is above its 200Mi limit from the start: killed at every start. */
function outgrowsItsLimit(name: string) {
  return simPod({
    name,
    profile: 'idle',
    params: { memoryBytes: 300 * Mi, startupSeconds: 0, noise: 0 },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '200Mi' } },
  });
}

test('memory above the limit is an OOM kill: the container restarts with OOMKilled', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({ namespace, body: outgrowsItsLimit('ooms') });
  const p = await eventually(async () => {
    const pod = await core.readNamespacedPod({ name: 'ooms', namespace });
    const cs = pod.status?.containerStatuses?.[0];
    assert.ok((cs?.restartCount ?? 0) >= 1, `restartCount ${cs?.restartCount}`);
    return pod;
  });
  const cs = p.status!.containerStatuses![0]!;
  assert.equal(cs.lastState?.terminated?.reason, 'OOMKilled');
  assert.equal(cs.lastState?.terminated?.exitCode, 137);
});

test('an OOM kill shows as the kubelet writes it: terminated first, then restarted with the kill as its last state', async () => {
  const { core, namespace } = cluster;
  // Every status written, in order (a watch, not polls: the terminated state lasts one kubelet tick).
  type Seen = {
    state: string;
    restarts: number;
    id?: string;
    reason?: string;
    lastId?: string;
    lastReason?: string;
  };
  const seen: Seen[] = [];
  const req = await new k8s.Watch(cluster.kc).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { fieldSelector: 'metadata.name=oom-states' },
    (_type, pod: k8s.V1Pod) => {
      const cs = pod.status?.containerStatuses?.[0];
      if (!cs?.state) return;
      const { running, terminated, waiting } = cs.state;
      seen.push({
        state: running ? 'running' : terminated ? 'terminated' : waiting ? 'waiting' : '',
        restarts: cs.restartCount,
        ...(terminated ? { id: terminated.containerID, reason: terminated.reason } : {}),
        ...(cs.lastState?.terminated
          ? { lastId: cs.lastState.terminated.containerID, lastReason: cs.lastState.terminated.reason }
          : {}),
      });
    },
    () => {},
  );
  try {
    await core.createNamespacedPod({ namespace, body: outgrowsItsLimit('oom-states') });
    await eventually(
      () =>
        assert.ok(
          seen.some((s) => s.state === 'waiting'),
          `states so far: ${JSON.stringify(seen)}`,
        ),
      { timeoutMs: 30_000, what: 'CrashLoopBackOff after repeated kills' },
    );
  } finally {
    req.abort();
  }
  const first = seen.find((s) => s.state === 'terminated');
  assert.ok(first, `a terminated state was written: ${JSON.stringify(seen)}`);
  assert.equal(first.reason, 'OOMKilled');
  assert.equal(first.restarts, 0, 'the restart count rises at the restart, not at the kill');
  const after = seen.find((s) => s.restarts === 1);
  assert.ok(after, `restarted: ${JSON.stringify(seen)}`);
  assert.equal(after.lastId ?? after.id, first.id, 'the next status names the killed instance');
  const waiting = seen.find((s) => s.state === 'waiting')!;
  assert.equal(waiting.lastReason, 'OOMKilled', 'waiting out the back-off, the kill is the last state');
  const kills = [...new Set(seen.filter((s) => s.state === 'terminated').map((s) => s.id))];
  assert.ok(kills.length >= 2, `each kill is a new instance: ${JSON.stringify(seen)}`);
});

test('a pod with a profile the simulator does not understand stays Pending with an Event saying why', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({ name: 'odd', profile: 'gpu-burner', resources: { requests: { cpu: '10m' } } }),
  });
  const event = await eventually(async () => {
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=odd' });
    const e = events.items.find((x) => x.reason === 'SimulationFailed');
    assert.ok(e, 'a SimulationFailed event');
    return e;
  });
  assert.equal(event.type, 'Warning');
  assert.match(event.message!, /sim\.tailor\.dev\/profile/);
  assert.match(event.message!, /llm, web, batch, idle, replay/);
  const pod = await core.readNamespacedPod({ name: 'odd', namespace });
  assert.equal(pod.status?.phase, 'Pending');
});

test('deleting a pod with a grace period finishes it', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'goes',
      profile: 'idle',
      params: { startupSeconds: 0 },
      resources: { requests: { cpu: '10m' } },
    }),
  });
  await expectReady(core, namespace, 'goes');
  await core.deleteNamespacedPod({ name: 'goes', namespace, gracePeriodSeconds: 30 });
  await eventually(async () => {
    const list = await core.listNamespacedPod({ namespace, fieldSelector: 'metadata.name=goes' });
    assert.equal(list.items.length, 0);
  });
});
