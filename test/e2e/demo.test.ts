// `tailor demo` as a new user runs it: one process brings up its own control plane (a second one,
// beside the suite's), the simulated fleet and the operator; every tenant runs, the dashboard
// shows savings, pods are resized in place within minutes, and Ctrl-C leaves nothing running.
// Its bad input (a port in use, no setpriv, no Go) fails in one line before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { eventually } from '../support/cluster.ts';
import type { Report } from '../../src/core/report/model.ts';
import type { TenantBudget } from '../../src/api/index.ts';

const cli = ['--import', 'tsx', 'src/cli/main.ts', 'demo'];

/** The tenants the demo promises: scenario tenants and the two ModelDeployments' namespaces. */
const TENANTS = ['chat', 'code-assist', 'shop', 'genai-legacy', 'support', 'acme', 'globex'];

function processesMentioning(needle: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const requests = (c: k8s.V1Container | k8s.V1ContainerStatus | undefined) =>
  JSON.stringify(c?.resources?.requests ?? {});

test('tailor demo runs every tenant, shows savings, resizes pods in place, and Ctrl-C leaves nothing running', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tailor-demo-')), 'state');
  // Short history gate and poll: the test waits a bounded few minutes on 2 cores.
  const child = spawn(
    process.execPath,
    [
      ...cli,
      '--port',
      '0',
      '--dir',
      dir,
      '--min-history',
      '30s',
      '--poll-interval',
      '2s',
      '--summary-every',
      '5s',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? `signal ${signal}`)),
  );
  try {
    // 1. Start-up progress, then the ready block with what to look at.
    await eventually(() => assert.match(stdout, /^ready in /m, `no ready line yet; stderr:\n${stderr}`), {
      timeoutMs: 300_000,
      what: 'the demo ready line',
    });
    assert.match(stderr, /\[1\/6\] checking prerequisites .*\(\d+\.\ds\)/);
    assert.match(stderr, /\[6\/6\] applying 7 SizingPolicies and 2 ModelDeployments/);
    assert.match(stderr, /the operator runs as system:serviceaccount:tailor-system:tailor-operator/);
    const kubeconfig = /^kubeconfig:\s+(\S+)$/m.exec(stdout)?.[1];
    const dashboard = /^dashboard:\s+(http\S+\/ui)$/m.exec(stdout)?.[1];
    const simMetrics = /^simulator:\s+(http\S+\/metrics)/m.exec(stdout)?.[1];
    assert.ok(kubeconfig && dashboard && simMetrics, stdout);
    assert.match(stdout, /get sizingpolicies -A/);
    assert.match(stdout, /get tenantbudgets -A/);
    assert.match(stdout, new RegExp(`tailor report --kubeconfig ${kubeconfig} -A`));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const apiPort = Number(new URL(kc.getCurrentCluster()!.server).port);

    // 2. Every tenant's pods reach Running, through the kubeconfig the demo printed.
    await eventually(
      async () => {
        for (const ns of TENANTS) {
          const pods = (await core.listNamespacedPod({ namespace: ns })).items;
          assert.ok(pods.length > 0, `no pod in ${ns}`);
          for (const p of pods) assert.equal(p.status?.phase, 'Running', `${ns}/${p.metadata?.name}`);
        }
      },
      { timeoutMs: 180_000, intervalMs: 2000, what: 'every tenant Running' },
    );

    // 3. The dashboard answers, and its report lists the tenants with a saving available.
    assert.equal((await fetch(dashboard)).status, 200);
    assert.equal((await fetch(simMetrics)).status, 200);
    await eventually(
      async () => {
        const r = await fetch(`${dashboard}/api/report.json`);
        assert.equal(r.status, 200);
        const report = (await r.json()) as Report;
        const listed = report.namespaces.map((n) => n.namespace);
        for (const ns of TENANTS) assert.ok(listed.includes(ns), `${ns} in ${listed.join(',')}`);
        assert.ok(
          report.namespaces.some((n) => n.figures.available.cost !== 0),
          'some tenant has a saving available',
        );
        // The packing what-if (cluster-wide operator): a figure per demo pool, or the pods that fit nowhere.
        const p = report.packing;
        assert.ok(p, 'the report has a packing section');
        switch (p.kind) {
          case 'Packed':
            assert.deepEqual(
              p.pools.map((x) => x.pool),
              ['general', 'gpu-a100', 'gpu-l4'],
            );
            console.log(
              `packing: ${p.pools.map((x) => `${x.pool} ${x.nodesNeeded}/${x.nodesToday} needed, ${x.nodesFreed} freed, ${x.gpusFreed.map((g) => `${g.gpus} ${g.model}`).join(' ') || 'no GPU'}, kept by caveats ${x.heldByPins}`).join('; ')}`,
            );
            break;
          case 'Unschedulable':
            assert.ok(p.pods.length > 0);
            console.log(`packing: unschedulable ${JSON.stringify(p.pods)}`);
            break;
        }
      },
      { timeoutMs: 120_000, intervalMs: 3000, what: 'the dashboard report with savings' },
    );

    // 3b. The demo's TenantBudgets (examples/demo/budgets.yaml) are judged: a state, figures, Ready.
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await eventually(
      async () => {
        for (const namespace of ['chat', 'shop']) {
          const b = (await custom.getNamespacedCustomObject({
            group: 'tailor.dev',
            version: 'v1alpha1',
            namespace,
            plural: 'tenantbudgets',
            name: 'monthly',
          })) as TenantBudget;
          assert.ok(
            b.status?.state && Number(b.status.forecast?.cost) > 0,
            `${namespace}: ${JSON.stringify(b.status)}`,
          );
          assert.equal(b.status.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
        }
      },
      { timeoutMs: 120_000, intervalMs: 3000, what: 'the demo budgets judged' },
    );

    // 4. A pod resized in place: the kubelet reports requests other than its workload's template,
    //    and it is the same pod (not recreated: created before the resize, no restart).
    await eventually(
      async () => {
        const resized: string[] = [];
        for (const ns of TENANTS) {
          const owners = [
            ...(await apps.listNamespacedDeployment({ namespace: ns })).items,
            ...(await apps.listNamespacedStatefulSet({ namespace: ns })).items,
          ];
          for (const p of (await core.listNamespacedPod({ namespace: ns })).items) {
            const owner = owners.find((o) =>
              Object.entries(o.spec?.selector.matchLabels ?? {}).every(
                ([k, v]) => p.metadata?.labels?.[k] === v,
              ),
            );
            for (const s of p.status?.containerStatuses ?? []) {
              const template = owner?.spec?.template.spec?.containers.find((c) => c.name === s.name);
              if (template && s.resources && requests(s) !== requests(template) && s.restartCount === 0)
                resized.push(`${ns}/${p.metadata?.name}/${s.name}`);
            }
          }
        }
        assert.ok(resized.length > 0, 'no container runs with requests other than its template yet');
      },
      { timeoutMs: 300_000, intervalMs: 5000, what: 'a pod resized in place' },
    );
    // The progress line is printed every few seconds: the count catches up with the cluster.
    await eventually(
      () =>
        assert.match(
          stderr,
          /pods \d+\/\d+ running \| [1-9]\d* resizes? applied \| \d+ OOM raises? \| savings available/,
        ),
      { timeoutMs: 30_000, intervalMs: 1000, what: 'the progress line counts the resize' },
    );

    // 4b. Nodes leave (issue 15's "realised"): the simulator's scale-down drains an unneeded
    //     general node through the Eviction API until the pools are within one node of what the
    //     packing what-if says the recommendations need; the storefront's PodDisruptionBudget
    //     (two of three available) holds at every look, and `tailor report` counts the removal.
    const pool = async (name: string) =>
      (await core.listNode({ labelSelector: `sim.tailor.dev/pool=${name}` })).items.length;
    const generalAtStart = 3;
    let fewestStorefronts = Infinity;
    let lastPacking = '';
    await eventually(
      async () => {
        const storefronts = (
          await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=storefront' })
        ).items.filter(
          (p) =>
            !p.metadata?.deletionTimestamp &&
            p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        fewestStorefronts = Math.min(fewestStorefronts, storefronts);
        const removed = generalAtStart - (await pool('general'));
        const report = (await (await fetch(`${dashboard}/api/report.json`)).json()) as Report;
        const p = report.packing;
        assert.ok(p?.kind === 'Packed', `packing: ${JSON.stringify(p)}`);
        lastPacking = p.pools.map((x) => `${x.pool} ${x.nodesNeeded}/${x.nodesToday}`).join(', ');
        assert.ok(removed >= 1, `no general node removed yet (what-if: ${lastPacking})`);
        assert.equal(
          p.pools.find((x) => x.pool === 'general')?.nodesToday,
          generalAtStart - removed,
          `the report has not seen the removal yet (what-if: ${lastPacking})`,
        );
        for (const x of p.pools)
          assert.ok(
            x.nodesToday - x.nodesNeeded <= 1,
            `${x.pool}: ${x.nodesToday} nodes, ${x.nodesNeeded} needed`,
          );
      },
      { timeoutMs: 240_000, intervalMs: 1000, what: 'the general pool shrunk to the what-if' },
    );
    assert.ok(fewestStorefronts >= 2, `the storefront's PDB broke: ${fewestStorefronts} Ready at one look`);
    const pdb = await kc
      .makeApiClient(k8s.PolicyV1Api)
      .readNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'storefront' });
    assert.equal(pdb.spec?.minAvailable, 2);
    const reportCli = spawnSync(
      process.execPath,
      [...cli.slice(0, -1), 'report', '--kubeconfig', kubeconfig, '-A'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.match(
      reportCli.stdout,
      /Realised: [1-9]\d* nodes? removed by scale-down .*\(general: [1-9]/,
      reportCli.stderr,
    );
    console.log(`scale-down: what-if ${lastPacking}; fewest Ready storefronts ${fewestStorefronts}`);

    // 5. Ctrl-C: exit 0 within a bounded time; no process, no port, no state folder left.
    assert.ok(await accepts(apiPort), 'the demo apiserver answers before Ctrl-C');
    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000).unref()),
    ]);
    assert.equal(code, 0, stderr.slice(-3000));
    assert.match(stderr, /stopped \(/);
    await eventually(
      async () => {
        assert.deepEqual(processesMentioning(dir), []);
        assert.equal(await accepts(apiPort), false, 'the apiserver port is closed');
      },
      { timeoutMs: 10_000, what: 'nothing of the demo left running' },
    );
    assert.equal(existsSync(dir), false, 'the state folder is removed (no --keep)');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

/** A PATH of only these commands, so a test can take one away. */
function pathWith(commands: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'tailor-demo-path-'));
  for (const c of commands) {
    const found = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(found, `${c} is on this machine's PATH`);
    symlinkSync(found, join(bin, c));
  }
  return bin;
}

function demo(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [...cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

test('tailor demo refuses a port in use, a missing setpriv and a missing Go in one line each, starting nothing', async () => {
  const home = mkdtempSync(join(tmpdir(), 'tailor-demo-bad-'));
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as AddressInfo).port;
  try {
    const dir = join(home, 'port');
    const r = demo(['--port', String(port), '--dir', dir]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`tailor: port ${port} on 127.0.0.1 is in use`));
    assert.match(r.stderr, /hint: pass --port with a free port, or --port 0/);
    assert.equal(existsSync(dir), false, 'nothing was created');
  } finally {
    busy.close();
  }

  const noSetpriv = demo(['--port', '0', '--dir', join(home, 'setpriv')], { PATH: pathWith(['sh']) });
  assert.equal(noSetpriv.status, 3, noSetpriv.stderr);
  assert.match(noSetpriv.stderr, /`setpriv` \(util-linux\) is not on PATH/);
  assert.match(noSetpriv.stderr, /hint: install util-linux/);

  // No cached control plane (an empty cache) and no Go: the build cannot happen.
  const cache = join(home, 'cache');
  mkdirSync(cache);
  const dir = join(home, 'go');
  const noGo = demo(['--port', '0', '--dir', dir], {
    PATH: pathWith(['sh', 'setpriv']),
    XDG_CACHE_HOME: cache,
    TAILOR_ASSETS: '',
    KUBEBUILDER_ASSETS: '',
  });
  assert.equal(noGo.status, 3, noGo.stderr);
  assert.match(noGo.stderr, /Go is needed to build the control plane, and `go` is not on PATH/);
  assert.match(noGo.stderr, /hint: install Go/);
  assert.equal(existsSync(dir), false, 'the state folder is removed again');
  assert.deepEqual(processesMentioning(dir), []);
  // The YAML the demo applies parses (a typo in it would only show at start otherwise).
  assert.ok(parseYaml(readFileSync('examples/scenarios/demo.yaml', 'utf8')));
});
