// Reading Prometheus against fake HTTP servers that misbehave: an endless answer is cut at the size
// cap, a server that never answers times out and delays no other source, and whatever a server
// writes (an error page, a JSON error) never reaches a policy's status. Also the transport: a bearer
// token read from its file at each request, a private CA, no redirects followed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { createCertificateAuthority } from '../../src/devcluster/pki.ts';
import { PrometheusFeed, type PrometheusHistoryState } from '../../src/operator/prometheus-history.ts';
import type { PrometheusSourceConfig } from '../../src/operator/prometheus-sources.ts';
import { UsageHistory } from '../../src/sources/history.ts';
import { PrometheusClient, failureOf, queryRangeSplitting } from '../../src/sources/prometheus.ts';
import type { WorkloadRef } from '../../src/sources/workloads.ts';

const Mi = 2 ** 20;
const SECRET = 'SECRET-internal-admin-page-do-not-leak';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: URLSearchParams) => void;

interface FakeServer {
  readonly url: string;
  /** Requests received, by endpoint (query_range, series, ...). */
  readonly requests: string[];
  close(): Promise<void>;
}

function listen(server: http.Server | https.Server, scheme: 'http' | 'https', requests: string[]) {
  return new Promise<FakeServer>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function handle(requests: string[], handler: Handler): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push((req.url ?? '').split('/api/v1/')[1] ?? req.url ?? '');
      handler(req, res, new URLSearchParams(Buffer.concat(chunks).toString()));
    });
  };
}

async function serve(handler: Handler): Promise<FakeServer> {
  const requests: string[] = [];
  return listen(http.createServer(handle(requests, handler)), 'http', requests);
}

/** A working Prometheus: no OOM series, one container of namespace `ns` at 100 MiB and 0.05 cores. */
const prometheus =
  (ns: string): Handler =>
  (req, res, body) => {
    res.setHeader('content-type', 'application/json');
    if (req.url?.endsWith('/series')) {
      res.end(JSON.stringify({ status: 'success', data: [] }));
      return;
    }
    const end = Number(body.get('end'));
    const memory = (body.get('query') ?? '').includes('memory');
    res.end(
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { namespace: ns, pod: 'web-7d9f8b6c5d-abcde', container: 'app' },
              values: [[end, memory ? String(100 * Mi) : '0.05']],
            },
          ],
        },
      }),
    );
  };

function feedOf(sources: PrometheusSourceConfig[]): { feed: PrometheusFeed; history: UsageHistory } {
  const history = UsageHistory.open(':memory:');
  const feed = new PrometheusFeed({
    history,
    // The live pod the fake servers report, in every namespace the tests use.
    pods: () =>
      ['a', 'b', 'c', 'shop'].map((namespace) => ({
        metadata: { namespace, name: 'web-7d9f8b6c5d-abcde', uid: namespace },
      })),
    resolve: (pod: k8s.V1Pod) =>
      Promise.resolve<WorkloadRef>({
        namespace: pod.metadata!.namespace!,
        kind: 'Deployment',
        name: 'web',
      }),
    now: () => Date.now() / 1000,
    log: pino({ level: 'silent' }),
    sources,
    stepSeconds: 1,
    rateWindowSeconds: 2,
    intervalMs: 200,
    retryBaseMs: 200,
    retryMaxMs: 400,
  });
  feed.start();
  return { feed, history };
}

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function messageOf(s: PrometheusHistoryState): string {
  return 'message' in s ? s.message : '';
}

test('an endless answer is cut at the size cap: the read fails, the operator does not grow or crash', async (t) => {
  let written = 0;
  let closedEarly = false;
  const huge = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('close', () => (closedEarly = !res.writableFinished));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    // Up to 1 GiB, as fast as the client reads it.
    const pump = () => {
      while (written < 1024 * Mi && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.write('{"status":"success","data":[');
    pump();
  });
  t.after(() => huge.close());

  const client = new PrometheusClient({ baseUrl: huge.url, maxResponseBytes: 1 * Mi, timeoutMs: 20_000 });
  const err = await client.series('up', 0, 60).then(
    () => assert.fail('read a 1 GiB answer'),
    (e: unknown) => e,
  );
  assert.deepEqual(failureOf(err), { kind: 'TooLarge', limitBytes: Mi });
  assert.match(String(err), /answered series with answer larger than 1 MiB, read aborted/);
  await until('the server to see the read abandoned', () => closedEarly);
  assert.ok(written < 64 * Mi, `the server wrote ${written / Mi} MiB before the client hung up`);

  // Declared too large: refused before the body is read.
  const declared = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(512 * Mi) });
    res.write('{"status":');
  });
  t.after(() => declared.close());
  await assert.rejects(
    new PrometheusClient({ baseUrl: declared.url, maxResponseBytes: Mi, timeoutMs: 20_000 }).series(
      'up',
      0,
      60,
    ),
    /answer larger than 1 MiB, read aborted/,
  );

  // Through the operator's feed: the policy's state says so, and says nothing more.
  const { feed, history } = feedOf([{ name: 'big', url: huge.url, maxResponseBytes: Mi }]);
  t.after(async () => {
    await feed.stop();
    history.close();
  });
  await until('Unavailable', () => feed.want('big', 'shop', 3600).kind === 'Unavailable');
  assert.match(
    messageOf(feed.want('big', 'shop', 3600)),
    /^Prometheus source 'big' unavailable: answer larger than 1 MiB, read aborted; retrying in \d+s \(1 failed read\)/,
  );
});

test('a source that never answers times out, and delays no other source', async (t) => {
  const held: http.ServerResponse[] = [];
  const slow = await serve((_req, res) => void held.push(res));
  const fast = await serve(prometheus('b'));
  t.after(() => Promise.all([slow.close(), fast.close()]));
  const { feed, history } = feedOf([
    { name: 'slow', url: slow.url, timeoutMs: 60_000 },
    { name: 'fast', url: fast.url },
    { name: 'short', url: slow.url, timeoutMs: 1000 },
  ]);
  t.after(async () => {
    await feed.stop();
    history.close();
  });

  assert.equal(feed.want('slow', 'a', 3600).kind, 'Pending');
  await until('the slow source to hold a request', () => held.length === 1);
  // While that request hangs (for up to its 60 s timeout), the other source is read.
  const started = Date.now();
  assert.equal(feed.want('fast', 'b', 3600).kind, 'Pending');
  await until('the fast source to be read', () => feed.want('fast', 'b', 3600).kind === 'Ready', 5000);
  assert.ok(Date.now() - started < 5000);
  assert.equal(feed.want('slow', 'a', 3600).kind, 'Pending', 'the slow read is still in flight');
  const minutes = history.minutes({
    workload: { namespace: 'b', kind: 'Deployment', name: 'web' },
    container: 'app',
  });
  assert.ok(minutes.length > 0 && minutes.every((m) => m.memoryMax === 100 * Mi));

  // A source with a short timeout says so.
  feed.want('short', 'c', 3600);
  await until('the short timeout', () => feed.want('short', 'c', 3600).kind === 'Unavailable', 5000);
  assert.match(
    messageOf(feed.want('short', 'c', 3600)),
    /^Prometheus source 'short' unavailable: timeout after 1s;/,
  );

  // Stopping does not wait for the hanging read's timeout.
  const stopping = Date.now();
  await feed.stop();
  assert.ok(Date.now() - stopping < 2000, `stop took ${Date.now() - stopping} ms`);
});

test("what a server writes never reaches the policy's status; redirects are not followed", async (t) => {
  const elsewhere = await serve(prometheus('shop'));
  const servers = await Promise.all([
    serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html><body>${SECRET}</body></html>`);
    }),
    serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${SECRET}\nroot:x:0:0:root:/root:/bin/bash`);
    }),
    serve((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: SECRET }));
    }),
    serve((_req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: `${SECRET} <script>`, error: SECRET }));
    }),
    serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/api/v1/series` });
      res.end(SECRET);
    }),
  ]);
  t.after(() => Promise.all([elsewhere.close(), ...servers.map((s) => s.close())]));
  const names = ['gateway', 'page', 'query', 'weird', 'redirect'];
  const { feed, history } = feedOf(servers.map((s, i) => ({ name: names[i]!, url: s.url })));
  t.after(async () => {
    await feed.stop();
    history.close();
  });
  const states = () => names.map((n) => feed.want(n, 'shop', 3600));
  await until('every source Unavailable', () => states().every((s) => s.kind === 'Unavailable'));
  const messages = states().map(messageOf);
  t.diagnostic(messages.join('\n'));
  const expected = [
    /^Prometheus source 'gateway' unavailable: HTTP 502;/,
    /^Prometheus source 'page' unavailable: the answer is not the Prometheus HTTP API \(JSON with status "success"\);/,
    /^Prometheus source 'query' unavailable: query failed \(bad_data\);/,
    /^Prometheus source 'weird' unavailable: query failed \(unknown\);/,
    /^Prometheus source 'redirect' unavailable: HTTP 302;/,
  ];
  messages.forEach((m, i) => assert.match(m, expected[i]!));
  for (const [i, m] of messages.entries()) {
    assert.ok(!m.includes(SECRET) && !m.includes('root:x'), `no response text: ${m}`);
    assert.ok(!m.includes(servers[i]!.url), `no URL of the operator's configuration: ${m}`);
  }
  assert.deepEqual(elsewhere.requests, [], 'the redirect was not followed');
});

test('the client: bearer token read from its file at each request, a private CA trusted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-prom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createCertificateAuthority('test-prometheus-ca');
  const leaf = await ca.issue({ commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ca.certPem);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'first\n');
  const seen: string[] = [];
  const requests: string[] = [];
  const inner = prometheus('shop');
  const server = await listen(
    https.createServer(
      { cert: leaf.certPem, key: leaf.keyPem },
      handle(requests, (req, res, body) => {
        seen.push(req.headers.authorization ?? '');
        if (!req.headers.authorization?.startsWith('Bearer ')) {
          res.writeHead(401);
          res.end(SECRET);
          return;
        }
        inner(req, res, body);
      }),
    ),
    'https',
    requests,
  );
  t.after(() => server.close());

  const client = new PrometheusClient({
    baseUrl: server.url,
    caFile,
    bearerTokenFile: tokenFile,
    timeoutMs: 5000,
  });
  assert.deepEqual(await client.series('up', 0, 60), []);
  writeFileSync(tokenFile, 'rotated\n');
  assert.equal((await client.queryRange('container_memory_working_set_bytes', 0, 60, 60)).length, 1);
  assert.deepEqual(seen, ['Bearer first', 'Bearer rotated']);

  // Without the CA the server is not trusted; without the token it answers 401.
  const untrusted = await new PrometheusClient({ baseUrl: server.url, timeoutMs: 5000 })
    .series('up', 0, 60)
    .then(
      () => assert.fail('trusted a certificate of an unknown CA'),
      (e: unknown) => e,
    );
  assert.equal(failureOf(untrusted)?.kind, 'Unreachable', String(untrusted));
  await assert.rejects(
    new PrometheusClient({ baseUrl: server.url, caFile, timeoutMs: 5000 }).series('up', 0, 60),
    (e: unknown) => {
      assert.deepEqual(failureOf(e), { kind: 'HttpStatus', status: 401 });
      assert.ok(!String(e).includes(SECRET), String(e));
      return true;
    },
  );
  rmSync(tokenFile);
  await assert.rejects(client.series('up', 0, 60), /cannot read the bearer token file .*token \(ENOENT\)/);
});

test('a range answer over the cap is read again in halves, so the cap bounds an answer, not the cluster', async () => {
  const asked: [number, number][] = [];
  const fake = (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const p = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    const [start, end] = [Number(p.get('start')), Number(p.get('end'))];
    asked.push([start, end]);
    const values: [number, string][] = [];
    for (let t = start; t <= end; t += 60) values.push([t, String(100 * Mi)]);
    const metric = { namespace: 'shop', pod: 'web-7d9f8b6c5d-abcde', container: 'app' };
    return Promise.resolve(
      Response.json({ status: 'success', data: { resultType: 'matrix', result: [{ metric, values }] } }),
    );
  };
  // About 27 bytes a point: 101 points do not fit in 2,000 bytes, 50 do.
  const client = new PrometheusClient({ baseUrl: 'http://prom:9090', fetch: fake, maxResponseBytes: 2000 });
  const series = await queryRangeSplitting(client, 'container_memory_working_set_bytes', 0, 6000, 60);
  assert.deepEqual(asked, [
    [0, 6000],
    [0, 3000],
    [3060, 6000],
  ]);
  assert.equal(series.length, 1);
  assert.deepEqual(
    series[0]!.values.map(([t]) => t),
    Array.from({ length: 101 }, (_, i) => i * 60),
  );
  // One step that is still too large: the failure, not an endless split.
  const tiny = new PrometheusClient({ baseUrl: 'http://prom:9090', fetch: fake, maxResponseBytes: 10 });
  await assert.rejects(
    queryRangeSplitting(tiny, 'up', 0, 6000, 60),
    /answer larger than 10 bytes, read aborted/,
  );
});
