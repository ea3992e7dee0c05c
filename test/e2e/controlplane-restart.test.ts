// One component of the control plane stopped and started again, as the fault suite does
// (bench/faults.bench.ts): etcd keeps its data, the apiserver its port, and a deliberate stop is
// not reported as a death while an unexpected exit still is. A control plane of its own: the run's
// shared one must not lose its apiserver under the other test files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../../src/devcluster/binaries.ts';
import { ControlPlane } from '../../src/devcluster/controlplane.ts';
import { clients, eventually } from '../support/cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'cp-restart-'));
let cp: ControlPlane;
const deaths: string[] = [];

before(async () => {
  cp = await ControlPlane.start({
    dir: join(dir, 'cp'),
    kubeconfigPath: join(dir, 'kubeconfig'),
    binaries: await ensureBinaries(() => {}),
  });
  cp.onComponentDeath((name) => deaths.push(name));
});

after(async () => {
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('etcd and kube-apiserver restart with their data and ports; only an unexpected exit is a death', async () => {
  const { core } = clients(cp.info.kubeconfigPath);
  const ns = 'kept';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'c' }, data: { a: '1' } },
  });

  const etcdPid = cp.info.pids.etcd;
  await cp.restartComponent('etcd', 1000);
  assert.notEqual(cp.info.pids.etcd, etcdPid, 'a new etcd process');
  const afterEtcd = await eventually(() => core.readNamespacedConfigMap({ name: 'c', namespace: ns }), {
    timeoutMs: 60_000,
    what: 'the ConfigMap readable after the etcd restart',
  });
  assert.equal(afterEtcd.data?.a, '1', 'etcd kept its data');

  const apiPid = cp.info.pids['kube-apiserver'];
  await cp.stopComponent('kube-apiserver');
  await assert.rejects(core.readNamespacedConfigMap({ name: 'c', namespace: ns }), 'the API is down');
  await cp.startComponent('kube-apiserver');
  assert.notEqual(cp.info.pids['kube-apiserver'], apiPid);
  const afterApi = await core.readNamespacedConfigMap({ name: 'c', namespace: ns });
  assert.equal(afterApi.data?.a, '1', 'same server address, same data');
  assert.deepEqual(deaths, [], 'deliberate stops are not deaths');

  process.kill(cp.info.pids['kube-scheduler'], 'SIGKILL');
  await eventually(() => assert.deepEqual(deaths, ['kube-scheduler']), {
    timeoutMs: 10_000,
    what: 'the unexpected exit reported',
  });
});
