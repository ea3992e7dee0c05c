// `tailor recommend` on the real control plane and simulator: a Deployment requesting 4x what it
// uses gets a recommendation well below its request and not below its usage, from usage sampled
// through the aggregated metrics.k8s.io API, then from the SQLite history after a restart, then
// from a real Prometheus server scraping the simulator (with OOM kills).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { makeClients } from '../../src/kube/client.ts';
import { readPodMetrics } from '../../src/sources/metrics-api.ts';
import {
  PrometheusClient,
  readPrometheusHistory,
  type PodOom,
  type PodUsagePoint,
} from '../../src/sources/prometheus.ts';
import { namespaces } from '../../src/sources/scope.ts';
import type { ContainerReport, RecommendReport } from '../../src/cli/commands/recommend-report.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { eventually, idleDeployment, prometheusTarget, simPod, useCluster } from '../support/cluster.ts';
import { runTailor, type CliResult } from '../support/cli.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const USE = { cpuCores: 0.05, memoryBytes: 100 * Mi };
const REQUEST = { cpu: 4 * USE.cpuCores, memory: 4 * USE.memoryBytes };
const work = mkdtempSync(join(tmpdir(), 'tailor-recommend-'));
const historyPath = join(work, 'history.db');
after(() => rmSync(work, { recursive: true, force: true }));

function deployment(name: string, replicas: number): k8s.V1Deployment {
  return idleDeployment(name, replicas, USE, {
    requests: { cpu: `${REQUEST.cpu * 1000}m`, memory: `${REQUEST.memory / Mi}Mi` },
  });
}

function tailor(...args: string[]): Promise<CliResult> {
  // No discovery: another file's Service labelled like a Prometheus must not change what these read.
  return runTailor([...args, '--no-prometheus-discovery'], {
    kubeconfig: cluster.kubeconfigPath,
    home: work,
  });
}

function item(report: RecommendReport, workload: string, container = 'app'): ContainerReport {
  const found = report.items.find(
    (i) => `${i.workload.kind}/${i.workload.name}` === workload && i.container === container,
  );
  assert.ok(
    found,
    `${workload}/${container} in ${report.items.map((i) => `${i.workload.kind}/${i.workload.name}`).join(', ')}`,
  );
  return found;
}

function assertRightSized(web: ContainerReport): void {
  const { cpu, memory } = web;
  assert.equal(cpu.status, 'Ok');
  assert.equal(memory.status, 'Ok');
  assert.equal(cpu.request, REQUEST.cpu);
  assert.equal(memory.request, REQUEST.memory);
  // Not below what was used...
  assert.ok(
    cpu.usage!.max >= USE.cpuCores * 0.98 && cpu.usage!.max <= USE.cpuCores * 1.02,
    `cpu max ${cpu.usage!.max}`,
  );
  assert.equal(memory.usage!.max, USE.memoryBytes);
  assert.ok(cpu.recommendation!.target >= cpu.usage!.max, `cpu target ${cpu.recommendation!.target}`);
  assert.ok(
    memory.recommendation!.target >= memory.usage!.max,
    `memory target ${memory.recommendation!.target / Mi}Mi`,
  );
  assert.ok(
    memory.recommendation!.lowerBound >= memory.usage!.max,
    'the lower bound protects observed usage',
  );
  // ...and well below the 4x request, even with the short-history margin.
  assert.ok(cpu.recommendation!.target <= REQUEST.cpu / 2, `cpu target ${cpu.recommendation!.target}`);
  assert.ok(
    memory.recommendation!.target <= REQUEST.memory / 2,
    `memory target ${memory.recommendation!.target / Mi}Mi`,
  );
  assert.ok(cpu.change! < -0.5 && memory.change! < -0.5, `changes ${cpu.change} ${memory.change}`);
  assert.equal(cpu.action, 'Lower');
  assert.equal(memory.action, 'Lower');
}

test('tailor recommend samples metrics.k8s.io and recommends well below a 4x request, never below usage', async (t) => {
  const { apps, core, namespace } = cluster;
  await apps.createNamespacedDeployment({ namespace, body: deployment('web', 2) });
  // A pod that cannot be scheduled has no usage at all: it is listed, with no recommendation.
  const stuck = simPod({
    name: 'stuck',
    profile: 'idle',
    resources: { requests: { cpu: '100m', memory: '64Mi' } },
  });
  stuck.spec!.nodeSelector = { 'sim.tailor.dev/pool': 'none' };
  await core.createNamespacedPod({ namespace, body: stuck });
  await eventually(
    async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      if (d.status?.readyReplicas !== 2) throw new Error(`ready ${d.status?.readyReplicas ?? 0}/2`);
    },
    { timeoutMs: 60_000, what: 'web Ready' },
  );
  const custom = makeClients(cluster.kc).custom;
  await eventually(
    async () => {
      const samples = await readPodMetrics(custom, namespaces(namespace));
      const web = samples.filter((s) => s.pod.startsWith('web-'));
      assert.equal(web.length, 2, `metrics for ${web.length} web pods`);
      assert.equal(web[0]!.memoryBytes, USE.memoryBytes, 'simulated memory in PodMetrics');
    },
    { timeoutMs: 60_000, what: 'PodMetrics of both web pods' },
  );

  const run = await tailor(
    'recommend',
    '-n',
    namespace,
    '--sample-for',
    // Longer than metrics-server's 15 s resolution: two scrapes, so a history span to read.
    '20s',
    '--history',
    historyPath,
    '-o',
    'json',
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /sampling metrics\.k8s\.io for 20s/);
  const report = JSON.parse(run.stdout) as RecommendReport;
  assert.equal(report.kind, 'RecommendationReport');
  assert.equal(report.history.source, 'Store');
  assert.ok(report.history.sampledSeconds >= 20, `sampled ${report.history.sampledSeconds}s`);
  const web = item(report, 'Deployment/web');
  assert.equal(web.pods, 2);
  assert.equal(web.history.short, true);
  // One sample per scrape: the span is whole resolutions (15 s), not the sampling time.
  assert.ok(web.history.seconds >= 13 && web.history.seconds <= 20, `history ${web.history.seconds}s`);
  assertRightSized(web);

  const pending = item(report, 'Pod/stuck');
  assert.equal(pending.cpu.status, 'NoData');
  assert.equal(pending.memory.status, 'NoData');
  assert.equal(pending.cpu.recommendation, null);
  assert.equal(pending.memory.recommendation, null);
  assert.equal(pending.cpu.request, 0.1);

  // A new process reads the same history back from the store (no sampling) and agrees.
  const again = await tailor(
    'recommend',
    '-n',
    namespace,
    '--sample-for',
    '0s',
    '--history',
    historyPath,
    '-o',
    'json',
  );
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /sampling/);
  const reread = item(JSON.parse(again.stdout) as RecommendReport, 'Deployment/web');
  assert.equal(reread.history.seconds, web.history.seconds);
  assert.equal(reread.cpu.recommendation!.quantity, web.cpu.recommendation!.quantity);
  assert.equal(reread.memory.recommendation!.quantity, web.memory.recommendation!.quantity);

  const table = await tailor('recommend', '-n', namespace, '--sample-for', '0s', '--history', historyPath);
  assert.equal(table.code, 0, table.stderr);
  t.diagnostic(`\n${table.stdout}`);
  assert.match(
    table.stdout,
    /Deployment\/web\s+app\s+cpu\s+200m\s+-\s+50m\s+50m\s+50m\s+\d+m\s+\S+\s+-\d+%\s+\d+s \(short\)/,
  );
  assert.match(table.stdout, /Pod\/stuck\s+app\s+cpu\s+100m\s+-\s+-\s+-\s+-\s+no data/);
  assert.match(table.stdout, /\(short\): under 24h of history/);
});

test('Prometheus history: usage and OOM kills read with range queries from a real Prometheus server', async (t) => {
  const { core, namespace } = cluster;
  const prometheus = await startPrometheus(prometheusTarget());
  t.after(() => prometheus.stop());
  // Created after Prometheus starts, so it sees the first OOM kills of the crash loop.
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'leaky',
      // Memory climbs past the limit about 21 s into each busy spell: each instance that starts in
      // the quiet part is scraped on its way up (one killed at its first tick never is, as with a
      // real cAdvisor), so the container has usage samples beside its kills.
      profile: 'batch',
      params: {
        baseMemoryBytes: 50 * Mi,
        peakMemoryBytes: 200 * Mi,
        baseCpuCores: 0.02,
        peakCpuCores: 0.02,
        busySeconds: 40,
        periodSeconds: 60,
        phaseSeconds: 0,
        noise: 0,
        startupSeconds: 0,
      },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '128Mi' } },
    }),
  });
  const client = new PrometheusClient({ baseUrl: prometheus.url });
  const instant = async (q: string) => {
    const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    return ((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
  };
  await eventually(
    async () => {
      // kube-state-metrics' restart counter: cAdvisor's OOM counter stays at 0 on a real cluster.
      const ooms = await instant(
        `kube_pod_container_status_restarts_total{namespace="${namespace}",pod="leaky"}`,
      );
      assert.ok(Number(ooms[0]?.value[1] ?? 0) >= 3, `OOM kills seen: ${ooms[0]?.value[1] ?? 'none'}`);
      // rate() divides by the whole window: until Prometheus has scraped for 10 s it reads low.
      const rate = await instant(
        `rate(container_cpu_usage_seconds_total{namespace="${namespace}",pod=~"web-.*",container="app"}[10s])`,
      );
      const old = await instant(
        `container_cpu_usage_seconds_total{namespace="${namespace}",pod=~"web-.*",container="app"} offset 15s`,
      );
      assert.equal(old.length, 2, `web CPU counters scraped 15 s ago: ${old.length}`);
      assert.equal(rate.length, 2, `CPU rates of ${rate.length} web pods`);
      assert.ok(
        rate.every((r) => Math.abs(Number(r.value[1]) - USE.cpuCores) < 0.005),
        `rates ${rate.map((r) => r.value[1]).join(', ')}`,
      );
    },
    { timeoutMs: 150_000, intervalMs: 1000, what: 'Prometheus to see OOM kills and CPU rates' },
  );

  const chunks: { points: PodUsagePoint[]; ooms: PodOom[] }[] = [];
  const now = Date.now() / 1000;
  const result = await readPrometheusHistory(client, {
    scope: namespaces(namespace),
    start: now - 60,
    end: now,
    stepSeconds: 5,
    rateWindowSeconds: 10,
    chunkSeconds: 20,
    onChunk: (points, ooms) => chunks.push({ points, ooms }),
  });
  assert.equal(result.oomSource, 'RestartsWithReasonAndOomEvents');
  assert.ok(chunks.length >= 3, `${chunks.length} chunks of at most 20 s`);
  const points = chunks.flatMap((c) => c.points);
  const web = points.filter((p) => p.pod.startsWith('web-') && p.memoryBytes !== undefined);
  assert.ok(web.length >= 4, `${web.length} web points`);
  assert.ok(
    web.every((p) => p.memoryBytes === USE.memoryBytes && p.container === 'app'),
    'web memory is 100Mi',
  );
  const cpu = web.flatMap((p) => (p.cpuCores === undefined ? [] : [p.cpuCores]));
  // Steps whose rate window the series did not yet cover are left out, not read low.
  assert.ok(cpu.length > 0, 'CPU rates once the series covers a window');
  assert.ok(
    cpu.every((c) => Math.abs(c - USE.cpuCores) < 0.005),
    `web cpu ${cpu.join(', ')}`,
  );
  const ooms = chunks.flatMap((c) => c.ooms);
  assert.ok(ooms.length >= 1, 'at least one OOM kill found');
  assert.ok(
    ooms.every((o) => o.pod === 'leaky' && o.usageBytes >= 128 * Mi),
    JSON.stringify(ooms),
  );

  // The command reads the same through its one-minute steps.
  const run = await tailor(
    'recommend',
    '-n',
    namespace,
    '--prometheus',
    prometheus.url,
    '--sample-for',
    '0s',
    '-o',
    'json',
  );
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as RecommendReport;
  assert.equal(report.history.source, 'Prometheus');
  const webItem = item(report, 'Deployment/web');
  assert.equal(webItem.memory.usage?.max, USE.memoryBytes);
  assert.ok(webItem.memory.recommendation!.target <= REQUEST.memory / 2, 'memory well below the request');
  assert.ok(webItem.memory.recommendation!.target >= USE.memoryBytes, 'memory not below usage');
  // Prometheus has run for less than the one-minute rate window: no CPU reading rather than a low one.
  if (webItem.cpu.status === 'Ok') {
    assert.ok(Math.abs(webItem.cpu.usage!.max - USE.cpuCores) < 0.005, `web cpu ${webItem.cpu.usage!.max}`);
  }
  const leaky = item(report, 'Pod/leaky');
  assert.ok(leaky.history.ooms >= 1, `${leaky.history.ooms} OOM kills`);
  // After an OOM kill at the 128Mi limit: at least max(usage x 1.3, usage + 100Mi).
  assert.ok(
    leaky.memory.recommendation!.target >= 228 * Mi,
    `leaky memory ${leaky.memory.recommendation!.target / Mi}Mi`,
  );
  assert.equal(leaky.memory.recommendation!.reason, 'OomFloor');
  assert.equal(leaky.memory.action, 'Raise');

  const table = await tailor(
    'recommend',
    '-n',
    namespace,
    '--prometheus',
    prometheus.url,
    '--sample-for',
    '0s',
  );
  assert.equal(table.code, 0, table.stderr);
  t.diagnostic(`\n${table.stdout}`);
  assert.match(table.stdout, /^usage: Prometheus http:\/\/127\.0\.0\.1:\d+ \(window 8d\)$/m);
  assert.match(table.stdout, /Pod\/leaky\s+app\s+cpu[\s\S]*memory\s+128Mi\s+128Mi\s+[\s\S]*\+\d+%\s*\n/);

  const unreachable = await tailor(
    'recommend',
    '-n',
    namespace,
    '--prometheus',
    'http://127.0.0.1:9',
    '-o',
    'json',
  );
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.stderr, /cannot reach Prometheus at http:\/\/127\.0\.0\.1:9/);
});

test('--context picks a context of a kubeconfig with two, and -l only the pods whose labels match', async () => {
  const { apps, core, namespace } = cluster;
  await apps.createNamespacedDeployment({ namespace, body: deployment('ctx-a', 1) });
  await apps.createNamespacedDeployment({ namespace, body: deployment('ctx-b', 1) });
  await eventually(
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app in (ctx-a,ctx-b)' });
      assert.equal(pods.items.length, 2, `${pods.items.length} of 2 pods`);
    },
    { timeoutMs: 60_000, what: 'the pods of ctx-a and ctx-b' },
  );
  // The current context names a cluster nobody listens on; "real" is the test's control plane.
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const real = kc.getCurrentContext();
  const two = new k8s.KubeConfig();
  two.loadFromOptions({
    clusters: [...kc.getClusters(), { name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: kc.getUsers(),
    contexts: [...kc.getContexts(), { name: 'nowhere', cluster: 'nowhere', user: kc.getContexts()[0]!.user }],
    currentContext: 'nowhere',
  });
  const path = join(work, 'two-contexts');
  writeFileSync(path, two.exportConfig());
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'recommend', '-n', namespace, '--kubeconfig', path, ...args],
        { timeout: 120_000, env: { ...process.env, TAILOR_HOME: work } },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const selected = await run('--context', real, '-l', 'app=ctx-a', '--sample-for', '0s', '-o', 'json');
  assert.equal(selected.code, 0, selected.stderr);
  const report = JSON.parse(selected.stdout) as RecommendReport;
  assert.deepEqual(
    report.items.map((i) => `${i.workload.kind}/${i.workload.name}`),
    ['Deployment/ctx-a'],
  );
  const both = await run('--context', real, '-l', 'app in (ctx-a,ctx-b)', '--sample-for', '0s', '-o', 'json');
  assert.deepEqual(
    (JSON.parse(both.stdout) as RecommendReport).items.map((i) => i.workload.name),
    ['ctx-a', 'ctx-b'],
  );
  // Without --context, the kubeconfig's current context: the cluster that is not there.
  const current = await run('-l', 'app=ctx-a', '--sample-for', '0s');
  assert.notEqual(current.code, 0);
  assert.match(current.stderr, /ECONNREFUSED|127\.0\.0\.1:1/);
});
