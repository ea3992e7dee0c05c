// Node physics of the simulated kubelet on the real control plane, on the test cluster's own
// physics node (2 cores, 2Gi, tainted so nothing else lands there): allocatable below capacity,
// CPU shared by request weight and throttled by quota as cpu.stat counts it, the OOM killer when
// the pods' cgroup is full, MemoryPressure (and the real node lifecycle controller's taint) with a
// node-pressure eviction in the kubelet's words, and the kubelet's OutOfcpu / OutOfmemory admission.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  condition,
  eventually,
  expectReady,
  prometheusTarget,
  simPod,
  useCluster,
} from '../support/cluster.ts';
import { eventsFor } from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const NODE = 'sim-physics-0';

/** An idle pod on the physics node using `cpuCores` and `memoryBytes`, steadily. */
function physicsPod(
  name: string,
  use: { cpuCores: number; memoryBytes: number },
  resources: k8s.V1ResourceRequirements,
): k8s.V1Pod {
  return simPod({
    name,
    pool: 'physics',
    profile: 'idle',
    params: { ...use, noise: 0, startupSeconds: 0 },
    resources,
  });
}

/** The same pod bound by nodeName, as a static pod or a hand-made binding would be: the scheduler never sees it. */
function boundByName(pod: k8s.V1Pod): k8s.V1Pod {
  const spec = pod.spec!;
  delete spec.nodeSelector;
  return { ...pod, spec: { ...spec, nodeName: NODE } };
}

async function createAll(pods: k8s.V1Pod[]): Promise<void> {
  for (const body of pods) await cluster.core.createNamespacedPod({ namespace: cluster.namespace, body });
}

/** Deletes the pods and waits until they are gone, so the next test has the node to itself. */
async function removeAll(names: string[]): Promise<void> {
  const { core, namespace } = cluster;
  for (const name of names) await core.deleteNamespacedPod({ name, namespace }).catch(() => {});
  await eventually(
    async () => {
      const left = (await core.listNamespacedPod({ namespace })).items.filter((p) =>
        names.includes(p.metadata!.name!),
      );
      assert.equal(left.length, 0, `still there: ${left.map((p) => p.metadata?.name).join(', ')}`);
    },
    { timeoutMs: 30_000, what: 'the pods gone' },
  );
}

/** cAdvisor's counters for one container of this namespace, from the simulator's Prometheus endpoint. */
async function counters(
  pod: string,
): Promise<{ cpu: number; periods: number; throttled: number; at: number }> {
  const text = await (await fetch(`http://${prometheusTarget()}/metrics`)).text();
  // The app container's series (cAdvisor also serves the pod's cgroup, container=""); the CFS
  // counters exist only under a CPU limit, as cAdvisor exports them.
  const value = (metric: string, required = true) => {
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith(`${metric}{`) &&
          l.includes(`namespace="${cluster.namespace}"`) &&
          l.includes(`pod="${pod}"`) &&
          l.includes('container="app"'),
      );
    if (!required && !line) return 0;
    assert.ok(line, `${metric} for ${pod}`);
    return Number(line.split(' ')[1]);
  };
  return {
    cpu: value('container_cpu_usage_seconds_total'),
    periods: value('container_cpu_cfs_periods_total', false),
    throttled: value('container_cpu_cfs_throttled_periods_total', false),
    at: Date.now() / 1000,
  };
}

async function physicsNode(): Promise<k8s.V1Node> {
  return cluster.core.readNode({ name: NODE });
}

test('a node publishes its capacity and, below it, allocatable: capacity - kube-reserved - the 100Mi hard eviction threshold', async () => {
  const node = await physicsNode();
  assert.deepEqual(
    { cpu: node.status?.capacity?.cpu, memory: node.status?.capacity?.memory },
    { cpu: '2', memory: '2Gi' },
  );
  // A managed cluster's kube-reserved for 2 cores / 2 GiB: 60m + 10m and 25% of the memory (512Mi).
  assert.deepEqual(
    { cpu: node.status?.allocatable?.cpu, memory: node.status?.allocatable?.memory },
    { cpu: '1930m', memory: '1436Mi' },
  );
  const general = await cluster.core.readNode({ name: 'sim-general-0' });
  assert.equal(general.status?.allocatable?.cpu, '3920m');
  assert.equal(general.status?.capacity?.cpu, '4');
});

test('a contended node shares its 2 cores by request weight; a quota caps a container and counts every period throttled', async () => {
  // All three want more than the node has: 2 + 2 + 1 cores on 2.
  await createAll([
    physicsPod('heavy', { cpuCores: 2, memoryBytes: 16 * Mi }, { requests: { cpu: '1', memory: '32Mi' } }),
    physicsPod('light', { cpuCores: 2, memoryBytes: 16 * Mi }, { requests: { cpu: '500m', memory: '32Mi' } }),
    physicsPod(
      'capped',
      { cpuCores: 1, memoryBytes: 16 * Mi },
      { requests: { cpu: '400m', memory: '32Mi' }, limits: { cpu: '400m', memory: '32Mi' } },
    ),
  ]);
  for (const name of ['heavy', 'light', 'capped']) await expectReady(cluster.core, cluster.namespace, name);
  const before = await Promise.all(['heavy', 'light', 'capped'].map(counters));
  await new Promise((r) => setTimeout(r, 10_000));
  const after = await Promise.all(['heavy', 'light', 'capped'].map(counters));
  const [heavy, light, capped] = after.map((a, i) => (a.cpu - before[i]!.cpu) / (a.at - before[i]!.at));
  // cgroup v2 weights 39 (1 core), 20 (500m), 16 (400m): capped's fair share (0.43) is above its
  // quota, so it gets 0.4 and the other 1.6 cores go 39:20.
  const near = (got: number, want: number, what: string) =>
    assert.ok(Math.abs(got - want) < 0.12, `${what}: ${got.toFixed(3)} cores, expected about ${want}`);
  near(capped!, 0.4, 'capped');
  near(heavy!, (1.6 * 39) / 59, 'heavy');
  near(light!, (1.6 * 20) / 59, 'light');
  assert.ok(heavy! + light! + capped! < 2.1, `no more than the node's 2 cores: ${heavy! + light! + capped!}`);
  const periods = after[2]!.periods - before[2]!.periods;
  const throttled = after[2]!.throttled - before[2]!.throttled;
  assert.ok(periods >= 80, `about 100 periods of 100 ms in 10 s: ${periods}`);
  assert.ok(throttled >= periods - 2, `every period throttled: ${throttled} of ${periods}`);
  // No quota, no throttling: held back by the others is not throttling.
  assert.equal(after[0]!.throttled - before[0]!.throttled, 0, 'heavy is never throttled');
  await removeAll(['heavy', 'light', 'capped']);
});

test("the kubelet rejects a pod bound by nodeName that its node's allocatable cannot hold: OutOfcpu, OutOfmemory", async () => {
  const { core, namespace } = cluster;
  await createAll([
    boundByName(
      physicsPod(
        'too-many-cores',
        { cpuCores: 0.1, memoryBytes: 16 * Mi },
        { requests: { cpu: '3', memory: '32Mi' } },
      ),
    ),
    boundByName(
      physicsPod(
        'too-much-memory',
        { cpuCores: 0.1, memoryBytes: 16 * Mi },
        { requests: { cpu: '100m', memory: '2Gi' } },
      ),
    ),
  ]);
  const failed = async (name: string) =>
    eventually(
      async () => {
        const p = await core.readNamespacedPod({ name, namespace });
        assert.equal(p.status?.phase, 'Failed', `${name} is ${p.status?.phase}`);
        return p;
      },
      { what: `${name} rejected` },
    );
  const cpu = await failed('too-many-cores');
  assert.equal(cpu.status?.reason, 'OutOfcpu');
  assert.match(
    cpu.status?.message ?? '',
    /^Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: \d+, capacity: 1930$/,
  );
  const mem = await failed('too-much-memory');
  assert.equal(mem.status?.reason, 'OutOfmemory');
  assert.match(
    mem.status?.message ?? '',
    new RegExp(
      `^Pod was rejected: Node didn't have enough resource: memory, requested: ${2 * 2 ** 30}, used: \\d+, capacity: ${1436 * Mi}$`,
    ),
  );
  const events = await eventsFor(cluster, 'Pod', 'too-many-cores', 'OutOfcpu');
  assert.equal(events.length, 1, 'a Warning OutOfcpu event');
  assert.equal(events[0]!.type, 'Warning');
  assert.equal(cpu.status?.containerStatuses, undefined, 'its containers never started');
  await removeAll(['too-many-cores', 'too-much-memory']);
});

test('the pods outgrow their cgroup: the kernel OOM-kills the worst oom_score, not the Guaranteed neighbour, without any limit', async () => {
  const { core, namespace } = cluster;
  await createAll([
    physicsPod(
      'guaranteed',
      { cpuCores: 0.05, memoryBytes: 150 * Mi },
      { requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: '100m', memory: '200Mi' } },
    ),
  ]);
  await expectReady(core, namespace, 'guaranteed');
  // No memory limit: 1500Mi + 150Mi is more than the 1536Mi the node's pods may hold together.
  await createAll([
    physicsPod(
      'unbounded',
      { cpuCores: 0.05, memoryBytes: 1500 * Mi },
      { requests: { cpu: '100m', memory: '64Mi' } },
    ),
  ]);
  const killed = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name: 'unbounded', namespace });
      const cs = p.status?.containerStatuses?.[0];
      assert.ok((cs?.restartCount ?? 0) >= 1, `restarts: ${cs?.restartCount}`);
      return cs!;
    },
    { timeoutMs: 30_000, what: 'the OOM kill' },
  );
  assert.equal(killed.lastState?.terminated?.reason, 'OOMKilled');
  assert.equal(killed.lastState?.terminated?.exitCode, 137);
  const neighbour = await core.readNamespacedPod({ name: 'guaranteed', namespace });
  assert.equal(neighbour.status?.containerStatuses?.[0]?.restartCount, 0, 'the Guaranteed pod lives on');
  assert.equal(neighbour.status?.phase, 'Running');
  await removeAll(['guaranteed', 'unbounded']);
});

test('memory pressure: MemoryPressure and its taint, the pod most above its request evicted in the kubelet words, then relief', async () => {
  const { core, namespace } = cluster;
  await createAll([
    physicsPod(
      'within',
      { cpuCores: 0.05, memoryBytes: 500 * Mi },
      { requests: { cpu: '100m', memory: '600Mi' } },
    ),
  ]);
  await expectReady(core, namespace, 'within');
  // 500Mi + 1000Mi: the pods' cgroup (1536Mi) has 36Mi left, under the 100Mi hard threshold.
  await createAll([
    physicsPod(
      'grower',
      { cpuCores: 0.05, memoryBytes: 1000 * Mi },
      { requests: { cpu: '100m', memory: '64Mi' } },
    ),
  ]);
  const evicted = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name: 'grower', namespace });
      assert.equal(p.status?.phase, 'Failed', `grower is ${p.status?.phase}`);
      return p;
    },
    { timeoutMs: 40_000, what: 'the eviction' },
  );
  const message =
    'The node was low on resource: memory. Threshold quantity: 100Mi, available: 36Mi. ' +
    'Container app was using 1000Mi, request is 64Mi, has larger consumption of memory. ';
  assert.equal(evicted.status?.reason, 'Evicted');
  assert.equal(evicted.status?.message, message);
  const disruption = condition(evicted, 'DisruptionTarget');
  assert.equal(disruption?.status, 'True');
  assert.equal(disruption?.reason, 'TerminationByKubelet');
  const events = await eventsFor(cluster, 'Pod', 'grower', 'Evicted');
  assert.equal(events[0]?.message, message);
  assert.equal(events[0]?.type, 'Warning');
  const within = await core.readNamespacedPod({ name: 'within', namespace });
  assert.equal(within.status?.phase, 'Running', 'the pod within its request stays');

  // The node said so, and the real node lifecycle controller tainted it.
  const pressed = await eventually(
    async () => {
      const n = await physicsNode();
      const c = n.status?.conditions?.find((x) => x.type === 'MemoryPressure');
      assert.equal(c?.status, 'True', `MemoryPressure ${c?.status}`);
      assert.ok(
        n.spec?.taints?.some(
          (t) => t.key === 'node.kubernetes.io/memory-pressure' && t.effect === 'NoSchedule',
        ),
        `taints: ${JSON.stringify(n.spec?.taints)}`,
      );
      return c;
    },
    { timeoutMs: 30_000, what: 'MemoryPressure and its taint' },
  );
  assert.equal(pressed.reason, 'KubeletHasInsufficientMemory');
  assert.equal(pressed.message, 'kubelet has insufficient memory available');

  // Under MemoryPressure the kubelet admits no BestEffort pod, even one bound past the scheduler.
  await createAll([boundByName(physicsPod('best-effort', { cpuCores: 0.01, memoryBytes: 16 * Mi }, {}))]);
  const refused = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name: 'best-effort', namespace });
      assert.equal(p.status?.phase, 'Failed', `best-effort is ${p.status?.phase}`);
      return p;
    },
    { what: 'the BestEffort pod refused' },
  );
  assert.equal(refused.status?.reason, 'Evicted');
  assert.equal(refused.status?.message, 'Pod was rejected: The node had condition: [MemoryPressure]. ');

  // Relief: no threshold met for the node's 15 s transition period, then the condition and the taint go.
  await eventually(
    async () => {
      const n = await physicsNode();
      const c = n.status?.conditions?.find((x) => x.type === 'MemoryPressure');
      assert.equal(c?.status, 'False', `MemoryPressure ${c?.status}`);
      assert.equal(c?.reason, 'KubeletHasSufficientMemory');
      assert.ok(
        !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/memory-pressure'),
        `taints: ${JSON.stringify(n.spec?.taints)}`,
      );
    },
    { timeoutMs: 60_000, what: 'the pressure over' },
  );
  await removeAll(['within', 'grower', 'best-effort']);
});
