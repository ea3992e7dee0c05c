// The operator's Prometheus sources as the platform team writes them (--prometheus [NAME=]URL,
// --prometheus-config FILE): a URL that could steer a request anywhere else (query, fragment), carry
// a secret (user info) or leave HTTP is refused at start with the flag or entry named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkSourceUrl,
  parsePrometheusConfig,
  parsePrometheusFlag,
  resolveSources,
  sourcesFromFlags,
} from '../../src/operator/prometheus-sources.ts';
import { TailorError } from '../../src/errors.ts';

const urlCases: { url: string; ok?: string; refused?: RegExp }[] = [
  { url: 'http://prometheus-server.monitoring:9090', ok: 'http://prometheus-server.monitoring:9090' },
  { url: 'https://prom.example.com/prometheus/', ok: 'https://prom.example.com/prometheus' },
  { url: 'http://[::1]:9090', ok: 'http://[::1]:9090' },
  { url: 'http://evil:9090/admin?x=', refused: /has a query string/ },
  { url: 'http://10.0.0.1:6443/api/v1/secrets?', refused: /has a query string/ },
  { url: 'http://prom:9090#', refused: /has a fragment/ },
  { url: 'http://prom:9090/#/../../secrets', refused: /has a fragment/ },
  { url: 'http://admin:hunter2@prom:9090', refused: /has user info/ },
  { url: 'http://token@prom:9090', refused: /has user info/ },
  { url: 'file:///etc/passwd', refused: /has scheme file: \(only http: and https:\)/ },
  { url: 'gopher://prom:70', refused: /has scheme gopher:/ },
  { url: 'ftp://prom/', refused: /has scheme ftp:/ },
  { url: 'prom:9090', refused: /has scheme prom:/ },
  { url: 'not a url', refused: /is not a URL/ },
  { url: 'http://prom:9090/ path', refused: /white space/ },
];

for (const c of urlCases) {
  test(`source URL ${c.url}: ${c.ok ? 'accepted' : 'refused'}`, () => {
    if (c.ok) {
      assert.equal(checkSourceUrl(c.url, '--prometheus URL'), c.ok);
      return;
    }
    assert.throws(
      () => checkSourceUrl(c.url, '--prometheus URL'),
      (err: unknown) => {
        assert.ok(err instanceof TailorError && err.code === 'InvalidInput', String(err));
        assert.match(err.message, /^--prometheus URL: /, 'names the flag');
        assert.match(err.message, c.refused!);
        assert.match(err.message, /hint: give the Prometheus server root/);
        assert.ok(!err.message.includes('hunter2'), 'the password is not repeated');
        return true;
      },
    );
  });
}

test('--prometheus NAME=URL names a source; a bare URL is the source "default"', () => {
  assert.deepEqual(parsePrometheusFlag('main=http://prom:9090'), { name: 'main', url: 'http://prom:9090' });
  assert.deepEqual(parsePrometheusFlag('http://prom:9090/'), { name: 'default', url: 'http://prom:9090' });
  assert.deepEqual(parsePrometheusFlag('team-a=https://p.team-a.svc:9091'), {
    name: 'team-a',
    url: 'https://p.team-a.svc:9091',
  });
  assert.throws(
    () => parsePrometheusFlag('Main=http://prom:9090'),
    /--prometheus Main=http:\/\/prom:9090: "Main" is not a source name/,
  );
  assert.throws(() => parsePrometheusFlag('=http://prom:9090'), /"" is not a source name/);
  assert.throws(
    () => parsePrometheusFlag('main=http://prom:9090?a=b'),
    /--prometheus main=URL: .*has a query string/,
  );
  // "=" inside a bare URL's query is a query, not a name.
  assert.throws(
    () => parsePrometheusFlag('http://prom:9090/?a=b'),
    /: --prometheus URL: .*has a query string/,
  );
});

test('--prometheus-config: sources with token, CA, timeout and size; bad entries are named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-prom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = join(dir, 'token');
  writeFileSync(token, 'abc\n');
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const file = join(dir, 'prometheus.yaml');
  writeFileSync(
    file,
    [
      'sources:',
      '  - name: main',
      '    url: https://prometheus-k8s.monitoring.svc:9091',
      `    bearerTokenFile: ${token}`,
      `    caFile: ${ca}`,
      '    timeout: 10s',
      '    maxResponseSize: 8Mi',
      '  - name: team-a',
      '    url: http://prometheus.team-a:9090',
      '    namespaces: [team-a, team-a-staging]',
    ].join('\n'),
  );
  const sources = sourcesFromFlags({
    prometheus: ['http://prometheus.monitoring:9090'],
    prometheusConfig: file,
    defaults: { timeoutMs: 30_000, maxResponseBytes: 32 * 2 ** 20 },
  });
  assert.deepEqual(sources, [
    {
      name: 'default',
      url: 'http://prometheus.monitoring:9090',
      timeoutMs: 30_000,
      maxResponseBytes: 32 * 2 ** 20,
    },
    {
      name: 'main',
      url: 'https://prometheus-k8s.monitoring.svc:9091',
      bearerTokenFile: token,
      caFile: ca,
      timeoutMs: 10_000,
      maxResponseBytes: 8 * 2 ** 20,
    },
    {
      name: 'team-a',
      url: 'http://prometheus.team-a:9090',
      timeoutMs: 30_000,
      maxResponseBytes: 32 * 2 ** 20,
      namespaces: ['team-a', 'team-a-staging'],
    },
  ]);

  assert.throws(
    () => parsePrometheusConfig('sources:\n  - name: main\n    url: http://u:p@prom:9090\n', 'p.yaml'),
    /--prometheus-config p\.yaml: sources\[0\] \(main\)\.url: "http:\/\/\*\*\*@prom:9090" has user info/,
  );
  assert.throws(
    () =>
      parsePrometheusConfig('sources:\n  - name: main\n    url: http://prom\n    password: x\n', 'p.yaml'),
    /--prometheus-config p\.yaml is not valid:[\s\S]*sources\[0\]/,
  );
  assert.throws(
    () => parsePrometheusConfig('sources:\n  - name: Main\n    url: http://prom\n', 'p.yaml'),
    /sources\[0\]\.name: must be a DNS label/,
  );
  assert.throws(
    () =>
      parsePrometheusConfig(
        'sources:\n  - name: m\n    url: http://prom\n    maxResponseSize: lots\n',
        'p.yaml',
      ),
    /maxResponseSize: "lots" is not a size of 1Ki or more/,
  );
  assert.throws(
    () => sourcesFromFlags({ prometheus: ['http://a:9090'], prometheusUrl: 'http://b:9090' }),
    /Prometheus source "default" is given twice/,
  );
  assert.throws(
    () => resolveSources([{ name: 'main', url: 'http://prom', bearerTokenFile: join(dir, 'missing') }]),
    /Prometheus source main: bearerTokenFile .*missing cannot be read/,
  );
  assert.throws(
    () => resolveSources([{ name: 'main', url: 'http://prom', caFile: token }]),
    /Prometheus source main: caFile .* cannot be read: Error: no PEM certificate in it/,
  );
  assert.throws(
    () => sourcesFromFlags({ prometheusConfig: join(dir, 'nope.yaml') }),
    /nope\.yaml cannot be read/,
  );
});

test('tailor operator: a bad Prometheus source stops the start, exit code 2, naming the flag', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'operator', ...args], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: '/nonexistent' },
    });
  const userinfo = run('--prometheus', 'http://admin:hunter2@prometheus:9090');
  assert.equal(userinfo.status, 2, userinfo.stderr);
  assert.match(userinfo.stderr, /--prometheus URL: "http:\/\/\*\*\*@prometheus:9090" has user info/);
  assert.ok(!userinfo.stderr.includes('hunter2'));
  const legacy = run('--prometheus-url', 'http://prometheus:9090/#/x');
  assert.equal(legacy.status, 2, legacy.stderr);
  assert.match(legacy.stderr, /--prometheus-url URL: "http:\/\/prometheus:9090\/#\/x" has a fragment/);
  const size = run('--prometheus', 'main=http://prometheus:9090', '--prometheus-max-response', 'huge');
  assert.equal(size.status, 2, size.stderr);
  assert.match(size.stderr, /--prometheus-max-response: "huge" is not a size of 1Ki or more/);
});
