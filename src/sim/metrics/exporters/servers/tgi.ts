// Text Generation Inference's router metrics (router/src/server.rs, backends/v3/src/{queue,backend,lib}.rs,
// 3.3.x): unlabelled tgi_* series through metrics-exporter-prometheus, whose counters carry no
// _total suffix; durations in the router's geometric buckets, lengths in hundredths of the limits.
import type { Exposition, Labels } from '../../exposition.ts';
import { finishedBetween, histogramBetween, type RequestField } from '../../../usage/served-totals.ts';
import type { ServerSnapshot } from './snapshot.ts';

/** server.rs: 35 buckets, 0.0001 s times 1.5 per step. */
const DURATION_BUCKETS = Array.from({ length: 35 }, (_, i) => 0.0001 * 1.5 ** (i + 1));

function hundredths(max: number): number[] {
  return Array.from({ length: 100 }, (_, x) => (max / 100) * (x + 1));
}

export function tgiSeries(e: Exposition, target: Labels, s: ServerSnapshot): void {
  const sv = s.serving;
  const g = s.gauges;
  const finished = finishedBetween(sv.trace, s.from, s.to);
  e.add(
    'tgi_request_count',
    'counter',
    'Total number of requests',
    target,
    finished + g.requestsRunning + g.requestsWaiting,
  );
  e.add('tgi_request_success', 'counter', 'Number of successful requests', target, finished);
  e.add('tgi_queue_size', 'gauge', 'Current queue size', target, g.requestsWaiting);
  e.add('tgi_batch_current_size', 'gauge', 'Current batch size', target, g.requestsRunning);
  e.add(
    'tgi_batch_current_max_tokens',
    'gauge',
    'Maximum tokens for the current batch',
    target,
    Math.round(g.kvCacheUsage * sv.kvCapacityTokens),
  );
  // Set once after warm-up (backends/v3/src/lib.rs): the KV pool in tokens.
  e.add(
    'tgi_batch_max_total_tokens',
    'gauge',
    'Maximum amount of tokens in total.',
    target,
    sv.kvCapacityTokens,
  );
  const h = (name: string, help: string, field: RequestField, bounds: readonly number[]) =>
    e.histogram(name, help, target, histogramBetween(sv.trace, field, bounds, s.from, s.to));
  h('tgi_request_duration', 'Total time spent processing the request', 'e2eSeconds', DURATION_BUCKETS);
  h('tgi_request_queue_duration', 'Time spent in the queue per request', 'queueSeconds', DURATION_BUCKETS);
  h('tgi_request_inference_duration', 'Request inference duration', 'inferenceSeconds', DURATION_BUCKETS);
  h(
    'tgi_request_mean_time_per_token_duration',
    'Mean time per token per request',
    'secondsPerToken',
    DURATION_BUCKETS,
  );
  // The preset's --max-input-tokens is the context less one; --max-total-tokens the context.
  h(
    'tgi_request_input_length',
    'Input token length per request',
    'promptTokens',
    hundredths(sv.contextLength - 1),
  );
  h(
    'tgi_request_generated_tokens',
    'Generated tokens per request',
    'generatedTokens',
    hundredths(sv.contextLength),
  );
}
