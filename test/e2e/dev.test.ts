// `tailor dev up` / `down` as a user runs them: a second, independent control plane in a folder
// of its own, reachable with kubectl, and no process left behind when its supervisor is killed
// or one of its components fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, COMPONENTS } from '../../src/devcluster/binaries.ts';
import { eventually } from '../support/cluster.ts';

const kubectlBin = process.env.TAILOR_TEST_KUBECTL ?? 'kubectl';

function tailor(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 180_000,
  });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Processes whose command line mentions `needle` (our own test dir): what a leak would look like. */
function processesMentioning(needle: string): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

test('tailor dev up starts a cluster kubectl can use; killing its supervisor leaves nothing running', async () => {
  const home = mkdtempSync(join(tmpdir(), 'tailor-home-'));
  const dir = join(home, 'dev');
  const kubeconfig = join(home, 'kc.yaml');
  const upRun = tailor(['dev', 'up', '--dir', dir, '--kubeconfig', kubeconfig]);
  assert.equal(upRun.status, 0, upRun.stderr);
  assert.match(upRun.stderr, /control plane ready in/);
  assert.match(upRun.stdout, new RegExp(`kubeconfig: ${kubeconfig}`));

  const get = spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, 'get', 'nodes,ns', '-o', 'name'], {
    encoding: 'utf8',
  });
  assert.equal(get.status, 0, get.stderr);
  assert.match(get.stdout, /namespace\/kube-system/);

  // A second `up` finds the running one instead of starting another.
  const again = tailor(['dev', 'up', '--dir', dir, '--kubeconfig', kubeconfig]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already running/);

  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { supervisorPid: number };
  assert.equal(
    processesMentioning(dir).length >= 4,
    true,
    'etcd and the three components run under the dev dir',
  );
  process.kill(state.supervisorPid, 'SIGKILL');
  await eventually(() => assert.deepEqual(processesMentioning(dir), []), {
    timeoutMs: 10_000,
    what: 'no process left',
  });

  const status = tailor(['dev', 'status', '--dir', dir]);
  assert.equal(status.status, 1);
  assert.match(status.stdout, /Stopped/);
});

test('tailor dev down stops a running cluster and removes its data', () => {
  const home = mkdtempSync(join(tmpdir(), 'tailor-home-'));
  const dir = join(home, 'dev');
  const kubeconfig = join(home, 'kc.yaml');
  assert.equal(tailor(['dev', 'up', '--dir', dir, '--kubeconfig', kubeconfig]).status, 0);
  const down = tailor(['dev', 'down', '--dir', dir]);
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stderr, /control plane stopped/);
  assert.deepEqual(processesMentioning(dir), []);
  assert.match(tailor(['dev', 'down', '--dir', dir]).stderr, /no control plane was running/);
});

test('a component that dies at start fails tailor dev up with its last log lines, and stops the others', async () => {
  const real = await ensureBinaries();
  const assets = mkdtempSync(join(tmpdir(), 'assets-'));
  for (const c of COMPONENTS) if (c !== 'kube-scheduler') symlinkSync(real[c], join(assets, c));
  writeFileSync(
    join(assets, 'kube-scheduler'),
    '#!/bin/sh\necho "E1128 scheduler: injected failure for the test" >&2\nexit 3\n',
  );
  chmodSync(join(assets, 'kube-scheduler'), 0o755);
  const home = mkdtempSync(join(tmpdir(), 'tailor-home-'));
  const dir = join(home, 'dev');
  const r = tailor(['dev', 'up', '--dir', dir, '--kubeconfig', join(home, 'kc')], { TAILOR_ASSETS: assets });
  assert.equal(r.status, 4, r.stderr); // ComponentFailed
  assert.match(r.stderr, /kube-scheduler exited \(exit code 3\)/);
  assert.match(r.stderr, /injected failure for the test/);
  await eventually(() => assert.deepEqual(processesMentioning(dir), []), {
    timeoutMs: 10_000,
    what: 'no process left',
  });
});
