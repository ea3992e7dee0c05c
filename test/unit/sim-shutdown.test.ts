// A stopped `tailor sim` always ends: each step of its stop is bounded (a hung API call is given up
// and said), and its servers close even while a client holds a connection open, keep-alive or
// still in its TLS handshake (what the aggregator does every few seconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createServer as createHttps } from 'node:https';
import { createServer as createHttp } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bounded, closer } from '../../src/sim/shutdown.ts';
import { createCertificateAuthority } from '../../src/devcluster/pki.ts';

test('bounded: done, failed (said in one line), or given up after its time (said)', async () => {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  assert.equal(await bounded('a', 1000, () => Promise.resolve(), log), 'Done');
  assert.equal(await bounded('b', 1000, () => Promise.reject(new Error('HTTP 503\nbody')), log), 'Failed');
  const started = Date.now();
  assert.equal(await bounded('deleting the APIService', 200, () => new Promise(() => {}), log), 'TimedOut');
  assert.ok(Date.now() - started < 2000);
  assert.deepEqual(lines, [
    'stopping: b failed: HTTP 503',
    'stopping: deleting the APIService did not finish within 0.2s; going on',
  ]);
});

/** Whether `close` settles within `ms`. */
async function settles(close: Promise<void>, ms = 3000): Promise<boolean> {
  return Promise.race([
    close.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
  ]);
}

test('closer: an https server with a client still in its TLS handshake closes at once', async () => {
  const ca = await createCertificateAuthority('shutdown-test-ca');
  const cert = await ca.issue({
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const server = createHttps({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('ok'));
  const close = closer(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  // A TCP connection that never finishes its TLS handshake: closeAllConnections does not see it.
  const raw = connect(port, '127.0.0.1');
  raw.on('error', () => {});
  await new Promise<void>((r) => raw.once('connect', () => r()));
  const ended = new Promise<void>((r) => raw.once('close', () => r()));
  assert.ok(await settles(close()), 'closed while a handshake was pending');
  await ended;
});

test('closer: the same with server.close() alone hangs (the test can fail)', async () => {
  const server = createHttp((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const raw = connect(port, '127.0.0.1');
  raw.on('error', () => {});
  await new Promise<void>((r) => raw.once('connect', () => r()));
  // Half a request line: an active connection, not idle, so close() waits for it.
  raw.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const plain = new Promise<void>((r) => server.close(() => r()));
  assert.equal(await settles(plain, 500), false, 'close() alone waits');
  raw.destroy();
  await plain;
});
