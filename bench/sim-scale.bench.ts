// How many pods one simulator process keeps current on this machine, beside a real control
// plane: N pods (default 10,000) in N/20 namespaces on N/100 nodes, then a steady-state minute.
// Records the simulator's CPU, memory, tick time and status writes in bench/results/sim-scale.*
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { loadKubeConfig, makeClients } from '../src/kube/client.ts';
import { isAlreadyExists } from '../src/kube/errors.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';
import { simClock } from '../src/sim/clock.ts';
import type { SimNodeSpec } from '../src/sim/nodes.ts';
import { pool } from './lib.ts';

const Gi = 2 ** 30;

export default async function run(): Promise<void> {
  const pods = Number(process.env.SIM_SCALE_PODS ?? 10_000);
  const nodeCount = Math.max(1, Math.ceil(pods / 100));
  const nsCount = Math.max(1, Math.ceil(pods / 20));
  const steadySeconds = Number(process.env.SIM_SCALE_STEADY_SECONDS ?? 60);
  const log = (m: string) => console.log(`[sim-scale] ${m}`);
  const dir = mkdtempSync(join(tmpdir(), 'sim-scale-'));
  const cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: join(dir, 'kubeconfig'),
    binaries: await ensureBinaries(log),
  });
  try {
    const kc = loadKubeConfig(join(dir, 'kubeconfig'));
    const clients = makeClients(kc);
    const nodes: SimNodeSpec[] = Array.from({ length: nodeCount }, (_, i) => ({
      name: `scale-${String(i).padStart(3, '0')}`,
      cpu: 64,
      memoryBytes: 256 * Gi,
      ephemeralStorageBytes: 500 * Gi,
      pods: 250,
      gpus: 0,
      zone: `zone-${i % 3}`,
      labels: { 'sim.tailor.dev/pool': 'scale' },
    }));
    const sim = await Simulator.start({
      kc,
      nodes,
      profileFor: profileResolver(loadTraceLibrary()),
      clock: simClock(1),
      tickMs: 1000,
      metricsApi: true,
      log: () => {},
    });
    const started = Date.now();
    const namespaces = Array.from({ length: nsCount }, (_, i) => `scale-${String(i).padStart(3, '0')}`);
    await pool(namespaces, 16, async (name) => {
      await clients.core.createNamespace({ body: { metadata: { name } } }).catch((e: unknown) => {
        if (!isAlreadyExists(e)) throw e;
      });
    });
    const kinds = ['web', 'idle', 'batch'];
    const specs = Array.from({ length: pods }, (_, i) => ({
      ns: namespaces[i % nsCount]!,
      name: `p-${i}`,
      kind: kinds[i % 3]!,
    }));
    await pool(specs, 32, async (s) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await clients.core.createNamespacedPod({
            namespace: s.ns,
            body: {
              metadata: {
                name: s.name,
                labels: { app: s.name },
                annotations: { 'sim.tailor.dev/profile': s.kind },
              },
              spec: {
                nodeSelector: { 'sim.tailor.dev/pool': 'scale' },
                containers: [
                  {
                    name: 'app',
                    image: 'example.com/app:1',
                    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '2Gi' } },
                  },
                ],
              },
            },
          });
          return;
        } catch (err) {
          // An earlier attempt that timed out on this side may have created it on the apiserver's.
          if (attempt > 0 && isAlreadyExists(err)) return;
          // A new namespace rejects pods until its default ServiceAccount exists.
          if (attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    });
    const created = (Date.now() - started) / 1000;
    log(`${pods} pods created in ${created.toFixed(0)}s`);
    let running = 0;
    while (running < pods && Date.now() - started < 20 * 60_000) {
      await new Promise((r) => setTimeout(r, 2000));
      running = [...sim.kubelet.pods.values()].filter((p) =>
        [...p.containers.values()].every((c) => c.ready),
      ).length;
      log(
        `${running}/${pods} pods Ready on simulated nodes (${sim.kubelet.stats.statusWrites} status writes)`,
      );
    }
    const allReady = (Date.now() - started) / 1000;
    // Steady state: every pod Ready; measure this process (the simulator; the harness is idle now).
    const writes0 = sim.kubelet.stats.statusWrites;
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const ticks: number[] = [];
    while (Date.now() - t0 < steadySeconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      ticks.push(sim.kubelet.stats.lastTickMs);
    }
    const cpu = process.cpuUsage(cpu0);
    const wall = (Date.now() - t0) / 1000;
    const scrape0 = Date.now();
    const text = await (await fetch(`http://127.0.0.1:${sim.prometheus.port}/metrics`)).text();
    const scrapeMs = Date.now() - scrape0;
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores`,
      pods,
      running,
      nodes: nodeCount,
      namespaces: nsCount,
      secondsToCreate: Math.round(created),
      secondsToAllReady: Math.round(allReady),
      steadySeconds: Math.round(wall),
      simulatorCpuCoresSteady: Number(((cpu.user + cpu.system) / 1e6 / wall).toFixed(3)),
      residentMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      tickMsP50: Math.round(ticks.sort((a, b) => a - b)[Math.floor(ticks.length / 2)] ?? 0),
      tickMsMax: Math.round(Math.max(...ticks)),
      statusWritesPerMinuteSteady: Math.round(((sim.kubelet.stats.statusWrites - writes0) / wall) * 60),
      prometheusScrape: {
        ms: scrapeMs,
        bytes: text.length,
        series: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
      },
    };
    console.table(result);
    writeFileSync(
      join(import.meta.dirname, 'results', 'sim-scale.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    writeFileSync(
      join(import.meta.dirname, 'results', 'sim-scale.md'),
      [
        '# Simulator scale',
        '',
        `Reproduce: \`npm run bench -- sim-scale\` (SIM_SCALE_PODS=${pods}). Measured ${result.date} on this project's ${result.machine} machine, with the real control plane (etcd, kube-apiserver, controller-manager, scheduler) on the same machine.`,
        '',
        '| figure | value |',
        '| --- | --- |',
        ...Object.entries(result)
          .filter(([k]) => k !== 'prometheusScrape' && k !== 'date')
          .map(([k, v]) => `| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : String(v)} |`),
        `| prometheus scrape | ${result.prometheusScrape.series} series, ${(result.prometheusScrape.bytes / 2 ** 20).toFixed(1)} MiB, ${result.prometheusScrape.ms} ms |`,
        '',
        "simulatorCpuCoresSteady is the simulator process's CPU time over the steady-state window divided by wall time (goal: under 1 core); residentMiB is its RSS.",
        '',
      ].join('\n'),
    );
    await sim.stop({ deleteNodes: false });
  } finally {
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
