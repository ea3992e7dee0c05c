// The webhook's certificates kept in a store (the Secret, here in memory): reused at the next start
// (same caBundle), renewed under the same CA when due, and a changed serving certificate served
// without a restart. Also the replicas' rule: the last one standing removes the configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { admit } from '../../src/webhook/admit.ts';
import { checkCerts, createWebhookCerts, issueServing, type WebhookCerts } from '../../src/webhook/certs.ts';
import { liveOthers } from '../../src/webhook/replicas.ts';
import { serveWebhook } from '../../src/webhook/server.ts';
import { loadCerts, watchCerts, type CertStore, type StoredCerts } from '../../src/webhook/tls-store.ts';

const DAY = 24 * 3600 * 1000;
const HOSTS = ['127.0.0.1', 'localhost'];

/** A Secret in memory with a resourceVersion, as the apiserver keeps one. */
function memoryStore(): CertStore & { stored: StoredCerts | undefined; writes: number } {
  const store = {
    where: 'Secret test/tls',
    stored: undefined as StoredCerts | undefined,
    writes: 0,
    read: () => Promise.resolve(store.stored),
    write: (certs: WebhookCerts, previous: StoredCerts | undefined) => {
      if (previous?.resourceVersion !== store.stored?.resourceVersion)
        return Promise.resolve('Conflict' as const);
      store.writes++;
      store.stored = { certs, resourceVersion: String(store.writes) };
      return Promise.resolve('Written' as const);
    },
  };
  return store;
}

test('checkCerts: kept when good; a new serving certificate when due or missing a name; a new CA when none', async () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const certs = await createWebhookCerts(HOSTS, now);
  const cases: [string, Partial<WebhookCerts> | undefined, readonly string[], Date, string][] = [
    ['good', certs, HOSTS, now, 'Valid'],
    ['another name is dialled', certs, [...HOSTS, 'tailor.tailor-system.svc'], now, 'RenewServing'],
    ['two thirds of its year gone', certs, HOSTS, new Date(now.getTime() + 250 * DAY), 'RenewServing'],
    ['no serving key', { ...certs, keyPem: undefined }, HOSTS, now, 'RenewServing'],
    ['nothing stored', undefined, HOSTS, now, 'NewCa'],
    ['no CA key (cannot sign)', { ...certs, caKeyPem: undefined }, HOSTS, now, 'NewCa'],
    ['the CA close to its end', certs, HOSTS, new Date(now.getTime() + 9 * 365 * DAY), 'NewCa'],
  ];
  for (const [what, stored, hosts, at, want] of cases)
    assert.equal(checkCerts(stored, hosts, at).kind, want, what);
  // A serving certificate from another CA is not accepted under this one.
  const other = await createWebhookCerts(HOSTS, now);
  assert.equal(
    checkCerts({ ...certs, certPem: other.certPem, keyPem: other.keyPem }, HOSTS, now).kind,
    'RenewServing',
  );
});

test('loadCerts: a restart reuses the stored CA (same caBundle); a renewal keeps it too', async () => {
  const store = memoryStore();
  const first = await loadCerts(store, 'SelfSigned', HOSTS);
  assert.equal(store.writes, 1, 'made once and stored');
  const again = await loadCerts(store, 'SelfSigned', HOSTS);
  assert.equal(again.caBundle, first.caBundle, 'the same caBundle after a restart');
  assert.equal(again.certPem, first.certPem, 'and the same serving certificate');
  assert.equal(store.writes, 1, 'nothing written');
  const later = await loadCerts(store, 'SelfSigned', HOSTS, () => new Date(Date.now() + 300 * DAY));
  assert.equal(later.caBundle, first.caBundle, 'renewed under the same CA');
  assert.notEqual(later.certPem, first.certPem, 'a new serving certificate');
  assert.ok(Date.parse(new X509Certificate(later.certPem).validTo) > Date.now() + 600 * DAY);
  // Another replica dialled by another name adds it; the names before stay (no renewing back and forth).
  const wider = await loadCerts(store, 'SelfSigned', ['tailor.tailor-system.svc']);
  assert.equal(wider.caBundle, first.caBundle);
  assert.equal(checkCerts(wider, [...HOSTS, 'tailor.tailor-system.svc'], new Date()).kind, 'Valid');
  // cert-manager's Secret is read, never written.
  const writes = store.writes;
  const managed = await loadCerts(store, 'CertManager', HOSTS);
  assert.equal(managed.certPem, wider.certPem);
  assert.equal(store.writes, writes);
  await assert.rejects(loadCerts(memoryStore(), 'CertManager', HOSTS), /holds no tls\.crt and tls\.key/);
});

/** The certificate a TLS client is shown by the server now. */
function servedCert(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

test('a new certificate in the store is served without a restart', async () => {
  const store = memoryStore();
  const first = await loadCerts(store, 'SelfSigned', HOSTS);
  const server = await serveWebhook({
    host: '127.0.0.1',
    port: 0,
    tls: first,
    decide: (body) => admit(body, { policiesIn: () => [], ownerOf: () => undefined }),
  });
  const watch = watchCerts(store, 'SelfSigned', HOSTS, first, (next) => server.setTls(next), { everyMs: 50 });
  try {
    assert.equal(await servedCert(server.port), new X509Certificate(first.certPem).fingerprint256);
    // Someone (another replica's renewal, an operator by hand) writes a new one into the Secret.
    const next = await issueServing({ caPem: first.caPem, caKeyPem: first.caKeyPem! }, HOSTS);
    assert.equal(await store.write(next, store.stored), 'Written');
    const want = new X509Certificate(next.certPem).fingerprint256;
    const deadline = Date.now() + 5000;
    let seen = '';
    while (Date.now() < deadline && (seen = await servedCert(server.port)) !== want)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen, want, 'the new certificate is served, same process, same port');
  } finally {
    watch.stop();
    await server.close();
  }
});

test('liveOthers: a stopping replica keeps the configuration while another Lease is current', () => {
  const now = 1_000_000;
  const lease = (name: string, renewedAgo: number | undefined, durationSeconds = 30) => ({
    name,
    renewedAt: renewedAgo === undefined ? undefined : now - renewedAgo,
    durationSeconds,
  });
  const cases: [string, ReturnType<typeof lease>[], string[]][] = [
    ['alone', [lease('me', 1)], []],
    ['a live other', [lease('me', 1), lease('b', 10)], ['b']],
    ['an expired other (killed)', [lease('me', 1), lease('b', 31)], []],
    ['a longer lease still current', [lease('me', 1), lease('b', 31, 60)], ['b']],
    ['never renewed', [lease('me', 1), lease('b', undefined)], []],
  ];
  for (const [what, leases, want] of cases) assert.deepEqual(liveOthers(leases, 'me', now), want, what);
});
