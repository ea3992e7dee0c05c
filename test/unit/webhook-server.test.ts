// The webhook's HTTPS server on a loopback port with its own certificates: the payload cap, the
// decision deadline and bad bodies all end in "allowed" with a warning; /healthz answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { admit } from '../../src/webhook/admit.ts';
import { createWebhookCerts, type WebhookCerts } from '../../src/webhook/certs.ts';
import type { AdmissionReview } from '../../src/webhook/review.ts';
import { serveWebhook, type RunningServer } from '../../src/webhook/server.ts';

let certs: WebhookCerts;
let server: RunningServer;
let slow: RunningServer;
const CAP = 64 * 1024;

before(async () => {
  certs = await createWebhookCerts(['127.0.0.1', 'localhost']);
  server = await serveWebhook({
    host: '127.0.0.1',
    port: 0,
    tls: certs,
    maxBodyBytes: CAP,
    decide: (body) => admit(body, { policiesIn: () => [], ownerOf: () => undefined }),
  });
  slow = await serveWebhook({
    host: '127.0.0.1',
    port: 0,
    tls: certs,
    decisionTimeoutMs: 100,
    decide: () => new Promise(() => {}),
  });
});
after(async () => {
  await server.close();
  await slow.close();
});

function call(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca: certs.caPem,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function reviewBody(uid: string, padding = 0): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'shop',
      object: {
        metadata: { name: 'big', annotations: { padding: 'x'.repeat(padding) } },
        spec: { containers: [{ name: 'app' }] },
      },
    },
  });
}

async function postReview(port: number, body: string | Buffer): Promise<AdmissionReview> {
  const r = await call(port, 'POST', '/mutate-pods', body);
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text) as AdmissionReview;
}

test('health and routes', async () => {
  assert.deepEqual(await call(server.port, 'GET', '/healthz'), { status: 200, text: 'ok' });
  assert.equal((await call(server.port, 'GET', '/mutate-pods')).status, 405);
  assert.equal((await call(server.port, 'POST', '/validate')).status, 404);
});

test('a review within the cap is decided', async () => {
  const r = await postReview(server.port, reviewBody('small'));
  assert.equal(r.response.uid, 'small');
  assert.equal(r.response.allowed, true);
  assert.equal(r.response.warnings, undefined, 'no policy: allowed quietly');
});

test('payload cap: an oversized review is allowed unchanged with a clear warning, for the right uid', async () => {
  const cases: [string, number][] = [
    ['just over the cap', CAP + 10],
    ['far over the cap (not drained, connection closed)', CAP * 20],
  ];
  for (const [what, size] of cases) {
    const r = await postReview(server.port, reviewBody('big-uid', size));
    assert.equal(r.response.uid, 'big-uid', what);
    assert.equal(r.response.allowed, true, what);
    assert.equal(r.response.patch, undefined, what);
    assert.match(r.response.warnings?.[0] ?? '', new RegExp(`above the webhook's cap of ${CAP}`), what);
  }
  // The server still serves afterwards.
  assert.equal((await postReview(server.port, reviewBody('after'))).response.uid, 'after');
});

test('a body that is not JSON is allowed with a warning', async () => {
  const r = await postReview(server.port, '{not json');
  assert.equal(r.response.allowed, true);
  assert.match(r.response.warnings?.[0] ?? '', /malformed AdmissionReview/);
});

test('no decision within the deadline: allowed, with the uid and a warning', async () => {
  const r = await postReview(slow.port, reviewBody('late'));
  assert.equal(r.response.uid, 'late');
  assert.equal(r.response.allowed, true);
  assert.match(r.response.warnings?.[0] ?? '', /no decision within 100ms/);
});
