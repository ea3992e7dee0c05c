import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { MetricsPoller, metricsApiError, parsePodMetricsList } from '../../src/sources/metrics-api.ts';
import { namespaces } from '../../src/sources/scope.ts';
import {
  PrometheusClient,
  historyQueries,
  mergePoints,
  oomEvents,
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
    /kube_pod_container_status_restarts_total.* and on \(namespace, pod, container\) .*reason="OOMKilled"\}\) == 1$/,
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
