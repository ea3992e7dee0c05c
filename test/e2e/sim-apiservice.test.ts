// `tailor sim` on a cluster that is not only its own: it leaves a metrics.k8s.io APIService it did
// not create alone (and says so, exit non-zero), removes its own on exit, and when it cannot start
// (a port in use) removes what it registered before exiting non-zero. These cases replace and
// delete the cluster-wide metrics APIService, so they run on a control plane of their own, not the
// run's shared one (whose simulator serves metrics.k8s.io to every other test file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ensureBinaries } from '../../src/devcluster/binaries.ts';
import { ControlPlane } from '../../src/devcluster/controlplane.ts';
import { apiError, clients, eventually } from '../support/cluster.ts';

const APISERVICE = 'v1beta1.metrics.k8s.io';
const dir = mkdtempSync(join(tmpdir(), 'sim-apiservice-'));
let cp: ControlPlane;
let c: ReturnType<typeof clients> & {
  reg: k8s.ApiregistrationV1Api;
  storage: k8s.StorageV1Api;
  kubeconfig: string;
};

before(async () => {
  cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: join(dir, 'kubeconfig'),
    binaries: await ensureBinaries(() => {}),
  });
  const base = clients(cp.info.kubeconfigPath);
  c = {
    ...base,
    reg: base.kc.makeApiClient(k8s.ApiregistrationV1Api),
    storage: base.kc.makeApiClient(k8s.StorageV1Api),
    kubeconfig: cp.info.kubeconfigPath,
  };
});

after(async () => {
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function scenario(pool: string): string {
  const file = join(mkdtempSync(join(dir, 'scn-')), 'scenario.yaml');
  writeFileSync(
    file,
    [
      `name: ${pool}`,
      `clock: { speed: 1, tickSeconds: 0.5 }`,
      `storage: { storageClass: ${pool}-storage }`,
      `nodePools:`,
      `  - { name: ${pool}, count: 2, cpu: 2, memory: 4Gi }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** `tailor sim` as a user runs it; killed after 90 s if it has not exited by then. */
function sim(pool: string, ...args: string[]) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'sim',
      '--scenario',
      scenario(pool),
      '--kubeconfig',
      c.kubeconfig,
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(
        code ??
          (signal === 'SIGKILL'
            ? 'killed by SIGKILL (still running after 90 s)'
            : `ended by ${signal}, not by its handler`),
      );
    }),
  );
  return { child, exited, stderr: () => stderr };
}

async function leftBehind(pool: string) {
  const nodes = await c.core.listNode({ labelSelector: `sim.tailor.dev/pool=${pool}` });
  const leases = await c.coordination.listNamespacedLease({ namespace: 'kube-node-lease' });
  const classes = await c.storage.listStorageClass();
  return {
    nodes: nodes.items.map((n) => n.metadata!.name!),
    leases: leases.items.map((l) => l.metadata!.name!).filter((n) => n.startsWith(`${pool}-`)),
    storageClasses: classes.items.map((x) => x.metadata!.name!).filter((n) => n === `${pool}-storage`),
  };
}

async function readApiService(): Promise<k8s.V1APIService | undefined> {
  try {
    return await c.reg.readAPIService({ name: APISERVICE });
  } catch (err) {
    if (apiError(err).code === 404) return undefined;
    throw err;
  }
}

test('a metrics.k8s.io APIService tailor sim did not create is left alone; the sim exits non-zero, naming it', async () => {
  // What metrics-server's manifest registers.
  const foreign = await c.reg.createAPIService({
    body: {
      metadata: { name: APISERVICE, labels: { 'k8s-app': 'metrics-server' } },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
        insecureSkipTLSVerify: true,
        service: { name: 'metrics-server', namespace: 'kube-system' },
      },
    },
  });
  try {
    const run = sim('foreign', '--prometheus-port', '0');
    assert.equal(await run.exited, 2, run.stderr());
    assert.match(
      run.stderr(),
      /APIService v1beta1\.metrics\.k8s\.io exists and was not created by tailor sim \(it points at Service kube-system\/metrics-server\)/,
    );
    assert.match(run.stderr(), /--no-metrics-api .* or --replace-metrics-apiservice/);
    const now = await readApiService();
    assert.equal(now?.metadata?.uid, foreign.metadata?.uid, 'the same object');
    assert.equal(now?.spec?.service?.name, 'metrics-server', 'still pointing at metrics-server');
    assert.equal(now?.spec?.insecureSkipTLSVerify, true);
    assert.deepEqual(
      await leftBehind('foreign'),
      { nodes: [], leases: [], storageClasses: [] },
      'nodes, leases and the StorageClass removed',
    );

    // Told to, it replaces it, and deletes it on exit.
    const replacing = sim('replacing', '--prometheus-port', '0', '--replace-metrics-apiservice');
    await eventually(
      async () =>
        assert.equal(
          (await readApiService())?.metadata?.labels?.['app.kubernetes.io/managed-by'],
          'tailor-sim',
        ),
      { timeoutMs: 60_000, what: 'the APIService replaced' },
    );
    replacing.child.kill('SIGINT');
    assert.equal(await replacing.exited, 0, replacing.stderr());
    assert.equal(await readApiService(), undefined, 'deleted on exit');
  } finally {
    await c.reg.deleteAPIService({ name: APISERVICE }).catch(() => {});
  }
});

test('its own APIService and Service are removed on stop; a stale one of an earlier sim is taken over', async (t) => {
  // After the assertions: a failure here must not leave the next test a stale APIService.
  t.after(() => c.reg.deleteAPIService({ name: APISERVICE }).catch(() => {}));
  // What a `tailor sim` killed with SIGKILL leaves: its APIService, pointing at a dead port.
  await c.reg.createAPIService({
    body: {
      metadata: { name: APISERVICE, labels: { 'app.kubernetes.io/managed-by': 'tailor-sim' } },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
        insecureSkipTLSVerify: true,
        service: { name: 'tailor-sim-metrics', namespace: 'kube-system', port: 1 },
      },
    },
  });
  const run = sim('own', '--prometheus-port', '0');
  try {
    // Served by this simulator: the aggregator reaches it and reports the APIService Available.
    await eventually(
      async () => {
        const a = await readApiService();
        assert.notEqual(a?.spec?.service?.port, 1, `registered with its own port; sim said: ${run.stderr()}`);
        const available = a?.status?.conditions?.find((x) => x.type === 'Available');
        assert.equal(available?.status, 'True', JSON.stringify(available));
      },
      { timeoutMs: 120_000, what: 'its APIService Available' },
    );
    await c.core.readNamespacedService({ name: 'tailor-sim-metrics', namespace: 'kube-system' });
  } finally {
    run.child.kill('SIGTERM');
  }
  const signalled = Date.now();
  assert.equal(await run.exited, 0, run.stderr());
  // Bounded: every step of the stop has its time (10 s for an API step, 3 s for a local one).
  const took = Date.now() - signalled;
  assert.ok(took < 30_000, `stopped ${took} ms after SIGTERM`);
  assert.match(run.stderr(), /stopped\n/);
  assert.equal(await readApiService(), undefined, 'its APIService removed');
  await assert.rejects(
    c.core.readNamespacedService({ name: 'tailor-sim-metrics', namespace: 'kube-system' }),
    (err) => apiError(err).code === 404,
    'its Service removed',
  );
});

test('a port in use: the sim exits non-zero and leaves no node, Lease or APIService behind', async () => {
  const busy: Server = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as { port: number }).port;
  try {
    const run = sim('busy', '--prometheus-port', String(port));
    assert.equal(await run.exited, 2, run.stderr());
    assert.match(run.stderr(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.deepEqual(await leftBehind('busy'), { nodes: [], leases: [], storageClasses: [] });
    assert.equal(await readApiService(), undefined, 'no APIService');
  } finally {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  }
});
