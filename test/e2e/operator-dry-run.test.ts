// `tailor operator --dry-run` on the real control plane and simulator: an InPlace policy gets its
// status (recommendations, Ready with reason DryRun) while the pod is never changed; the usage
// history is on disk, so a restarted operator starts from it; and the command itself starts, serves
// its health endpoints and stops on SIGTERM.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageHistory } from '../../src/sources/history.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import {
  conditionOf,
  createPolicy,
  eventsFor,
  expectPolicyStatus,
  podOf,
  startTestOperator,
  overProvisioned,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tailor-dry-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--dry-run: status is written, the pod never changes; the history survives a restart', async () => {
  const { apps, core, namespace } = cluster;
  const historyPath = join(dir, 'history.db');
  const operator = await startTestOperator(cluster, { dryRun: true, historyPath });
  try {
    await apps.createNamespacedDeployment({
      namespace,
      body: overProvisioned('web'),
    });
    const pod = await podOf(cluster, 'web');
    await createPolicy(cluster, 'web', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    });
    const p = await expectPolicyStatus(cluster, 'web', (s) => {
      assert.equal(
        conditionOf(s, 'Ready')?.reason,
        'DryRun',
        `Ready ${JSON.stringify(conditionOf(s, 'Ready'))}`,
      );
      assert.ok((s.status?.recommendations?.length ?? 0) > 0, 'recommendations in status');
    });
    assert.equal(p.status?.lastApplied, undefined, 'nothing applied');
    await new Promise((r) => setTimeout(r, 4000));
    const now = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace });
    assert.equal(now.metadata?.generation, pod.metadata?.generation, 'generation unchanged');
    assert.deepEqual(now.spec?.containers[0]?.resources, pod.spec?.containers[0]?.resources);
    assert.equal(
      (await eventsFor(cluster, 'Pod', pod.metadata!.name!, 'Resized')).length,
      0,
      'no Resized event',
    );
  } finally {
    await operator.stop();
  }
  // The samples are on disk: a restarted operator (or `tailor recommend --history`) reads them.
  const history = UsageHistory.open(historyPath);
  try {
    const series = history.series().filter((s) => s.workload.name === 'web' && s.container === 'app');
    assert.equal(series.length, 1, `series ${JSON.stringify(history.series())}`);
  } finally {
    history.close();
  }
});

test('the command: tailor operator serves /healthz and /readyz, and stops cleanly on SIGTERM', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'operator',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '-n',
      cluster.namespace,
      '--history',
      join(dir, 'cli.db'),
      '--poll-interval',
      '1s',
      '--metrics-addr',
      `127.0.0.1:${port}`,
      '--dry-run',
      // The first test installed them; replacing CRDs under other test files is not this test's business.
      '--no-install-crds',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        assert.equal(res.status, 200, `readyz ${res.status}`);
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `the operator ready (output: ${output})` },
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), /tailor_usage_polls_total/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `exit code; output: ${output}`);
  assert.match(output, /"msg":"stopping"/);
});
