// Prometheus found by itself, on the real control plane: with no --prometheus, `tailor recommend`
// says in one line that none was found and how to pass one; once a Service labelled like
// kube-prometheus-stack's stands in front of a real Prometheus (scraping the simulator), it is found,
// reached through the apiserver's service proxy with the kubeconfig's credentials, and read. And a
// real Prometheus behind basic auth: the right file reads, a wrong one is refused in one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { RecommendReport } from '../../src/cli/commands/recommend-report.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { eventually, idleDeployment, prometheusTarget, useCluster } from '../support/cluster.ts';
import { runTailor, type CliResult } from '../support/cli.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const USE = { cpuCores: 0.05, memoryBytes: 100 * Mi };
const work = mkdtempSync(join(tmpdir(), 'tailor-discovery-'));
after(() => rmSync(work, { recursive: true, force: true }));

function tailor(...args: string[]): Promise<CliResult> {
  return runTailor(args, { kubeconfig: cluster.kubeconfigPath, home: work });
}

/** An address of this machine the apiserver may proxy to (Endpoints refuse loopback ones). */
function hostAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

/** The pod IP a Prometheus "pod" has: the apiserver proxies only to endpoints that are pods. */
async function standInPod(name: string, ip: string): Promise<void> {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { app: 'stand-in-prometheus' } },
      // Never scheduled (no node has this label): nothing but this test writes its status.
      spec: {
        nodeSelector: { 'tailor.dev/test-no-such-node': 'true' },
        containers: [{ name: 'prometheus', image: 'prom/prometheus' }],
      },
    },
  });
  await core.patchNamespacedPodStatus(
    { namespace, name, body: { status: { podIP: ip, podIPs: [{ ip }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

test('no --prometheus and nothing labelled: one line saying how to pass it; the store is read', async () => {
  const run = await tailor('recommend', '-n', cluster.namespace, '--sample-for', '0s', '-o', 'json');
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stderr.split('\n').filter((l) => l.includes('Prometheus'));
  assert.deepEqual(lines.length, 1, run.stderr);
  assert.match(
    lines[0]!,
    /^no Prometheus found: no Service in any namespace carries a well-known Prometheus label .*; pass --prometheus URL/,
  );
  assert.equal((JSON.parse(run.stdout) as RecommendReport).history.source, 'Store');
  const off = await tailor(
    'recommend',
    '-n',
    cluster.namespace,
    '--sample-for',
    '0s',
    '--no-prometheus-discovery',
  );
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stderr, /Prometheus/, '--no-prometheus-discovery: not looked for');
});

test("a Service labelled like kube-prometheus-stack's in front of a real Prometheus is found and read through the apiserver", async (t) => {
  const host = hostAddress();
  if (host === undefined) {
    t.skip('no non-loopback IPv4 address: the apiserver will not proxy to a loopback endpoint');
    return;
  }
  const { core, namespace } = cluster;
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const discovery = cluster.kc.makeApiClient(k8s.DiscoveryV1Api);
  await apps.createNamespacedDeployment({
    namespace,
    body: idleDeployment('web', 1, USE, { requests: { cpu: '200m', memory: '400Mi' } }),
  });
  const prometheus = await startPrometheus(prometheusTarget(), { host });
  t.after(() => prometheus.stop());
  const port = Number(new URL(prometheus.url).port);
  await eventually(
    async () => {
      const q = `container_memory_working_set_bytes{namespace="${namespace}",pod=~"web-.*"}`;
      const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { data: { result: unknown[] } };
      assert.ok(body.data.result.length >= 1, 'web scraped');
    },
    { timeoutMs: 90_000, intervalMs: 1000, what: 'Prometheus to scrape the web pod' },
  );

  // What kube-prometheus-stack installs, in front of this Prometheus: the Service (its labels and
  // ports: a reloader port first, http-web 9090), and an EndpointSlice to the "pod".
  const svc = 'kps-kube-prometheus-stack-prometheus';
  await standInPod('prometheus-kps-0', host);
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: svc, labels: { app: 'kube-prometheus-stack-prometheus', release: 'kps' } },
      spec: {
        clusterIP: 'None',
        ports: [
          { name: 'reloader-web', port: 8080, targetPort: 8080 },
          { name: 'http-web', port: 9090, targetPort: port },
        ],
      },
    },
  });
  // Deleted as soon as this test is done: other files' `recommend` runs must not find it.
  t.after(() => core.deleteNamespacedService({ namespace, name: svc }).catch(() => {}));
  await discovery.createNamespacedEndpointSlice({
    namespace,
    body: {
      metadata: {
        name: `${svc}-1`,
        labels: {
          'kubernetes.io/service-name': svc,
          'endpointslice.kubernetes.io/managed-by': 'tailor-test',
        },
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [host],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', namespace, name: 'prometheus-kps-0' },
        },
      ],
      ports: [{ name: 'http-web', port, protocol: 'TCP' }],
    },
  });

  const run = await tailor(
    'recommend',
    '-n',
    namespace,
    '--sample-for',
    '0s',
    '--window',
    '1h',
    '-o',
    'json',
  );
  assert.equal(run.code, 0, run.stderr);
  t.diagnostic(run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `^found Prometheus Service ${namespace}/${svc} port 9090 \\(app=kube-prometheus-stack-prometheus\\), reached through the apiserver$`,
      'm',
    ),
  );
  const report = JSON.parse(run.stdout) as RecommendReport;
  assert.equal(report.history.source, 'Prometheus');
  assert.equal(report.history.location, `${namespace}/${svc}:9090 (through the apiserver)`);
  const web = report.items.find((i) => i.workload.name === 'web' && i.container === 'app');
  assert.ok(web, JSON.stringify(report.items));
  assert.equal(
    web.memory.usage?.max,
    USE.memoryBytes,
    'the usage Prometheus scraped, read through the proxy',
  );
});

test('a real Prometheus behind basic auth: the right file reads, a wrong one is refused in one line', async (t) => {
  // bcrypt of "s3cret" (Prometheus' web config keeps hashes only).
  const hash = '$2a$10$mYp3XEJ7YYhZ65hWlBQgP.NsZ.k3hj.KOOKiqqu5i2GOJsFn5SHEy';
  const prometheus = await startPrometheus(prometheusTarget(), { basicAuthUsers: { tailor: hash } });
  t.after(() => prometheus.stop());
  const good = join(work, 'good');
  const bad = join(work, 'bad');
  writeFileSync(good, 'tailor:s3cret\n');
  writeFileSync(bad, 'tailor:wrong\n');
  const read = (file: string) =>
    tailor(
      'recommend',
      '-n',
      cluster.namespace,
      '--prometheus',
      prometheus.url,
      '--prometheus-basic-auth-file',
      file,
      '--sample-for',
      '0s',
      '-o',
      'json',
    );
  const ok = await read(good);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as RecommendReport).history.source, 'Prometheus');
  const refused = await read(bad);
  assert.notEqual(refused.code, 0);
  const lines = refused.stderr.trim().split('\n');
  assert.ok(
    lines.some((l) => l.includes(`Prometheus at ${prometheus.url} refused the credentials (HTTP 401)`)),
    refused.stderr,
  );
  assert.doesNotMatch(refused.stderr, /Unauthorized|<html|at .*\.ts:\d+/, 'no server text, no stack');
});
