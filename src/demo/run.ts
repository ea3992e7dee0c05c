// `tailor demo` end to end in one process: the control plane (built the first time), the simulated
// node side with the demo fleet, the operator (webhook, /metrics, /ui) as its own ServiceAccount,
// the policies and ModelDeployments; a live summary; and on SIGINT/SIGTERM everything taken down.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { TailorError } from '../errors.ts';
import { ensureBinaries } from '../devcluster/binaries.ts';
import { ControlPlane } from '../devcluster/controlplane.ts';
import { isAlive } from '../devcluster/daemon.ts';
import { packageRoot } from '../devcluster/paths.ts';
import { freePort } from '../devcluster/ports.ts';
import { installCrds } from '../api/install.ts';
import { loadKubeConfig, makeClients } from '../kube/client.ts';
import { simClock } from '../sim/clock.ts';
import { profileResolver } from '../sim/profiles.ts';
import { parseScenario, scenarioNodes } from '../sim/scenario.ts';
import { scaleDownPools } from '../sim/consolidation/index.ts';
import { Simulator } from '../sim/simulator.ts';
import { loadTraceLibrary } from '../sim/usage/index.ts';
import { applyWorkloads } from '../sim/workloads.ts';
import { startOperator, type RunningOperator } from '../operator/index.ts';
import type { Report } from '../core/report/model.ts';
import { operatorIdentity } from './identity.ts';
import { applyObjects, ensureNamespaces, readManifests } from './manifests.ts';
import { counterSum, summaryLine } from './summary.ts';

export interface DemoOptions {
  /** State folder: the cluster's data, kubeconfigs, logs, the usage history. */
  readonly dir: string;
  /** Port of /metrics and /ui on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  readonly pollIntervalMs: number;
  readonly minHistorySeconds: number;
  readonly summaryEveryMs: number;
  /** Keep the state folder on exit (logs, history). */
  readonly keep: boolean;
}

/** What the demo runs, relative to the package (a clone or an installed package). */
export function demoFiles(root = packageRoot()) {
  return {
    scenario: join(root, 'examples', 'scenarios', 'demo.yaml'),
    policies: join(root, 'examples', 'demo', 'policies.yaml'),
    budgets: join(root, 'examples', 'demo', 'budgets.yaml'),
    disruptionBudgets: join(root, 'examples', 'demo', 'disruption-budgets.yaml'),
    modelDeployments: [
      join(root, 'examples', 'modeldeployment.yaml'),
      join(root, 'examples', 'modeldeployment-llamacpp.yaml'),
    ],
  };
}

const STEPS = 6;

/** Thrown through the start-up when a signal interrupts it: not a failure, the normal way out. */
class Stopped extends Error {}
const STOPPED = new Stopped('stopped by a signal');

/** Runs the demo until SIGINT/SIGTERM; resolves once everything it started is stopped. */
export async function runDemo(o: DemoOptions, err: (line: string) => void, out: (text: string) => void) {
  const started = Date.now();
  const dir = resolve(o.dir);
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  let stepNo = 0;
  const step = (what: string) => err(`[${++stepNo}/${STEPS}] ${what} (${elapsed()})`);
  const detail = (line: string) => err(`      ${line}`);

  // Undone in reverse order on exit, whatever the step that failed or was interrupted.
  const undo: { what: string; fn: () => Promise<void> }[] = [];
  let interrupted: string | undefined;
  let wake: () => void = () => {};
  const stopSignal = new Promise<void>((r) => (wake = r));
  const onSignal = (sig: string) => {
    if (interrupted) {
      // A second Ctrl-C: leave now; the control plane's processes die with this one (PDEATHSIG).
      err(`${sig} again: exiting now`);
      process.exit(130);
    }
    interrupted = sig;
    err(`${sig}: stopping everything the demo started (Ctrl-C again to exit at once)`);
    wake();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  /** Waits for `p`, unless a signal comes first (then the start-up stops where it is). */
  const orStop = async <T>(p: Promise<T>): Promise<T> => {
    const r = await Promise.race([p, stopSignal.then(() => STOPPED)]);
    if (r === STOPPED) throw STOPPED;
    return r as T;
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    // 1. Everything that can be checked before anything starts: nothing to clean up if it fails.
    step('checking prerequisites (port, setpriv, the control-plane binaries)');
    await portFree(o.port);
    requireSetpriv();
    claimStateDir(dir);
    undo.push({
      what: 'the state folder',
      fn: () => {
        rmSync(join(dir, 'demo.pid'), { force: true });
        if (!o.keep) rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    });
    const binaries = await orStop(ensureBinaries(detail));
    const files = demoFiles();
    const scenario = parseScenario(readFileSync(files.scenario, 'utf8'), files.scenario);
    const policies = readManifests(files.policies);
    const budgets = readManifests(files.budgets);
    const pdbs = readManifests(files.disruptionBudgets);
    const models = files.modelDeployments.flatMap(readManifests);

    // 2. The control plane, in this process: its components die with it (setpriv --pdeathsig).
    step('starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)');
    const kubeconfigPath = join(dir, 'kubeconfig');
    const cp = await orStop(
      ControlPlane.start({ dir: join(dir, 'cluster'), kubeconfigPath, binaries, progress: detail }),
    );
    undo.push({ what: 'the control plane', fn: () => cp.stop() });
    cp.onComponentDeath((name, reason) => {
      err(`${name} died (${reason}); its log: ${join(dir, 'cluster', 'logs', `${name}.log`)}`);
      process.exitCode = 4;
      onSignal('component failure');
    });
    const adminKc = loadKubeConfig(kubeconfigPath);
    const admin = makeClients(adminKc);

    // 3. The node side: nodes, kubelets, CSI storage, metrics.k8s.io, a Prometheus endpoint.
    const speed = scenario.clock.speed;
    const nodes = scenarioNodes(scenario);
    step(
      `starting the simulator: ${nodes.length} nodes, ${scenario.workloads.length} workloads, clock x${speed}`,
    );
    const simLog = logFile(join(dir, 'simulator.log'));
    const sim = await orStop(
      Simulator.start({
        kc: adminKc,
        nodes,
        profileFor: profileResolver(loadTraceLibrary(), scenario.defaultProfile),
        storageClass: scenario.storage.storageClass,
        clock: simClock(speed, scenario.clock.start ?? Date.now() / 1000),
        tickMs: Math.max(100, (scenario.clock.tickSeconds * 1000) / speed),
        prometheusPort: 0,
        metricsApi: true,
        scaleDown: scaleDownPools(scenario.nodePools),
        log: simLog,
      }),
    );
    undo.push({ what: 'the simulator', fn: () => sim.stop({ deleteNodes: false }) });
    if (sim.metricsApi) detail(sim.metricsApi.description);
    await orStop(applyWorkloads(admin, scenario, detail));

    // 4. Tailor's CRDs and the operator's ServiceAccount with the shipped least-privilege roles.
    step('installing the CRDs and the operator ServiceAccount (deploy/rbac/operator.yaml)');
    await orStop(installCrds(admin.ext));
    const identity = await orStop(operatorIdentity(admin, adminKc, join(dir, 'operator.kubeconfig')));
    detail(`the operator runs as ${identity.user}`);

    // 5. The operator: sizing, models and boost controllers, the webhook, /metrics and /ui.
    step(`starting the operator (webhook, /metrics, /ui on 127.0.0.1:${o.port || 'a free port'})`);
    let latest: Report | undefined;
    const operator: RunningOperator = await orStop(
      startOperator({
        kc: identity.kc,
        historyPath: join(dir, 'history.sqlite'),
        pollIntervalMs: o.pollIntervalMs,
        metricsAddr: `127.0.0.1:${o.port}`,
        log: pino({ name: 'tailor-operator', level: 'info' }, pino.destination(join(dir, 'operator.log'))),
        processMetrics: true,
        installCrds: false,
        sizing: { minHistorySeconds: o.minHistorySeconds },
        // Volume usage from the simulated kubelets' Summary API on loopback, whose certificate is
        // the simulator's own (self-signed): the demo's only unverified connection.
        kubeletInsecureTls: true,
        webhook: { host: '127.0.0.1', port: await freePort(), register: {} },
        // The demo's figures move in minutes: a standing report every 15 s rather than every minute.
        reportIntervalMs: 15_000,
        onReport: (r) => (latest = r),
      }),
    );
    undo.push({ what: 'the operator', fn: () => operator.stop() });

    // 6. What the operator acts on: a SizingPolicy per scenario tenant, two ModelDeployments.
    step(
      `applying ${policies.length} SizingPolicies and ${models.length} ModelDeployments (and ${budgets.length} TenantBudgets, ${pdbs.length} PodDisruptionBudget${pdbs.length === 1 ? '' : 's'})`,
    );
    await orStop(applyObjects(admin, policies));
    await orStop(applyObjects(admin, budgets));
    await orStop(applyObjects(admin, pdbs));
    await orStop(ensureNamespaces(admin, models));
    await orStop(applyObjects(admin, models));

    const port = operator.http?.port ?? o.port;
    const kubectl = `kubectl --kubeconfig ${kubeconfigPath}`;
    out(
      [
        `ready in ${elapsed()}: Tailor is sizing ${scenario.workloads.length + models.length} workloads of ${new Set([...scenario.workloads.map((w) => w.namespace), ...models.map((m) => m.metadata?.namespace)]).size} tenants`,
        '',
        `kubeconfig:  ${kubeconfigPath}`,
        `dashboard:   http://127.0.0.1:${port}/ui`,
        `metrics:     http://127.0.0.1:${port}/metrics   (the operator)`,
        `simulator:   http://127.0.0.1:${sim.prometheus.port}/metrics   (node-side usage, Prometheus format; per job: /metrics/cadvisor, /metrics/kube-state-metrics, ...)`,
        `logs:        ${dir}/{operator,simulator}.log, ${dir}/cluster/logs/`,
        '',
        `try:  ${kubectl} get pods -A`,
        `      ${kubectl} get sizingpolicies -A`,
        `      ${kubectl} get modeldeployments -A`,
        `      ${kubectl} get tenantbudgets -A`,
        `      npx tailor report --kubeconfig ${kubeconfigPath} -A   (or open the dashboard)`,
        binaries.kubectl ? `(kubectl: ${binaries.kubectl} if none is on PATH)` : '',
        '',
        `Lowering waits for ${o.minHistorySeconds}s of usage history (--min-history); raises and OOM raises do not wait.`,
        'Ctrl-C stops and removes everything the demo started.',
        '',
      ].join('\n'),
    );

    const summarise = async () => {
      const line = summaryLine({
        pods: operator.caches.pods.list(),
        resizesApplied: await counterSum(operator.metrics.resizes, { result: 'Applied' }),
        oomRaises: await counterSum(operator.metrics.oomRaises),
        report: latest,
      });
      err(`${new Date().toISOString().slice(11, 19)} ${line}`);
    };
    timer = setInterval(() => void summarise().catch(() => {}), o.summaryEveryMs);
    await stopSignal;
  } catch (e) {
    if (e !== STOPPED) {
      await teardown(undo, err);
      throw e;
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  await teardown(undo, err);
  process.off('SIGINT', sigint);
  process.off('SIGTERM', sigterm);
  err(`stopped (${elapsed()})${o.keep ? `; state kept in ${dir}` : ''}`);
}

async function teardown(undo: { what: string; fn: () => Promise<void> }[], err: (l: string) => void) {
  for (const u of undo.splice(0).reverse()) {
    try {
      // Bounded: a hung API call must not keep the demo (and its control plane) alive.
      await Promise.race([u.fn(), new Promise((r) => setTimeout(r, 20_000).unref())]);
    } catch (e) {
      err(`stopping ${u.what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** A log sink into a file of the state folder (the terminal keeps the progress and the summary). */
function logFile(path: string): (line: string) => void {
  const s = createWriteStream(path, { flags: 'a' });
  return (line) => s.write(`${new Date().toISOString()} ${line}\n`);
}

/** The port must be free before anything starts: failing after the control plane is up wastes a minute. */
export function portFree(port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new TailorError(
          'InvalidInput',
          `port ${port} on 127.0.0.1 is in use (${e.code ?? e.message}); the demo serves /ui and /metrics there`,
          { hint: `pass --port with a free port, or --port 0 for any free one` },
        ),
      ),
    );
    s.listen(port, '127.0.0.1', () => s.close(() => resolvePromise()));
  });
}

/** setpriv ties the control plane's processes to this one: without it a killed demo leaves them running. */
function requireSetpriv(): void {
  const r = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return;
  throw new TailorError(
    'Prerequisite',
    '`setpriv` (util-linux) is not on PATH; the demo needs it so its control plane dies with it',
    {
      hint: 'install util-linux: apt-get install util-linux (Debian/Ubuntu), dnf install util-linux (Fedora)',
    },
  );
}

/** One demo per state folder; a folder left by a demo that died is reused. */
function claimStateDir(dir: string): void {
  const pidFile = join(dir, 'demo.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
      throw new TailorError('InvalidInput', `a demo is already running with state in ${dir} (pid ${pid})`, {
        hint: 'stop it with Ctrl-C in its terminal, or pass --dir with another folder',
      });
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(pidFile, String(process.pid));
}
