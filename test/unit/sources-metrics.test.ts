import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { MetricsPoller, metricsApiError, parsePodMetricsList } from '../../src/sources/metrics-api.ts';
import { namespaces } from '../../src/sources/scope.ts';
import {
  PrometheusClient,
  findOomSource,
  historyQueries,
  mergePoints,
  oomEvents,
  readPrometheusHistory,
  selector,
  type RangeSeries,
} from '../../src/sources/prometheus.ts';
import { ALL_NAMESPACES } from '../../src/sources/scope.ts';
import { TailorError } from '../../src/errors.ts';

const Mi = 2 ** 20;

function podMetrics(ns: string, name: string, timestamp: string, containers: [string, string, string][]) {
  return {
    metadata: { name, namespace: ns },
    timestamp,
    window: '10s',
    containers: containers.map(([n, cpu, memory]) => ({ name: n, usage: { cpu, memory } })),
  };
}

test('PodMetrics lists parse into per-container samples in cores and bytes', () => {
  const body = {
    items: [
      podMetrics('a', 'web-1', '2025-01-01T00:00:10Z', [
        ['app', '250000000n', '102400Ki'],
        ['sidecar', '5m', '16Mi'],
      ]),
      podMetrics('a', 'broken', '2025-01-01T00:00:10Z', [['app', 'lots', '1Mi']]),
      { metadata: { name: 'no-namespace' }, containers: [] },
    ],
  };
  assert.deepEqual(parsePodMetricsList(body, 0), [
    { namespace: 'a', pod: 'web-1', container: 'app', t: 1735689610, cpuCores: 0.25, memoryBytes: 100 * Mi },
    {
      namespace: 'a',
      pod: 'web-1',
      container: 'sidecar',
      t: 1735689610,
      cpuCores: 0.005,
      memoryBytes: 16 * Mi,
    },
  ]);
  assert.deepEqual(parsePodMetricsList({ kind: 'Status' }, 0), []);
});

test('the poller returns each measurement once, however often it polls', async () => {
  let stamp = '2025-01-01T00:00:10Z';
  const calls: string[] = [];
  const custom = {
    listNamespacedCustomObject: (p: { namespace: string }) => {
      calls.push(p.namespace);
      return Promise.resolve({ items: [podMetrics(p.namespace, 'p', stamp, [['app', '1', '1Mi']])] });
    },
  } as unknown as k8s.CustomObjectsApi;
  const poller = new MetricsPoller(custom, namespaces('a', 'b'));
  assert.equal((await poller.poll()).length, 2);
  assert.equal((await poller.poll()).length, 0, 'metrics-server answers the same scrape until its next one');
  stamp = '2025-01-01T00:00:25Z';
  assert.equal((await poller.poll()).length, 2);
  assert.deepEqual(calls, ['a', 'b', 'a', 'b', 'a', 'b']);
});

test('a missing metrics API says to install metrics-server or use --prometheus', () => {
  for (const code of [404, 503]) {
    const err = metricsApiError({
      code,
      body: JSON.stringify({ message: 'the server could not find the requested resource' }),
    });
    assert.ok(err instanceof TailorError);
    assert.equal(err.code, 'Prerequisite');
    assert.match(
      err.message,
      /metrics\.k8s\.io\/v1beta1 API is not available[\s\S]*install metrics-server[\s\S]*--prometheus/,
    );
  }
  assert.match(metricsApiError({ code: 403, body: '{}' }).message, /grant "list" on "pods"/);
});

test('Prometheus queries select app containers of the scope, one value per container and step', () => {
  assert.equal(selector(ALL_NAMESPACES), '{namespace!="",pod!="",container!="",container!="POD"}');
  assert.equal(
    selector(namespaces('a', 'b-c')),
    '{namespace=~"a|b-c",pod!="",container!="",container!="POD"}',
  );
  const q = historyQueries(namespaces('shop'), 60, 60);
  assert.match(
    q.memory,
    /^max by \(namespace, pod, container\) \(max_over_time\(container_memory_working_set_bytes\{.*\}\[60s\]\)\)$/,
  );
  assert.match(q.cpu, /rate\(container_cpu_usage_seconds_total\{namespace=~"shop",.*\}\[60s\]\)/);
  assert.match(
    q.cpu,
    / and on \(namespace, pod, container\) max by \(namespace, pod, container\) \(container_cpu_usage_seconds_total\{.*\} offset 60s\)$/,
  );
  assert.match(q.oomEvents, /increase\(container_oom_events_total\{.*\}\[120s\]\)\) > 0$/);
  assert.match(
    q.oomRestarts,
    /^max by \(namespace, pod, container\) \(increase\(kube_pod_container_status_restarts_total\{namespace=~"shop",.*\}\[120s\]\)\) > 0 and on \(namespace, pod, container\) max by \(namespace, pod, container\) \(kube_pod_container_status_last_terminated_reason\{namespace=~"shop",.*,reason="OOMKilled"\}\) == 1$/,
  );
  // The limit in force (cAdvisor), else the spec's (KSM) for a container killed before any scrape.
  assert.match(
    q.memoryLimit,
    /^max by \(namespace, pod, container\) \(max_over_time\(container_spec_memory_limit_bytes\{.*\}\[120s\]\)\) or max by \(namespace, pod, container\) \(max_over_time\(kube_pod_container_resource_limits\{.*,resource="memory"\}\[120s\]\)\)$/,
  );
  // Either signal, each whole: KSM's restarts first, cAdvisor's per-cgroup counter beside it.
  assert.equal(q.oomEither, `(${q.oomRestarts}) or (${q.oomEvents})`);
  // No job named: kube-prometheus says "kubelet" and "kube-state-metrics", other setups otherwise.
  for (const query of Object.values(q) as string[]) assert.doesNotMatch(query, /job=/);
});

/**
 * A Prometheus holding the given metric names (for /series) and answering range queries by the
 * metric they read: a real cluster's OOM signal is KSM's restarts with reason OOMKilled, while
 * cAdvisor's counter stays flat (its series exists, its increase is never positive).
 */
function oomPrometheus(names: readonly string[], queries: string[]): typeof fetch {
  const c = { namespace: 'shop', pod: 'web-1', container: 'app' };
  return (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const params = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    const ok = (data: unknown) => Promise.resolve(Response.json({ status: 'success', data }));
    if (url.endsWith('/series')) {
      const match = params.get('match[]') ?? '';
      return ok(
        names.some((n) => match.startsWith(`${n}{`)) ? [{ __name__: match.split('{')[0], ...c }] : [],
      );
    }
    const query = params.get('query') ?? '';
    queries.push(query);
    const end = Number(params.get('end'));
    const matrix = (values: [number, string][]) =>
      ok({ resultType: 'matrix', result: [{ metric: c, values }] });
    // The kill: KSM's restart counter rose in the last step (comparison filters keep only positives).
    if (query.includes('kube_pod_container_status_restarts_total')) return matrix([[end, '1']]);
    if (query.includes('container_oom_events_total')) return ok({ resultType: 'matrix', result: [] });
    if (query.includes('container_spec_memory_limit_bytes')) return matrix([[end, String(128 * Mi)]]);
    if (query.includes('container_memory_working_set_bytes')) return matrix([[end - 60, String(120 * Mi)]]);
    return ok({ resultType: 'matrix', result: [] });
  };
}

const KSM = 'kube_pod_container_status_restarts_total';
const CADVISOR_OOM = 'container_oom_events_total';

test('OOM source: kube-state-metrics restarts first, cAdvisor counter beside them, alone only as a fallback', async () => {
  const source = (names: string[]) =>
    findOomSource(
      new PrometheusClient({ baseUrl: 'http://prometheus.test', fetch: oomPrometheus(names, []) }),
      namespaces('shop'),
      0,
      600,
    );
  assert.equal(await source([KSM, CADVISOR_OOM]), 'RestartsWithReasonAndOomEvents');
  assert.equal(await source([KSM]), 'RestartsWithReason');
  assert.equal(await source([CADVISOR_OOM]), 'ContainerOomEvents');
  assert.equal(await source([]), 'None');
});

test('an OOM kill on a real cluster (KSM restart, cAdvisor counter flat) is found, sized at the limit', async () => {
  const queries: string[] = [];
  const ooms: { pod: string; usageBytes: number }[] = [];
  const result = await readPrometheusHistory(
    new PrometheusClient({
      baseUrl: 'http://prometheus.test',
      fetch: oomPrometheus([KSM, CADVISOR_OOM], queries),
    }),
    { scope: namespaces('shop'), start: 0, end: 600, onChunk: (_, found) => ooms.push(...found) },
  );
  assert.equal(result.oomSource, 'RestartsWithReasonAndOomEvents');
  assert.deepEqual(ooms, [
    { namespace: 'shop', pod: 'web-1', container: 'app', t: 570, usageBytes: 128 * Mi },
  ]);
  // One query reads both signals.
  const oomQueries = queries.filter((q) => q.includes('kube_pod_container_status_restarts_total'));
  assert.ok(
    oomQueries.length > 0 && oomQueries.every((q) => q.includes(CADVISOR_OOM)),
    oomQueries.join('\n'),
  );
});

const c = { namespace: 'shop', pod: 'web-1', container: 'app' };

test('memory and CPU series join per container and step, stamped inside the step they cover', () => {
  const memory: RangeSeries[] = [
    {
      metric: c,
      values: [
        [120, 100 * Mi],
        [180, 110 * Mi],
      ],
    },
  ];
  const cpu: RangeSeries[] = [
    { metric: c, values: [[180, 0.2]] },
    { metric: { namespace: 'x' }, values: [[180, 1]] },
  ];
  assert.deepEqual(mergePoints(memory, cpu, 60), [
    { ...c, t: 90, cpuCores: undefined, memoryBytes: 100 * Mi },
    { ...c, t: 150, cpuCores: 0.2, memoryBytes: 110 * Mi },
  ]);
});

test('one OOM kill per run of positive steps, at the higher of limit and observed peak', () => {
  const events: RangeSeries[] = [
    {
      metric: c,
      values: [
        [600, 1.2],
        [660, 0.9],
        [1200, 2],
      ],
    },
  ];
  const limits: RangeSeries[] = [
    {
      metric: c,
      values: [
        [600, 256 * Mi],
        [1200, 256 * Mi],
      ],
    },
  ];
  const memory: RangeSeries[] = [{ metric: c, values: [[1200, 300 * Mi]] }];
  assert.deepEqual(oomEvents(events, limits, memory, 60), [
    { ...c, t: 570, usageBytes: 256 * Mi },
    { ...c, t: 1170, usageBytes: 300 * Mi },
  ]);
  assert.deepEqual(oomEvents(events, [], [], 60), [], 'no usage known: no event rather than a guess');
});

test('the Prometheus client says what is wrong with the URL or the answer', async () => {
  assert.throws(
    () => new PrometheusClient({ baseUrl: 'localhost:9090' }),
    /not an http\(s\) URL|not a Prometheus URL/,
  );
  const refused = new PrometheusClient({
    baseUrl: 'http://127.0.0.1:9/',
    fetch: () =>
      Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
  });
  await assert.rejects(
    refused.queryRange('up', 0, 60, 60),
    /cannot reach Prometheus at http:\/\/127\.0\.0\.1:9: ECONNREFUSED/,
  );
  const bad = new PrometheusClient({
    baseUrl: 'http://prom/prefix/',
    fetch: (url) => {
      assert.equal(
        url instanceof Request ? url.url : url.toString(),
        'http://prom/prefix/api/v1/query_range',
      );
      return Promise.resolve(
        new Response(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }), {
          status: 400,
        }),
      );
    },
  });
  await assert.rejects(
    bad.queryRange('up{', 0, 60, 60),
    /answered query_range with query failed \(bad_data\): parse error/,
  );
  await assert.rejects(bad.queryRange('up', 0, 60 * 20_000, 60), /chunk it/);
});
