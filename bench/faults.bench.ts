// The fault suite: what the operator does to workloads when the things around it fail. A real control
// plane, the simulator in this process (it knows every container's true usage) and the operator as
// its own process (the built CLI, `node dist/cli/main.js operator`, restarted like a Deployment
// would if it exits), talking to the apiserver through an HTTPS proxy that can answer 409. Under a
// steady load (InPlace and Auto policies, periodic jobs OOM-killed and raised), the faults run in
// turn; for each: memory shrunk below the container's usage at that moment (must be 0), pods evicted
// without cause (0), history rows and policy recommendations lost, the operator's unplanned
// restarts, and seconds from the fault's end until the operator is ready, its policies Ready again
// and resizes resume. Sizes and durations: FAULTS_* variables below.
// Results: bench/results/faults.{json,md}.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingPolicy } from '../src/api/index.ts';
import { installCrds } from '../src/api/install.ts';
import { parseQuantity } from '../src/core/quantity.ts';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { loadKubeConfig, makeClients, mergePatch, type Clients } from '../src/kube/client.ts';
import { watchResource } from '../src/kube/informer.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { loadTraceLibrary } from '../src/sim/usage/index.ts';
import { simClock } from '../src/sim/clock.ts';
import {
  classifyEviction,
  classifyMemoryChange,
  secondsToConverge,
  type ConvergenceProbe,
  type MemoryChange,
  type MemorySpec,
} from './faults-harm.ts';
import { faultProxy, type FaultProxy } from './faults-proxy.ts';
import { loadAverages, pool, sleep } from './lib.ts';

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const ROOT = join(import.meta.dirname, '..');
const NS_PREFIX = 'faults-';
const FILLER_NS = 'fault-filler';
/** Nodes too small for what the outgrown-node fault's pods come to need (their pool takes no load). */
// One 2-core node per mover: a node's containers share its cores, so two movers on one node would
// each get half and never outgrow it.
const SMALL_NODE = { prefix: 'faults-small', cpu: 2, pool: 'faults-small' };
/** What a mover comes to use: nearly all of its 2-core node (its recommendation, about 2.6, cannot fit there). */
const MOVER_CORES = 1.9;

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

interface Config {
  namespaces: number;
  webReplicas: number;
  jobReplicas: number;
  nodes: number;
  minHistory: string;
  waveWaitSeconds: number;
  restartDelaySeconds: number;
  componentDownSeconds: number;
  storeLockSeconds: number;
  metricsAwaySeconds: number;
  conflictSeconds: number;
  fillSeconds: number;
  convergeMaxSeconds: number;
  churnPerMinute: number;
  movers: number;
  outgrowMaxSeconds: number;
  only: Set<string> | undefined;
}

function config(): Config {
  return {
    namespaces: num('FAULTS_NAMESPACES', 50),
    webReplicas: num('FAULTS_WEB_REPLICAS', 8),
    jobReplicas: num('FAULTS_JOB_REPLICAS', 2),
    nodes: num('FAULTS_NODES', 10),
    minHistory: process.env.FAULTS_MIN_HISTORY ?? '2m',
    waveWaitSeconds: num('FAULTS_WAVE_WAIT_SECONDS', 420),
    restartDelaySeconds: num('FAULTS_RESTART_DELAY_SECONDS', 5),
    componentDownSeconds: num('FAULTS_COMPONENT_DOWN_SECONDS', 10),
    storeLockSeconds: num('FAULTS_STORE_LOCK_SECONDS', 60),
    metricsAwaySeconds: num('FAULTS_METRICS_AWAY_SECONDS', 300),
    conflictSeconds: num('FAULTS_CONFLICT_SECONDS', 60),
    fillSeconds: num('FAULTS_FILL_SECONDS', 120),
    convergeMaxSeconds: num('FAULTS_CONVERGE_MAX_SECONDS', 180),
    churnPerMinute: num('FAULTS_CHURN_PER_MINUTE', 2),
    movers: num('FAULTS_MOVERS', 5),
    outgrowMaxSeconds: num('FAULTS_OUTGROW_MAX_SECONDS', 480),
    only: process.env.FAULTS_ONLY ? new Set(process.env.FAULTS_ONLY.split(',')) : undefined,
  };
}

type Mode = 'InPlace' | 'Auto';
const modeOf = (namespace: string): Mode | 'None' => {
  if (!namespace.startsWith(NS_PREFIX)) return 'None';
  return Number(namespace.slice(NS_PREFIX.length)) % 2 === 1 ? 'Auto' : 'InPlace';
};

// ---------------------------------------------------------------------------------------------
// What happened to the pods, per phase: every memory change judged against the simulator's usage.

interface PhaseCounts {
  memoryChanges: Record<MemoryChange, number>;
  /** Spec changes of any resource (CPU too): resizes the operator made. */
  resizes: number;
  evictionsWithCause: number;
  evictionsWithoutCause: number;
  deferredPods: Set<string>;
  infeasiblePods: Set<string>;
  /** Pods whose resize the apiserver refused 403 NodeCapacity (seen by the proxy). */
  refusedPods: Set<string>;
  harm: string[];
}

const emptyCounts = (): PhaseCounts => ({
  memoryChanges: { NoChange: 0, Raise: 0, Shrink: 0, ShrinkBelowUsage: 0, ShrinkUsageUnknown: 0 },
  resizes: 0,
  evictionsWithCause: 0,
  evictionsWithoutCause: 0,
  deferredPods: new Set(),
  infeasiblePods: new Set(),
  refusedPods: new Set(),
  harm: [],
});

interface PodSeen {
  spec: Map<string, MemorySpec & { cpu?: number | undefined }>;
  blocked: boolean;
  refused: boolean;
  gone: boolean;
}

function specOf(p: k8s.V1Pod): PodSeen['spec'] {
  return new Map(
    (p.spec?.containers ?? []).map((c) => [
      c.name,
      {
        request: parseQuantity(c.resources?.requests?.memory),
        limit: parseQuantity(c.resources?.limits?.memory),
        cpu: parseQuantity(c.resources?.requests?.cpu),
      },
    ]),
  );
}

class Tracker {
  phase = 'setup';
  readonly phases = new Map<string, PhaseCounts>();
  lastResizeAt = 0;
  private readonly pods = new Map<string, PodSeen>();
  /** namespace/name -> uid of the pods seen, for the proxy's refusals (it sees names, not uids). */
  private readonly uids = new Map<string, string>();
  private readonly benchDeleted = new Set<string>();
  private readonly stops: { stop(): Promise<void> }[] = [];

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly clients: Clients,
    private readonly sim: Simulator,
  ) {}

  counts(phase = this.phase): PhaseCounts {
    let c = this.phases.get(phase);
    if (!c) this.phases.set(phase, (c = emptyCounts()));
    return c;
  }

  markDeletedByBenchmark(uid: string): void {
    this.benchDeleted.add(uid);
  }

  async start(): Promise<void> {
    const pods = watchResource<k8s.V1Pod>(
      this.kc,
      '/api/v1/pods',
      () => this.clients.core.listPodForAllNamespaces(),
      {
        add: (p) => this.observe(p),
        update: (p) => this.observe(p),
        delete: (p) => this.deleted(p),
      },
    );
    const events = watchResource<k8s.CoreV1Event>(
      this.kc,
      '/api/v1/events',
      () => this.clients.core.listEventForAllNamespaces(),
      {
        add: (e) => this.event(e),
        update: (e) => this.event(e),
      },
    );
    this.stops.push(pods, events);
    await Promise.all([pods.synced, events.synced]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.stops.map((s) => s.stop()));
  }

  /** The apiserver refused this pod's resize for node capacity (the fault proxy saw the 403). */
  refused(pod: { namespace: string; name: string }): void {
    const uid = this.uids.get(`${pod.namespace}/${pod.name}`);
    if (!uid) return;
    const seen = this.pods.get(uid);
    if (seen) seen.refused = true;
    this.counts().refusedPods.add(uid);
  }

  private event(e: k8s.CoreV1Event): void {
    if (e.reason !== 'ResizeInfeasible' || e.involvedObject?.kind !== 'Pod') return;
    const uid = e.involvedObject.uid ?? '';
    const seen = this.pods.get(uid);
    if (seen) seen.blocked = true;
    this.counts().infeasiblePods.add(uid);
  }

  private observe(p: k8s.V1Pod): void {
    const uid = p.metadata?.uid ?? '';
    const ns = p.metadata?.namespace ?? '';
    if (!ns.startsWith(NS_PREFIX)) return;
    const spec = specOf(p);
    const seen = this.pods.get(uid);
    const pending = p.status?.conditions?.find((c) => c.type === 'PodResizePending');
    if (pending?.reason === 'Deferred') this.counts().deferredPods.add(uid);
    if (pending?.reason === 'Infeasible') this.counts().infeasiblePods.add(uid);
    if (!seen) {
      this.pods.set(uid, { spec, blocked: !!pending, refused: false, gone: false });
      this.uids.set(`${ns}/${p.metadata?.name ?? ''}`, uid);
      return;
    }
    if (pending) seen.blocked = true;
    if (p.metadata?.deletionTimestamp) this.deleted(p);
    let resized = false;
    for (const [name, after] of spec) {
      const before = seen.spec.get(name);
      if (!before) continue;
      if (before.cpu !== after.cpu) resized = true;
      const state = this.sim.kubelet.pods.get(uid)?.containers.get(name);
      const usage = state && state.ready ? state.usage.memoryBytes : undefined;
      const verdict = classifyMemoryChange(before, after, usage);
      if (verdict === 'NoChange') continue;
      resized = true;
      const c = this.counts();
      c.memoryChanges[verdict]++;
      if (verdict === 'ShrinkBelowUsage')
        c.harm.push(
          `${new Date().toISOString()} ${ns}/${p.metadata?.name} ${name}: memory request ${fmt(before.request)} -> ${fmt(after.request)}, limit ${fmt(before.limit)} -> ${fmt(after.limit)}, using ${fmt(usage)}`,
        );
    }
    if (resized) {
      this.counts().resizes++;
      this.lastResizeAt = Date.now();
    }
    seen.spec = spec;
  }

  private deleted(p: k8s.V1Pod): void {
    const uid = p.metadata?.uid ?? '';
    const ns = p.metadata?.namespace ?? '';
    const seen = this.pods.get(uid);
    if (!ns.startsWith(NS_PREFIX) || !seen || seen.gone) return;
    seen.gone = true;
    const verdict = classifyEviction({
      deletedByBenchmark: this.benchDeleted.has(uid),
      mode: modeOf(ns),
      resizeBlockedSeen: seen.blocked,
      resizeRefusedForNodeCapacity: seen.refused,
    });
    const c = this.counts();
    switch (verdict) {
      case 'WithCause':
        c.evictionsWithCause++;
        break;
      case 'WithoutCause':
        c.evictionsWithoutCause++;
        c.harm.push(`${new Date().toISOString()} ${ns}/${p.metadata?.name}: deleted without cause`);
        break;
      case 'NotAnEviction':
        break;
    }
  }
}

const fmt = (b: number | undefined) => (b === undefined ? '-' : `${Math.round(b / Mi)}Mi`);

// ---------------------------------------------------------------------------------------------
// The operator as its own process, restarted (after a short back-off) when it exits on its own.

class OperatorProcess {
  child: ChildProcess | undefined;
  readonly unplannedExits: { at: string; phase: string; reason: string }[] = [];
  private stopping = false;
  private deliberate = false;

  constructor(
    private readonly args: string[],
    private readonly logFile: string,
    readonly port: number,
    private readonly tracker: Tracker,
    private readonly restartDelayMs: number,
  ) {}

  start(): void {
    const out = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      if (this.deliberate) {
        this.deliberate = false;
        return;
      }
      const reason = signal ? `signal ${signal}` : `exit code ${code}`;
      this.unplannedExits.push({ at: new Date().toISOString(), phase: this.tracker.phase, reason });
      appendFileSync(this.logFile, `\n[faults] operator exited (${reason}); restarting\n`);
      setTimeout(() => {
        if (!this.stopping) this.start();
      }, this.restartDelayMs);
    });
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.deliberate = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async ready(): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2000) });
      return r.status === 200;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    if ((await Promise.race([exited.then(() => 'exited'), sleep(10_000)])) !== 'exited') {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping: the history store's rows and the policies' status, before and after each fault.

interface Books {
  history: { series: number; minutes: number; ooms: number; checkpoints: number } | { error: string };
  policiesReady: number;
  policiesWithRecommendations: string[];
}

function historyRows(path: string): Books['history'] {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      return {
        series: count('series'),
        minutes: count('usage_minute'),
        ooms: count('oom'),
        checkpoints: count('checkpoint'),
      };
    } finally {
      db.close();
    }
  } catch (err) {
    return { error: String(err) };
  }
}

async function listPolicies(clients: Clients): Promise<SizingPolicy[]> {
  const list = (await clients.custom.listClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'sizingpolicies',
  })) as k8s.KubernetesListObject<SizingPolicy>;
  return list.items.filter((p) => p.metadata.namespace?.startsWith(NS_PREFIX));
}

const readyOf = (ps: SizingPolicy[]) =>
  ps.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;

async function books(clients: Clients, historyPath: string): Promise<Books> {
  const ps = await listPolicies(clients);
  return {
    history: historyRows(historyPath),
    policiesReady: readyOf(ps),
    policiesWithRecommendations: ps
      .filter((p) => (p.status?.recommendations?.length ?? 0) > 0)
      .map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
  };
}

function lost(before: Books, after: Books) {
  const h = (b: Books['history'], k: 'series' | 'minutes' | 'ooms' | 'checkpoints') =>
    'error' in b ? undefined : b[k];
  const drop = (k: 'series' | 'minutes' | 'ooms' | 'checkpoints') => {
    const a = h(before.history, k);
    const b = h(after.history, k);
    return a === undefined || b === undefined ? null : Math.max(0, a - b);
  };
  const still = new Set(after.policiesWithRecommendations);
  return {
    historySeries: drop('series'),
    historyMinutes: drop('minutes'),
    historyOoms: drop('ooms'),
    checkpoints: drop('checkpoints'),
    policiesThatLostRecommendations: before.policiesWithRecommendations.filter((p) => !still.has(p)),
  };
}

// ---------------------------------------------------------------------------------------------

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

function simOomKills(sim: Simulator): { web: number; jobs: number } {
  const out = { web: 0, jobs: 0 };
  for (const p of sim.kubelet.pods.values()) {
    if (!p.namespace.startsWith(NS_PREFIX)) continue;
    const app = p.labels.app === 'jobs' ? 'jobs' : 'web';
    for (const c of p.containers.values()) out[app] += c.oomEventsTotal;
  }
  return out;
}

function deployment(name: string, replicas: number, profile: object, resources: k8s.V1ResourceRequirements) {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: {
            'sim.tailor.dev/profile': (profile as { kind: string }).kind,
            'sim.tailor.dev/params': JSON.stringify({ ...profile, kind: undefined }),
          },
        },
        spec: {
          nodeSelector: { 'sim.tailor.dev/pool': 'faults' },
          terminationGracePeriodSeconds: 5,
          containers: [{ name: 'app', image: `example.com/${name}:1`, resources }],
        },
      },
    },
  };
}

interface FaultResult {
  fault: string;
  what: string;
  startedAt: string;
  faultSeconds: number;
  convergeSeconds: number | null;
  shrunkBelowUsage: number;
  evictedWithoutCause: number;
  evictedWithCause: number;
  memoryRaises: number;
  memoryShrinks: number;
  shrinksUsageUnknown: number;
  resizes: number;
  deferredPods: number;
  infeasiblePods: number;
  refusedPods: number;
  oomKills: { web: number; jobs: number };
  operatorUnplannedRestarts: number;
  operatorExitReasons: string[];
  lost: ReturnType<typeof lost>;
  booksBefore: Books;
  booksAfter: Books;
  notes: string[];
  harm: string[];
}

export default async function run(): Promise<void> {
  const cfg = config();
  const started = Date.now();
  const log = (m: string) => console.log(`[faults] ${new Date().toISOString().slice(11, 19)} ${m}`);
  const loadBefore = loadAverages();
  log(`load averages before: ${loadBefore.join(' ')}`);
  log('building the operator (npm run build) to run it as bin/tailor.js does');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });

  const dir = mkdtempSync(join(tmpdir(), 'faults-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const historyPath = join(dir, 'history.db');
  const opLog = join(dir, 'operator.log');
  const cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: kubeconfig,
    binaries: await ensureBinaries(log),
  });
  cp.onComponentDeath((name, reason) => log(`${name} died (${reason})`));
  let sim: Simulator | undefined;
  let proxy: FaultProxy | undefined;
  let tracker: Tracker | undefined;
  let op: OperatorProcess | undefined;
  let lock: Database.Database | undefined;
  let churn: NodeJS.Timeout | undefined;
  // Ctrl-C: the finally below stops everything this run started.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log('interrupted: cleaning up');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: FaultResult[] = [];
  try {
    const kc = loadKubeConfig(kubeconfig);
    const clients = makeClients(kc);
    await installCrds(clients.ext);
    const nodes = [
      ...Array.from({ length: cfg.nodes }, (_, i) => ({
        name: `faults-${i}`,
        cpu: 32,
        memoryBytes: 64 * Gi,
        ephemeralStorageBytes: 200 * Gi,
        pods: 110,
        gpus: 0,
        zone: `zone-${i % 3}`,
        labels: { 'sim.tailor.dev/pool': 'faults' },
      })),
      // Only the outgrown-node fault's pods may land here (the load's nodeSelector is the other pool).
      ...Array.from({ length: cfg.movers }, (_, i) => ({
        name: `${SMALL_NODE.prefix}-${i}`,
        cpu: SMALL_NODE.cpu,
        memoryBytes: 8 * Gi,
        ephemeralStorageBytes: 200 * Gi,
        pods: 110,
        gpus: 0,
        zone: 'zone-0',
        labels: { 'sim.tailor.dev/pool': SMALL_NODE.pool },
      })),
    ];
    sim = await Simulator.start({
      kc,
      nodes,
      profileFor: profileResolver(loadTraceLibrary()),
      clock: simClock(1),
      tickMs: 1000,
      metricsApi: true,
      log: () => {},
    });
    proxy = await faultProxy(kc);
    const opKubeconfig = join(dir, 'operator.kubeconfig');
    writeFileSync(opKubeconfig, proxy.kubeconfig, { mode: 0o600 });
    tracker = new Tracker(kc, clients, sim);
    await tracker.start();
    const t = tracker;
    proxy.onNodeCapacityRefusal = (pod) => t.refused(pod);

    // The load: per namespace a web service (over-provisioned: shrinks) and periodic jobs that
    // outgrow their memory limit (OOM kills, raised each time, for the whole run); even namespaces
    // InPlace, odd ones Auto.
    const names = Array.from(
      { length: cfg.namespaces },
      (_, i) => `${NS_PREFIX}${String(i).padStart(2, '0')}`,
    );
    await pool(names, 8, async (ns) => {
      await clients.core.createNamespace({ body: { metadata: { name: ns } } });
      for (let attempt = 0; ; attempt++) {
        try {
          await clients.core.readNamespacedServiceAccount({ name: 'default', namespace: ns });
          break;
        } catch (err) {
          if (attempt > 100) throw err;
          await sleep(200);
        }
      }
      await clients.apps.createNamespacedDeployment({
        namespace: ns,
        body: deployment(
          'web',
          cfg.webReplicas,
          {
            kind: 'web',
            baseCpuCores: 0.02,
            peakCpuCores: 0.08,
            baseMemoryBytes: 60 * Mi,
            peakMemoryBytes: 140 * Mi,
            // One cycle within the operator's --min-history: the peak is seen before a shrink.
            periodSeconds: 120,
            noise: 0.1,
            startupSeconds: 2,
          },
          { requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '512Mi' } },
        ),
      });
      await clients.apps.createNamespacedDeployment({
        namespace: ns,
        body: deployment(
          'jobs',
          cfg.jobReplicas,
          {
            kind: 'batch',
            baseCpuCores: 0.02,
            peakCpuCores: 0.2,
            baseMemoryBytes: 64 * Mi,
            peakMemoryBytes: 1536 * Mi,
            periodSeconds: 120,
            busySeconds: 60,
            startupSeconds: 1,
          },
          { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '256Mi' } },
        ),
      });
      for (const name of ['web', 'jobs'])
        await clients.custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: 'sizingpolicies',
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: 'SizingPolicy',
            metadata: { name },
            spec: { mode: modeOf(ns), targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name } },
          },
        });
    });
    const totalPods = cfg.namespaces * (cfg.webReplicas + cfg.jobReplicas);
    const t0 = Date.now();
    for (;;) {
      const running = [...sim.kubelet.pods.values()].filter(
        (p) => p.namespace.startsWith(NS_PREFIX) && p.phase === 'Running',
      ).length;
      if (running >= totalPods) break;
      if (Date.now() - t0 > 300_000)
        throw new Error(`only ${running} of ${totalPods} pods running after 300 s`);
      await sleep(3000);
    }
    log(
      `${totalPods} pods running in ${cfg.namespaces} namespaces after ${Math.round((Date.now() - t0) / 1000)} s`,
    );

    const opPort = await freePort();
    // The admission webhook on a port of this machine (the local apiserver dials it): mode Auto
    // evicts only while it is registered, since it is what sizes the replacement pod.
    const webhookPort = await freePort();
    op = new OperatorProcess(
      [
        join(ROOT, 'dist', 'cli', 'main.js'),
        'operator',
        '--kubeconfig',
        opKubeconfig,
        '--history',
        historyPath,
        '--metrics-addr',
        `127.0.0.1:${opPort}`,
        '--poll-interval',
        '15s',
        '--min-history',
        cfg.minHistory,
        '--no-install-crds',
        '--webhook',
        `127.0.0.1:${webhookPort}`,
        '--log-level',
        'warn',
      ],
      opLog,
      opPort,
      tracker,
      cfg.restartDelaySeconds * 1000,
    );
    tracker.phase = 'steady';
    op.start();
    const opStarted = Date.now();
    while (!(await op.ready())) {
      if (Date.now() - opStarted > 120_000)
        throw new Error(`the operator is not ready after 120 s; see ${opLog}`);
      await sleep(1000);
    }
    log(`operator ready after ${((Date.now() - opStarted) / 1000).toFixed(1)} s`);

    // OOM kills for the whole run: a raised pod stops being killed, so new jobs pods (at the
    // template's 256Mi limit) keep arriving, a few per minute (scaled up, so nothing is deleted).
    const jobReplicas = new Map(names.map((ns) => [ns, cfg.jobReplicas]));
    let churnIndex = 0;
    churn = setInterval(() => {
      for (let k = 0; k < cfg.churnPerMinute; k++) {
        const ns = names[churnIndex++ % names.length]!;
        const replicas = jobReplicas.get(ns)! + 1;
        clients.apps
          .patchNamespacedDeployment(
            { name: 'jobs', namespace: ns, body: { spec: { replicas } } },
            mergePatch,
          )
          .then(
            () => jobReplicas.set(ns, replicas),
            () => {}, // the API may be down (a fault): the next tick scales another
          );
      }
    }, 60_000);

    // The results so far: written after each fault too, so a run cut short keeps what it measured.
    const summary = async (complete: boolean) => {
      const final = await books(clients, historyPath).catch(() => undefined);
      const steady = tracker!.counts('steady');
      const between = [...tracker!.phases.entries()].filter(([k]) => k.startsWith('after '));
      const loadAfter = loadAverages();
      return {
        date: new Date().toISOString(),
        machine: `${cpus().length} cores, ${(totalmem() / Gi).toFixed(0)} GiB`,
        loadAveragesBefore: loadBefore.join(' '),
        loadAveragesAfter: loadAfter.join(' '),
        durationSeconds: Math.round((Date.now() - started) / 1000),
        config: { ...cfg, only: cfg.only ? [...cfg.only] : undefined },
        load: {
          pods: totalPods,
          namespaces: cfg.namespaces,
          policies: cfg.namespaces * 2,
          layout: `per namespace: web (${cfg.webReplicas} replicas, over-provisioned, never near its limit unless shrunk) and jobs (${cfg.jobReplicas} replicas, outgrowing their 256Mi limit: OOM-killed and raised; ${cfg.churnPerMinute} more jobs pods a minute); even namespaces InPlace, odd Auto`,
          nodes: cfg.nodes,
        },
        operator: `node dist/cli/main.js operator --poll-interval 15s --min-history ${cfg.minHistory} --webhook 127.0.0.1:<free port> through the fault proxy (the webhook registered for every namespace, dialled by the apiserver directly); restarted ${cfg.restartDelaySeconds} s after an exit`,
        faults: results,
        outsideFaults: {
          steadyBeforeFirstFault: {
            shrunkBelowUsage: steady.memoryChanges.ShrinkBelowUsage,
            evictedWithoutCause: steady.evictionsWithoutCause,
            resizes: steady.resizes,
            harm: steady.harm.slice(0, 20),
          },
          betweenFaults: {
            shrunkBelowUsage: between.reduce((a, [, c]) => a + c.memoryChanges.ShrinkBelowUsage, 0),
            evictedWithoutCause: between.reduce((a, [, c]) => a + c.evictionsWithoutCause, 0),
            resizes: between.reduce((a, [, c]) => a + c.resizes, 0),
            harm: between.flatMap(([, c]) => c.harm).slice(0, 20),
          },
        },
        operatorUnplannedExits: op!.unplannedExits,
        proxy: proxy!.stats,
        finalBooks: final ? { history: final.history, policiesReady: final.policiesReady } : null,
        complete,
      };
    };

    // One fault: inject, hold, end, then watch for convergence; harm counted from start to converged.
    const fault = async (name: string, what: string, inject: () => Promise<string[] | void>) => {
      if (interrupted || (cfg.only && !cfg.only.has(name))) return;
      const before = await books(clients, historyPath);
      const oomBefore = simOomKills(sim!);
      const exitsBefore = op!.unplannedExits.length;
      tracker!.phase = name;
      const start = Date.now();
      log(`fault ${name}: ${what}`);
      const notes = (await inject()) ?? [];
      const end = Date.now();
      log(`fault ${name} ended after ${((end - start) / 1000).toFixed(0)} s; waiting for convergence`);
      const probes: ConvergenceProbe[] = [];
      let converge: number | undefined;
      while (!interrupted && Date.now() - end < cfg.convergeMaxSeconds * 1000) {
        const probe = {
          t: Date.now(),
          operatorReady: await op!.ready(),
          policiesReady: readyOf(await listPolicies(clients).catch(() => [])),
          resizedSinceEnd: tracker!.lastResizeAt >= end,
        };
        probes.push(probe);
        converge = secondsToConverge(end, before.policiesReady, probes);
        if (converge !== undefined) break;
        await sleep(2000);
      }
      if (converge === undefined) {
        const last = probes.at(-1);
        notes.push(
          `not converged within ${cfg.convergeMaxSeconds} s: operator ready ${last?.operatorReady}, ${last?.policiesReady} of ${before.policiesReady} policies Ready, resized since end ${last?.resizedSinceEnd}`,
        );
      }
      // A moment more so the last writes land before the books are read.
      await sleep(5000);
      const after = await books(clients, historyPath);
      const c = tracker!.counts(name);
      const oomAfter = simOomKills(sim!);
      const exits = op!.unplannedExits.slice(exitsBefore);
      const r: FaultResult = {
        fault: name,
        what,
        startedAt: new Date(start).toISOString(),
        faultSeconds: Math.round((end - start) / 1000),
        convergeSeconds: converge ?? null,
        shrunkBelowUsage: c.memoryChanges.ShrinkBelowUsage,
        evictedWithoutCause: c.evictionsWithoutCause,
        evictedWithCause: c.evictionsWithCause,
        memoryRaises: c.memoryChanges.Raise,
        memoryShrinks: c.memoryChanges.Shrink,
        shrinksUsageUnknown: c.memoryChanges.ShrinkUsageUnknown,
        resizes: c.resizes,
        deferredPods: c.deferredPods.size,
        infeasiblePods: c.infeasiblePods.size,
        refusedPods: c.refusedPods.size,
        oomKills: { web: oomAfter.web - oomBefore.web, jobs: oomAfter.jobs - oomBefore.jobs },
        operatorUnplannedRestarts: exits.length,
        operatorExitReasons: exits.map((e) => e.reason),
        lost: lost(before, after),
        booksBefore: before,
        booksAfter: after,
        notes,
        harm: c.harm.slice(0, 20),
      };
      results.push(r);
      log(
        `fault ${name}: converged ${r.convergeSeconds ?? 'never'} s; shrunk below usage ${r.shrunkBelowUsage}, evicted without cause ${r.evictedWithoutCause}, unplanned restarts ${r.operatorUnplannedRestarts}, lost ${JSON.stringify(r.lost)}`,
      );
      tracker!.phase = `after ${name}`;
      writeResults(await summary(false));
    };

    // 1. The operator SIGKILLed in the middle of its first wave of shrinks (once min-history has
    //    passed), and started again as a Deployment would.
    // Before it: the first wave of shrinks (once min-history has passed), counted as steady state.
    const shrinks = () => {
      const m = tracker!.counts('steady').memoryChanges;
      return m.Shrink + m.ShrinkBelowUsage + m.ShrinkUsageUnknown;
    };
    const waveStart = Date.now();
    let waveNote = '';
    while (!interrupted && shrinks() < 10 && (!cfg.only || cfg.only.has('operator-sigkill'))) {
      if (Date.now() - waveStart > cfg.waveWaitSeconds * 1000) {
        waveNote = `no wave of 10 shrinks within ${cfg.waveWaitSeconds} s; killed anyway`;
        break;
      }
      await sleep(250);
    }
    await fault('operator-sigkill', 'SIGKILL the operator in a wave of resizes, restart it', async () => {
      const notes = [
        ...(waveNote ? [waveNote] : []),
        `killed after ${shrinks()} shrinks and ${tracker!.counts('steady').resizes} resizes since the operator started`,
      ];
      await op!.kill9();
      await sleep(cfg.restartDelaySeconds * 1000);
      op!.start();
      return notes;
    });

    // 2-3. A control-plane component stopped and started again (same flags, data and ports).
    await fault('apiserver-restart', `kube-apiserver down ${cfg.componentDownSeconds} s and back`, () =>
      cp.restartComponent('kube-apiserver', cfg.componentDownSeconds * 1000),
    );
    await fault('etcd-restart', `etcd down ${cfg.componentDownSeconds} s and back`, () =>
      cp.restartComponent('etcd', cfg.componentDownSeconds * 1000),
    );

    // 4. The history store unwritable: another connection holds an exclusive lock past busy_timeout.
    await fault(
      'history-store-locked',
      `SQLite history locked (BEGIN EXCLUSIVE from another connection) for ${cfg.storeLockSeconds} s`,
      async () => {
        lock = new Database(historyPath);
        lock.pragma('busy_timeout = 30000');
        lock.exec('BEGIN EXCLUSIVE');
        await sleep(cfg.storeLockSeconds * 1000);
        lock.exec('ROLLBACK');
        lock.close();
        lock = undefined;
      },
    );

    // 5. metrics.k8s.io gone: the APIService deleted (kubectl top and the operator's polls fail).
    await fault(
      'metrics-api-away',
      `metrics.k8s.io APIService removed for ${cfg.metricsAwaySeconds} s, then registered again`,
      async () => {
        await sim!.metricsApi!.unregister();
        await sim!.metricsApi!.close();
        await sleep(cfg.metricsAwaySeconds * 1000);
        await sim!.metricsApi!.start();
      },
    );

    // 6. Every status write answered 409 Conflict by the proxy in front of the apiserver.
    await fault(
      'status-conflicts',
      `409 Conflict to every PATCH/PUT of */status for ${cfg.conflictSeconds} s`,
      async () => {
        const before = proxy!.stats.conflictsAnswered;
        proxy!.conflicts = true;
        await sleep(cfg.conflictSeconds * 1000);
        proxy!.conflicts = false;
        return [`${proxy!.stats.conflictsAnswered - before} status writes answered 409`];
      },
    );

    // 7. The nodes filled by pods of no policy: raises wait Deferred (or Infeasible) for room.
    await fault(
      'nodes-full',
      `every node's free CPU and memory taken by filler pods for ${cfg.fillSeconds} s`,
      async () => {
        await clients.core.createNamespace({ body: { metadata: { name: FILLER_NS } } });
        for (let attempt = 0; ; attempt++) {
          try {
            await clients.core.readNamespacedServiceAccount({ name: 'default', namespace: FILLER_NS });
            break;
          } catch (err) {
            if (attempt > 100) throw err;
            await sleep(200);
          }
        }
        const all = (await clients.core.listPodForAllNamespaces()).items;
        const fillers: string[] = [];
        for (const n of nodes) {
          let cpu = 0;
          let mem = 0;
          for (const p of all) {
            if (
              p.spec?.nodeName !== n.name ||
              p.status?.phase === 'Succeeded' ||
              p.status?.phase === 'Failed'
            )
              continue;
            for (const c of p.spec.containers) {
              cpu += parseQuantity(c.resources?.requests?.cpu) ?? 0;
              mem += parseQuantity(c.resources?.requests?.memory) ?? 0;
            }
          }
          const freeCpu = Math.floor((n.cpu - cpu) * 1000);
          const freeMem = Math.floor((n.memoryBytes - mem) / Mi);
          if (freeCpu <= 0 || freeMem <= 0) continue;
          const name = `fill-${n.name}`;
          await clients.core.createNamespacedPod({
            namespace: FILLER_NS,
            body: {
              metadata: { name, annotations: { 'sim.tailor.dev/profile': 'idle' } },
              spec: {
                nodeName: n.name,
                terminationGracePeriodSeconds: 0,
                containers: [
                  {
                    name: 'fill',
                    image: 'example.com/fill:1',
                    resources: { requests: { cpu: `${freeCpu}m`, memory: `${freeMem}Mi` } },
                  },
                ],
              },
            },
          });
          fillers.push(name);
        }
        await sleep(cfg.fillSeconds * 1000);
        const left = (await clients.core.listNamespacedPod({ namespace: FILLER_NS })).items;
        const running = left.filter((p) => p.status?.phase === 'Running').length;
        await clients.core.deleteNamespace({ name: FILLER_NS });
        for (;;) {
          const n = (await clients.core.listNamespacedPod({ namespace: FILLER_NS })).items.length;
          if (n === 0) break;
          await sleep(1000);
        }
        return [`${fillers.length} filler pods created, ${running} running at the end`];
      },
    );

    // 8. Pods that outgrow their node: in Auto namespaces a Deployment placed (preferred) on a
    //    2-core node of its own comes to use 1.9 cores (its recommendation, about 2.6, does not fit). The raise is refused by the apiserver (403 NodeCapacity:
    //    beyond the node's allocatable, not only its free room), so Auto evicts the pod and the
    //    webhook sizes the replacement, which the scheduler puts on a node where it fits.
    await fault(
      'outgrown-node',
      `${cfg.movers} Auto pods, one per ${SMALL_NODE.cpu}-core node, come to use ${MOVER_CORES} cores: raise refused (403 NodeCapacity), evicted, replaced at the new size (at most ${cfg.outgrowMaxSeconds} s)`,
      async () => {
        const movers = names.filter((ns) => modeOf(ns) === 'Auto').slice(0, cfg.movers);
        await pool(movers, 4, async (ns) => {
          await clients.custom.createNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: ns,
            plural: 'sizingpolicies',
            body: {
              apiVersion: `${GROUP}/${VERSION}`,
              kind: 'SizingPolicy',
              metadata: { name: 'mover' },
              spec: { mode: 'Auto', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mover' } },
            },
          });
          const body = deployment(
            'mover',
            1,
            { kind: 'idle', cpuCores: MOVER_CORES, memoryBytes: 50 * Mi, noise: 0, startupSeconds: 0 },
            { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          );
          const spec = body.spec.template.spec as k8s.V1PodSpec;
          delete spec.nodeSelector;
          spec.affinity = {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'sim.tailor.dev/pool', operator: 'In', values: [SMALL_NODE.pool, 'faults'] },
                    ],
                  },
                ],
              },
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  preference: {
                    matchExpressions: [
                      { key: 'sim.tailor.dev/pool', operator: 'In', values: [SMALL_NODE.pool] },
                    ],
                  },
                },
              ],
            },
            // One mover per small node (preferred, so the replacements may share a big node).
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchLabels: { app: 'mover' } },
                    namespaceSelector: {},
                    topologyKey: 'kubernetes.io/hostname',
                  },
                },
              ],
            },
          };
          await clients.apps.createNamespacedDeployment({ namespace: ns, body });
        });
        const moverPods = async () =>
          (
            await Promise.all(
              movers.map(
                async (ns) =>
                  (await clients.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=mover' })).items,
              ),
            )
          ).flat();
        // The first pods, as placed.
        const first = new Map<string, k8s.V1Pod>();
        const deadline = Date.now() + cfg.outgrowMaxSeconds * 1000;
        while (!interrupted && first.size < movers.length && Date.now() < deadline) {
          for (const p of await moverPods().catch(() => []))
            if (p.status?.phase === 'Running' && !first.has(p.metadata!.namespace!))
              first.set(p.metadata!.namespace!, p);
          await sleep(2000);
        }
        const onSmall = [...first.values()].filter((p) =>
          p.spec?.nodeName?.startsWith(SMALL_NODE.prefix),
        ).length;
        // Then every one replaced by a Running pod, or the wait runs out.
        const firstUids = new Set([...first.values()].map((p) => p.metadata!.uid!));
        let replaced: k8s.V1Pod[] = [];
        while (!interrupted && Date.now() < deadline) {
          replaced = (await moverPods().catch(() => [])).filter(
            (p) =>
              !firstUids.has(p.metadata!.uid!) &&
              p.status?.phase === 'Running' &&
              !p.metadata?.deletionTimestamp,
          );
          if (new Set(replaced.map((p) => p.metadata!.namespace)).size >= movers.length) break;
          await sleep(2000);
        }
        const cpuOf = (p: k8s.V1Pod) => parseQuantity(p.spec?.containers[0]?.resources?.requests?.cpu) ?? 0;
        const stillFirst = (await moverPods().catch(() => [])).filter((p) => firstUids.has(p.metadata!.uid!));
        return [
          `${first.size} of ${movers.length} first pods Running, ${onSmall} on the ${SMALL_NODE.cpu}-core ${SMALL_NODE.pool} nodes`,
          `${proxy!.stats.nodeCapacityRefusals} resize PATCHes answered 403 NodeCapacity since the proxy started`,
          `${replaced.length} replacement pods Running${replaced.length ? ` (CPU requests ${replaced.map((p) => cpuOf(p).toFixed(2)).join(', ')}; on ${[...new Set(replaced.map((p) => p.spec?.nodeName))].join(', ')})` : ''}`,
          `${stillFirst.length} first pods still there at the end`,
        ];
      },
    );

    const result = await summary(true);
    writeResults(result);
    log(`done in ${result.durationSeconds} s; load averages after: ${String(result.loadAveragesAfter)}`);
  } finally {
    clearInterval(churn);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    try {
      lock?.close();
    } catch {
      // already closed
    }
    await op?.stop();
    await tracker?.stop();
    await proxy?.close();
    await sim?.stop({ deleteNodes: false });
    await cp.stop();
    if (process.env.FAULTS_KEEP) log(`kept ${dir} (FAULTS_KEEP)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

type Result = Record<string, unknown> & { faults: FaultResult[] };

export function writeResults(r: Result): void {
  writeFileSync(join(import.meta.dirname, 'results', 'faults.json'), JSON.stringify(r, null, 2) + '\n');
  const row = (f: FaultResult) =>
    `| ${f.fault} | ${f.faultSeconds} | ${f.shrunkBelowUsage} | ${f.evictedWithoutCause} | ${f.evictedWithCause} | ${lostText(f.lost)} | ${f.operatorUnplannedRestarts}${f.operatorExitReasons.length ? ` (${[...new Set(f.operatorExitReasons)].join(', ')})` : ''} | ${f.convergeSeconds ?? 'not converged'} | ${f.resizes} (${f.memoryRaises} up, ${f.memoryShrinks} down) | ${f.oomKills.jobs} / ${f.oomKills.web} | ${f.deferredPods} / ${f.infeasiblePods} / ${f.refusedPods ?? 0} |`;
  const outside = r.outsideFaults as Record<
    string,
    { shrunkBelowUsage: number; evictedWithoutCause: number }
  >;
  writeFileSync(
    join(import.meta.dirname, 'results', 'faults.md'),
    [
      '# Fault suite',
      '',
      `Reproduce: \`npm run bench -- faults\` (${JSON.stringify(r.config)}). Measured ${String(r.date)} on ${String(r.machine)} in ${String(r.durationSeconds)} s; the real control plane, the simulator (this process, 1 s kubelet tick) and the operator (${String(r.operator)}) ran on the same machine. Load averages (1, 5, 15 min) before: ${String(r.loadAveragesBefore)}; after: ${String(r.loadAveragesAfter)}.`,
      '',
      ...(r.complete
        ? []
        : ['**Partial**: written after the last fault that finished; the run did not complete.', '']),
      `Load: ${JSON.stringify(r.load)}.`,
      '',
      "Per fault, from its start until the operator converged (or the wait ran out): memory changes that left a request or limit below the container's true usage at that moment (the simulator's), pods deleted that were not Auto pods whose resize had been refused by the apiserver for node capacity (403 NodeCapacity, seen by the proxy) or seen Deferred/Infeasible (evicted with cause: the others), history rows and policy recommendations present before and missing after, the operator's exits the benchmark did not cause, and seconds from the fault's end until /readyz is 200, as many policies are Ready as before and a resize was seen again. OOM kills of web pods are harm too: they never come near their limit unless it was lowered below their use.",
      '',
      '| fault | fault s | shrunk below usage | evicted without cause | evicted with cause | lost history / bookkeeping | operator unplanned exits | converge s | resizes | OOM kills jobs / web | pods deferred / infeasible / refused 403 NodeCapacity |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...r.faults.map(row),
      '',
      `Outside the faults: before the first fault shrunk below usage ${outside.steadyBeforeFirstFault?.shrunkBelowUsage}, evicted without cause ${outside.steadyBeforeFirstFault?.evictedWithoutCause}; between faults ${outside.betweenFaults?.shrunkBelowUsage} and ${outside.betweenFaults?.evictedWithoutCause}.`,
      '',
      '## Reading',
      '',
      ...reading(r),
      '',
      '## Notes per fault',
      '',
      ...r.faults.flatMap((f) => [
        `- **${f.fault}** (${f.what}): ${f.notes.join('; ') || 'no notes'}${f.harm.length ? `. First harm: ${f.harm.slice(0, 3).join('; ')}` : ''}`,
      ]),
      '',
    ].join('\n'),
  );
}

function lostText(l: ReturnType<typeof lost>): string {
  const parts = [
    l.historySeries ? `${l.historySeries} series` : '',
    l.historyMinutes ? `${l.historyMinutes} minutes` : '',
    l.historyOoms ? `${l.historyOoms} OOM records` : '',
    l.checkpoints ? `${l.checkpoints} checkpoints` : '',
    l.policiesThatLostRecommendations.length
      ? `${l.policiesThatLostRecommendations.length} policies' recommendations`
      : '',
  ].filter(Boolean);
  const unknown = l.historySeries === null ? 'history unreadable' : '';
  return parts.join(', ') || unknown || 'none';
}

/** The short reading under the table, from the figures themselves (a re-run reads its own numbers). */
function reading(r: Result): string[] {
  const fs = r.faults;
  const sum = (f: (x: FaultResult) => number) => fs.reduce((a, x) => a + f(x), 0);
  const harmed = sum((f) => f.shrunkBelowUsage) + sum((f) => f.evictedWithoutCause);
  const webOoms = sum((f) => f.oomKills.web);
  const restarts = fs.filter((f) => f.operatorUnplannedRestarts > 0);
  const lostAny = fs.filter((f) => lostText(f.lost) !== 'none');
  const slow = [...fs].sort((a, b) => (b.convergeSeconds ?? Infinity) - (a.convergeSeconds ?? Infinity))[0];
  const never = fs.filter((f) => f.convergeSeconds === null).map((f) => f.fault);
  return [
    `- Pods harmed across the ${fs.length} faults: ${sum((f) => f.shrunkBelowUsage)} shrunk below their usage, ${sum((f) => f.evictedWithoutCause)} evicted without cause, ${webOoms} OOM kills of web pods (goal 0 each)${harmed + webOoms === 0 ? ': none' : ''}.`,
    `- The operator's unplanned exits: ${restarts.length ? restarts.map((f) => `${f.operatorUnplannedRestarts} during ${f.fault} (${[...new Set(f.operatorExitReasons)].join(', ')})`).join('; ') : 'none'}; the benchmark restarts it 5 s after an exit, as a Deployment would.`,
    `- Lost history or bookkeeping: ${lostAny.length ? lostAny.map((f) => `${f.fault}: ${lostText(f.lost)}`).join('; ') : 'none (history series, minutes, OOM records and checkpoints never fewer after a fault than before; no policy lost its recommendations)'}. Not visible from outside, so not measured: what the operator keeps only in memory (eviction cooldowns, hourly change counts).`,
    `- Convergence: ${never.length ? `not within the wait after ${never.join(', ')}; ` : ''}slowest ${slow ? `${slow.fault} (${slow.convergeSeconds ?? 'never'} s)` : '-'}; the probe runs every 2 s, so 0 means at the first look.`,
    `- Memory raises (OOM raises among them) seen during each fault: ${fs.map((f) => `${f.fault} ${f.memoryRaises}`).join(', ')}; OOM kills of jobs pods: ${fs.map((f) => `${f.fault} ${f.oomKills.jobs}`).join(', ')}.`,
    `- Evictions with cause: ${sum((f) => f.evictedWithCause)} (${
      fs
        .filter((f) => f.evictedWithCause > 0)
        .map((f) => `${f.fault} ${f.evictedWithCause}`)
        .join(', ') || 'none'
    }); pods seen Deferred ${sum((f) => f.deferredPods)}, Infeasible ${sum((f) => f.infeasiblePods)}, refused 403 NodeCapacity ${sum((f) => f.refusedPods ?? 0)}.${sum((f) => f.evictedWithCause) === 0 ? ' The Auto eviction path was not exercised.' : ''} Filler pods (nodes-full) only defer a raise (the kubelet waits for room; Auto evicts a Deferred pod after 600 s): the apiserver refuses a resize at admission only when it exceeds the node's allocatable, which is what outgrown-node does.`,
  ];
}
