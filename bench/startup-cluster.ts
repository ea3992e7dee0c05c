// Part 2 of the start-up benchmark: the same model deployed twice on a real control plane with
// the simulator (two L4 nodes), once with the start-up boost and once without, the models and
// boost controllers running in this process; measures time to Ready and the CPU requested.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { installCrds } from '../src/api/install.ts';
import { startModels } from '../src/controllers/models/index.ts';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { loadKubeConfig, makeClients } from '../src/kube/client.ts';
import { eventRecorder } from '../src/kube/events.ts';
import { parseQuantity } from '../src/core/quantity.ts';
import { simClock } from '../src/sim/clock.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';

const Gi = 2 ** 30;

export interface ClusterRun {
  description: string;
  runs: {
    name: string;
    boost: boolean;
    cpuAtStart: number;
    cpuAfter: number;
    secondsToReady: number;
    restarts: number;
    samePod: boolean;
    cpuSecondsFirst10Min: number;
  }[];
}

const seconds = (d: Date | string | undefined): number => (d ? new Date(d).getTime() / 1000 : NaN);

export async function runOnCluster(log: (m: string) => void): Promise<ClusterRun> {
  const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
  const cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: join(dir, 'kubeconfig'),
    binaries: await ensureBinaries(log),
  });
  let sim: Simulator | undefined;
  let models: { stop(): Promise<void> } | undefined;
  try {
    const kc = loadKubeConfig(join(dir, 'kubeconfig'));
    const clients = makeClients(kc);
    sim = await Simulator.start({
      kc,
      nodes: [0, 1].map((i) => ({
        name: `gpu-${i}`,
        cpu: 8,
        memoryBytes: 32 * Gi,
        ephemeralStorageBytes: 100 * Gi,
        pods: 110,
        gpus: 1,
        gpuModel: 'NVIDIA-L4',
        gpuMemoryBytes: 24 * Gi,
        labels: { 'sim.tailor.dev/pool': 'gpu' },
      })),
      profileFor: profileResolver(loadTraceLibrary()),
      clock: simClock(1),
      tickMs: 250,
      prometheusPort: 0,
      log: () => {},
    });
    await installCrds(clients.ext);
    await clients.core.createNamespace({ body: { metadata: { name: 'bench' } } });
    for (;;) {
      try {
        await clients.core.readNamespacedServiceAccount({ name: 'default', namespace: 'bench' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    models = await startModels(
      {
        clients,
        log: pino({ level: 'warn' }),
        events: eventRecorder(clients, 'tailor'),
        now: () => Date.now() / 1000,
        dryRun: false,
        fieldManager: 'tailor',
      },
      { resyncMs: 5_000 },
    );
    const variants = [
      { name: 'with-boost', boost: true },
      { name: 'without-boost', boost: false },
    ];
    for (const v of variants) {
      await clients.custom.createNamespacedCustomObject({
        group: 'tailor.dev',
        version: 'v1alpha1',
        namespace: 'bench',
        plural: 'modeldeployments',
        body: {
          apiVersion: 'tailor.dev/v1alpha1',
          kind: 'ModelDeployment',
          metadata: { name: v.name, namespace: 'bench' },
          spec: {
            model: { huggingFace: { repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'main' } },
            runtime: { name: 'vllm' },
            serving: { contextLength: 4096, maxSequences: 8 },
            gpu: { type: 'l4' },
            cache: { storageClassName: 'tailor-sim' },
            sizing: { startupBoost: v.boost },
          },
        },
      });
    }
    log('two ModelDeployments created (Qwen2.5-0.5B on vLLM, one L4 each); waiting for Ready and the shrink');
    const deadline = Date.now() + 240_000;
    const seen = new Map<string, k8s.V1Pod>();
    const firstUid = new Map<string, string>();
    // The simulator stamps pod conditions with the pod's start time, so Ready is timed by watching.
    const readyAt = new Map<string, number>();
    for (;;) {
      const pods = (await clients.core.listNamespacedPod({ namespace: 'bench' })).items;
      for (const p of pods) {
        const md = p.metadata?.labels?.['tailor.dev/model-deployment'];
        if (md === undefined) continue;
        if (!firstUid.has(md)) firstUid.set(md, p.metadata!.uid!);
        seen.set(md, p);
        const isReady = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (isReady && !readyAt.has(md)) readyAt.set(md, Date.now() / 1000);
      }
      const done = variants.every((v) => {
        const p = seen.get(v.name);
        const ready = p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return (
          ready && (!v.boost || p?.metadata?.annotations?.['tailor.dev/startup-boost-done'] !== undefined)
        );
      });
      if (done) break;
      if (Date.now() > deadline) throw new Error('the benchmark pods did not get Ready within 4 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    // Let the shrink reach the pod status too.
    await new Promise((r) => setTimeout(r, 3000));
    const runs: ClusterRun['runs'] = [];
    for (const v of variants) {
      const p = await clients.core.readNamespacedPod({
        name: seen.get(v.name)!.metadata!.name!,
        namespace: 'bench',
      });
      const server = p.spec!.containers.find((c) => c.name === 'server')!;
      const status = p.status!.containerStatuses!.find((c) => c.name === 'server')!;
      const start = seconds(p.metadata!.creationTimestamp);
      const ready = readyAt.get(v.name)!;
      const done = p.metadata?.annotations?.['tailor.dev/startup-boost-done'];
      const shrunkAt = done ? seconds(done.split(' ')[0]) : Infinity;
      const deployment = await clients.apps.readNamespacedDeployment({ name: v.name, namespace: 'bench' });
      const cpuAtStart = parseQuantity(
        deployment.spec!.template.spec!.containers[0]!.resources!.requests!.cpu,
      )!;
      const cpuAfter = parseQuantity(status.resources?.requests?.cpu ?? server.resources!.requests!.cpu)!;
      const end = ready + 600;
      const switchAt = Math.min(shrunkAt, end);
      runs.push({
        name: v.name,
        boost: v.boost,
        cpuAtStart,
        cpuAfter,
        secondsToReady: Math.round(ready - start),
        restarts: status.restartCount,
        samePod: firstUid.get(v.name) === p.metadata!.uid,
        cpuSecondsFirst10Min: Math.round(cpuAtStart * (switchAt - start) + cpuAfter * (end - switchAt)),
      });
      log(`${v.name}: Ready after ${Math.round(ready - start)} s, cpu ${cpuAtStart} -> ${cpuAfter}`);
    }
    return {
      description:
        'Qwen2.5-0.5B-Instruct on vLLM, 4k x 8, one L4 each, deployed as two ModelDeployments (startupBoost true and false) ' +
        "on a real kube-apiserver, controller-manager and scheduler with the simulator's kubelets at wall-clock speed; the " +
        'models and start-up boost controllers run in the benchmark process. Time to Ready is from pod creation to its Ready ' +
        'condition; CPU-seconds count the request from creation until 10 minutes after Ready.',
      runs,
    };
  } finally {
    await models?.stop();
    await sim?.stop({ deleteNodes: false });
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
