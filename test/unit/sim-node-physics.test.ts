// Node physics of the simulated kubelet, table-tested: allocatable, CPU shared by CFS weight and
// throttling as cpu.stat counts it, the OOM killer's choice, eviction ranking and messages, admission.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocatableOf, managedKubeReserved } from '../../src/sim/kubelet/allocatable.ts';
import {
  cfsPeriods,
  milliCpuToShares,
  quotaCores,
  shareCpu,
  sharesToWeight,
  type CpuClaim,
} from '../../src/sim/kubelet/cpu-share.ts';
import {
  binaryQuantity,
  evictionMessage,
  nextPressure,
  oomScoreAdj,
  oomVictims,
  qosOf,
  rankForEviction,
} from '../../src/sim/kubelet/memory-pressure.ts';
import { admitPod, kubeletAdmit } from '../../src/sim/kubelet/admission.ts';
import type { Resources } from '../../src/sim/kubelet/resize.ts';

const Mi = 2 ** 20;
const Gi = 2 ** 30;
const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

test('allocatable: a managed cluster holds back kube-reserved on a sliding scale and 100Mi for hard eviction', () => {
  // GKE's table: 4 cores -> 60m + 10m + 2 x 5m = 80m; 8 GiB -> 25% of 4 + 20% of 4 = 1.8 GiB.
  assert.deepEqual(managedKubeReserved(4, 8 * Gi), { cpu: 0.08, memoryBytes: Math.ceil(1.8 * 1024) * Mi });
  assert.deepEqual(managedKubeReserved(2, 2 * Gi), { cpu: 0.07, memoryBytes: 512 * Mi });
  assert.deepEqual(managedKubeReserved(1, 0.5 * Gi), { cpu: 0.06, memoryBytes: 255 * Mi });
  // 32 GiB: 1 + 0.8 + 0.8 + 6% of 16 GiB.
  assert.equal(managedKubeReserved(8, 32 * Gi).memoryBytes, Math.ceil((2.6 + 0.96) * 1024) * Mi);
  const small = allocatableOf({ cpu: 2, memoryBytes: 2 * Gi });
  assert.deepEqual(small, {
    cpu: 1.93,
    memoryBytes: 2 * Gi - 512 * Mi - 100 * Mi,
    podsMemoryLimitBytes: 1536 * Mi,
  });
  // Explicit settings win: system-reserved counts too, and a different eviction threshold.
  assert.deepEqual(
    allocatableOf({
      cpu: 4,
      memoryBytes: 8 * Gi,
      kubeReserved: { cpu: 0.1, memoryBytes: 512 * Mi },
      systemReserved: { cpu: 0.1, memoryBytes: 256 * Mi },
      evictionHardMemoryBytes: 200 * Mi,
    }),
    { cpu: 3.8, memoryBytes: 8 * Gi - 968 * Mi, podsMemoryLimitBytes: 8 * Gi - 768 * Mi },
  );
});

test('CFS weights: 1024 shares a core, at least 2; cgroup v2 weight from shares; quota from the limit', () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(0.001), 2);
  assert.equal(milliCpuToShares(0.5), 512);
  assert.equal(milliCpuToShares(2), 2048);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  near(quotaCores(0.5), 0.5, 'quota of 500m');
  near(quotaCores(0.0001), 0.01, 'quota floor of 1 ms per 100 ms');
});

test('CPU on a node that is not contended: each container gets min(demand, quota)', () => {
  const grants = shareCpu(4, [
    { demandCores: 1, requestCores: 0.5 },
    { demandCores: 2, requestCores: 0.5, limitCores: 1 },
    { demandCores: 0.2, requestCores: 0 },
  ]);
  assert.deepEqual(
    grants.map((g) => [g.cores, g.heldBy]),
    [
      [1, 'Nothing'],
      [1, 'Quota'],
      [0.2, 'Nothing'],
    ],
  );
});

test('CPU on a contended node: divided by request weight, water-filled, never above demand or quota', () => {
  const cases: { name: string; cores: number; claims: CpuClaim[]; cgroup?: 'v1' | 'v2'; want: number[] }[] = [
    {
      name: 'two equal requests split the node',
      cores: 2,
      claims: [
        { demandCores: 3, requestCores: 1 },
        { demandCores: 3, requestCores: 1 },
      ],
      want: [1, 1],
    },
    {
      name: 'by request: 1.5 against 0.5 is 3:1',
      cores: 2,
      claims: [
        { demandCores: 3, requestCores: 1.5 },
        { demandCores: 3, requestCores: 0.5 },
      ],
      cgroup: 'v1',
      want: [1.5, 0.5],
    },
    {
      name: 'what a small container leaves goes to the big one',
      cores: 2,
      claims: [
        { demandCores: 0.2, requestCores: 1 },
        { demandCores: 3, requestCores: 1 },
      ],
      want: [0.2, 1.8],
    },
    {
      name: 'a quota caps the fair share and the rest flows on',
      cores: 3,
      claims: [
        { demandCores: 4, requestCores: 2, limitCores: 0.5 },
        { demandCores: 4, requestCores: 1 },
        { demandCores: 4, requestCores: 1 },
      ],
      want: [0.5, 1.25, 1.25],
    },
    {
      name: 'BestEffort (2 shares) against a 1-core request, cgroup v1',
      cores: 1,
      claims: [
        { demandCores: 2, requestCores: 1 },
        { demandCores: 2, requestCores: 0 },
      ],
      cgroup: 'v1',
      want: [1024 / 1026, 2 / 1026],
    },
    {
      name: 'BestEffort (weight 1) against a 1-core request (weight 39), cgroup v2',
      cores: 1,
      claims: [
        { demandCores: 2, requestCores: 1 },
        { demandCores: 2, requestCores: 0 },
      ],
      want: [39 / 40, 1 / 40],
    },
  ];
  for (const c of cases) {
    const grants = shareCpu(c.cores, c.claims, c.cgroup);
    grants.forEach((g, i) => near(g.cores, c.want[i]!, `${c.name} [${i}]`));
    const total = grants.reduce((a, g) => a + g.cores, 0);
    assert.ok(total <= c.cores + 1e-9, `${c.name}: ${total} cores handed out on ${c.cores}`);
    grants.forEach((g, i) =>
      assert.ok(g.cores <= c.claims[i]!.demandCores + 1e-9, `${c.name}: above demand`),
    );
  }
});

test('cpu.stat: periods only while running; throttled only when the quota, not contention, held it', () => {
  assert.deepEqual(cfsPeriods({ cores: 0.5, heldBy: 'Quota' }, true, 10), { periods: 100, throttled: 100 });
  assert.deepEqual(cfsPeriods({ cores: 0.3, heldBy: 'Nothing' }, true, 10), { periods: 100, throttled: 0 });
  assert.deepEqual(cfsPeriods({ cores: 0.3, heldBy: 'Contention' }, true, 10), {
    periods: 100,
    throttled: 0,
  });
  assert.deepEqual(cfsPeriods({ cores: 0, heldBy: 'Nothing' }, true, 10), { periods: 0, throttled: 0 });
  assert.deepEqual(cfsPeriods({ cores: 2, heldBy: 'Nothing' }, false, 10), { periods: 0, throttled: 0 });
});

const res = (cpu: number, mem: number, cpuLimit?: number, memLimit?: number): Resources => ({
  cpuRequest: cpu,
  memoryRequest: mem * Mi,
  ...(cpuLimit !== undefined ? { cpuLimit } : {}),
  ...(memLimit !== undefined ? { memoryLimit: memLimit * Mi } : {}),
});

test('QoS and oom_score_adj as the kubelet sets them', () => {
  assert.equal(qosOf([res(0, 0)]), 'BestEffort');
  assert.equal(qosOf([res(0.5, 256, 0.5, 256)]), 'Guaranteed');
  assert.equal(qosOf([res(0.5, 256, 0.5, 256), res(0.1, 0)]), 'Burstable');
  assert.equal(qosOf([res(0.5, 256)]), 'Burstable');
  assert.equal(oomScoreAdj('Guaranteed', 256 * Mi, 8 * Gi), -997);
  assert.equal(oomScoreAdj('BestEffort', 0, 8 * Gi), 1000);
  assert.equal(oomScoreAdj('Burstable', 2 * Gi, 8 * Gi), 750);
  assert.equal(oomScoreAdj('Burstable', 8 * Gi, 8 * Gi), 3, 'never as low as Guaranteed');
  assert.equal(oomScoreAdj('Burstable', 1, 8 * Gi), 999, 'never as high as BestEffort');
});

test('the OOM killer takes the worst badness until the rest fit, and never oom_score_adj -1000', () => {
  const limit = 1000 * Mi;
  const victims = oomVictims(
    [
      { key: 'guaranteed-big', workingSetBytes: 600 * Mi, oomScoreAdj: -997 },
      { key: 'besteffort-small', workingSetBytes: 100 * Mi, oomScoreAdj: 1000 },
      { key: 'burstable', workingSetBytes: 400 * Mi, oomScoreAdj: 500 },
    ],
    limit,
  );
  // 1100Mi in a 1000Mi cgroup: BestEffort's badness (100Mi + 1000Mi) is the worst; then it fits.
  assert.deepEqual(victims, ['besteffort-small']);
  assert.deepEqual(oomVictims([{ key: 'a', workingSetBytes: 2 * limit, oomScoreAdj: -1000 }], limit), []);
  assert.deepEqual(oomVictims([{ key: 'a', workingSetBytes: 500 * Mi, oomScoreAdj: 0 }], limit), []);
});

test('eviction ranking: above its request first, then lower priority, then most above request', () => {
  const ranked = rankForEviction([
    { key: 'within-request', workingSetBytes: 900 * Mi, memoryRequestBytes: 1000 * Mi, priority: 0 },
    { key: 'over-high-priority', workingSetBytes: 900 * Mi, memoryRequestBytes: 100 * Mi, priority: 1000 },
    { key: 'over-a-little', workingSetBytes: 200 * Mi, memoryRequestBytes: 100 * Mi, priority: 0 },
    { key: 'over-a-lot', workingSetBytes: 700 * Mi, memoryRequestBytes: 100 * Mi, priority: 0 },
  ]).map((p) => p.key);
  assert.deepEqual(ranked, ['over-a-lot', 'over-a-little', 'over-high-priority', 'within-request']);
});

test("eviction message and quantities in the kubelet's words", () => {
  assert.equal(binaryQuantity(100 * Mi), '100Mi');
  assert.equal(binaryQuantity(1536 * Mi), '1536Mi');
  assert.equal(binaryQuantity(92160 * 1024), '90Mi');
  assert.equal(binaryQuantity(12345 * 4096), '49380Ki');
  assert.equal(
    evictionMessage(100 * Mi, 51200 * 1024, [
      { name: 'hog', workingSetBytes: 1 * Gi, memoryRequestBytes: 64 * Mi },
      { name: 'sidecar', workingSetBytes: 10 * Mi, memoryRequestBytes: 64 * Mi },
    ]),
    'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ' +
      'Container hog was using 1Gi, request is 64Mi, has larger consumption of memory. ',
  );
});

test('MemoryPressure: on at once, off only after the transition period without the threshold met', () => {
  let s = nextPressure({ pressure: false }, false, 0, 30);
  assert.equal(s.pressure, false);
  s = nextPressure(s, true, 10, 30);
  assert.equal(s.pressure, true);
  s = nextPressure(s, false, 20, 30);
  assert.equal(s.pressure, true, 'still within the transition period');
  s = nextPressure(s, false, 40, 30);
  assert.equal(s.pressure, false);
});

test("admission: the scheduler's fit against allocatable, in its words", () => {
  const allocatable = { cpu: 1.93, memory: 1436 * Mi, pods: 110 };
  assert.deepEqual(
    admitPod({ requests: { cpu: 0.5, memory: 64 * Mi }, used: { cpu: 1, memory: 0, pods: 3 }, allocatable }),
    { outcome: 'Admitted' },
  );
  assert.deepEqual(
    admitPod({ requests: { cpu: 3, memory: 64 * Mi }, used: { cpu: 0.5, memory: 0, pods: 1 }, allocatable }),
    {
      outcome: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 3000, used: 500, capacity: 1930",
    },
  );
  assert.deepEqual(
    admitPod({ requests: { cpu: 0.1, memory: 2 * Gi }, used: { cpu: 0, memory: 0, pods: 0 }, allocatable }),
    {
      outcome: 'OutOfmemory',
      message: `Node didn't have enough resource: memory, requested: ${2 * Gi}, used: 0, capacity: ${1436 * Mi}`,
    },
  );
  assert.equal(
    admitPod({ requests: { cpu: 0, memory: 0 }, used: { cpu: 0, memory: 0, pods: 110 }, allocatable })
      .outcome,
    'OutOfpods',
  );
});

test('under MemoryPressure the kubelet refuses BestEffort pods only, as the eviction manager admits', () => {
  const node = { name: 'n', cpu: 2, memoryBytes: 2 * Gi, ephemeralStorageBytes: 0, pods: 110, gpus: 0 };
  const used = { cpu: 0, memory: 0, pods: 0 };
  const bestEffort = { containers: new Map([['app', res(0, 0)]]) };
  const burstable = { containers: new Map([['app', res(0.1, 64)]]) };
  assert.deepEqual(kubeletAdmit({ desired: bestEffort, node, used, memoryPressure: true }), {
    outcome: 'Evicted',
    message: 'The node had condition: [MemoryPressure]. ',
  });
  assert.deepEqual(kubeletAdmit({ desired: burstable, node, used, memoryPressure: true }), {
    outcome: 'Admitted',
  });
  assert.deepEqual(kubeletAdmit({ desired: bestEffort, node, used, memoryPressure: false }), {
    outcome: 'Admitted',
  });
  // Against allocatable (1930m on 2 cores), not capacity.
  assert.equal(
    kubeletAdmit({
      desired: { containers: new Map([['app', res(1.95, 64)]]) },
      node,
      used,
      memoryPressure: false,
    }).outcome,
    'OutOfcpu',
  );
});
