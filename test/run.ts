// `npm test`: starts ONE real control plane for the whole run, then runs every unit and
// end-to-end test file under node's test runner against it, and always stops it afterwards.
//   --unit   only test/unit (no control plane)
//   --e2e    only test/e2e
//   any other argument filters files by substring, e.g. `npm test -- resize`
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../src/devcluster/binaries.ts';
import { ControlPlane } from '../src/devcluster/controlplane.ts';
import { startTestSimulator, type TestSimulator } from './support/simulator.ts';
import { missingLine, needsOf, onPath, prerequisitesFor } from './support/prerequisites.ts';

const args = process.argv.slice(2);
const onlyUnit = args.includes('--unit');
const onlyE2e = args.includes('--e2e');
const filters = args.filter((a) => !a.startsWith('--'));

const list = (dir: string) =>
  readdirSync(join('test', dir))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join('test', dir, f))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const files = [...(onlyE2e ? [] : list('unit')), ...(onlyUnit ? [] : list('e2e'))];
const needsCluster = files.some((f) => f.startsWith(join('test', 'e2e')));

const log = (line: string) => process.stderr.write(`[test] ${line}\n`);
const env: NodeJS.ProcessEnv = { ...process.env };
let cp: ControlPlane | undefined;
let sim: TestSimulator | undefined;
let workDir: string | undefined;

async function cleanup(): Promise<void> {
  await sim?.stop();
  sim = undefined;
  await cp?.stop();
  cp = undefined;
  if (workDir && !process.env.TAILOR_TEST_KEEP) rmSync(workDir, { recursive: true, force: true });
  else if (workDir) log(`kept ${workDir} (TAILOR_TEST_KEEP)`);
}

// What this run needs on the machine, checked before anything starts: one line per missing program
// with its Debian package, instead of tests failing one by one with `spawn prometheus ENOENT`.
const missing = prerequisitesFor(await needsOf(files, needsCluster)).filter((p) => !onPath(p.command));
if (missing.length > 0) {
  for (const p of missing) log(missingLine(p));
  log('install the above (README, Tests: prerequisites), then run the tests again; no test was run');
  process.exit(3);
}

let child: ReturnType<typeof spawn> | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping tests and the control plane`);
    child?.kill(sig);
    void cleanup().then(() => process.exit(130));
  });
}

try {
  if (needsCluster) {
    const binaries = await ensureBinaries(log);
    workDir = mkdtempSync(join(tmpdir(), 'tailor-test-'));
    const started = Date.now();
    cp = await ControlPlane.start({
      dir: join(workDir, 'cluster'),
      kubeconfigPath: join(workDir, 'kubeconfig'),
      binaries,
      progress: log,
    });
    log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${cp.info.server}`);
    cp.onComponentDeath((name, reason, tail) => log(`${name} died during the tests (${reason}):\n${tail}`));
    env.TAILOR_TEST_KUBECONFIG = cp.info.kubeconfigPath;
    env.TAILOR_TEST_CONTROLPLANE = join(cp.info.dir, 'controlplane.json');
    env.TAILOR_TEST_KUBECTL = binaries.kubectl ?? 'kubectl';
    // The node side: one simulated fleet for every test file (pools in test/fixtures/cluster.yaml).
    sim = await startTestSimulator(cp.info.kubeconfigPath, log);
    if (process.env.TAILOR_TEST_DEBUG) {
      let last = Date.now();
      setInterval(() => {
        const lag = Date.now() - last - 1000;
        if (lag > 500) log(`runner event loop stalled ${lag}ms`);
        last = Date.now();
      }, 1000).unref();
    }
    env.TAILOR_TEST_SIM_PROMETHEUS = `127.0.0.1:${sim.prometheusPort}`;
    env.TAILOR_TEST_METRICS_BACKEND = sim.metricsBackend;
  }
  const concurrency = process.env.TAILOR_TEST_CONCURRENCY ?? '2';
  child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
    { stdio: 'inherit', env },
  );
  const code = await new Promise<number>((resolve) => child?.on('close', (c) => resolve(c ?? 1)));
  process.exitCode = code;
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  await cleanup();
}
