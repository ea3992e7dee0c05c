// The simulated node side of the test cluster: the pools the end-to-end tests pin pods onto.
//   general: 3 x (4 cores, 8Gi)   small: 1 x (2 cores, 2Gi)   gpu: 1 x (8 cores, 32Gi, 1 x L4 of 23034 MiB, tainted nvidia.com/gpu)
//   hog: 5 x (2 cores, 2Gi), tainted: one pod that outgrows its node each (hogOnItsOwnNode)
//   physics: 1 x (2 cores, 2Gi), tainted: contention, memory pressure and evictions (sim-node-physics)
// Every node holds back a managed cluster's kube-reserved and 100Mi for hard eviction, so
// allocatable is below capacity (general: 3920m / 6.1Gi; small, hog, physics: 1930m / 1436Mi).
//   resize: 1 x (2 cores, 2Gi), for test/e2e/sim-resize.test.ts alone (its sums must not see other files' pods)
import { loadKubeConfig } from '../../src/kube/client.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { profileResolver } from '../../src/sim/profiles.ts';
import { loadTraceLibrary } from '../../src/sim/usage/index.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import { simClock } from '../../src/sim/clock.ts';
import { GPU_BOARDS } from '../../src/sim/gpus.ts';
import {
  METRICS_SERVER_CHOICES,
  type MetricsBackendKind,
  type MetricsServerChoice,
} from '../../src/sim/metrics/metrics-backend.ts';

const Gi = 2 ** 30;

export interface TestSimulator {
  prometheusPort: number;
  /** Who serves metrics.k8s.io: the real metrics-server when built (test/support/build-cache.ts). */
  metricsBackend: MetricsBackendKind;
  stop(): Promise<void>;
}

/** $TAILOR_TEST_METRICS_SERVER picks the metrics.k8s.io server of a run (default auto: the real one when built). */
function metricsServerChoice(): MetricsServerChoice {
  const v = process.env.TAILOR_TEST_METRICS_SERVER ?? 'auto';
  if (!METRICS_SERVER_CHOICES.includes(v as MetricsServerChoice))
    throw new Error(`TAILOR_TEST_METRICS_SERVER=${v}: expected one of ${METRICS_SERVER_CHOICES.join(', ')}`);
  return v as MetricsServerChoice;
}

export function testNodes(prefix = 'sim'): SimNodeSpec[] {
  const node = (pool: string, i: number, n: Partial<SimNodeSpec>): SimNodeSpec => ({
    name: `${prefix}-${pool}-${i}`,
    cpu: 4,
    memoryBytes: 8 * Gi,
    ephemeralStorageBytes: 100 * Gi,
    pods: 110,
    gpus: 0,
    zone: `zone-${String.fromCharCode(97 + (i % 3))}`,
    instanceType: 'sim.standard',
    labels: { 'sim.tailor.dev/pool': pool },
    ...n,
  });
  return [
    node('general', 0, {}),
    node('general', 1, {}),
    node('general', 2, {}),
    node('small', 0, { cpu: 2, memoryBytes: 2 * Gi, instanceType: 'sim.small' }),
    // A container may use no more cores than its node has: a test whose pod outgrows its node gets a
    // node of its own, so two such tests running at once do not share (and halve) two cores.
    ...[0, 1, 2, 3, 4].map((i) =>
      node('hog', i, {
        cpu: 2,
        memoryBytes: 2 * Gi,
        instanceType: 'sim.small',
        taints: [{ key: 'sim.tailor.dev/pool', value: 'hog', effect: 'NoSchedule' }],
      }),
    ),
    node('physics', 0, {
      cpu: 2,
      memoryBytes: 2 * Gi,
      instanceType: 'sim.small',
      taints: [{ key: 'sim.tailor.dev/pool', value: 'physics', effect: 'NoSchedule' }],
      // Short, so the node is back to schedulable within the test (the kubelet's default is 5 min).
      evictionPressureTransitionSeconds: 15,
    }),
    node('resize', 0, {
      cpu: 2,
      memoryBytes: 2 * Gi,
      instanceType: 'sim.small',
      // Only pods that ask for this pool land here (they tolerate the taint).
      taints: [{ key: 'sim.tailor.dev/pool', value: 'resize', effect: 'NoSchedule' }],
    }),
    node('gpu', 0, {
      cpu: 8,
      memoryBytes: 32 * Gi,
      gpus: 1,
      gpuModel: 'NVIDIA-L4',
      // What nvidia-smi reports for an L4 (23034 MiB), not the 24 GB on the label.
      gpuMemoryBytes: GPU_BOARDS['NVIDIA-L4'].memoryMiB * 2 ** 20,
      instanceType: 'sim.g6.2xlarge',
      // Tainted as EKS and GKE taint GPU nodes: only pods that tolerate nvidia.com/gpu (the models
      // controller's GPU pods) land here, so another file's CPU pods never hold the room a boosted
      // model pod needs while the suite runs files side by side.
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
    }),
  ];
}

/** What a pod without a profile annotation runs in the test simulators: idle, 10m and 16Mi, steady. */
const IDLE_PROFILE = {
  kind: 'idle',
  cpuCores: 0.01,
  memoryBytes: 16 * 2 ** 20,
  noise: 0,
  startupSeconds: 0,
  volumeBytes: 0,
} as const;

/**
 * A second simulator for one test file, beside the shared one: its own (tainted) nodes, so its sums
 * and packings never see another file's pods, its own StorageClass, and no metrics.k8s.io (the
 * shared simulator serves that). Stop it with `stop({ deleteNodes: true })` after the file.
 */
export function startPrivateSimulator(
  kc: Parameters<typeof Simulator.start>[0]['kc'],
  o: { nodes: SimNodeSpec[]; storageClass: string; speed?: number },
): Promise<Simulator> {
  return Simulator.start({
    kc,
    nodes: o.nodes,
    profileFor: profileResolver(loadTraceLibrary(), IDLE_PROFILE),
    clock: simClock(o.speed ?? 1),
    tickMs: 250,
    storageClass: o.storageClass,
    metricsApi: false,
  });
}

export async function startTestSimulator(
  kubeconfigPath: string,
  log: (line: string) => void,
): Promise<TestSimulator> {
  const traces = loadTraceLibrary();
  const sim = await Simulator.start({
    kc: loadKubeConfig(kubeconfigPath),
    nodes: testNodes(),
    profileFor: profileResolver(traces, IDLE_PROFILE),
    clock: simClock(1),
    tickMs: 250,
    metricsServer: metricsServerChoice(),
    log: (m) => log(`sim: ${m}`),
  });
  log(`simulator: ${testNodes().length} nodes, Prometheus endpoint on 127.0.0.1:${sim.prometheus.port}`);
  return {
    prometheusPort: sim.prometheus.port,
    metricsBackend: sim.metricsApi?.kind ?? 'built-in',
    stop: () => sim.stop(),
  };
}
