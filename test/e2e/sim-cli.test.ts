// `tailor sim --scenario FILE` as a user runs it: nodes from the scenario's pools, its workloads
// created and run to Ready, nodes removed on exit with --cleanup; a bad file names file and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, kubeconfigPath, useCluster } from '../support/cluster.ts';

const cluster = useCluster(import.meta.url);
const cli = ['--import', 'tsx', 'src/cli/main.ts'];

test('tailor sim --scenario registers the pools, runs the workloads, and cleans up its nodes', async () => {
  const { core, apps, namespace } = cluster;
  const pool = `cli-${namespace.slice(-6)}`;
  const file = join(mkdtempSync(join(tmpdir(), 'scn-')), 'scenario.yaml');
  writeFileSync(
    file,
    [
      `name: cli-test`,
      `clock: { speed: 1, tickSeconds: 0.5 }`,
      `storage: { storageClass: ${pool}-storage }`,
      `nodePools:`,
      `  - { name: ${pool}, count: 2, cpu: 2, memory: 4Gi, instanceType: sim.cli }`,
      `workloads:`,
      `  - namespace: ${namespace}`,
      `    name: web`,
      `    replicas: 2`,
      `    pool: ${pool}`,
      `    containers:`,
      `      - name: app`,
      `        requests: { cpu: 100m, memory: 64Mi }`,
      `        profile: { kind: idle, startupSeconds: 1, memoryBytes: 20Mi }`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [
      ...cli,
      'sim',
      '--scenario',
      file,
      '--kubeconfig',
      kubeconfigPath(),
      '--prometheus-port',
      '0',
      '--no-metrics-api',
      '--cleanup',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  try {
    await eventually(
      async () => {
        const nodes = await core.listNode({ labelSelector: `sim.tailor.dev/pool=${pool}` });
        assert.equal(nodes.items.length, 2, `nodes of ${pool}`);
      },
      { timeoutMs: 60_000, what: 'the scenario nodes' },
    );
    await eventually(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
        assert.equal(d.status?.readyReplicas, 2, `ready replicas ${d.status?.readyReplicas}`);
      },
      { timeoutMs: 60_000, what: 'the scenario workload Ready' },
    );
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    for (const p of pods.items) assert.match(p.spec?.nodeName ?? '', new RegExp(`^${pool}-`));
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /scenario cli-test: 2 nodes in 1 pools, 1 workloads/);
  const left = await core.listNode({ labelSelector: `sim.tailor.dev/pool=${pool}` });
  assert.equal(left.items.length, 0, 'nodes deleted with --cleanup');
});

test('a malformed scenario names the file, the field and the allowed values', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'scn-')), 'bad.yaml');
  writeFileSync(
    file,
    'name: bad\nnodePools:\n  - { name: p, count: 1, cpu: 2, memory: 4Gi, gpu: { model: NVIDIA-X, count: 1 } }\n',
  );
  const r = spawnSync(
    process.execPath,
    [...cli, 'sim', '--scenario', file, '--kubeconfig', kubeconfigPath()],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /bad\.yaml:3: nodePools\[0\]\.gpu\.model: "NVIDIA-X" is not a GPU model; allowed: .*NVIDIA-L4/,
  );
});
