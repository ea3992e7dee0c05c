// The simulator's scenario file: the examples parse to the fleets they describe, nodes get the
// labels and allocatable a kubelet would report, and bad fields are refused with file, line and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  GPU_MODELS,
  defaultScenario,
  parseScenario,
  scenarioNodes,
  workloadPodAnnotations,
} from '../../src/sim/scenario.ts';
import { parseProfile } from '../../src/sim/usage/index.ts';
import { TailorError } from '../../src/errors.ts';

const Gi = 2 ** 30;

function refusal(text: string, file = 'bad.yaml'): string {
  try {
    parseScenario(text, file);
  } catch (err) {
    assert.ok(err instanceof TailorError, String(err));
    assert.equal(err.code, 'InvalidInput');
    return err.message;
  }
  assert.fail('the scenario was accepted');
}

const pools = `nodePools:
  - name: cpu
    count: 2
    cpu: 8
    memory: 32Gi
`;

test('examples/scenarios/llm-fleet.yaml describes three pools, a GPU pool among them, and four tenants', () => {
  const s = parseScenario(readFileSync('examples/scenarios/llm-fleet.yaml', 'utf8'), 'llm-fleet.yaml');
  assert.deepEqual(
    s.nodePools.map((p) => [p.name, p.count, p.gpu?.model]),
    [
      ['general', 3, undefined],
      ['gpu-l4', 3, 'NVIDIA-L4'],
      ['gpu-a100', 1, 'NVIDIA-A100-SXM4-40GB'],
    ],
  );
  assert.deepEqual(
    [...new Set(s.workloads.map((w) => w.namespace))],
    ['chat', 'code-assist', 'shop', 'genai-legacy'],
  );
  assert.equal(s.clock.speed, 60);
  assert.equal(s.clock.start, Date.UTC(2024, 5, 3, 6) / 1000);
  const chat = s.workloads[0]!;
  assert.equal(chat.kind, 'StatefulSet');
  assert.deepEqual(chat.volume, { name: 'model-cache', sizeBytes: 40 * Gi, mountPath: '/models' });
  assert.deepEqual(chat.containers[0]!.requests, { cpu: '4', memory: '28Gi', 'nvidia.com/gpu': '1' });
  // The container's profile travels as annotations and reads back the same.
  const vllm = chat.containers[0]!.profile!;
  assert.ok(vllm.kind === 'llm' && vllm.weightsBytes === 15 * Gi);
  assert.deepEqual(parseProfile(workloadPodAnnotations(chat), 'vllm', s.defaultProfile), {
    ok: true,
    spec: vllm,
  });
  // Containers without a profile are left to the default.
  const debug = s.workloads.find((w) => w.name === 'debug')!;
  assert.equal(debug.containers[0]!.profile?.kind, 'idle');
  assert.equal(s.defaultProfile.kind, 'web');
});

test('examples/scenarios/scale-10k.yaml is 100 nodes and 10,000 pods in 500 namespaces', () => {
  const s = parseScenario(readFileSync('examples/scenarios/scale-10k.yaml', 'utf8'), 'scale-10k.yaml');
  assert.equal(scenarioNodes(s).length, 100);
  assert.equal(
    s.workloads.reduce((n, w) => n + w.replicas, 0),
    10_000,
  );
  assert.equal(new Set(s.workloads.map((w) => w.namespace)).size, 500);
  assert.deepEqual(
    s.workloads.slice(0, 2).map((w) => `${w.namespace}/${w.name}`),
    ['team-000/web', 'team-001/web'],
  );
  assert.deepEqual(
    new Set(s.workloads.map((w) => w.containers[0]!.profile?.kind)),
    new Set(['web', 'idle', 'batch']),
  );
});

test('nodes carry what is left after reserved, their zone, their GPU and the labels of their pool', () => {
  const s = parseScenario(
    `region: r1
nodePools:
  - name: gpu
    count: 3
    instanceType: g2-standard-8
    zones: [r1-a, r1-b]
    cpu: 8
    memory: 32Gi
    reserved: { cpu: 500m, memory: 1Gi }
    gpu: { model: NVIDIA-L4, count: 2 }
    labels: { team: ml }
    taints: [{ key: nvidia.com/gpu, value: present }]
`,
    'g.yaml',
  );
  const nodes = scenarioNodes(s);
  assert.deepEqual(
    nodes.map((n) => [n.name, n.zone]),
    [
      ['gpu-0', 'r1-a'],
      ['gpu-1', 'r1-b'],
      ['gpu-2', 'r1-a'],
    ],
  );
  assert.deepEqual(nodes[1], {
    name: 'gpu-1',
    // The machine is the capacity; `reserved` is kube-reserved, taken off allocatable (see sim-node-physics).
    cpu: 8,
    memoryBytes: 32 * Gi,
    kubeReserved: { cpu: 0.5, memoryBytes: 1 * Gi },
    ephemeralStorageBytes: 100 * Gi,
    pods: 110,
    gpus: 2,
    gpuModel: 'NVIDIA-L4',
    gpuMemoryBytes: GPU_MODELS['NVIDIA-L4'].memoryMiB * 2 ** 20,
    instanceType: 'g2-standard-8',
    zone: 'r1-b',
    labels: {
      'topology.kubernetes.io/region': 'r1',
      'sim.tailor.dev/pool': 'gpu',
      'nvidia.com/gpu.present': 'true',
      team: 'ml',
    },
    taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
  });
});

test('an empty file is the default scenario, and the default scenario is well-formed', () => {
  const d = defaultScenario();
  assert.deepEqual({ ...parseScenario('', 'empty.yaml'), file: d.file, name: d.name }, d);
  assert.equal(scenarioNodes(d).length, 4);
  assert.equal(d.storage.storageClass, 'tailor-sim');
});

test('bad scenario fields are refused with the file, the line, the field path and the allowed values', () => {
  const models = Object.keys(GPU_MODELS).join(', ');
  assert.equal(
    refusal(`${pools}  - name: gpu
    count: 1
    cpu: 8
    memory: 32Gi
    gpu:
      model: NVIDIA-X
`),
    `bad.yaml:11: nodePools[1].gpu.model: "NVIDIA-X" is not a GPU model; allowed: ${models}`,
  );
  assert.equal(
    refusal(`nodePools:
  - name: cpu
    count: three
    cpu: 8
    memory: 32Gi
`),
    'bad.yaml:3: nodePools[0].count: expected an integer >= 0 and <= 5000, got "three"',
  );
  assert.equal(
    refusal(`nodePools:
  - name: cpu
    count: 1
    cpu: 8
    memory: 32Gi
    gpus: 1
`),
    'bad.yaml:6: nodePools[0]: "gpus" is not a node pool field; allowed: name, count, instanceType, zones, cpu, memory, ephemeralStorage, pods, gpu, reserved, evictionHard, labels, taints, scaleDown',
  );
  assert.equal(
    refusal(`nodePools:
  - name: cpu
    count: 1
    cpu: 8
`),
    'bad.yaml:2: nodePools[0]: memory is required',
  );
  assert.equal(
    refusal(`nodePools:
  - name: cpu
    count: 1
    cpu: 8
    memory: 32000m
`),
    'bad.yaml:5: nodePools[0].memory: "32000m" is thousandths of a byte; write Mi for mebibytes (e.g. 32000Mi)',
  );
  assert.equal(
    refusal(`${pools}  - name: cpu
    count: 1
    cpu: 4
    memory: 8Gi
`),
    'bad.yaml:6: nodePools[1].name: node pool name "cpu" is used twice (also at index 0)',
  );
  assert.equal(
    refusal(`${pools}    taints: [{ key: a, effect: NoScheduling }]
`),
    'bad.yaml:6: nodePools[0].taints[0].effect: "NoScheduling" is not a taint effect; allowed: NoSchedule, PreferNoSchedule, NoExecute',
  );
  assert.equal(
    refusal('clock: { speed: 0 }\n'),
    'bad.yaml:1: clock.speed: expected a number > 0 and <= 100000, got 0',
  );
  assert.equal(
    refusal('clock: { start: yesterday }\n'),
    'bad.yaml:1: clock.start: expected an RFC 3339 time such as 2024-06-03T08:00:00Z or epoch seconds, got "yesterday"',
  );
  assert.equal(
    refusal('nodepools: []\n'),
    'bad.yaml:1: "nodepools" is not a scenario field; allowed: name, seed, region, clock, storage, defaultProfile, nodePools, workloads',
  );
  assert.equal(
    refusal('defaultProfile: gpu\n'),
    'bad.yaml:1: defaultProfile: "gpu" is not a profile; allowed: llm, web, batch, idle, replay',
  );
  assert.match(refusal('nodePools: [\n  - a\n'), /^bad\.yaml:2:\d+: not valid YAML: /);
});

test('bad workloads are refused with the field path', () => {
  const w = (body: string) => refusal(`${pools}workloads:\n${body}`);
  assert.equal(
    w(`  - namespace: a
    name: b
    pool: gpu
    containers: [{ name: c }]
`),
    'bad.yaml:9: workloads[0].pool: "gpu" is not a node pool of this scenario; allowed: cpu',
  );
  assert.equal(
    w(`  - namespace: a
    name: b
    containers:
      - name: c
        requests: { cpu: "2" }
        limits: { cpu: "1" }
`),
    'bad.yaml:11: workloads[0].containers[0].requests.cpu: 2 is above limits 1',
  );
  assert.equal(
    w(`  - namespace: a
    name: b
    containers:
      - name: c
        requests: { nvidia.com/gpu: 1, gpu: 1 }
`),
    'bad.yaml:11: workloads[0].containers[0].requests: "gpu" is not a resource the simulator knows; allowed: cpu, memory, ephemeral-storage, nvidia.com/gpu',
  );
  assert.match(
    w(`  - namespace: a
    name: b
    containers:
      - name: c
        profile: { kind: llm, weightGiB: 16 }
`),
    /^bad\.yaml:11: workloads\[0\]\.containers\[0\]\.profile: "weightGiB" is not a parameter of profile llm; allowed: weightsBytes, /,
  );
  assert.equal(
    w(`  - namespace: a
    name: b
    containers:
      - name: c
        profile: { kind: batch, busySeconds: 2h, periodSeconds: 1h }
`),
    'bad.yaml:11: workloads[0].containers[0].profile.busySeconds: 7200s is longer than periodSeconds 3600s',
  );
  assert.equal(
    w(`  - namespace: Team_A
    name: b
    containers: [{ name: c }]
`),
    'bad.yaml:7: workloads[0].namespace: expected a DNS label (lower-case letters, digits and \'-\', at most 63), got "Team_A"',
  );
  assert.equal(
    w(`  - namespace: a
    name: b
    copies: 3
    containers: [{ name: c }]
`),
    'bad.yaml:9: workloads[0].copies: with copies > 1, namespace or name must contain {i} (the copy number)',
  );
  assert.equal(
    w(`  - { namespace: "t-{i}", name: web, copies: 3, containers: [{ name: c }] }
  - { namespace: t-1, name: web, containers: [{ name: c }] }
`),
    'bad.yaml:8: workloads[1]: t-1/web is defined twice (also by workloads[0])',
  );
  // A profile chosen by the workload's annotations is read with the scenario, not per pod later.
  assert.equal(
    w(`  - namespace: a
    name: b
    annotations: { sim.tailor.dev/profile: webb }
    containers: [{ name: c }]
`),
    'bad.yaml:9: workloads[0].annotations: annotation sim.tailor.dev/profile: "webb" is not a profile; allowed: llm, web, batch, idle, replay',
  );
  assert.match(
    w(`  - namespace: a
    name: b
    annotations: { sim.tailor.dev/params.c: '{"peakCpuCores": -1}' }
    containers: [{ name: c }]
`),
    /^bad\.yaml:9: workloads\[0\]\.annotations: annotation sim\.tailor\.dev\/params\.c: peakCpuCores: /,
  );
});

test('copies expand with zero-padded numbers and share the workload definition', () => {
  const s = parseScenario(
    `${pools}workloads:
  - namespace: "tenant-{i}"
    name: api
    copies: 12
    replicas: 2
    pool: cpu
    containers: [{ name: c, requests: { cpu: 100m, memory: 64Mi }, profile: { kind: web, peakCpuCores: 250m } }]
`,
    'c.yaml',
  );
  assert.equal(s.workloads.length, 12);
  assert.equal(s.workloads[0]!.namespace, 'tenant-00');
  assert.equal(s.workloads[11]!.namespace, 'tenant-11');
  const p = s.workloads[5]!.containers[0]!.profile!;
  assert.ok(p.kind === 'web' && p.peakCpuCores === 0.25);
  assert.equal(s.workloads[5]!.pool, 'cpu');
});
