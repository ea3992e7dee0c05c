// The simulated GPUs as the device plugin, GPU feature discovery and dcgm-exporter show them: stable
// UUIDs per node and index, MIG devices under the mixed strategy, devices given to pods and freed
// with them, and one DCGM series set per physical GPU (or GPU instance) with FB_FREE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GPU_BOARDS,
  allocate,
  checkMigLayout,
  devicesOf,
  gpuCapacity,
  gpuLabels,
  gpuUuid,
  type GpuNode,
} from '../../src/sim/gpus.ts';
import { admitDevices, gpuOf } from '../../src/sim/kubelet/devices.ts';
import { Exposition } from '../../src/sim/metrics/exposition.ts';
import { dcgm } from '../../src/sim/metrics/exporters/dcgm.ts';
import type { ContainerState, PodState } from '../../src/sim/kubelet/state.ts';
import type { UsageView } from '../../src/sim/metrics/view.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import { capacityOf, labelsOf } from '../../src/sim/nodes.ts';
import { parseScenario, scenarioNodes } from '../../src/sim/scenario.ts';
import { podTemplate } from '../../src/sim/workloads.ts';
import { testNodes } from '../support/simulator.ts';
import { newBook } from '../../src/sim/kubelet/resizer.ts';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

const a100: SimNodeSpec = {
  name: 'gpu-a100-0',
  cpu: 32,
  memoryBytes: 256 * Gi,
  ephemeralStorageBytes: 100 * Gi,
  pods: 110,
  gpus: 2,
  gpuModel: 'NVIDIA-A100-SXM4-80GB',
  // GPU 0 whole, GPU 1 cut (mixed strategy).
  migLayout: [[], ['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb']],
};

function container(name: string, o: Partial<ContainerState>): ContainerState {
  return {
    name,
    image: 'example.com/app:1',
    profile: { kind: 'idle', startupSeconds: 0, sample: () => ZERO, volumeBytes: () => 0 },
    remake: () => container(name, o).profile,
    startedAt: 0,
    restartCount: 0,
    ready: true,
    allocated: { cpuRequest: 1, memoryRequest: Gi },
    actual: { cpuRequest: 1, memoryRequest: Gi },
    gpus: 0,
    policy: { cpu: 'NotRequired', memory: 'NotRequired' },
    consecutiveCrashes: 0,
    usage: ZERO,
    cpuSecondsTotal: 0,
    cfsPeriodsTotal: 0,
    cfsThrottledPeriodsTotal: 0,
    oomEventsTotal: 0,
    ...o,
  };
}
const ZERO = { cpuCores: 0, memoryBytes: 0, gpuMemoryBytes: 0, gpuUtilPercent: 0 };

function pod(name: string, node: string, containers: ContainerState[]): PodState {
  return {
    uid: `uid-${name}`,
    namespace: 'team',
    name,
    node,
    labels: {},
    phase: 'Running',
    startTime: 0,
    podIP: '10.0.0.1',
    hostIP: '',
    generation: 1,
    observedGeneration: 1,
    containers: new Map(containers.map((c) => [c.name, c])),
    resizing: newBook({ spec: { containers: [] } }),
    claims: [],
    dirty: false,
  };
}

function view(nodes: SimNodeSpec[], pods: PodState[]): UsageView {
  return { now: () => 0, nodes: () => nodes, pods: () => pods, volumes: () => [], apiPods: () => [] };
}

/** Each sample line of a family: its labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => {
      const [, body, value] = /^[^{]+\{(.*)\} (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...body!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { labels, value: Number(value) };
    });
}

void test('a GPU UUID is NVML-shaped and the same for the same node and index, different otherwise', () => {
  assert.match(gpuUuid('gpu-0', 0), /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(gpuUuid('gpu-0', 0), gpuUuid('gpu-0', 0));
  const all = new Set([gpuUuid('gpu-0', 0), gpuUuid('gpu-0', 1), gpuUuid('gpu-1', 0)]);
  assert.equal(all.size, 3);
});

void test('the test L4 node has the framebuffer nvidia-smi reports, not a round 24 GiB', () => {
  const l4 = testNodes().find((n) => n.gpuModel === 'NVIDIA-L4')!;
  assert.equal(l4.gpuMemoryBytes, GPU_BOARDS['NVIDIA-L4'].memoryMiB * Mi);
  assert.equal(GPU_BOARDS['NVIDIA-L4'].memoryMiB, 23034);
  assert.equal(labelsOf(l4)['nvidia.com/gpu.memory'], '23034');
});

void test('a mixed-strategy node advertises its whole GPUs as nvidia.com/gpu and each MIG profile apart, with GFD labels', () => {
  assert.deepEqual(capacityOf(a100), {
    cpu: '32',
    memory: '256Gi',
    'ephemeral-storage': '100Gi',
    pods: '110',
    'nvidia.com/gpu': '1',
    'nvidia.com/mig-3g.40gb': '1',
    'nvidia.com/mig-2g.20gb': '1',
    'nvidia.com/mig-1g.10gb': '2',
  });
  const labels = gpuLabels(a100);
  assert.equal(labels['nvidia.com/gpu.count'], '2', 'GFD counts physical GPUs');
  assert.equal(labels['nvidia.com/gpu.memory'], '81920');
  assert.equal(labels['nvidia.com/mig.strategy'], 'mixed');
  assert.equal(labels['nvidia.com/mig-1g.10gb.count'], '2');
  assert.equal(labels['nvidia.com/mig-1g.10gb.product'], 'NVIDIA-A100-SXM4-80GB-MIG-1g.10gb');
  assert.equal(labels['nvidia.com/mig-1g.10gb.memory'], '9728');
  assert.equal(labels['nvidia.com/mig-3g.40gb.slices.gi'], '3');
  assert.equal(gpuCapacity({ name: 'l4', gpus: 2, gpuModel: 'NVIDIA-L4' })['nvidia.com/gpu'], '2');
  assert.equal(
    gpuLabels({ name: 'l4', gpus: 1, gpuModel: 'NVIDIA-L4' })['nvidia.com/mig.strategy'],
    undefined,
  );
});

void test('a MIG layout with an unknown profile or more slices than the GPU has is refused', () => {
  const node = (layout: string[][]): GpuNode => ({ ...a100, migLayout: layout });
  assert.equal(checkMigLayout(a100), undefined);
  assert.match(checkMigLayout(node([['1g.5gb']]))!, /"1g.5gb" is not one of NVIDIA-A100-SXM4-80GB's/);
  assert.match(checkMigLayout(node([['7g.80gb', '1g.10gb']]))!, /take 8 compute slices of 7/);
  assert.match(checkMigLayout({ ...node([['1g.10gb']]), gpuModel: 'NVIDIA-L4' })!, /NVIDIA-L4 has no MIG/);
});

void test('devices go to pods lowest index first, never twice, and are free again once their pod is gone', () => {
  const wholeIds = devicesOf(a100)
    .filter((d) => d.resource === 'nvidia.com/gpu')
    .map((d) => d.id);
  const first = allocate(a100, [{ container: 'app', resource: 'nvidia.com/gpu', count: 1 }], new Set());
  assert.equal(first.outcome, 'Allocated');
  if (first.outcome !== 'Allocated') return;
  assert.deepEqual(first.devices.get('app'), [wholeIds[0]]);
  const second = allocate(
    a100,
    [{ container: 'app', resource: 'nvidia.com/gpu', count: 1 }],
    new Set(first.devices.get('app')),
  );
  assert.equal(second.outcome, 'Insufficient');
  if (second.outcome === 'Insufficient')
    assert.match(second.message, /unavailable for nvidia.com\/gpu\. Requested: 1, Available: 0/);

  // Through the kubelet's view: a pod holding the GPU keeps it from the next; gone, it frees it.
  const gpuContainer = () =>
    container('app', gpuOf({ name: 'app', resources: { limits: { 'nvidia.com/gpu': '1' } } }, a100));
  const holder = pod('holder', a100.name, [gpuContainer()]);
  assert.equal(admitDevices(a100, holder, []), undefined);
  const next = pod('next', a100.name, [gpuContainer()]);
  assert.match(admitDevices(a100, next, [holder])!, /Requested: 1, Available: 0/);
  assert.equal(admitDevices(a100, next, []), undefined, 'the holder is gone');
  assert.deepEqual(next.containers.get('app')!.devices, holder.containers.get('app')!.devices);
});

void test('a container asking for a MIG device gets one of that profile, with the slice memory to fill', () => {
  const want = gpuOf({ name: 'app', resources: { limits: { 'nvidia.com/mig-1g.10gb': '1' } } }, a100);
  assert.deepEqual(want, { gpus: 1, gpuResource: 'nvidia.com/mig-1g.10gb', bytesPerGpu: 9728 * Mi });
  const p = pod('mig', a100.name, [container('app', want)]);
  assert.equal(admitDevices(a100, p, []), undefined);
  const [id] = p.containers.get('app')!.devices!;
  const d = devicesOf(a100).find((x) => x.id === id)!;
  assert.match(id!, /^MIG-[0-9a-f]{8}-/);
  assert.deepEqual(d.mig, { profile: '1g.10gb', instance: 3 });
  assert.equal(d.gpuUuid, gpuUuid(a100.name, 1));
});

void test('DCGM reports every GPU and GPU instance, pod labels only where a pod holds it, and FB_FREE = total - used - reserved', () => {
  const whole = container('server', {
    ...gpuOf({ name: 'server', resources: { limits: { 'nvidia.com/gpu': '1' } } }, a100),
    usage: { ...ZERO, gpuMemoryBytes: 60 * Gi, gpuUtilPercent: 70 },
  });
  const slice = container('small', {
    ...gpuOf({ name: 'small', resources: { limits: { 'nvidia.com/mig-2g.20gb': '1' } } }, a100),
    usage: { ...ZERO, gpuMemoryBytes: 12 * Gi, gpuUtilPercent: 40 },
  });
  const p1 = pod('llm-a', a100.name, [whole]);
  const p2 = pod('llm-b', a100.name, [slice]);
  admitDevices(a100, p1, []);
  admitDevices(a100, p2, [p1]);
  const e = new Exposition();
  dcgm(e, view([a100], [p1, p2]));
  const text = e.text();
  const used = samples(text, 'DCGM_FI_DEV_FB_USED');
  assert.equal(used.length, 5, 'one GPU whole, four GPU instances on the other');
  for (const s of used) {
    assert.equal(s.labels.modelName, 'NVIDIA A100-SXM4-80GB');
    assert.equal(s.labels.Hostname, a100.name);
    assert.ok(s.labels.DCGM_FI_DRIVER_VERSION);
    assert.equal(s.labels.device, `nvidia${s.labels.gpu}`);
  }
  const a = used.find((s) => s.labels.pod === 'llm-a')!;
  assert.deepEqual(
    [a.labels.gpu, a.labels.UUID, a.labels.namespace, a.labels.container],
    ['0', gpuUuid(a100.name, 0), 'team', 'server'],
  );
  assert.equal(a.value, 60 * 1024);
  const b = used.find((s) => s.labels.pod === 'llm-b')!;
  assert.deepEqual(
    [b.labels.gpu, b.labels.UUID, b.labels.GPU_I_PROFILE, b.labels.GPU_I_ID],
    ['1', gpuUuid(a100.name, 1), '2g.20gb', '2'],
  );
  const idle = used.filter((s) => s.labels.pod === undefined);
  assert.equal(idle.length, 3);
  assert.ok(
    idle.every((s) => s.value === 0 && s.labels.namespace === undefined && s.labels.container === undefined),
  );

  const free = samples(text, 'DCGM_FI_DEV_FB_FREE');
  const reserved = samples(text, 'DCGM_FI_DEV_FB_RESERVED');
  const key = (s: { labels: Record<string, string> }) => `${s.labels.UUID}/${s.labels.GPU_I_ID ?? ''}`;
  for (const u of used) {
    const d = devicesOf(a100).find(
      (x) => x.gpuUuid === u.labels.UUID && String(x.mig?.instance ?? '') === (u.labels.GPU_I_ID ?? ''),
    )!;
    const f = free.find((s) => key(s) === key(u))!;
    const r = reserved.find((s) => key(s) === key(u))!;
    assert.equal(u.value + f.value + r.value, d.memoryMiB, `FB of ${key(u)}`);
  }
  const util = samples(text, 'DCGM_FI_DEV_GPU_UTIL');
  assert.deepEqual(
    util.map((s) => [s.labels.gpu, s.value]),
    [['0', 70]],
    'no GPU_UTIL for GPU instances (NVML has none under MIG)',
  );
  const engine = samples(text, 'DCGM_FI_PROF_GR_ENGINE_ACTIVE').find((s) => s.labels.pod === 'llm-b')!;
  assert.equal(engine.value, 0.4);
});

void test('a usage above the device is shown as the device full, not more', () => {
  const greedy = container('server', {
    ...gpuOf({ name: 'server', resources: { limits: { 'nvidia.com/mig-1g.10gb': '1' } } }, a100),
    usage: { ...ZERO, gpuMemoryBytes: 40 * Gi },
  });
  const p = pod('greedy', a100.name, [greedy]);
  admitDevices(a100, p, []);
  const e = new Exposition();
  dcgm(e, view([a100], [p]));
  const mine = samples(e.text(), 'DCGM_FI_DEV_FB_USED').find((s) => s.labels.pod === 'greedy')!;
  assert.equal(mine.value, 9728);
});

void test('a scenario GPU pool may be cut into MIG devices, each GPU alike, and workloads may ask for them; a profile the board lacks is refused', () => {
  const s = parseScenario(
    `nodePools:
  - name: mig
    count: 1
    cpu: 16
    memory: 64Gi
    gpu: { model: NVIDIA-H100-80GB-HBM3, count: 2, mig: [3g.40gb, 1g.10gb, 1g.10gb] }
`,
    'mig.yaml',
  );
  const [n] = scenarioNodes(s);
  assert.deepEqual(n!.migLayout, [
    ['3g.40gb', '1g.10gb', '1g.10gb'],
    ['3g.40gb', '1g.10gb', '1g.10gb'],
  ]);
  assert.equal(capacityOf(n!)['nvidia.com/mig-1g.10gb'], '4');
  assert.equal(capacityOf(n!)['nvidia.com/gpu'], undefined);
  const withWorkload = parseScenario(
    `nodePools:
  - name: mig
    count: 1
    cpu: 16
    memory: 64Gi
    gpu: { model: NVIDIA-H100-80GB-HBM3, count: 1, mig: [1g.10gb, 1g.10gb] }
workloads:
  - namespace: a
    name: small-llm
    pool: mig
    containers: [{ name: c, requests: { cpu: '1', nvidia.com/mig-1g.10gb: 1 }, limits: { nvidia.com/mig-1g.10gb: 1 } }]
`,
    'mig.yaml',
  );
  const template = podTemplate(withWorkload, withWorkload.workloads[0]!);
  assert.equal(template.spec!.containers[0]!.resources!.limits!['nvidia.com/mig-1g.10gb'], '1');
  assert.throws(
    () =>
      parseScenario(
        `nodePools: [{ name: p, count: 1, cpu: 2, memory: 4Gi }]
workloads:
  - { namespace: a, name: b, containers: [{ name: c, requests: { nvidia.com/mig-1g.10gb: 1 }, limits: { nvidia.com/mig-1g.10gb: 2 } }] }
`,
        'bad.yaml',
      ),
    /requests\["nvidia\.com\/mig-1g\.10gb"\]: 1 differs from limits 2; GPU requests must equal limits/,
  );
  assert.throws(
    () =>
      parseScenario(
        'nodePools:\n  - { name: p, count: 1, cpu: 2, memory: 4Gi, gpu: { model: NVIDIA-L4, mig: [1g.10gb] } }\n',
        'bad.yaml',
      ),
    /bad\.yaml:2: nodePools\[0\]\.gpu\.mig: NVIDIA-L4 has no MIG profiles/,
  );
});
