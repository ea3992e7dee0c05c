// From an OOM kill visible in the API to the larger memory limit applied in place: a real control
// plane, the simulator and the operator (in this process, production defaults: 15 s polls, 10 min of
// history before ordinary changes, so every resize here is an OOM raise). N pods (default 40) of one
// Deployment build up memory in periodic jobs past their 256Mi limit, each at its own phase, under an
// InPlace SizingPolicy. This process watches the pods itself and times each kill to the raise in the
// pod spec and to the raise in the kubelet's status. Results: bench/results/oom-reaction.{json,md}.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, VERSION } from '../src/api/index.ts';
import { installCrds } from '../src/api/install.ts';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { loadKubeConfig, makeClients } from '../src/kube/client.ts';
import { watchResource } from '../src/kube/informer.ts';
import { startOperator, type RunningOperator } from '../src/operator/index.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';
import { simClock } from '../src/sim/clock.ts';
import {
  OomReactions,
  loadAverages,
  oomReactionRows,
  parsePrometheus,
  podLimits,
  sleep,
  sumOf,
} from './lib.ts';

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const NS = 'oom-bench';

export default async function run(): Promise<void> {
  const n = Number(process.env.OOM_REACTION_PODS ?? 40);
  // OOM_REACTION_BURST=1: every pod's job in the same phase, so all are killed in the same second.
  const burst = process.env.OOM_REACTION_BURST === '1';
  const observeSeconds = Number(process.env.OOM_REACTION_SECONDS ?? (burst ? 240 : 420));
  const log = (m: string) => console.log(`[oom-reaction] ${new Date().toISOString().slice(11, 19)} ${m}`);
  const loadBefore = loadAverages();
  log(`load averages before: ${loadBefore.join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'oom-reaction-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: kubeconfig,
    binaries: await ensureBinaries(log),
  });
  let sim: Simulator | undefined;
  let op: RunningOperator | undefined;
  let watch: { stop(): Promise<void> } | undefined;
  try {
    const kc = loadKubeConfig(kubeconfig);
    const clients = makeClients(kc);
    await installCrds(clients.ext);
    sim = await Simulator.start({
      kc,
      nodes: [0, 1].map((i) => ({
        name: `oom-${i}`,
        cpu: 32,
        memoryBytes: 64 * Gi,
        ephemeralStorageBytes: 200 * Gi,
        pods: 110,
        gpus: 0,
        zone: `zone-${i}`,
        labels: { 'sim.tailor.dev/pool': 'oom' },
      })),
      profileFor: profileResolver(loadTraceLibrary()),
      clock: simClock(1),
      tickMs: 1000,
      metricsApi: true,
      log: () => {},
    });
    await clients.core.createNamespace({ body: { metadata: { name: NS } } });
    // The operator: its own kubeconfig object (its request counter sees only its own calls).
    op = await startOperator({
      kc: loadKubeConfig(kubeconfig),
      historyPath: join(dir, 'history.db'),
      metricsAddr: '127.0.0.1:0',
      log: pino({ name: 'tailor-operator', level: process.env.OOM_REACTION_LOG ?? 'warn' }),
    });

    // The watch: kills, spec raises and status raises of each pod, as they arrive.
    const reactions = new OomReactions();
    const onPod = (p: k8s.V1Pod) => reactions.update(podLimits(p), Date.now());
    const watched = watchResource<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${NS}/pods`,
      () => clients.core.listNamespacedPod({ namespace: NS }),
      { add: onPod, update: onPod },
    );
    watch = watched;
    await watched.synced;

    await clients.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'sizingpolicies',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'SizingPolicy',
        metadata: { name: 'jobs' },
        spec: { mode: 'InPlace', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'jobs' } },
      },
    });
    // Jobs of 90 s every 180 s, building up 64Mi -> 448Mi: past the 256Mi limit 45 s in, each pod at
    // its own phase; a raise to 356Mi (limit + 100Mi) is passed again later in the next job.
    await clients.apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'jobs' },
        spec: {
          replicas: n,
          selector: { matchLabels: { app: 'jobs' } },
          template: {
            metadata: {
              labels: { app: 'jobs' },
              annotations: {
                'sim.tailor.dev/profile': 'batch',
                'sim.tailor.dev/params': JSON.stringify({
                  baseCpuCores: 0.05,
                  peakCpuCores: 0.2,
                  baseMemoryBytes: 64 * Mi,
                  peakMemoryBytes: 448 * Mi,
                  periodSeconds: 180,
                  busySeconds: 90,
                  startupSeconds: 1,
                  ...(burst ? { phaseSeconds: 0 } : {}),
                }),
              },
            },
            spec: {
              nodeSelector: { 'sim.tailor.dev/pool': 'oom' },
              terminationGracePeriodSeconds: 5,
              containers: [
                {
                  name: 'app',
                  image: 'example.com/jobs:1',
                  resources: { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '256Mi' } },
                },
              ],
            },
          },
        },
      },
    });
    const t0 = Date.now();
    while (Date.now() - t0 < observeSeconds * 1000) {
      await sleep(15_000);
      const raised = reactions.kills.filter((k) => k.specAt !== undefined).length;
      log(
        `${Math.round((Date.now() - t0) / 1000)} s: ${reactions.kills.length} OOM kills seen, ${raised} followed by a raise`,
      );
    }
    // Let the raises of the last kills land.
    await sleep(10_000);

    // Restarts: the kubelet's restartCount against the OOM kills it counted (the simulator's own).
    const simPods = [...sim.kubelet.pods.values()].filter((p) => p.namespace === NS);
    let restarts = 0;
    let oomKills = 0;
    for (const p of simPods)
      for (const c of p.containers.values()) {
        restarts += c.restartCount;
        oomKills += c.oomEventsTotal;
      }
    const list = await clients.core.listNamespacedPod({ namespace: NS });
    const apiRestarts = list.items.reduce(
      (a, p) => a + (p.status?.containerStatuses?.[0]?.restartCount ?? 0),
      0,
    );
    const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${op.http!.port}/metrics`)).text());
    const loadAfter = loadAverages();

    const f = reactions.figures();
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${(totalmem() / Gi).toFixed(0)} GiB`,
      loadAveragesBefore: loadBefore.join(' '),
      loadAveragesAfter: loadAfter.join(' '),
      pods: n,
      burst,
      observeSeconds,
      operator: 'in-process, production defaults (15 s polls, --min-history 10m: only OOM raises apply here)',
      ...f,
      restartCount: restarts,
      restartCountApi: apiRestarts,
      oomKillsByKubelet: oomKills,
      restartsNotFromOom: restarts - oomKills,
      oomRaisesSent: sumOf(metrics, 'tailor_oom_raises_total'),
      resizesApplied: sumOf(metrics, 'tailor_resizes_total', { result: 'Applied' }),
      resizesByOutcome: Object.fromEntries(
        metrics
          .filter((x) => x.name === 'tailor_resizes_total')
          .map((x) => [[x.labels.result, x.labels.reason].filter(Boolean).join(':'), x.value]),
      ),
      oomKillsCounted: sumOf(metrics, 'tailor_oom_kills_total'),
    };
    console.log(JSON.stringify(result, null, 2));
    writeResults(result, burst ? 'oom-reaction-burst' : 'oom-reaction');
    const unanswered = reactions.kills.filter((k) => !k.raisePending && k.specAt === undefined);
    if (unanswered.length > 0) log(`kills with no raise: ${JSON.stringify(unanswered.slice(0, 5))}`);
    log(`load averages after: ${loadAfter.join(' ')}`);
  } finally {
    await watch?.stop();
    await op?.stop();
    await sim?.stop({ deleteNodes: false });
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeResults(r: Record<string, unknown>, name: string): void {
  writeFileSync(join(import.meta.dirname, 'results', `${name}.json`), JSON.stringify(r, null, 2) + '\n');
  const skip = new Set(['date', 'machine', 'loadAveragesBefore', 'loadAveragesAfter', 'resizesByOutcome']);
  writeFileSync(
    join(import.meta.dirname, 'results', `${name}.md`),
    [
      r.burst ? '# OOM reaction, burst: every pod killed in the same second' : '# OOM reaction',
      '',
      `Reproduce: \`${r.burst ? 'OOM_REACTION_BURST=1 ' : ''}npm run bench -- oom-reaction\` (OOM_REACTION_PODS=${String(r.pods)}, OOM_REACTION_SECONDS=${String(r.observeSeconds)}). Measured ${String(r.date)} on ${String(r.machine)}; the real control plane, the simulator (1 s kubelet tick) and the operator ran on the same machine. Load averages (1, 5, 15 min) before: ${String(r.loadAveragesBefore)}; after: ${String(r.loadAveragesAfter)}.`,
      '',
      'Seconds from an OOM kill to the raised memory limit, per episode (the first kill of a pod that one raise answers). "seen" is when this benchmark\'s own pod watch first saw the kill in the API (the figure the goal is read against); "finishedAt" is the kill\'s lastState.terminated.finishedAt, which the API keeps in whole seconds (so those figures read up to 1 s long).',
      '',
      ...oomReactionRows(r as unknown as Parameters<typeof oomReactionRows>[0]),
      '',
      '| figure | value |',
      '| --- | --- |',
      ...Object.entries(r)
        .filter(([k, v]) => !skip.has(k) && (typeof v !== 'object' || v === null))
        .map(([k, v]) => `| ${k} | ${String(v)} |`),
      `| resizesByOutcome | ${JSON.stringify(r.resizesByOutcome)} |`,
      '',
      'restartsNotFromOom is the restarts the kubelet made minus the OOM kills it made (goal 0: no in-place resize restarted a container).',
      '',
    ].join('\n'),
  );
}
