// Faults of the control-plane set-up that need no cluster: missing Go, incomplete asset folders,
// a corrupt cache, certificates that verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, verifyCache, cacheKey } from '../../src/devcluster/binaries.ts';
import { createCertificateAuthority } from '../../src/devcluster/pki.ts';
import { TailorError } from '../../src/errors.ts';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
}

test('without Go and without ready-made binaries, the error names the environment variable', async () => {
  const err = await withEnv(
    {
      PATH: '/nonexistent',
      TAILOR_ASSETS: undefined,
      KUBEBUILDER_ASSETS: undefined,
      XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'c-')),
    },
    () =>
      ensureBinaries().then(
        () => undefined,
        (e: unknown) => e,
      ),
  );
  assert.ok(err instanceof TailorError);
  assert.equal(err.code, 'Prerequisite');
  assert.match(err.message, /Go is needed/);
  assert.match(err.message, /TAILOR_ASSETS/);
});

test('an assets folder lacking components is refused with the missing names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assets-'));
  for (const f of ['etcd', 'kube-apiserver', 'kubectl']) {
    writeFileSync(join(dir, f), '#!/bin/sh\n');
    chmodSync(join(dir, f), 0o755);
  }
  const err = await withEnv({ TAILOR_ASSETS: undefined, KUBEBUILDER_ASSETS: dir }, () =>
    ensureBinaries().then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  assert.ok(err instanceof TailorError);
  assert.match(err.message, /KUBEBUILDER_ASSETS=.* lacks kube-controller-manager, kube-scheduler/);
});

test('a cache entry whose binary does not match its manifest is corrupt; an empty one is absent', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cache-'));
  assert.equal(await verifyCache(join(root, 'missing')), 'absent');
  const dir = join(root, cacheKey());
  mkdirSync(dir);
  const names = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
  const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'; // sha256 of ''
  for (const n of names) writeFileSync(join(dir, n), '');
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ sha256: Object.fromEntries(names.map((n) => [n, sha])) }),
  );
  assert.equal(await verifyCache(dir), 'ok');
  writeFileSync(join(dir, 'kube-apiserver'), 'truncated');
  assert.equal(await verifyCache(dir), 'corrupt');
  writeFileSync(join(dir, 'manifest.json'), '{not json');
  assert.equal(await verifyCache(dir), 'corrupt');
});

test('issued certificates chain to their CA and carry the requested names', async () => {
  const ca = await createCertificateAuthority('test-ca');
  const leaf = await ca.issue({
    commonName: 'svc',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(leaf.certPem);
  assert.ok(cert.verify(caCert.publicKey));
  assert.ok(cert.checkHost('localhost'));
  assert.ok(cert.checkIP('127.0.0.1'));
  assert.equal(cert.checkHost('example.com'), undefined);
  assert.ok(caCert.ca);
  assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  const client = await ca.issue({ commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
  assert.match(new X509Certificate(client.certPem).subject, /O=system:masters/);
});
