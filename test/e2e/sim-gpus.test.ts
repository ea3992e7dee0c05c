// Time and GPUs on the real control plane: a real Prometheus reads the simulated cores as CPU rates
// at speed 1 (the shared simulator) and at speed 20 (a second simulator started here); dcgm-exporter's
// series come per physical GPU with stable UUIDs and FB_FREE, MIG devices are advertised, requested,
// allocated and reported per GPU instance, and Tailor's advise query reads a MIG pod's GPU memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { eventually, expectReady, prometheusTarget, simPod, useCluster } from '../support/cluster.ts';
import type { Simulator } from '../../src/sim/simulator.ts';
import { startPrivateSimulator } from '../support/simulator.ts';
import { GPU_BOARDS, gpuUuid } from '../../src/sim/gpus.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import { adviseQueries } from '../../src/cli/commands/advise.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const Gi = 2 ** 30;
const SPEED = 20;
const TAINT = { key: 'sim.tailor.dev/test', value: 'sim-gpus', effect: 'NoSchedule' } as const;
const A30 = GPU_BOARDS['NVIDIA-A30'];

// Nodes of a second simulator, tainted so no other test's pod lands there. The GPU board is an A30:
// Tailor's GPU catalogue does not offer it, so a models test choosing among the cluster's GPUs at the
// same time is not affected by these nodes.
const suffix = cluster.namespace.slice(-6);
const nodes: SimNodeSpec[] = [
  {
    name: `fast-${suffix}`,
    cpu: 4,
    memoryBytes: 8 * Gi,
    ephemeralStorageBytes: 100 * Gi,
    pods: 110,
    gpus: 0,
    labels: { 'sim.tailor.dev/pool': `fast-${suffix}` },
    taints: [TAINT],
  },
  {
    name: `a30-${suffix}`,
    cpu: 16,
    memoryBytes: 64 * Gi,
    ephemeralStorageBytes: 100 * Gi,
    pods: 110,
    gpus: 2,
    gpuModel: 'NVIDIA-A30',
    // GPU 0 whole; GPU 1 cut into three MIG devices (mixed strategy).
    migLayout: [[], ['2g.12gb', '1g.6gb', '1g.6gb']],
    labels: { 'sim.tailor.dev/pool': `a30-${suffix}` },
    taints: [TAINT],
  },
];
const [FAST, GPU] = nodes.map((n) => n.name) as [string, string];

let fast: Simulator;
let prometheus: TestPrometheus;

before(async () => {
  fast = await startPrivateSimulator(cluster.kc, { nodes, storageClass: `sim-gpus-${suffix}`, speed: SPEED });
  prometheus = await startPrometheus([prometheusTarget(), `127.0.0.1:${fast.prometheus.port}`]);
});

after(async () => {
  await prometheus?.stop();
  await fast?.stop({ deleteNodes: true });
});

/** A pod pinned to one of this file's nodes (tolerating their taint). */
function pinned(pool: string, o: Parameters<typeof simPod>[0]): k8s.V1Pod {
  const p = simPod(o);
  p.spec!.nodeSelector = { 'sim.tailor.dev/pool': pool };
  p.spec!.tolerations = [{ ...TAINT, operator: 'Equal' }];
  return p;
}

type Sample = { metric: Record<string, string>; value: [number, string] };

async function query(q: string): Promise<Sample[]> {
  const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { status: string; error?: string; data: { result: Sample[] } };
  assert.equal(body.status, 'success', body.error);
  return body.data.result;
}

test('a CPU rate through a real Prometheus reads the simulated cores at speed 1 and at speed 20', async () => {
  const { core, namespace } = cluster;
  const busy = (name: string, cores: number) => ({
    name,
    profile: 'idle',
    params: { cpuCores: cores, memoryBytes: 64 * Mi, startupSeconds: 0, noise: 0 },
    resources: { requests: { cpu: '1', memory: '128Mi' } },
  });
  await core.createNamespacedPod({ namespace, body: simPod(busy('slow', 0.25)) });
  await core.createNamespacedPod({ namespace, body: pinned(`fast-${suffix}`, busy('fast', 0.5)) });
  await expectReady(core, namespace, 'slow');
  const started = Date.now();
  const ready = await expectReady(core, namespace, 'fast');
  // Timestamps are wall-clock instants at any speed: a pod that started a moment ago says so.
  const startTime = new Date(ready.status!.startTime as unknown as string).getTime();
  assert.ok(
    Math.abs(startTime - started) < 60_000,
    `startTime ${String(ready.status?.startTime)} is about now`,
  );
  const runningSince = new Date(
    ready.status!.containerStatuses![0]!.state!.running!.startedAt as unknown as string,
  ).getTime();
  assert.ok(runningSince <= Date.now() + 1000, 'a container did not start in the future');

  for (const [pod, cores] of [
    ['slow', 0.25],
    ['fast', 0.5],
  ] as const) {
    await eventually(
      async () => {
        const r = await query(
          `rate(container_cpu_usage_seconds_total{namespace="${namespace}",pod="${pod}",container!=""}[15s])`,
        );
        assert.equal(r.length, 1, `one series for ${pod}`);
        const rate = Number(r[0]!.value[1]);
        assert.ok(Math.abs(rate - cores) < cores * 0.1, `${pod}: rate ${rate}, simulated ${cores} cores`);
      },
      { timeoutMs: 90_000, what: `the CPU rate of ${pod}` },
    );
  }
  assert.equal(
    (await core.readNamespacedPod({ name: 'fast', namespace })).spec?.nodeName,
    FAST,
    'the fast pod ran on the speed-20 simulator',
  );
});

test('GPUs are advertised and reported per physical GPU and per MIG device, with stable UUIDs and FB_FREE', async () => {
  const { core, namespace } = cluster;
  const node = await core.readNode({ name: GPU });
  assert.equal(node.status?.capacity?.['nvidia.com/gpu'], '1', 'the whole GPU');
  assert.equal(node.status?.capacity?.['nvidia.com/mig-1g.6gb'], '2');
  assert.equal(node.status?.capacity?.['nvidia.com/mig-2g.12gb'], '1');
  assert.equal(node.metadata?.labels?.['nvidia.com/mig.strategy'], 'mixed');
  assert.equal(node.metadata?.labels?.['nvidia.com/gpu.count'], '2');

  // Every device shows, idle or not, with no pod labels while nobody holds it.
  const fbOfNode = `DCGM_FI_DEV_FB_USED{Hostname="${GPU}"}`;
  const idle = await eventually(
    async () => {
      const r = await query(fbOfNode);
      assert.equal(r.length, 4, 'one whole GPU and three GPU instances');
      return r;
    },
    { timeoutMs: 60_000, what: 'DCGM series of the GPU node' },
  );
  for (const s of idle) {
    assert.equal(s.metric.pod, undefined);
    assert.equal(Number(s.value[1]), 0);
    assert.equal(s.metric.modelName, 'NVIDIA A30');
    assert.ok(s.metric.DCGM_FI_DRIVER_VERSION);
  }
  assert.deepEqual(
    idle.map((s) => `${s.metric.gpu}/${s.metric.UUID}/${s.metric.GPU_I_PROFILE ?? '-'}`).sort(),
    [
      `0/${gpuUuid(GPU, 0)}/-`,
      `1/${gpuUuid(GPU, 1)}/1g.6gb`,
      `1/${gpuUuid(GPU, 1)}/1g.6gb`,
      `1/${gpuUuid(GPU, 1)}/2g.12gb`,
    ],
  );

  const llm = (name: string, resource: string) =>
    pinned(`a30-${suffix}`, {
      name,
      profile: 'llm',
      params: {
        weightsBytes: 1 * Gi,
        loadBytesPerSecond: 8 * Gi,
        warmupSeconds: 0,
        preallocateKvCache: true,
        modelCacheOnVolume: false,
      },
      resources: {
        requests: { cpu: '1', memory: '8Gi', [resource]: '1' },
        limits: { memory: '8Gi', [resource]: '1' },
      },
    });
  await core.createNamespacedPod({ namespace, body: llm('whole-a', 'nvidia.com/gpu') });
  // Named as a Deployment's pod, so Tailor's advise query for ModelDeployment "chat" selects it.
  const migPod = 'chat-6f9c7d8b5-x2k9q';
  await core.createNamespacedPod({ namespace, body: llm(migPod, 'nvidia.com/mig-1g.6gb') });
  await expectReady(core, namespace, 'whole-a', 120_000);
  const mig = await expectReady(core, namespace, migPod, 120_000);
  assert.equal(mig.status?.containerStatuses?.[0]?.resources?.limits?.['nvidia.com/mig-1g.6gb'], '1');

  const held = await eventually(
    async () => {
      const r = await query(`DCGM_FI_DEV_FB_USED{Hostname="${GPU}",namespace="${namespace}"}`);
      assert.equal(r.length, 2, 'the two pods');
      assert.ok(
        r.every((s) => Number(s.value[1]) > 0),
        'both have loaded',
      );
      return r;
    },
    { timeoutMs: 60_000, what: 'DCGM series of the pods' },
  );
  const whole = held.find((s) => s.metric.pod === 'whole-a')!;
  assert.deepEqual(
    [whole.metric.gpu, whole.metric.UUID, whole.metric.container],
    ['0', gpuUuid(GPU, 0), 'app'],
  );
  const slice = held.find((s) => s.metric.pod === migPod)!;
  assert.deepEqual(
    [slice.metric.gpu, slice.metric.UUID, slice.metric.GPU_I_PROFILE],
    ['1', gpuUuid(GPU, 1), '1g.6gb'],
  );
  assert.ok(Number(slice.value[1]) <= A30.mig['1g.6gb'].memoryMiB, 'a slice holds no more than its memory');

  // FB_FREE is total - used - reserved, for the GPU and for the GPU instance.
  const total = async (s: Sample) => {
    const sel = `UUID="${s.metric.UUID}",GPU_I_ID="${s.metric.GPU_I_ID ?? ''}"`;
    const [sum] = await query(
      `sum(DCGM_FI_DEV_FB_USED{${sel}}) + sum(DCGM_FI_DEV_FB_FREE{${sel}}) + sum(DCGM_FI_DEV_FB_RESERVED{${sel}})`,
    );
    return Number(sum?.value[1]);
  };
  assert.equal(await total(whole), A30.memoryMiB);
  assert.equal(await total(slice), A30.mig['1g.6gb'].memoryMiB);

  // Tailor's advise reads the MIG pod's framebuffer from the per-device series.
  const q = adviseQueries(namespace, 'chat', 'vllm', 600);
  const [peak] = await query(q.gpuMemoryUsedBytes);
  assert.equal(Number(peak?.value[1]), Number(slice.value[1]) * Mi);

  // The device plugin frees a GPU when its pod ends; the next pod gets the same GPU, same UUID.
  await core.deleteNamespacedPod({ name: 'whole-a', namespace, gracePeriodSeconds: 0 });
  await eventually(
    async () => {
      await assert.rejects(core.readNamespacedPod({ name: 'whole-a', namespace }));
    },
    { timeoutMs: 60_000, what: 'whole-a gone' },
  );
  await core.createNamespacedPod({ namespace, body: llm('whole-b', 'nvidia.com/gpu') });
  await expectReady(core, namespace, 'whole-b', 120_000);
  await eventually(
    async () => {
      const r = await query(`DCGM_FI_DEV_FB_USED{Hostname="${GPU}",gpu="0",GPU_I_ID=""}`);
      assert.equal(r.length, 1);
      assert.deepEqual([r[0]!.metric.pod, r[0]!.metric.UUID], ['whole-b', gpuUuid(GPU, 0)]);
    },
    { timeoutMs: 60_000, what: 'the freed GPU held by the next pod' },
  );
});
