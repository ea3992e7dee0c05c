// Prometheus behind authentication: a bearer token or basic auth from a file, read at each request,
// and a refusal (401/403) said in one line that names the credentials, not the server's health.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient } from '../../src/sources/prometheus.ts';

const dir = mkdtempSync(join(tmpdir(), 'tailor-prom-auth-'));
const seen: (string | undefined)[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers.authorization);
  const ok =
    req.headers.authorization === `Basic ${Buffer.from('tailor:s3cret').toString('base64')}` ||
    req.headers.authorization === 'Bearer good-token';
  res.writeHead(ok ? 200 : req.headers.authorization ? 403 : 401, { 'content-type': 'application/json' });
  res.end(ok ? JSON.stringify({ status: 'success', data: [] }) : 'Unauthorized\n<html>...</html>');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

test('basic auth from a file: sent as Authorization: Basic, the file read at each request', async () => {
  const creds = file('basic', 'tailor:s3cret\n');
  const client = new PrometheusClient({ baseUrl: url, basicAuthFile: creds });
  assert.deepEqual(await client.series('up', 0, 60), []);
  assert.equal(seen.at(-1), `Basic ${Buffer.from('tailor:s3cret').toString('base64')}`);
  file('basic', 'tailor:rotated');
  await assert.rejects(client.series('up', 0, 60), /refused the credentials \(HTTP 403\)/);
});

test('a bearer token from a file', async () => {
  const client = new PrometheusClient({ baseUrl: url, bearerTokenFile: file('token', 'good-token\n') });
  assert.deepEqual(await client.series('up', 0, 60), []);
  assert.equal(seen.at(-1), 'Bearer good-token');
});

test('refused credentials (401, 403): one line saying so, nothing the server wrote', async () => {
  for (const [options, status] of [
    [{}, 401],
    [{ bearerTokenFile: file('bad', 'bad-token') }, 403],
  ] as const) {
    const err = await new PrometheusClient({ baseUrl: url, ...options }).series('up', 0, 60).then(
      () => assert.fail('refused'),
      (e: Error) => e,
    );
    assert.equal(
      err.message,
      `Prometheus at ${url} refused the credentials (HTTP ${status}): check the bearer token or basic auth it was given, and that the account may query`,
    );
  }
});

test('a basic auth file without a colon, or missing, is said as such', async () => {
  await assert.rejects(
    new PrometheusClient({ baseUrl: url, basicAuthFile: file('nocolon', 'justapassword') }).series(
      'up',
      0,
      60,
    ),
    /the basic auth file .*nocolon holds no "user:password"/,
  );
  await assert.rejects(
    new PrometheusClient({ baseUrl: url, basicAuthFile: join(dir, 'missing') }).series('up', 0, 60),
    /cannot read the basic auth file .*missing \(ENOENT\)/,
  );
});
