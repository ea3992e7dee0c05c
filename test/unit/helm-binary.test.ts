// The cached helm binary is trusted only with its manifest's checksum: a changed or half-written
// file is not used (ensureHelm then builds it again); TAILOR_HELM names one to use as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELM_VERSION, findHelm } from '../../src/devcluster/helm.ts';

function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('findHelm: a cached binary is used only when its checksum matches the manifest', () => {
  const cache = mkdtempSync(join(tmpdir(), 'tailor-helm-cache-'));
  try {
    withEnv({ XDG_CACHE_HOME: cache, TAILOR_HELM: undefined }, () => {
      assert.equal(findHelm(), undefined, 'nothing cached');
      const dir = join(cache, 'tailor', 'helm', `${HELM_VERSION}-${process.platform}-${process.arch}`);
      mkdirSync(dir, { recursive: true });
      const body = '#!/bin/sh\necho helm\n';
      writeFileSync(join(dir, 'helm'), body, { mode: 0o755 });
      const sha256 = createHash('sha256').update(body).digest('hex');
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ sha256 }));
      assert.deepEqual(findHelm(), { path: join(dir, 'helm'), source: 'cache' });
      writeFileSync(join(dir, 'helm'), body + '# truncated or changed\n', { mode: 0o755 });
      assert.equal(findHelm(), undefined, 'a binary that is not the one built is not used');
    });
    withEnv({ XDG_CACHE_HOME: cache, TAILOR_HELM: '/opt/helm' }, () => {
      assert.deepEqual(findHelm(), { path: '/opt/helm', source: 'env' });
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
