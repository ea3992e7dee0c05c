// vLLM v0.11.0's Prometheus series (vllm/v1/metrics/loggers.py, PrometheusStatLogger): every series
// labelled model_name (the first --served-model-name) and engine ("0" for one engine core). Counters
// are prometheus_client Counters, exposed with the _total suffix.
import type { Exposition, Labels } from '../../exposition.ts';
import {
  finishedBetween,
  histogramBetween,
  tokensBetween,
  type RequestField,
} from '../../../usage/served-totals.ts';
import type { ServerSnapshot } from './snapshot.ts';

/** loggers.py: histogram_time_to_first_token's buckets. */
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
  80.0, 160.0, 640.0, 2560.0,
];
/** loggers.py: request_latency_buckets (e2e, queue, inference, prefill and decode time). */
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
  960.0, 1920.0, 7680.0,
];

/** loggers.py build_1_2_5_buckets(max_model_len): 1, 2, 5, 10, 20, 50, ... up to the context length. */
export function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let exp = 1; ; exp *= 10)
    for (const m of [1, 2, 5]) {
      if (m * exp > max) return out;
      out.push(m * exp);
    }
}

/** FinishReason values (vllm/v1/engine/__init__.py): every one has its series from the start. */
const FINISH_REASONS = ['stop', 'length', 'abort'] as const;

export function vllmSeries(e: Exposition, target: Labels, modelName: string, s: ServerSnapshot): void {
  const labels: Labels = { ...target, model_name: modelName, engine: '0' };
  const g = s.gauges;
  e.add(
    'vllm:num_requests_running',
    'gauge',
    'Number of requests in model execution batches.',
    labels,
    g.requestsRunning,
  );
  e.add(
    'vllm:num_requests_waiting',
    'gauge',
    'Number of requests waiting to be processed.',
    labels,
    g.requestsWaiting,
  );
  e.add(
    'vllm:kv_cache_usage_perc',
    'gauge',
    'KV-cache usage. 1 means 100 percent usage.',
    labels,
    g.kvCacheUsage,
  );

  const t = tokensBetween(s.serving.trace, s.from, s.to);
  // No preemption and no prefix cache in the serving model: the series exist and stay at 0.
  e.add(
    'vllm:prefix_cache_queries_total',
    'counter',
    'Prefix cache queries, in terms of number of queried tokens.',
    labels,
    0,
  );
  e.add(
    'vllm:prefix_cache_hits_total',
    'counter',
    'Prefix cache hits, in terms of number of cached tokens.',
    labels,
    0,
  );
  e.add(
    'vllm:num_preemptions_total',
    'counter',
    'Cumulative number of preemption from the engine.',
    labels,
    0,
  );
  e.add(
    'vllm:prompt_tokens_total',
    'counter',
    'Number of prefill tokens processed.',
    labels,
    Math.floor(t.prompt),
  );
  e.add(
    'vllm:generation_tokens_total',
    'counter',
    'Number of generation tokens processed.',
    labels,
    Math.floor(t.generated),
  );
  const finished = finishedBetween(s.serving.trace, s.from, s.to);
  for (const reason of FINISH_REASONS)
    e.add(
      'vllm:request_success_total',
      'counter',
      'Count of successfully processed requests.',
      { ...labels, finished_reason: reason },
      reason === 'stop' ? finished : 0,
    );

  const h = (name: string, help: string, field: RequestField, bounds: readonly number[]) =>
    e.histogram(name, help, labels, histogramBetween(s.serving.trace, field, bounds, s.from, s.to));
  const lengths = buckets125(s.serving.contextLength);
  h('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', 'promptTokens', lengths);
  h('vllm:request_generation_tokens', 'Number of generation tokens processed.', 'generatedTokens', lengths);
  h(
    'vllm:time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    'firstTokenSeconds',
    TTFT_BUCKETS,
  );
  h(
    'vllm:e2e_request_latency_seconds',
    'Histogram of e2e request latency in seconds.',
    'e2eSeconds',
    REQUEST_LATENCY_BUCKETS,
  );
  h(
    'vllm:request_queue_time_seconds',
    'Histogram of time spent in WAITING phase for request.',
    'queueSeconds',
    REQUEST_LATENCY_BUCKETS,
  );
  h(
    'vllm:request_inference_time_seconds',
    'Histogram of time spent in RUNNING phase for request.',
    'inferenceSeconds',
    REQUEST_LATENCY_BUCKETS,
  );
}
