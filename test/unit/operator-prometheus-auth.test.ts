// The operator's unnamed --prometheus URL (the source "default") takes the CLI's credential flags
// (--prometheus-bearer-token-file, --prometheus-basic-auth-file, --prometheus-ca-file) and named
// sources the same fields in --prometheus-config; a Prometheus refusing them is said in one line in
// the policy's status, and a credential flag with nothing to go to stops the start.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { parsePrometheusConfig, sourcesFromFlags } from '../../src/operator/prometheus-sources.ts';
import { PrometheusFeed } from '../../src/operator/prometheus-history.ts';
import { UsageHistory } from '../../src/sources/history.ts';
import { TailorError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'tailor-op-prom-auth-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const GOOD = `Basic ${Buffer.from('tailor:s3cret').toString('base64')}`;
const server = createServer((req, res) => {
  const ok = req.headers.authorization === GOOD;
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
  res.end(
    ok
      ? JSON.stringify({
          status: 'success',
          data: req.url?.includes('series') ? [] : { resultType: 'matrix', result: [] },
        })
      : '<html>401 Unauthorized, server text that must not reach a status</html>',
  );
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the credential flags go to the bare --prometheus URL (source "default") only', () => {
  const basic = file('basic', 'tailor:s3cret\n');
  const sources = sourcesFromFlags({
    prometheus: [url, 'team-a=http://prometheus.team-a:9090'],
    auth: { basicAuthFile: basic },
  });
  assert.equal(sources.find((s) => s.name === 'default')?.basicAuthFile, basic);
  assert.equal(sources.find((s) => s.name === 'team-a')?.basicAuthFile, undefined);
});

test('--prometheus-config: basicAuthFile per source, checked at start like the token and CA', () => {
  const basic = file('basic2', 'u:p');
  const [s] = parsePrometheusConfig(
    `sources:\n  - name: main\n    url: ${url}\n    basicAuthFile: ${basic}\n`,
    'p.yaml',
  );
  assert.equal(s?.basicAuthFile, basic);
  const bad = file('nocolon', 'justapassword');
  for (const [auth, why] of [
    [{ basicAuthFile: bad }, /basicAuthFile .* no "user:password"/],
    [{ basicAuthFile: join(dir, 'missing') }, /basicAuthFile .* cannot be read/],
    [{ basicAuthFile: basic, bearerTokenFile: basic }, /both bearerTokenFile and basicAuthFile/],
  ] as const) {
    assert.throws(
      () => sourcesFromFlags({ prometheus: [url], auth }),
      (e: unknown) => e instanceof TailorError && e.code === 'InvalidInput' && why.test(e.message),
    );
  }
});

async function stateWith(basicAuth: string): Promise<string> {
  const history = UsageHistory.open(':memory:');
  const feed = new PrometheusFeed({
    history,
    pods: () => [] as k8s.V1Pod[],
    resolve: () => Promise.reject(new Error('no pods')),
    now: () => Date.now() / 1000,
    log: pino({ level: 'silent' }),
    stepSeconds: 1,
    rateWindowSeconds: 2,
    intervalMs: 50,
    retryBaseMs: 20,
    retryMaxMs: 80,
    sources: sourcesFromFlags({ prometheus: [url], auth: { basicAuthFile: file('cred', basicAuth) } }),
  });
  feed.start();
  try {
    const end = Date.now() + 10_000;
    for (;;) {
      const s = feed.want(undefined, 'shop', 3600);
      if (s.kind === 'Ready') return 'Ready';
      if (s.kind === 'Unavailable') return s.message;
      if (Date.now() > end) throw new Error(`still ${s.kind}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await feed.stop();
    history.close();
  }
}

test('a real server behind basic auth: the right password reads, a wrong one is one line saying so', async () => {
  assert.equal(await stateWith('tailor:s3cret'), 'Ready');
  const refused = await stateWith('tailor:wrong');
  assert.match(refused, /^Prometheus source 'default' unavailable: refused the credentials \(HTTP 401\)/);
  assert.ok(!refused.includes('\n') && !refused.includes('html'), refused);
});

test('tailor operator: a credential flag with no source "default" and no discovery stops the start', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'operator', ...args], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: '/nonexistent' },
    });
  const token = file('token', 'abc');
  const named = run('--prometheus', `main=${url}`, '--prometheus-bearer-token-file', token);
  assert.equal(named.status, 2, named.stderr);
  assert.match(named.stderr, /--prometheus-\*-file flags need the source "default"/);
  const both = run(
    '--prometheus',
    url,
    '--prometheus-bearer-token-file',
    token,
    '--prometheus-basic-auth-file',
    token,
  );
  assert.equal(both.status, 2, both.stderr);
  assert.match(both.stderr, /--prometheus-bearer-token-file and --prometheus-basic-auth-file both given/);
  const ns = run('--prometheus-discovery-namespaces', 'Monitoring!');
  assert.equal(ns.status, 2, ns.stderr);
  assert.match(ns.stderr, /"Monitoring!" is not a namespace name/);
});
