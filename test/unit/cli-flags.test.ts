// Every bad flag value is refused before anything connects: exit code 2, one line naming the flag
// and what to write instead, no stack trace. The cluster the kubeconfig names is unreachable on
// purpose, so a flag checked too late shows up as a connection error instead.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tailor-cli-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]
current-context: c
`,
);

const plain = join(dir, 'plain');
writeFileSync(plain, 'no colon, no certificate\n');

function tailor(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig },
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

const cases: { args: string[]; message: RegExp }[] = [
  { args: ['operator', '--log-level', 'loud'], message: /--log-level loud: expected trace, debug, info/ },
  { args: ['operator', '--prometheus-timeout', '0'], message: /--prometheus-timeout must be longer than 0/ },
  { args: ['operator', '--metrics-addr', 'nonsense'], message: /address "nonsense" is not host:port/ },
  { args: ['operator', '--leader-elect=maybe'], message: /--leader-elect=maybe: expected true or false/ },
  { args: ['models', '--hub-url', 'not a url'], message: /--hub-url "not a url" is not an http\(s\) URL/ },
  {
    args: ['recommend', '--prometheus', 'prom:9090'],
    message: /--prometheus "prom:9090" is not an http\(s\) URL/,
  },
  { args: ['recommend', '--bogus'], message: /unknown option '--bogus'/ },
  { args: ['recommend', '-n', 'a', '-A'], message: /-n and -A both given/ },
  { args: ['recommend', '--window', '-5m'], message: /--window "-5m" is not a duration/ },
  { args: ['recommend', '-o', 'xml'], message: /unknown output format "xml"/ },
  {
    args: ['apply', '-f', join(dir, 'missing.json')],
    message: /cannot read recommendations .*missing\.json/,
  },
  { args: ['sim', '--speed', '-1'], message: /--speed -1: expected a positive number/ },
  { args: ['dev', 'bogus'], message: /unknown command 'bogus'/ },
  {
    args: ['webhook', '--register', '--namespaces', 'team-a,Team B'],
    message: /--namespaces: "Team B" is not a namespace name/,
  },
  // --context on every command that talks to a cluster, one implementation: the same refusal.
  ...[
    'recommend',
    'advise --prometheus http://p:9090',
    'report',
    'operator',
    'models',
    'webhook',
    `sim --kubeconfig ${kubeconfig}`,
  ].map((c) => ({
    args: [...c.split(' '), '--context', 'nope'],
    // `models` reads $KUBECONFIG like `operator` (not the dev cluster's file): it knows context c.
    message: /--context nope: no such context in the kubeconfig\n\s+hint: one of: c/,
  })),
  { args: ['apply', '-n', 'x', '--context', 'nope'], message: /--context nope: no such context/ },
  { args: ['recommend', '-l', 'env in (a,b'], message: /-l "env in \(a,b": a "\(" without its "\)"/ },
  { args: ['report', '-l', 'app=Not Valid'], message: /-l "app=Not Valid": cannot read "app=Not Valid"/ },
  { args: ['advise', '--prometheus', 'http://p:9090', '-l', '-x'], message: /"-x" is not a label key/ },
  {
    args: ['recommend', '--prometheus', 'http://p:9090', '--prometheus-basic-auth-file', plain],
    message: /--prometheus-basic-auth-file .*plain holds no "user:password"/,
  },
  {
    args: ['advise', '--prometheus', 'http://p:9090', '--prometheus-ca-file', plain],
    message: /--prometheus-ca-file .*plain holds no PEM certificate/,
  },
  {
    args: ['recommend', '--prometheus', 'http://p:9090', '--prometheus-bearer-token-file', join(dir, 'nope')],
    message: /--prometheus-bearer-token-file .*nope cannot be read: ENOENT/,
  },
  {
    args: ['recommend', '--prometheus-url', 'prom:9090'],
    message:
      /--prometheus-url is deprecated; use --prometheus\n.*--prometheus "prom:9090" is not an http\(s\) URL/s,
  },
];

for (const c of cases) {
  test(`tailor ${c.args.join(' ')} exits 2 naming the flag`, () => {
    const r = tailor(c.args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, c.message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(r.stderr, /ECONNREFUSED/, 'refused before connecting');
  });
}

test('tailor --version and -V print the package version and exit 0', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, flag], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('--prometheus-url is hidden from the help: one name, --prometheus, in every command', () => {
  for (const c of ['recommend', 'advise', 'operator']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, c, '--help'], { encoding: 'utf8' });
    assert.match(r.stdout, /--prometheus </);
    assert.doesNotMatch(r.stdout, /--prometheus-url/);
  }
});
