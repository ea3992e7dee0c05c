// The operator at scale, as it runs in production: its own process (`tailor operator`, compiled, or
// through tsx with OPERATOR_SCALE_RUNNER=tsx) against a real control plane, with the simulator in this
// process playing the nodes. N pods (default 5,000) as Deployments in 500 namespaces, one InPlace
// SizingPolicy per Deployment. After the first right-sizing settles, a steady window measures the
// operator's RSS, CPU, full-pass time, API requests per minute, and which resize writes it sent.
// Results: bench/results/operator-scale.{json,md} (5,000 pods), operator-scale-<pods>.{json,md} at other sizes.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingPolicy } from '../src/api/index.ts';
import { installCrds } from '../src/api/install.ts';
import { parseQuantity } from '../src/core/quantity.ts';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { loadKubeConfig, makeClients } from '../src/kube/client.ts';
import { isAlreadyExists } from '../src/kube/errors.ts';
import { watchResource } from '../src/kube/informer.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';
import { simClock } from '../src/sim/clock.ts';
import type { SimNodeSpec } from '../src/sim/nodes.ts';
import {
  OomReactions,
  imageAllocatorEnv,
  loadAverages,
  oomReactionRows,
  podLimits,
  parsePrometheus,
  percentile,
  pool,
  readProc,
  sleep,
  sumOf,
  type PromSample,
} from './lib.ts';

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const ROOT = join(import.meta.dirname, '..');
/** The operator runs with the allocator settings of its image. */
const operatorEnv = imageAllocatorEnv(ROOT);

/** The policies' default minChangePercent: a write that moves no request by this much was not needed. */
const THRESHOLD = 0.1;

interface Write {
  readonly t: number;
  readonly pod: string;
  /** The largest relative move of any container's cpu or memory request. */
  readonly move: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function requestsOf(pod: k8s.V1Pod): Map<string, { cpu: number; memory: number }> {
  return new Map(
    (pod.spec?.containers ?? []).map((c) => [
      c.name,
      {
        cpu: parseQuantity(c.resources?.requests?.cpu) ?? 0,
        memory: parseQuantity(c.resources?.requests?.memory) ?? 0,
      },
    ]),
  );
}

function largestMove(
  before: Map<string, { cpu: number; memory: number }>,
  after: Map<string, { cpu: number; memory: number }>,
): number {
  let move = 0;
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b) continue;
    for (const k of ['cpu', 'memory'] as const)
      if (b[k] > 0) move = Math.max(move, Math.abs(a[k] - b[k]) / b[k]);
  }
  return move;
}

export default async function run(): Promise<void> {
  const pods = Number(process.env.OPERATOR_SCALE_PODS ?? 5000);
  const nsCount = Number(process.env.OPERATOR_SCALE_NAMESPACES ?? 500);
  const perNs = Number(process.env.OPERATOR_SCALE_WORKLOADS_PER_NS ?? 2);
  const steadySeconds = Number(process.env.OPERATOR_SCALE_STEADY_SECONDS ?? 180);
  const settleMaxSeconds = Number(process.env.OPERATOR_SCALE_SETTLE_MAX_SECONDS ?? 300);
  const runner = process.env.OPERATOR_SCALE_RUNNER === 'tsx' ? 'tsx' : 'dist';
  const workloads = nsCount * perNs;
  const replicas = Math.ceil(pods / workloads);
  const totalPods = replicas * workloads;
  const nodeCount = Math.ceil(totalPods / 100);
  const log = (m: string) => console.log(`[operator-scale] ${new Date().toISOString().slice(11, 19)} ${m}`);
  const loadBefore = loadAverages();
  log(`load averages before: ${loadBefore.join(' ')}`);

  if (runner === 'dist') {
    log('building the operator (npm run build) to run it as bin/tailor.js does');
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }

  const dir = mkdtempSync(join(tmpdir(), 'operator-scale-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: kubeconfig,
    binaries: await ensureBinaries(log),
  });
  let child: ChildProcess | undefined;
  let sim: Simulator | undefined;
  let podWatch: { stop(): Promise<void> } | undefined;
  try {
    const kc = loadKubeConfig(kubeconfig);
    const clients = makeClients(kc);
    await installCrds(clients.ext);
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
    sim = await Simulator.start({
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
    const targets = namespaces.flatMap((ns) =>
      Array.from({ length: perNs }, (_, j) => ({ ns, name: `app-${j}` })),
    );
    // Each uses about 20m and 64Mi and asks for 5x that: the operator has something to do at first.
    await pool(targets, 16, async ({ ns, name }) => {
      await clients.apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: {
                labels: { app: name },
                annotations: {
                  'sim.tailor.dev/profile': 'idle',
                  'sim.tailor.dev/params': JSON.stringify({ cpuCores: 0.02, memoryBytes: 64 * Mi }),
                },
              },
              spec: {
                nodeSelector: { 'sim.tailor.dev/pool': 'scale' },
                terminationGracePeriodSeconds: 5,
                containers: [
                  {
                    name: 'app',
                    image: 'example.com/app:1',
                    resources: {
                      requests: { cpu: '100m', memory: '320Mi' },
                      limits: { memory: '640Mi' },
                    },
                  },
                ],
              },
            },
          },
        },
      });
      await clients.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'sizingpolicies',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'SizingPolicy',
          metadata: { name },
          spec: { mode: 'InPlace', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name } },
        },
      });
    });
    log(`${workloads} Deployments x ${replicas} replicas and ${workloads} SizingPolicies created`);
    let ready = 0;
    while (ready < totalPods && Date.now() - started < 15 * 60_000) {
      await sleep(3000);
      ready = [...sim.kubelet.pods.values()].filter((p) =>
        [...p.containers.values()].every((c) => c.ready),
      ).length;
      log(`${ready}/${totalPods} pods Ready`);
    }
    const secondsToReady = (Date.now() - started) / 1000;

    // Every resize the apiserver accepts shows as a change of the pod's spec: watch them all.
    const writes: Write[] = [];
    const lastSpec = new Map<string, Map<string, { cpu: number; memory: number }>>();
    const watched = watchResource<k8s.V1Pod>(
      kc,
      '/api/v1/pods',
      () => clients.core.listPodForAllNamespaces(),
      {
        add: (p) => lastSpec.set(p.metadata?.uid ?? '', requestsOf(p)),
        update: (p) => {
          const uid = p.metadata?.uid ?? '';
          const now = requestsOf(p);
          const before = lastSpec.get(uid);
          lastSpec.set(uid, now);
          if (!before) return;
          const move = largestMove(before, now);
          if (move > 0)
            writes.push({ t: Date.now(), pod: `${p.metadata?.namespace}/${p.metadata?.name}`, move });
        },
        delete: (p) => lastSpec.delete(p.metadata?.uid ?? ''),
      },
    );
    podWatch = watched;
    await watched.synced;

    // The operator, its own process.
    const port = await freePort();
    const logFile = join(dir, 'operator.log');
    const out = createWriteStream(logFile);
    const args = [
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--history',
      join(dir, 'history.db'),
      '--metrics-addr',
      `127.0.0.1:${port}`,
      '--poll-interval',
      '15s',
      '--min-history',
      '0',
      '--no-install-crds',
    ];
    // e.g. OPERATOR_SCALE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the time goes.
    const nodeArgs = (process.env.OPERATOR_SCALE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const argv =
      runner === 'dist'
        ? [...nodeArgs, join(ROOT, 'dist', 'cli', 'main.js'), ...args]
        : [...nodeArgs, '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args];
    const opStarted = Date.now();
    child = spawn(process.execPath, argv, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...operatorEnv },
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const pid = child.pid!;
    const exited = new Promise<string>((r) => child!.once('exit', (code, sig) => r(`${code ?? sig}`)));
    log(`operator pid ${pid} (${runner}), metrics on 127.0.0.1:${port}, log ${logFile}`);

    const scrape = async (): Promise<PromSample[]> =>
      parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const rss: { t: number; bytes: number }[] = [];
    const passValues: number[] = [];
    let lastPass: number | undefined;
    const sampleOnce = async (): Promise<PromSample[] | undefined> => {
      const p = readProc(pid);
      rss.push({ t: Date.now(), bytes: p.rssBytes });
      try {
        const s = await scrape();
        return s;
      } catch {
        return undefined;
      }
    };
    // Ready: /readyz answers 200 once the caches are synced and the controllers started.
    for (;;) {
      const code = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (code === 200) break;
      if (child.exitCode !== null) throw new Error(`the operator exited (${await exited}); see ${logFile}`);
      readProc(pid);
      rss.push({ t: Date.now(), bytes: readProc(pid).rssBytes });
      await sleep(500);
    }
    const secondsToOperatorReady = (Date.now() - opStarted) / 1000;
    log(`operator ready after ${secondsToOperatorReady.toFixed(1)} s`);

    // Settle: the first right-sizing of every pod (5x over-provisioned), until resizes stop.
    let resizes = -1;
    let quietSince = Date.now();
    let firstPass: number | undefined;
    while (Date.now() - opStarted < settleMaxSeconds * 1000) {
      await sleep(5000);
      const s = await sampleOnce();
      if (!s) continue;
      const r = sumOf(s, 'tailor_resizes_total');
      const passes = sumOf(s, 'tailor_sizing_pass_seconds_count');
      firstPass ??= passes > 0 ? sumOf(s, 'tailor_sizing_pass_seconds_sum') : undefined;
      if (r !== resizes) {
        resizes = r;
        quietSince = Date.now();
      }
      log(
        `settling: ${r} resizes sent, ${writes.length} spec changes seen, ${passes} full passes (last ${sumOf(s, 'tailor_sizing_last_pass_seconds').toFixed(2)} s), RSS ${(rss.at(-1)!.bytes / Mi).toFixed(0)} MiB`,
      );
      if (passes >= 3 && Date.now() - quietSince >= 45_000) break;
    }
    const settleSeconds = (Date.now() - opStarted) / 1000;
    const settleWrites = writes.length;
    const settledPods = new Set(writes.map((w) => w.pod)).size;

    // Steady state.
    log(`steady window: ${steadySeconds} s`);
    const s0 = await scrape();
    const cpu0 = readProc(pid).cpuSeconds;
    const t0 = Date.now();
    const w0 = writes.length;
    while (Date.now() - t0 < steadySeconds * 1000) {
      await sleep(5000);
      const s = await sampleOnce();
      if (!s) continue;
      const v = sumOf(s, 'tailor_sizing_last_pass_seconds');
      if (v !== lastPass) passValues.push(v);
      lastPass = v;
    }
    const wall = (Date.now() - t0) / 1000;
    const cpu1 = readProc(pid).cpuSeconds;
    const s1 = await scrape();
    const proc = readProc(pid);
    const loadAfter = loadAverages();
    const delta = (name: string, match: Record<string, string> = {}) =>
      sumOf(s1, name, match) - sumOf(s0, name, match);
    const minutes = wall / 60;
    const steadyWrites = writes.slice(w0);
    const passCount = delta('tailor_sizing_pass_seconds_count');
    const requestKinds = new Map<string, number>();
    for (const s of s1.filter((x) => x.name === 'tailor_api_requests_total')) {
      const k = `${s.labels.verb} ${s.labels.resource || '(watch)'}`.trim();
      const before = s0.find(
        (x) =>
          x.name === s.name && x.labels.verb === s.labels.verb && x.labels.resource === s.labels.resource,
      );
      const d = s.value - (before?.value ?? 0);
      if (d > 0) requestKinds.set(k, d);
    }
    // Pods whose recommendation moved past the threshold and are not changed yet, per policy status.
    const policies = (
      (await clients.custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'sizingpolicies',
      })) as k8s.KubernetesListObject<SizingPolicy>
    ).items;
    const podCounts = policies.reduce(
      (a, p) => ({
        targeted: a.targeted + (p.status?.pods?.targeted ?? 0),
        upToDate: a.upToDate + (p.status?.pods?.upToDate ?? 0),
        withoutMetrics: a.withoutMetrics + (p.status?.pods?.withoutMetrics ?? 0),
      }),
      { targeted: 0, upToDate: 0, withoutMetrics: 0 },
    );
    // What the operator's pod cache holds, as JSON (in memory as objects it takes a few times that).
    const podListMiB = JSON.stringify((await clients.core.listPodForAllNamespaces()).items).length / Mi;
    const steadyRss = rss.filter((r) => r.t >= t0).map((r) => r.bytes);
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${(totalmem() / Gi).toFixed(0)} GiB`,
      loadAveragesBefore: loadBefore.join(' '),
      loadAveragesAfter: loadAfter.join(' '),
      operatorRunner:
        runner === 'dist'
          ? 'node dist/cli/main.js operator (compiled, as bin/tailor.js)'
          : 'node --import tsx src/cli/main.ts operator',
      operatorEnv: Object.entries(operatorEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      pods: totalPods,
      namespaces: nsCount,
      deployments: workloads,
      policies: policies.length,
      policyLayout: `one InPlace SizingPolicy per Deployment (targetRef), ${perNs} per namespace, ${replicas} replicas each`,
      nodes: nodeCount,
      pollInterval: '15s',
      secondsToAllReady: Math.round(secondsToReady),
      secondsOperatorToReady: Number(secondsToOperatorReady.toFixed(1)),
      settleSeconds: Math.round(settleSeconds),
      settleMaxSeconds,
      firstFullPassSeconds: firstPass !== undefined ? Number(firstPass.toFixed(2)) : null,
      settleResizeWrites: settleWrites,
      settlePodsResized: settledPods,
      steadySeconds: Math.round(wall),
      rssMiBSteadyMedian: Math.round(percentile(steadyRss, 50) / Mi),
      rssMiBSteadyMax: Math.round(Math.max(...steadyRss) / Mi),
      rssMiBPeak: Math.round(proc.peakRssBytes / Mi),
      heapUsedMiB: Math.round(sumOf(s1, 'nodejs_heap_size_used_bytes') / Mi),
      heapTotalMiB: Math.round(sumOf(s1, 'nodejs_heap_size_total_bytes') / Mi),
      externalMiB: Math.round(sumOf(s1, 'nodejs_external_memory_bytes') / Mi),
      podCacheJsonMiB: Number(podListMiB.toFixed(1)),
      cpuCoresSteady: Number(((cpu1 - cpu0) / wall).toFixed(3)),
      fullPassesSteady: passCount,
      fullPassSecondsMean:
        passCount > 0 ? Number((delta('tailor_sizing_pass_seconds_sum') / passCount).toFixed(2)) : null,
      fullPassSecondsP50: passValues.length ? Number(percentile(passValues, 50).toFixed(2)) : null,
      fullPassSecondsMax: passValues.length ? Number(Math.max(...passValues).toFixed(2)) : null,
      reconcilesPerMinute: Math.round(delta('tailor_reconciles_total') / minutes),
      reconcileSecondsMean:
        delta('tailor_reconcile_duration_seconds_count') > 0
          ? Number(
              (
                delta('tailor_reconcile_duration_seconds_sum') /
                delta('tailor_reconcile_duration_seconds_count')
              ).toFixed(4),
            )
          : null,
      apiRequestsPerMinute: Math.round(delta('tailor_api_requests_total') / minutes),
      apiRequestsPerMinuteByKind: Object.fromEntries(
        [...requestKinds].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v / minutes)]),
      ),
      apiErrorsSteady: delta('tailor_api_errors_total'),
      resizeWritesSteady: steadyWrites.length,
      resizeWritesSteadyBelowThreshold: steadyWrites.filter((w) => w.move < THRESHOLD).length,
      resizeWritesTotalBelowThreshold: writes.filter((w) => w.move < THRESHOLD).length,
      resizesSentByOutcome: Object.fromEntries(
        s1
          .filter((x) => x.name === 'tailor_resizes_total')
          .map((x) => [[x.labels.result, x.labels.reason].filter(Boolean).join(':'), x.value]),
      ),
      podsNotUpToDateAtEnd: podCounts.targeted - podCounts.upToDate - podCounts.withoutMetrics,
      podsWithoutMetricsAtEnd: podCounts.withoutMetrics,
    };

    // OOM reaction under this load: new pods in one more namespace build up memory past their limit
    // (each at its own phase) while the operator keeps passing over every policy.
    const oomPods = Number(process.env.OPERATOR_SCALE_OOM_PODS ?? 20);
    const oomSeconds = Number(process.env.OPERATOR_SCALE_OOM_SECONDS ?? 150);
    const reactions = new OomReactions();
    const oomNs = 'scale-oom';
    const oomWatch = watchResource<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${oomNs}/pods`,
      () => clients.core.listNamespacedPod({ namespace: oomNs }),
      {
        add: (p) => reactions.update(podLimits(p), Date.now()),
        update: (p) => reactions.update(podLimits(p), Date.now()),
      },
    );
    let oomFigures: ReturnType<OomReactions['figures']> | undefined;
    try {
      await clients.core.createNamespace({ body: { metadata: { name: oomNs } } });
      await oomWatch.synced;
      await clients.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: oomNs,
        plural: 'sizingpolicies',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'SizingPolicy',
          metadata: { name: 'jobs' },
          spec: { mode: 'InPlace', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'jobs' } },
        },
      });
      // Jobs of 60 s every 120 s building up 64Mi -> 448Mi: past the 256Mi limit 30 s in.
      for (let attempt = 0; ; attempt++) {
        try {
          await clients.apps.createNamespacedDeployment({
            namespace: oomNs,
            body: {
              metadata: { name: 'jobs' },
              spec: {
                replicas: oomPods,
                selector: { matchLabels: { app: 'jobs' } },
                template: {
                  metadata: {
                    labels: { app: 'jobs' },
                    annotations: {
                      'sim.tailor.dev/profile': 'batch',
                      'sim.tailor.dev/params': JSON.stringify({
                        baseMemoryBytes: 64 * Mi,
                        peakMemoryBytes: 448 * Mi,
                        periodSeconds: 120,
                        busySeconds: 60,
                        startupSeconds: 1,
                      }),
                    },
                  },
                  spec: {
                    nodeSelector: { 'sim.tailor.dev/pool': 'scale' },
                    terminationGracePeriodSeconds: 5,
                    containers: [
                      {
                        name: 'app',
                        image: 'example.com/jobs:1',
                        resources: {
                          requests: { cpu: '100m', memory: '192Mi' },
                          limits: { memory: '256Mi' },
                        },
                      },
                    ],
                  },
                },
              },
            },
          });
          break;
        } catch (err) {
          if (attempt > 20) throw err;
          await sleep(500);
        }
      }
      const o0 = Date.now();
      while (Date.now() - o0 < oomSeconds * 1000) {
        await sleep(15_000);
        log(
          `OOM under load: ${reactions.kills.length} kills seen, ${reactions.episodes().length} answered by a raise`,
        );
      }
      await sleep(5000);
      oomFigures = reactions.figures();
    } catch (err) {
      log(`OOM under load failed: ${String(err)}`);
    } finally {
      await oomWatch.stop();
    }
    const full = { ...result, oomUnderLoad: { pods: oomPods, seconds: oomSeconds, ...oomFigures } };
    console.log(full);
    writeResults(full);
    log(`load averages after: ${loadAfter.join(' ')}`);
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child!.once('exit', r)), sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await podWatch?.stop();
    await sim?.stop({ deleteNodes: false });
    await cp.stop();
    if (!process.env.OPERATOR_SCALE_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

/** operator-scale.{json,md} at the default 5,000 pods; operator-scale-<pods>.{json,md} at another size. */
function resultName(pods: unknown): string {
  return pods === 5000 ? 'operator-scale' : `operator-scale-${String(pods)}`;
}

function writeResults(result: Record<string, unknown>): void {
  const name = resultName(result.pods);
  writeFileSync(join(import.meta.dirname, 'results', `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  const goal: Record<string, string> = {
    rssMiBSteadyMedian: 'under 256',
    rssMiBPeak: 'under 384',
    cpuCoresSteady: 'under 0.10',
    fullPassSecondsP50: 'under 2',
    fullPassSecondsMax: 'under 2',
    resizeWritesSteadyBelowThreshold: '0',
    resizeWritesTotalBelowThreshold: '0',
  };
  const skip = new Set([
    'oomUnderLoad',
    'date',
    'machine',
    'loadAveragesBefore',
    'loadAveragesAfter',
    'apiRequestsPerMinuteByKind',
    'resizesSentByOutcome',
  ]);
  writeFileSync(
    join(import.meta.dirname, 'results', `${name}.md`),
    [
      '# Operator at scale',
      '',
      `Reproduce: \`npm run bench -- operator-scale\` (OPERATOR_SCALE_PODS=${String(result.pods)} OPERATOR_SCALE_NAMESPACES=${String(result.namespaces)}${result.settleMaxSeconds !== 300 ? ` OPERATOR_SCALE_SETTLE_MAX_SECONDS=${String(result.settleMaxSeconds)}` : ''}). Measured ${String(result.date)} on ${String(result.machine)}; the real control plane (etcd, kube-apiserver, controller-manager, scheduler) and the simulator ran on the same machine. Load averages (1, 5, 15 min) before: ${String(result.loadAveragesBefore)}; after: ${String(result.loadAveragesAfter)}.`,
      '',
      '| figure | value | goal |',
      '| --- | --- | --- |',
      ...Object.entries(result)
        .filter(([k]) => !skip.has(k))
        .map(([k, v]) => `| ${k} | ${String(v)} | ${goal[k] ?? ''} |`),
      '',
      'API requests per minute in the steady window, by verb and resource:',
      '',
      '| request | per minute |',
      '| --- | --- |',
      ...Object.entries(result.apiRequestsPerMinuteByKind as Record<string, number>).map(
        ([k, v]) => `| ${k} | ${v} |`,
      ),
      '',
      `Resizes sent since start, by outcome: ${JSON.stringify(result.resizesSentByOutcome)}.`,
      '',
      ...oomSection(result.oomUnderLoad as OomUnderLoad | undefined),
    ].join('\n'),
  );
}

type OomUnderLoad = { pods: number; seconds: number } & Partial<ReturnType<OomReactions['figures']>>;

function oomSection(u: OomUnderLoad | undefined): string[] {
  if (u?.episodes === undefined) return [];
  const o = u as OomUnderLoad & ReturnType<OomReactions['figures']>;
  return [
    `## OOM reaction under this load`,
    '',
    `After the steady window, ${o.pods} new pods (one more namespace, one more InPlace policy) build up memory past their 256Mi limit, each at its own phase, watched for ${o.seconds} s while the operator keeps passing over every policy. Same measure as bench/results/oom-reaction.md ("seen": this benchmark's own watch saw the kill in the API).`,
    '',
    ...oomReactionRows(o),
    '',
    `Kills seen ${o.oomKillsSeen}, answered episodes ${o.episodes}, repeat kills before the raise ${o.repeatKillsBeforeRaise}, kills while a raise was pending in the kubelet ${o.killsWhileRaisePending}, kills not answered ${o.killsNotAnswered}, non-OOM terminations ${o.nonOomTerminationsSeen}.`,
    '',
  ];
}
