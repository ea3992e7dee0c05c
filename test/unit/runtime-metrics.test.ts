// The per-runtime metric table: each runtime read by its own names, and said plainly when it has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  metricNames,
  p95Query,
  RUNTIME_METRICS,
  SERVING_SIGNALS,
} from '../../src/core/llm/runtime-metrics.ts';
import { RUNTIMES } from '../../src/core/llm/runtime.ts';

const pods = { namespace: 'team-"a"', podRegex: 'chat-[a-z0-9]+-[a-z0-9]+' };

test('every runtime reads only its own prefix', () => {
  const prefix = { vllm: /^vllm:/, llamacpp: /^llamacpp:/, tgi: /^tgi_/, ollama: /^$/ } as const;
  for (const r of RUNTIMES) for (const n of metricNames(r)) assert.match(n, prefix[r], `${r} reads ${n}`);
  assert.deepEqual(metricNames('ollama'), []);
  assert.ok(metricNames('vllm').includes('vllm:kv_cache_usage_perc'));
  assert.ok(metricNames('llamacpp').includes('llamacpp:requests_deferred'));
  assert.ok(!metricNames('llamacpp').some((n) => n.includes('kv_cache')));
});

test('a gauge is a per-pod p95 over the window, with the namespace escaped', () => {
  assert.deepEqual(p95Query('llamacpp', 'requestsRunning', pods, 299.6), {
    kind: 'Query',
    promql:
      'max(quantile_over_time(0.95, llamacpp:requests_processing{namespace="team-\\"a\\"",pod=~"chat-[a-z0-9]+-[a-z0-9]+"}[300s]))',
  });
});

test('a counter is read as its rate, a ratio per pod before the p95', () => {
  const c = p95Query('vllm', 'generatedTokens', pods, 600);
  assert.equal(c.kind, 'Query');
  assert.match(
    c.kind === 'Query' ? c.promql : '',
    /rate\(vllm:generation_tokens_total\{.*\}\[1m\]\)\[600s:\]/,
  );
  const r = p95Query('tgi', 'kvCacheUsage', pods, 600);
  assert.equal(
    r.kind === 'Query' ? r.promql : '',
    'max(quantile_over_time(0.95, (sum by (namespace, pod) (tgi_batch_current_max_tokens{namespace="team-\\"a\\"",pod=~"chat-[a-z0-9]+-[a-z0-9]+"}) / sum by (namespace, pod) (tgi_batch_max_total_tokens{namespace="team-\\"a\\"",pod=~"chat-[a-z0-9]+-[a-z0-9]+"}))[600s:]))',
  );
});

test('what a runtime does not export is Absent with the reason, never a guess', () => {
  const kv = p95Query('llamacpp', 'kvCacheUsage', pods, 60);
  assert.equal(kv.kind, 'Absent');
  assert.match(kv.kind === 'Absent' ? kv.why : '', /llama-server exports no KV-cache usage/);
  for (const s of SERVING_SIGNALS)
    assert.deepEqual(p95Query('ollama', s, pods, 60), {
      kind: 'Absent',
      why: 'Ollama exports no Prometheus metrics',
    });
  assert.equal(RUNTIME_METRICS.ollama.kind, 'None');
});
