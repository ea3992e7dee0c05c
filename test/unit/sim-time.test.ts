// Time at any clock speed (docs/decisions/0023): the simulator's counters move by the wall-clock
// seconds their scrapers stamp them with, so a rate over wall time reads the simulated usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterSeconds, simClock } from '../../src/sim/clock.ts';
import { Kubelet } from '../../src/sim/kubelet/kubelet.ts';
import type { ContainerState, PodState } from '../../src/sim/kubelet/state.ts';
import { KubeletApi } from '../../src/sim/metrics/kubelet-api.ts';
import type { SimVolumes } from '../../src/sim/volumes/store.ts';
import type { Clients } from '../../src/kube/client.ts';
import type { UsageSample } from '../../src/sim/usage/types.ts';
import { newBook } from '../../src/sim/kubelet/resizer.ts';

const Gi = 2 ** 30;

void test('a counter moves by the wall-clock seconds that simulated time takes', () => {
  assert.equal(counterSeconds({ speed: 1 }, 30), 30);
  assert.equal(counterSeconds({ speed: 60 }, 3600), 60, 'a simulated hour is a wall minute at 60x');
});

/** A kubelet running one container that wants `cores`, on a clock whose wall time the test moves. */
function world(speed: number, cores: number, limit?: number) {
  let wall = 1_000;
  const clock = simClock(speed, 1_717_400_000, () => wall);
  const clients = { core: { patchNamespacedPodStatus: () => Promise.resolve({}) } } as unknown as Clients;
  const kubelet = new Kubelet({
    clients,
    clock,
    nodes: new Map([
      [
        'n1',
        { name: 'n1', cpu: 8, memoryBytes: 32 * Gi, ephemeralStorageBytes: 100 * Gi, pods: 110, gpus: 0 },
      ],
    ]),
    profileFor: () => ({ ok: false, error: 'not used' }),
    events: { record: () => {} },
    log: () => {},
  });
  const use: UsageSample = { cpuCores: cores, memoryBytes: Gi, gpuMemoryBytes: 0, gpuUtilPercent: 0 };
  const resources = { cpuRequest: cores, memoryRequest: 2 * Gi, ...(limit ? { cpuLimit: limit } : {}) };
  const c: ContainerState = {
    name: 'app',
    image: 'example.com/app:1',
    profile: { kind: 'idle', startupSeconds: 0, sample: () => use, volumeBytes: () => 0 },
    remake: () => c.profile,
    startedAt: clock.now(),
    restartCount: 0,
    ready: true,
    allocated: resources,
    actual: resources,
    gpus: 0,
    policy: { cpu: 'NotRequired', memory: 'NotRequired' },
    consecutiveCrashes: 0,
    usage: use,
    cpuSecondsTotal: 0,
    cfsPeriodsTotal: 0,
    cfsThrottledPeriodsTotal: 0,
    oomEventsTotal: 0,
  };
  const pod: PodState = {
    uid: 'u1',
    namespace: 'team',
    name: 'busy',
    node: 'n1',
    labels: {},
    phase: 'Running',
    startTime: clock.now(),
    podIP: '10.0.0.1',
    hostIP: '',
    generation: 1,
    observedGeneration: 1,
    containers: new Map([['app', c]]),
    resizing: newBook({ spec: { containers: [] } }),
    claims: [],
    dirty: false,
  };
  kubelet.pods.set(pod.uid, pod);
  const summaries = new KubeletApi(
    { now: () => clock.now(), nodes: () => [], pods: () => [pod], volumes: () => [], apiPods: () => [] },
    {} as SimVolumes,
    clock,
  );
  return {
    c,
    kubelet,
    summaries,
    /** Lets `seconds` of wall time pass, one kubelet tick a second. */
    run(seconds: number) {
      for (let i = 0; i < seconds; i++) {
        wall += 1;
        kubelet.tick();
      }
    },
  };
}

interface Summary {
  pods: { containers: { cpu: { time: string; usageNanoCores: number; usageCoreNanoSeconds: number } }[] }[];
}

for (const speed of [1, 60]) {
  void test(`at speed ${speed} the CPU counter's rate over wall time, as Prometheus and metrics-server take it, is the simulated cores`, () => {
    const w = world(speed, 0.5);
    w.run(10);
    assert.equal(Math.round(w.c.cpuSecondsTotal * 1e6) / 1e6, 5, 'half a core for ten wall seconds');
    const cpuOf = () => (w.summaries.summary('n1') as Summary).pods[0]!.containers[0]!.cpu;
    const first = cpuOf();
    w.run(15);
    const second = cpuOf();
    const seconds = (Date.parse(second.time) - Date.parse(first.time)) / 1000;
    assert.equal(seconds, 15, 'the Summary is stamped in wall time');
    const rate = (second.usageCoreNanoSeconds - first.usageCoreNanoSeconds) / 1e9 / seconds;
    assert.ok(Math.abs(rate - 0.5) < 1e-6, `rate ${rate}`);
    assert.equal(second.usageNanoCores, 0.5e9);
  });

  void test(`at speed ${speed} CFS periods count 100 ms of wall time; each one the quota held back is throttled`, () => {
    const w = world(speed, 2, 1);
    w.run(10);
    assert.equal(Math.round(w.c.cfsPeriodsTotal), 100);
    // Demand (2 cores) stays above the 1-core quota all tick long: the kernel throttles every period.
    assert.equal(Math.round(w.c.cfsThrottledPeriodsTotal), 100);
    assert.equal(Math.round(w.c.cpuSecondsTotal * 1e6) / 1e6, 10, 'capped at the one-core limit');
  });
}
