import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviseQueries, liveMetrics, scalarOf, table } from '../../src/cli/commands/advise.ts';
import type { SignalQuery } from '../../src/core/llm/runtime-metrics.ts';

test("adviseQueries: p95 per pod of one ModelDeployment over the window, by its runtime's own names", () => {
  const q = adviseQueries('team-a', 'chat.v2', 'vllm', 3600);
  assert.deepEqual(q.kvCacheUsageP95, {
    kind: 'Query',
    promql:
      'max(quantile_over_time(0.95, vllm:kv_cache_usage_perc{namespace="team-a",pod=~"chat\\\\.v2-[a-z0-9]+-[a-z0-9]+"}[3600s]))',
  });
  assert.equal(q.requestsWaitingP95.kind, 'Query');
  assert.match(
    promql(q.requestsWaitingP95),
    /^max\(quantile_over_time\(0\.95, vllm:num_requests_waiting\{.*\}\[3600s\]\)\)$/,
  );
  assert.equal(
    q.gpuMemoryUsedBytes,
    'max(max_over_time(DCGM_FI_DEV_FB_USED{namespace="team-a",pod=~"chat\\\\.v2-[a-z0-9]+-[a-z0-9]+"}[3600s])) * 1048576',
  );

  const llama = adviseQueries('team-a', 'chat', 'llamacpp', 300);
  assert.match(promql(llama.requestsWaitingP95), /llamacpp:requests_deferred\{/);
  assert.equal(llama.kvCacheUsageP95.kind, 'Absent');
  for (const q2 of [llama.kvCacheUsageP95, llama.requestsWaitingP95])
    assert.doesNotMatch(JSON.stringify(q2), /vllm:/);

  const tgi = adviseQueries('team-a', 'chat', 'tgi', 300);
  assert.match(promql(tgi.requestsWaitingP95), /tgi_queue_size\{/);
  assert.match(
    promql(tgi.kvCacheUsageP95),
    /tgi_batch_current_max_tokens\{.*\/ sum by \(namespace, pod\) \(tgi_batch_max_total_tokens\{/,
  );

  const ollama = adviseQueries('team-a', 'chat', 'ollama', 300);
  assert.deepEqual(ollama.requestsWaitingP95, {
    kind: 'Absent',
    why: 'Ollama exports no Prometheus metrics',
  });
});

function promql(q: SignalQuery): string {
  assert.equal(q.kind, 'Query');
  return q.kind === 'Query' ? q.promql : '';
}

test('scalarOf and liveMetrics: no series means no live metrics, never advice on missing data', () => {
  assert.equal(scalarOf([]), undefined);
  assert.equal(scalarOf([{ values: [[1, 0.42]] }]), 0.42);
  assert.equal(liveMetrics(undefined, 0, undefined), undefined);
  assert.equal(liveMetrics(0.3, undefined, 1e9), undefined);
  assert.deepEqual(liveMetrics(0.12345, 0, undefined), { kvCacheUsageP95: 0.123, requestsWaitingP95: 0 });
  // A runtime without a KV-cache series (llama-server) still has live figures, without that one.
  assert.deepEqual(liveMetrics('NotExported', 1.234, undefined), { requestsWaitingP95: 1.23 });
  assert.equal(liveMetrics('NotExported', undefined, undefined), undefined);
  assert.deepEqual(liveMetrics(0.5, 2, 8 * 2 ** 30), {
    kvCacheUsageP95: 0.5,
    requestsWaitingP95: 2,
    gpuMemoryUsedBytes: 8 * 2 ** 30,
  });
});

test('table: GPU now, live figures, each advice with its saving, and the no-metrics note', () => {
  const out = table(
    [
      {
        namespace: 'a',
        name: 'chat',
        runtime: 'vllm',
        gpu: { type: 'a100-80gb', count: 1 },
        live: { kvCacheUsageP95: 0.1, requestsWaitingP95: 0, gpuMemoryUsedBytes: 40 * 2 ** 30 },
        advice: [{ kind: 'SmallerGpu', message: '1 x l4 holds it', gpu: 'l4', gpus: 1, hourlySaving: 1.2 }],
      },
      {
        namespace: 'a',
        name: 'idle',
        runtime: 'vllm',
        gpu: { type: 'l4', count: 1 },
        advice: [],
        note: 'no live metrics for idle',
      },
    ],
    '1h',
  );
  assert.match(out, /a\/chat {2}GPU now: 1 x a100-80gb/);
  assert.match(out, /KV cache p95 10%, waiting p95 0, GPU memory peak 40\.0 GiB/);
  assert.match(out, /SmallerGpu: 1 x l4 holds it \(saves \$1\.2\/h per replica\)/);
  assert.match(out, /no live metrics for idle/);
});
