// The simulated node side of the test cluster: three pools the end-to-end tests pin pods onto.
//   general: 3 x (4 cores, 8Gi)   small: 1 x (2 cores, 2Gi)   gpu: 1 x (8 cores, 32Gi, 1 x L4)
//   resize: 1 x (2 cores, 2Gi), for test/e2e/sim-resize.test.ts alone (its sums must not see other files' pods)
import { loadKubeConfig } from '../../src/kube/client.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { profileResolver } from '../../src/sim/profiles.ts';
import { loadTraceLibrary } from '../../src/sim/usage/index.ts';
import type { SimNodeSpec } from '../../src/sim/nodes.ts';
import { simClock } from '../../src/sim/clock.ts';

const Gi = 2 ** 30;

export interface TestSimulator {
  prometheusPort: number;
  stop(): Promise<void>;
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
      gpuMemoryBytes: 24 * Gi,
      instanceType: 'sim.g6.2xlarge',
    }),
  ];
}

export async function startTestSimulator(
  kubeconfigPath: string,
  log: (line: string) => void,
): Promise<TestSimulator> {
  const traces = loadTraceLibrary();
  const sim = await Simulator.start({
    kc: loadKubeConfig(kubeconfigPath),
    nodes: testNodes(),
    profileFor: profileResolver(traces, {
      kind: 'idle',
      cpuCores: 0.01,
      memoryBytes: 16 * 2 ** 20,
      noise: 0,
      startupSeconds: 0,
      volumeBytes: 0,
    }),
    clock: simClock(1),
    tickMs: 250,
    log: (m) => log(`sim: ${m}`),
  });
  log(`simulator: ${testNodes().length} nodes, Prometheus endpoint on 127.0.0.1:${sim.prometheus.port}`);
  return { prometheusPort: sim.prometheus.port, stop: () => sim.stop() };
}
