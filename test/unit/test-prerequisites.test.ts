// `npm test` names what the selected tests need and the machine lacks, before running any.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingLine, prerequisitesFor, type NeedsOf } from '../support/prerequisites.ts';

const base: NeedsOf = {
  files: [],
  needsCluster: false,
  controlPlaneReady: true,
  goVersion: '1.26.0',
  chromium: '/usr/bin/chromium',
};
const commands = (n: Partial<NeedsOf>) => prerequisitesFor({ ...base, ...n }).map((p) => p.command);

test('unit files that use no outside program need nothing', () => {
  assert.deepEqual(
    commands({ files: [{ path: 'test/unit/quantity.test.ts', text: "import '../../src/x.ts'" }] }),
    [],
  );
});

test('e2e: setpriv always, Go only when the control plane is not cached', () => {
  assert.deepEqual(commands({ needsCluster: true }), ['setpriv']);
  assert.deepEqual(commands({ needsCluster: true, controlPlaneReady: false }), ['go', 'setpriv']);
});

test('prometheus, promtool and chromium for the files that use them', () => {
  const files = [
    {
      path: 'test/e2e/recommend.test.ts',
      text: "import { startPrometheus } from '../support/prometheus.ts';",
    },
    { path: 'test/unit/monitoring-files.test.ts', text: "from '../support/monitoring.ts'" },
    { path: 'test/e2e/dashboard.test.ts', text: "from '../support/browser.ts'" },
  ];
  const found = prerequisitesFor({ ...base, files });
  assert.deepEqual(
    found.map((p) => [p.command, p.why]),
    [
      ['prometheus', 'recommend.test.ts'],
      ['promtool', 'monitoring-files.test.ts'],
      ['/usr/bin/chromium', 'dashboard.test.ts'],
    ],
  );
  assert.equal(
    missingLine(found[0]!),
    'missing prometheus: apt-get install prometheus  (needed by recommend.test.ts)',
  );
});

test('npm test on a machine without prometheus: one line naming the package, exit 3, no test run', () => {
  // A PATH holding only node and sh: prometheus is missing (and setpriv, Go are not asked for: a unit file).
  const bin = mkdtempSync(join(tmpdir(), 'tailor-prereq-'));
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
    const sh = spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(sh, join(bin, 'sh'));
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/run.ts', '--unit', 'read-limits', 'monitoring-files'],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: bin },
      },
    );
    assert.equal(r.status, 3, r.stderr);
    assert.match(
      r.stderr,
      /missing promtool: apt-get install prometheus {2}\(needed by monitoring-files\.test\.ts\)/,
    );
    assert.match(r.stderr, /no test was run/);
    assert.doesNotMatch(r.stdout + r.stderr, /# tests|✔|ENOENT/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
