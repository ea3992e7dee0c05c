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
import { parseQuantity } from '../src/core/quantity.ts';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { loadKubeConfig, makeClients } from '../src/kube/client.ts';
import { watchResource } from '../src/kube/informer.ts';
import { startOperator, type RunningOperator } from '../src/operator/index.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';
import { simClock } from '../src/sim/clock.ts';
import { loadAverages, parsePrometheus, percentile, sleep, sumOf } from './lib.ts';

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const NS = 'oom-bench';

interface Kill {
  readonly pod: string;
  /** lastState.terminated.finishedAt (whole seconds, as the API has it), ms. */
  readonly finishedAt: number;
  /** When this process's watch first saw the kill, ms. */
  readonly seenAt: number;
  readonly limitAtKill: number;
  /** The spec was raised already (the kubelet had not applied it yet): part of an earlier episode. */
  readonly raisePending: boolean;
  /** The first spec raise above limitAtKill seen after the kill. */
  specAt?: number;
  /** The first status.containerStatuses[].resources raise above limitAtKill seen after the kill. */
  statusAt?: number;
}

function summary(values: readonly number[]) {
  const r = (v: number) => (Number.isFinite(v) ? Number((v / 1000).toFixed(2)) : null);
  return {
    n: values.length,
    p50: r(percentile(values, 50)),
    p99: r(percentile(values, 99)),
    max: r(values.length ? Math.max(...values) : NaN),
  };
}

export default async function run(): Promise<void> {
  const n = Number(process.env.OOM_REACTION_PODS ?? 40);
  const observeSeconds = Number(process.env.OOM_REACTION_SECONDS ?? 420);
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
    const kills: Kill[] = [];
    const seenKill = new Set<string>();
    const specLimit = new Map<string, number>();
    const statusLimit = new Map<string, number>();
    const otherTerminations: { pod: string; reason: string }[] = [];
    const seenTermination = new Set<string>();
    const onPod = (p: k8s.V1Pod) => {
      const pod = p.metadata?.name ?? '';
      const now = Date.now();
      const spec = parseQuantity(p.spec?.containers[0]?.resources?.limits?.memory) ?? 0;
      const cs = p.status?.containerStatuses?.[0];
      const status = parseQuantity(cs?.resources?.limits?.memory) ?? 0;
      const term = cs?.lastState?.terminated;
      if (term?.finishedAt) {
        const key = `${pod}/${new Date(term.finishedAt).getTime()}/${cs?.restartCount}`;
        if (!seenTermination.has(key)) {
          seenTermination.add(key);
          if (term.reason === 'OOMKilled') {
            if (!seenKill.has(key)) {
              seenKill.add(key);
              kills.push({
                pod,
                finishedAt: new Date(term.finishedAt).getTime(),
                seenAt: now,
                limitAtKill: status || spec,
                raisePending: spec > (status || spec),
              });
            }
          } else otherTerminations.push({ pod, reason: term.reason ?? '' });
        }
      }
      if (spec > (specLimit.get(pod) ?? Infinity))
        for (const k of kills)
          if (k.pod === pod && k.specAt === undefined && spec > k.limitAtKill) k.specAt = now;
      if (status > (statusLimit.get(pod) ?? Infinity))
        for (const k of kills)
          if (k.pod === pod && k.statusAt === undefined && status > k.limitAtKill) k.statusAt = now;
      specLimit.set(pod, spec);
      if (status) statusLimit.set(pod, status);
    };
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
      const raised = kills.filter((k) => k.specAt !== undefined).length;
      log(
        `${Math.round((Date.now() - t0) / 1000)} s: ${kills.length} OOM kills seen, ${raised} followed by a raise`,
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

    // An episode: the kills of one pod answered by the same raise; its first kill starts the clock.
    const pending = kills.filter((k) => k.raisePending);
    const answered = kills.filter((k) => !k.raisePending && k.specAt !== undefined);
    const episodes = new Map<string, Kill>();
    for (const k of answered) {
      const key = `${k.pod}/${k.specAt}`;
      const first = episodes.get(key);
      if (!first || k.seenAt < first.seenAt) episodes.set(key, k);
    }
    const firsts = [...episodes.values()];
    const withStatus = firsts.filter((k) => k.statusAt !== undefined);
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${(totalmem() / Gi).toFixed(0)} GiB, shared with other engineers' test runs`,
      loadAveragesBefore: loadBefore.join(' '),
      loadAveragesAfter: loadAfter.join(' '),
      pods: n,
      observeSeconds,
      operator: 'in-process, production defaults (15 s polls, --min-history 10m: only OOM raises apply here)',
      oomKillsSeen: kills.length,
      episodes: firsts.length,
      killsWhileRaisePending: pending.length,
      killsNotAnswered: kills.length - answered.length - pending.length,
      repeatKillsBeforeRaise: answered.length - firsts.length,
      specRaiseFromSeenSeconds: summary(firsts.map((k) => k.specAt! - k.seenAt)),
      specRaiseFromFinishedAtSeconds: summary(firsts.map((k) => k.specAt! - k.finishedAt)),
      statusAppliedFromSeenSeconds: summary(withStatus.map((k) => k.statusAt! - k.seenAt)),
      statusAppliedFromFinishedAtSeconds: summary(withStatus.map((k) => k.statusAt! - k.finishedAt)),
      restartCount: restarts,
      restartCountApi: apiRestarts,
      oomKillsByKubelet: oomKills,
      restartsNotFromOom: restarts - oomKills,
      nonOomTerminationsSeen: otherTerminations.length,
      oomRaisesSent: sumOf(metrics, 'tailor_resizes_total', { outcome: 'Applied' }),
      resizesByOutcome: Object.fromEntries(
        metrics
          .filter((x) => x.name === 'tailor_resizes_total')
          .map((x) => [x.labels.outcome ?? '', x.value]),
      ),
      oomReactionsCounted: sumOf(metrics, 'tailor_oom_reactions_total'),
    };
    console.log(JSON.stringify(result, null, 2));
    writeResults(result);
    const unanswered = kills.filter((k) => !k.raisePending && k.specAt === undefined);
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

function writeResults(r: Record<string, unknown>): void {
  writeFileSync(join(import.meta.dirname, 'results', 'oom-reaction.json'), JSON.stringify(r, null, 2) + '\n');
  const row = (what: string, key: string, goal = '') => {
    const s = r[key] as ReturnType<typeof summary>;
    return `| ${what} | ${s.n} | ${s.p50} | ${s.p99} | ${s.max} | ${goal} |`;
  };
  const skip = new Set(['date', 'machine', 'loadAveragesBefore', 'loadAveragesAfter', 'resizesByOutcome']);
  writeFileSync(
    join(import.meta.dirname, 'results', 'oom-reaction.md'),
    [
      '# OOM reaction',
      '',
      `Reproduce: \`npm run bench -- oom-reaction\` (OOM_REACTION_PODS=${String(r.pods)}, OOM_REACTION_SECONDS=${String(r.observeSeconds)}). Measured ${String(r.date)} on ${String(r.machine)}; the real control plane, the simulator (1 s kubelet tick) and the operator ran on the same machine. Load averages (1, 5, 15 min) before: ${String(r.loadAveragesBefore)}; after: ${String(r.loadAveragesAfter)}.`,
      '',
      'Seconds from an OOM kill to the raised memory limit, per episode (the first kill of a pod that one raise answers). "seen" is when this benchmark\'s own pod watch first saw the kill in the API (the figure the goal is read against); "finishedAt" is the kill\'s lastState.terminated.finishedAt, which the API keeps in whole seconds (so those figures read up to 1 s long).',
      '',
      '| interval | episodes | p50 s | p99 s | max s | goal |',
      '| --- | --- | --- | --- | --- | --- |',
      row('kill seen -> limit raised in pod spec', 'specRaiseFromSeenSeconds', 'p99 under 5'),
      row('kill finishedAt -> limit raised in pod spec', 'specRaiseFromFinishedAtSeconds'),
      row('kill seen -> kubelet status shows the raised limit', 'statusAppliedFromSeenSeconds'),
      row('kill finishedAt -> kubelet status shows the raised limit', 'statusAppliedFromFinishedAtSeconds'),
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
