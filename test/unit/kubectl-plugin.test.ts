// `kubectl tailor`: kubectl runs an executable named kubectl-tailor on PATH; npm links it from
// package.json "bin", and it runs the same CLI as `tailor`, named "kubectl tailor" in its help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

test('package.json links kubectl-tailor to an executable that loads the same CLI as tailor', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    bin: Record<string, string>;
  };
  assert.equal(pkg.bin['kubectl-tailor'], 'bin/kubectl-tailor.js');
  const plugin = fileURLToPath(new URL(pkg.bin['kubectl-tailor'], root));
  accessSync(plugin, constants.X_OK);
  const text = readFileSync(plugin, 'utf8');
  assert.match(text, /^#!\/usr\/bin\/env node\n/);
  const main = /import\(?\s*'(\.\.\/dist\/cli\/main\.js)'/;
  assert.equal(main.exec(text)?.[1], main.exec(readFileSync(new URL(pkg.bin.tailor!, root), 'utf8'))?.[1]);
});

test('run as the plugin, the help says "kubectl tailor"', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('src/cli/main.ts', root)), '--help'],
    {
      encoding: 'utf8',
      env: { ...process.env, TAILOR_CLI_NAME: 'kubectl tailor' },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: kubectl tailor \[options\] \[command\]/);
});
