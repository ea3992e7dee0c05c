// The real VPA (v1.8.1: recommender, updater with InPlaceOrRecreate, admission controller) and
// Tailor's operator side by side on one real control plane and the simulator: two identical fleets
// (bench/vs-vpa-fleet.ts) in two namespaces, each tool scoped to its own. Both read the same
// metrics.k8s.io (the real metrics-server in front of the simulated kubelets); each talks to the
// apiserver through a counting proxy of its own (bench/faults-proxy.ts) so its API requests are its
// own. The simulator runs VS_VPA_SPEED times faster than the wall clock (default 60) and both tools'
// wall-clock durations are divided by it (bench/vpa-run.ts vpaTimeFlags, vs-vpa-fleet.ts
// tailorTimeSettings). Results: bench/results/vs-vpa.{json,md}.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { installCrds } from '../src/api/install.ts';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { freePorts } from '../src/devcluster/ports.ts';
import { packageRoot } from '../src/devcluster/paths.ts';
import { loadKubeConfig, makeClients } from '../src/kube/client.ts';
import { watchResource } from '../src/kube/informer.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';
import { simClock } from '../src/sim/clock.ts';
import { resolutionFor } from '../src/sim/metrics/metrics-server.ts';
import { faultProxy, type FaultProxy } from './faults-proxy.ts';
import {
  OomReactions,
  imageAllocatorEnv,
  loadAverages,
  podLimits,
  readProc,
  sleep,
  type ProcSample,
} from './lib.ts';
import { ensureVpa, VPA_COMPONENTS, VPA_VERSION } from './vpa-binaries.ts';
import { applyVpaCrds, startVpa, type RunningVpa } from './vpa-run.ts';
import {
  TOOLS,
  WORKLOADS,
  deployment,
  sizingPolicy,
  tailorTimeSettings,
  verticalPodAutoscaler,
  type Tool,
} from './vs-vpa-fleet.ts';
import {
  FleetSampler,
  classifyRequest,
  emptyKinds,
  relativeShortfall,
  relativeSlack,
  type RequestKinds,
  type ToolSums,
} from './vs-vpa-measure.ts';

const Gi = 2 ** 30;
const ROOT = packageRoot();
/** Tailor runs as its image runs it: with the allocator settings the Containerfile sets. */
const TAILOR_ENV = imageAllocatorEnv(ROOT);
const NS: Readonly<Record<Tool, string>> = { vpa: 'vs-vpa', tailor: 'vs-tailor' };
const POOL = { 'sim.tailor.dev/pool': 'vs' };
const SAMPLE_MS = 5_000;

export default async function run(): Promise<void> {
  const speed = Number(process.env.VS_VPA_SPEED ?? 60);
  const minutes = Number(process.env.VS_VPA_MINUTES ?? 30);
  const log = (m: string) => console.log(`[vs-vpa] ${new Date().toISOString().slice(11, 19)} ${m}`);
  const loadBefore = loadAverages();
  log(`speed ${speed}, ${minutes} wall minutes; load averages before: ${loadBefore.join(' ')}`);
  const vpaBin = await ensureVpa(log);
  log(`VPA ${vpaBin.version} (${vpaBin.source}), ${vpaBin.goVersion}`);
  log('building the operator (tsc -p tsconfig.build.json) to run it as bin/tailor.js does');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const tailorVersion = (await import('../package.json', { with: { type: 'json' } })).default.version;
  const tailorCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();

  const dir = mkdtempSync(join(tmpdir(), 'vs-vpa-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: kubeconfig,
    binaries: await ensureBinaries(log),
  });
  let sim: Simulator | undefined;
  let vpa: RunningVpa | undefined;
  let tailor: ChildProcess | undefined;
  const proxies: Partial<Record<Tool, FaultProxy>> = {};
  const watches: { stop(): Promise<void> }[] = [];
  try {
    const kc = loadKubeConfig(kubeconfig);
    const clients = makeClients(kc);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    await installCrds(clients.ext);
    const vpaCrds = await applyVpaCrds(kc, vpaBin.crdPath);
    log(`CRDs: Tailor's and ${vpaCrds.join(', ')}`);
    const clock = simClock(speed);
    const resolution = resolutionFor(speed);
    sim = await Simulator.start({
      kc,
      nodes: [0, 1].map((i) => ({
        name: `vs-${i}`,
        cpu: 16,
        memoryBytes: 48 * Gi,
        ephemeralStorageBytes: 200 * Gi,
        pods: 110,
        gpus: 0,
        zone: `zone-${i}`,
        labels: POOL,
      })),
      profileFor: profileResolver(loadTraceLibrary()),
      clock,
      tickMs: 1000,
      metricsServer: 'metrics-server',
      log: (m) => (m.includes('error') || m.includes('fail') ? log(`sim: ${m}`) : undefined),
    });
    log(`simulator: metrics.k8s.io from ${sim.metricsApi?.kind ?? '?'} every ${resolution} s`);
    for (const t of TOOLS) {
      await clients.core.createNamespace({ body: { metadata: { name: NS[t] } } });
      for (let i = 0; ; i++) {
        const ok = await clients.core
          .readNamespacedServiceAccount({ name: 'default', namespace: NS[t] })
          .then(
            () => true,
            () => false,
          );
        if (ok) break;
        if (i > 100) throw new Error(`no default ServiceAccount in ${NS[t]}`);
        await sleep(200);
      }
    }

    // Each tool's own counting proxy.
    const kinds: Record<Tool, RequestKinds> = { vpa: emptyKinds(), tailor: emptyKinds() };
    for (const t of TOOLS) {
      const p = await faultProxy(kc);
      p.onRequest = (m, u) => classifyRequest(kinds[t], m, u);
      proxies[t] = p;
    }

    // The VPA, scoped to its namespace.
    vpa = await startVpa({
      binaries: vpaBin,
      dir: join(dir, 'vpa'),
      kubeconfig: proxies.vpa!.kubeconfig,
      kc,
      namespace: NS.vpa,
      speed,
      metricResolutionSeconds: resolution,
      log,
    });

    // Tailor's operator, its own process, scoped to its namespace, with its admission webhook.
    const times = tailorTimeSettings(speed);
    const tailorKubeconfig = join(dir, 'tailor.kubeconfig');
    writeFileSync(tailorKubeconfig, proxies.tailor!.kubeconfig, { mode: 0o600 });
    const [metricsPort, webhookPort] = await freePorts(2);
    const pollSeconds = Math.max(resolution, 15 / speed);
    const tailorArgs = [
      'operator',
      '--kubeconfig',
      tailorKubeconfig,
      '--history',
      join(dir, 'history.db'),
      '--metrics-addr',
      `127.0.0.1:${metricsPort}`,
      '--poll-interval',
      `${pollSeconds}s`,
      '--min-history',
      times.minHistory,
      // The recommender's half-lives and windows divided by the speed, as the VPA's time flags are.
      '--clock-speed',
      String(speed),
      '--namespace',
      NS.tailor,
      '--leader-elect=false',
      '--no-install-crds',
      '--webhook',
      `127.0.0.1:${webhookPort}`,
      '--webhook-tls-secret',
      `${NS.tailor}/tailor-webhook-tls`,
      '--log-level',
      'warn',
      '--log-format',
      'json',
    ];
    const tailorLog = join(dir, 'tailor.log');
    const out = createWriteStream(tailorLog);
    tailor = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...tailorArgs], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...TAILOR_ENV },
    });
    tailor.stdout!.pipe(out);
    tailor.stderr!.pipe(out);
    const tailorPid = tailor.pid!;
    log(`tailor operator pid ${tailorPid}, log ${tailorLog}`);
    for (let i = 0; ; i++) {
      const code = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (code === 200) break;
      if (tailor.exitCode !== null || i > 240)
        throw new Error(`the operator is not ready (exit ${tailor.exitCode}); see ${tailorLog}`);
      await sleep(500);
    }
    log('tailor operator ready');

    // Hand the fleets over, then start them.
    for (const w of WORKLOADS) {
      await objects.create({ ...verticalPodAutoscaler(w), metadata: { name: w.name, namespace: NS.vpa } });
      await objects.create({ ...sizingPolicy(w, speed), metadata: { name: w.name, namespace: NS.tailor } });
    }
    const reactions: Record<Tool, OomReactions> = { vpa: new OomReactions(), tailor: new OomReactions() };
    for (const t of TOOLS) {
      const onPod = (p: k8s.V1Pod) => reactions[t].update(podLimits(p), Date.now());
      const w = watchResource<k8s.V1Pod>(
        kc,
        `/api/v1/namespaces/${NS[t]}/pods`,
        () => clients.core.listNamespacedPod({ namespace: NS[t] }),
        { add: onPod, update: onPod },
      );
      watches.push(w);
      await w.synced;
    }
    const pids: Record<Tool, number[]> = {
      vpa: VPA_COMPONENTS.map((c) => vpa!.processes[c].child.pid!),
      tailor: [tailorPid],
    };
    const procSum = (t: Tool): ProcSample =>
      pids[t].map(readProc).reduce((a, b) => ({
        rssBytes: a.rssBytes + b.rssBytes,
        peakRssBytes: a.peakRssBytes + b.peakRssBytes,
        cpuSeconds: a.cpuSeconds + b.cpuSeconds,
      }));
    const proc0 = { vpa: procSum('vpa'), tailor: procSum('tailor') };
    const kinds0 = { vpa: { ...kinds.vpa }, tailor: { ...kinds.tailor } };
    const simStart = clock.now();
    for (const t of TOOLS)
      for (const w of WORKLOADS)
        await clients.apps.createNamespacedDeployment({ namespace: NS[t], body: deployment(w, POOL) });
    const samplers: Record<Tool, FleetSampler> = {
      vpa: new FleetSampler(NS.vpa),
      tailor: new FleetSampler(NS.tailor),
    };
    const rssSeries: Record<Tool, number[]> = { vpa: [], tailor: [] };
    const t0 = Date.now();
    let lastLog = t0;
    while (Date.now() - t0 < minutes * 60_000) {
      await sleep(SAMPLE_MS);
      const day = Math.floor((clock.now() - simStart) / 86_400);
      for (const t of TOOLS) {
        samplers[t].sample(sim.kubelet.pods.values(), day);
        rssSeries[t].push(procSum(t).rssBytes);
      }
      for (const [t, p] of Object.entries(vpa.processes))
        if (p.hasExited()) throw new Error(`VPA ${t} exited: ${await p.exited}\n${p.tail()}`);
      if (tailor.exitCode !== null)
        throw new Error(`the operator exited (${tailor.exitCode}); see ${tailorLog}`);
      if (Date.now() - lastLog >= 60_000) {
        lastLog = Date.now();
        const simHours = ((clock.now() - simStart) / 3600).toFixed(1);
        log(
          `${Math.round((Date.now() - t0) / 60_000)} min (${simHours} simulated h): ` +
            TOOLS.map(
              (t) =>
                `${t} ${kinds[t].resizes} resizes, ${kinds[t].evictions} evictions, ${samplers[t].counts().oomKills} OOM kills`,
            ).join('; '),
        );
      }
    }
    const wallMinutes = (Date.now() - t0) / 60_000;
    const simulatedHours = (clock.now() - simStart) / 3600;
    const proc1 = { vpa: procSum('vpa'), tailor: procSum('tailor') };
    const vpaObjects = await Promise.all(
      WORKLOADS.map((w) =>
        objects
          .read({
            apiVersion: 'autoscaling.k8s.io/v1',
            kind: 'VerticalPodAutoscaler',
            metadata: { name: w.name, namespace: NS.vpa },
          })
          .then((o) => ({
            name: w.name,
            recommendation: (o as unknown as { status?: { recommendation?: unknown } }).status
              ?.recommendation,
          })),
      ),
    );
    const finalPods: Record<Tool, Record<string, unknown>> = { vpa: {}, tailor: {} };
    for (const t of TOOLS) {
      const list = await clients.core.listNamespacedPod({ namespace: NS[t] });
      for (const p of list.items) {
        const c = p.spec?.containers[0];
        finalPods[t][p.metadata!.name!] = { requests: c?.resources?.requests, limits: c?.resources?.limits };
      }
    }
    const loadAfter = loadAverages();

    const rowsOf = (t: Tool) => {
      const s = samplers[t];
      const counts = s.counts();
      const f = reactions[t].figures();
      const replicas = WORKLOADS.reduce((a, w) => a + w.replicas, 0);
      const sent = (k: keyof RequestKinds) => kinds[t][k] - kinds0[t][k];
      const mib = (b: number) => Math.round(b / 2 ** 20);
      return {
        cpuRequestSlack: relativeSlack(s.sums.cpuRequest),
        cpuRequestShortfall: relativeShortfall(s.sums.cpuRequest),
        memoryRequestSlack: relativeSlack(s.sums.memoryRequest),
        memoryRequestShortfall: relativeShortfall(s.sums.memoryRequest),
        cpuLimitSlack: relativeSlack(s.sums.cpuLimit),
        memoryLimitSlack: relativeSlack(s.sums.memoryLimit),
        oomKills: counts.oomKills,
        restartsNotFromOom: counts.restartsNotFromOom,
        podsReplaced: Math.max(0, counts.podsSeen - replicas),
        evictionsSent: sent('evictions'),
        podDeletesSent: sent('podDeletes'),
        resizesSent: sent('resizes'),
        oomEpisodes: f.episodes,
        oomKillsNotAnswered: f.killsNotAnswered,
        repeatKillsBeforeRaise: f.repeatKillsBeforeRaise,
        oomToLargerLimitSeconds: f.specRaiseFromSeenSeconds,
        oomToLargerLimitAppliedSeconds: f.statusAppliedFromSeenSeconds,
        apiRequestsPerMinute: Number((sent('total') / wallMinutes).toFixed(1)),
        apiRequestsAtStart: kinds0[t].total,
        watchesOpened: kinds[t].watches,
        cpuCores: Number(((proc1[t].cpuSeconds - proc0[t].cpuSeconds) / (wallMinutes * 60)).toFixed(4)),
        rssMiB: mib(proc1[t].rssBytes),
        rssMaxMiB: mib(Math.max(...rssSeries[t])),
        processes: pids[t].length,
        samples: s.sums.samples,
        byDay: s.byDay.map((x, day) => ({
          day: day + 1,
          samples: x.samples,
          cpuRequestSlack: relativeSlack(x.cpuRequest),
          memoryRequestSlack: relativeSlack(x.memoryRequest),
          memoryLimitSlack: relativeSlack(x.memoryLimit),
        })),
        byWorkload: Object.fromEntries(
          [...s.byWorkload.entries()].map(([w, x]: [string, ToolSums]) => [
            w,
            {
              cpuRequestSlack: relativeSlack(x.cpuRequest),
              memoryRequestSlack: relativeSlack(x.memoryRequest),
              memoryLimitSlack: relativeSlack(x.memoryLimit),
              oomKills: [...s.pods.values()]
                .filter((p) => p.workload === w)
                .reduce((a, p) => a + p.oomKills, 0),
            },
          ]),
        ),
      };
    };
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${(totalmem() / Gi).toFixed(0)} GiB`,
      loadAveragesBefore: loadBefore.join(' '),
      loadAveragesAfter: loadAfter.join(' '),
      clockSpeed: speed,
      wallMinutes: Number(wallMinutes.toFixed(1)),
      simulatedHours: Number(simulatedHours.toFixed(1)),
      sampleEveryWallSeconds: SAMPLE_MS / 1000,
      metricResolutionSeconds: resolution,
      versions: {
        vpa: `${VPA_VERSION} (k8s.io/autoscaler/vertical-pod-autoscaler, built with ${vpaBin.goVersion})`,
        tailor: `${tailorVersion} (commit ${tailorCommit}, node dist/cli/main.js operator)`,
      },
      vpaFlags: vpa.flags,
      tailorArgs: tailorArgs.filter((a) => !a.includes(dir)),
      tailorEnv: Object.entries(TAILOR_ENV).map(([k, v]) => `${k}=${v}`),
      tailorPolicyTimes: times,
      workloads: WORKLOADS.map((w) => ({
        name: w.name,
        what: w.what,
        replicas: w.replicas,
        resources: w.resources,
      })),
      vpa: rowsOf('vpa'),
      tailor: rowsOf('tailor'),
      vpaRecommendations: vpaObjects,
      finalPods,
    };
    console.log(JSON.stringify({ vpa: result.vpa, tailor: result.tailor }, null, 2));
    writeResults(result);
    log(`load averages after: ${loadAfter.join(' ')}`);
  } finally {
    for (const w of watches) await w.stop();
    if (tailor && tailor.exitCode === null) {
      tailor.kill('SIGTERM');
      await new Promise((r) => tailor!.once('exit', r));
    }
    await vpa?.stop();
    for (const p of Object.values(proxies)) await p.close();
    await sim?.stop({ deleteNodes: false });
    await cp.stop();
    if (process.env.VS_VPA_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else console.log(`[vs-vpa] kept ${dir}`);
  }
}

type Result = Record<string, unknown> & { vpa: Record<string, unknown>; tailor: Record<string, unknown> };

/** Lower is better on every row but the count of OOM episodes answered. */
const ROWS: readonly [string, string][] = [
  ['cpuRequestSlack', 'CPU request slack (share of requested CPU unused)'],
  ['cpuRequestShortfall', 'CPU used above the request (share of CPU used)'],
  ['memoryRequestSlack', 'memory request slack (share of requested memory unused)'],
  ['memoryRequestShortfall', 'memory used above the request (share of memory used)'],
  ['cpuLimitSlack', 'CPU limit slack'],
  ['memoryLimitSlack', 'memory limit slack (share of the limit unused)'],
  ['oomKills', 'OOM kills'],
  ['restartsNotFromOom', 'container restarts not from OOM kills (caused by the tool)'],
  ['evictionsSent', 'evictions sent'],
  ['podDeletesSent', 'pod deletions sent'],
  ['podsReplaced', 'pods replaced (pods seen beyond the replicas)'],
  ['resizesSent', 'in-place resizes sent (pods/resize)'],
  ['oomKillsNotAnswered', 'OOM kills never followed by a larger limit'],
  ['apiRequestsPerMinute', 'API requests per wall minute (after start-up)'],
  ['cpuCores', "CPU of the tool's processes (cores)"],
  ['rssMiB', "resident memory of the tool's processes at the end (MiB)"],
  ['rssMaxMiB', 'largest resident memory sampled (MiB)'],
];

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'object') {
    const s = v as { n?: number; p50?: number | null; max?: number | null };
    return s.n ? `p50 ${s.p50} s, max ${s.max} s (n ${s.n})` : 'none';
  }
  return typeof v === 'number' || typeof v === 'string' ? String(v) : JSON.stringify(v);
}

function lead(a: unknown, b: unknown): string {
  if (typeof a !== 'number' || typeof b !== 'number') return '';
  if (a === b) return 'tie';
  return b < a ? 'Tailor' : 'VPA';
}

type DayRow = {
  day: number;
  samples: number;
  cpuRequestSlack: unknown;
  memoryRequestSlack: unknown;
  memoryLimitSlack: unknown;
};

function byDayRows(v: Record<string, unknown>, t: Record<string, unknown>): string[] {
  const days = (x: Record<string, unknown>) => (x.byDay as DayRow[] | undefined) ?? [];
  const f = (d: DayRow | undefined) =>
    d ? `${cell(d.cpuRequestSlack)} / ${cell(d.memoryRequestSlack)}, ${cell(d.memoryLimitSlack)}` : 'n/a';
  const n = Math.max(days(v).length, days(t).length);
  return Array.from({ length: n }, (_, i) => `| ${i + 1} | ${f(days(v)[i])} | ${f(days(t)[i])} |`);
}

function timeFlags(r: Result, c: 'recommender' | 'updater'): string {
  const flags = (r.vpaFlags as Partial<Record<string, string[]>>)[c] ?? [];
  return flags.filter((f) => !f.includes('kubeconfig') && !f.includes('address')).join(' ');
}

function writeResults(r: Result): void {
  // VS_VPA_RESULTS names the files (e.g. vs-vpa-smoke for a short run beside the long one).
  const name = process.env.VS_VPA_RESULTS ?? 'vs-vpa';
  writeFileSync(join(import.meta.dirname, 'results', `${name}.json`), JSON.stringify(r, null, 2) + '\n');
  const v = r.vpa;
  const t = r.tailor;
  const md = [
    '# Tailor side by side with the real VPA',
    '',
    `Reproduce: \`${process.env.VS_VPA_RESULTS ? `VS_VPA_RESULTS=${process.env.VS_VPA_RESULTS} ` : ''}npm run bench -- vs-vpa\` (VS_VPA_SPEED=${String(r.clockSpeed)}, VS_VPA_MINUTES=${String(r.wallMinutes)}). Measured ${String(r.date)} on ${String(r.machine)}; one real control plane, the simulator (1 s tick, real metrics-server every ${String(r.metricResolutionSeconds)} s), the VPA and Tailor's operator on the same machine. Load averages (1, 5, 15 min) before: ${String(r.loadAveragesBefore)}; after: ${String(r.loadAveragesAfter)}.`,
    '',
    `**What ran: ${String(r.wallMinutes)} wall minutes at clock speed ${String(r.clockSpeed)}, i.e. ${String(r.simulatedHours)} simulated hours**${Number(r.simulatedHours) >= 168 ? ' (a simulated week or more)' : ' (not a simulated week)'}.`,
    '',
    `Versions: VPA ${(r.versions as Record<string, string>).vpa}; Tailor ${(r.versions as Record<string, string>).tailor}.`,
    '',
    '| row | VPA | Tailor | ahead |',
    '| --- | --- | --- | --- |',
    ...ROWS.map(([k, label]) => `| ${label} | ${cell(v[k])} | ${cell(t[k])} | ${lead(v[k], t[k])} |`),
    `| kill seen -> larger limit in the pod spec | ${cell(v.oomToLargerLimitSeconds)} | ${cell(t.oomToLargerLimitSeconds)} | |`,
    `| kill seen -> larger limit applied by the kubelet | ${cell(v.oomToLargerLimitAppliedSeconds)} | ${cell(t.oomToLargerLimitAppliedSeconds)} | |`,
    '',
    'Per workload (request slack CPU / memory, memory limit slack, OOM kills):',
    '',
    '| workload | VPA | Tailor |',
    '| --- | --- | --- |',
    ...(r.workloads as { name: string; what: string }[]).map((w) => {
      const f = (x: Record<string, unknown>) => {
        const b = (x.byWorkload as Record<string, Record<string, unknown>>)[w.name];
        return b
          ? `${cell(b.cpuRequestSlack)} / ${cell(b.memoryRequestSlack)}, ${cell(b.memoryLimitSlack)}, ${cell(b.oomKills)}`
          : 'n/a';
      };
      return `| ${w.name}: ${w.what} | ${f(v)} | ${f(t)} |`;
    }),
    '',
    'Per simulated day (request slack CPU / memory, memory limit slack; day 1 is the first 24 simulated hours):',
    '',
    '| day | VPA | Tailor |',
    '| --- | --- | --- |',
    ...byDayRows(v, t),
    '',
    "Slack is Σ max(0, set − used) / Σ set over every running container at every sample (every 5 wall s, from the simulator's own state); \"used above the request\" is Σ max(0, used − request) / Σ used. OOM kills and restarts are the simulated kubelet's counters over every pod each namespace ran. Evictions, deletions, resizes and API requests are counted by each tool's own proxy in front of the apiserver (a watch counts once when opened). Times from an OOM kill run from the moment this benchmark's pod watch saw the kill (bench/lib.ts OomReactions). CPU and memory are /proc of the tool's processes: the VPA's three, Tailor's one.",
    '',
    `VPA flags (defaults, time flags divided by the speed): recommender \`${timeFlags(r, 'recommender')}\`; updater \`${timeFlags(r, 'updater')}\`.`,
    '',
    `Tailor: \`${[...((r.tailorEnv as string[] | undefined) ?? []), 'node dist/cli/main.js', ...(r.tailorArgs as string[])].join(' ')}\` (the allocator settings are the image's, from the Containerfile); each SizingPolicy mode InPlace, default profile, history.window ${String((r.tailorPolicyTimes as Record<string, unknown>).window)}, update.cooldown ${String((r.tailorPolicyTimes as Record<string, unknown>).cooldown)}, update.maxChangesPerHour ${String((r.tailorPolicyTimes as Record<string, unknown>).maxChangesPerHour)}.`,
    '',
  ];
  writeFileSync(join(import.meta.dirname, 'results', `${name}.md`), md.join('\n'));
}
