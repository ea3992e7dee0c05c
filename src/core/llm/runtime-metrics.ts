// Which Prometheus series each inference server exports for the serving figures Tailor reads, by the
// server's own names, and the PromQL that reads them. One table, so `tailor advise` (and anything
// else) queries vllm:* for vLLM, llamacpp:* for llama.cpp, tgi_* for TGI, and knows when a server
// has no such series instead of guessing. Sources:
// - vLLM v0.11.0 vllm/v1/metrics/loggers.py (PrometheusStatLogger; labels model_name, engine);
// - llama.cpp tools/server/server-context.cpp (the /metrics handler, only with --metrics);
// - TGI router/src/server.rs and backends/v3/src/{queue,backend,lib}.rs;
// - Ollama serves no Prometheus endpoint.
import type { Runtime } from './runtime.ts';

/** A serving figure, read per pod. */
export type ServingSignal =
  /** Share of the KV cache in use, 0..1. */
  | 'kvCacheUsage'
  /** Requests waiting for a sequence slot. */
  | 'requestsWaiting'
  /** Requests being served. */
  | 'requestsRunning'
  /** Prompt and generated tokens processed (counters). */
  | 'promptTokens'
  | 'generatedTokens';

export const SERVING_SIGNALS: readonly ServingSignal[] = [
  'kvCacheUsage',
  'requestsWaiting',
  'requestsRunning',
  'promptTokens',
  'generatedTokens',
];

export type SignalSource =
  | { readonly kind: 'Gauge'; readonly name: string }
  | { readonly kind: 'Counter'; readonly name: string }
  /** A gauge the server does not export, computed from two it does. */
  | { readonly kind: 'Ratio'; readonly numerator: string; readonly denominator: string }
  /** The server has no series for it. */
  | { readonly kind: 'Absent'; readonly why: string };

export type RuntimeMetrics =
  | { readonly kind: 'Exported'; readonly signals: { readonly [S in ServingSignal]: SignalSource } }
  | { readonly kind: 'None'; readonly why: string };

const gauge = (name: string): SignalSource => ({ kind: 'Gauge', name });
const counter = (name: string): SignalSource => ({ kind: 'Counter', name });

export const RUNTIME_METRICS: { readonly [R in Runtime]: RuntimeMetrics } = {
  vllm: {
    kind: 'Exported',
    signals: {
      kvCacheUsage: gauge('vllm:kv_cache_usage_perc'),
      requestsWaiting: gauge('vllm:num_requests_waiting'),
      requestsRunning: gauge('vllm:num_requests_running'),
      promptTokens: counter('vllm:prompt_tokens_total'),
      generatedTokens: counter('vllm:generation_tokens_total'),
    },
  },
  llamacpp: {
    kind: 'Exported',
    signals: {
      kvCacheUsage: {
        kind: 'Absent',
        why: 'llama-server exports no KV-cache usage (llamacpp:kv_cache_usage_ratio and kv_cache_tokens are gone from its /metrics)',
      },
      requestsWaiting: gauge('llamacpp:requests_deferred'),
      requestsRunning: gauge('llamacpp:requests_processing'),
      promptTokens: counter('llamacpp:prompt_tokens_total'),
      generatedTokens: counter('llamacpp:tokens_predicted_total'),
    },
  },
  tgi: {
    kind: 'Exported',
    signals: {
      // The tokens the running batch may reach over the KV pool sized at warm-up.
      kvCacheUsage: {
        kind: 'Ratio',
        numerator: 'tgi_batch_current_max_tokens',
        denominator: 'tgi_batch_max_total_tokens',
      },
      requestsWaiting: gauge('tgi_queue_size'),
      requestsRunning: gauge('tgi_batch_current_size'),
      // Observed per finished request; metrics-exporter-prometheus adds no _total to counters.
      promptTokens: counter('tgi_request_input_length_sum'),
      generatedTokens: counter('tgi_request_generated_tokens_sum'),
    },
  },
  ollama: { kind: 'None', why: 'Ollama exports no Prometheus metrics' },
};

/** The pods a query reads: one namespace, pod names matching a Prometheus regex. */
export interface PodSelector {
  readonly namespace: string;
  /** A Prometheus (RE2, fully anchored) regex, already escaped for the label value. */
  readonly podRegex: string;
}

function selector(name: string, pods: PodSelector): string {
  const ns = pods.namespace.replace(/[\\"]/g, '\\$&');
  return `${name}{namespace="${ns}",pod=~"${pods.podRegex}"}`;
}

/** The outcome of asking for a signal's query: the PromQL, or why the runtime cannot answer it. */
export type SignalQuery =
  { readonly kind: 'Query'; readonly promql: string } | { readonly kind: 'Absent'; readonly why: string };

/**
 * PromQL for the highest per-pod p95 of a gauge-like signal over a window (seconds). Counters are
 * read as their per-second rate. A Ratio is evaluated per pod first, then as a subquery.
 */
export function p95Query(
  runtime: Runtime,
  signal: ServingSignal,
  pods: PodSelector,
  windowSeconds: number,
): SignalQuery {
  const m = RUNTIME_METRICS[runtime];
  switch (m.kind) {
    case 'None':
      return { kind: 'Absent', why: m.why };
    case 'Exported':
      break;
  }
  const w = `${Math.max(1, Math.round(windowSeconds))}s`;
  const source = m.signals[signal];
  switch (source.kind) {
    case 'Absent':
      return source;
    case 'Gauge':
      return { kind: 'Query', promql: `max(quantile_over_time(0.95, ${selector(source.name, pods)}[${w}]))` };
    case 'Counter':
      return {
        kind: 'Query',
        promql: `max(quantile_over_time(0.95, rate(${selector(source.name, pods)}[1m])[${w}:]))`,
      };
    case 'Ratio': {
      const per = (name: string) => `sum by (namespace, pod) (${selector(name, pods)})`;
      return {
        kind: 'Query',
        promql: `max(quantile_over_time(0.95, (${per(source.numerator)} / ${per(source.denominator)})[${w}:]))`,
      };
    }
  }
}

/** Every metric name a runtime's table reads (for docs, dashboards and tests). */
export function metricNames(runtime: Runtime): string[] {
  const m = RUNTIME_METRICS[runtime];
  switch (m.kind) {
    case 'None':
      return [];
    case 'Exported':
      return SERVING_SIGNALS.flatMap((s) => {
        const src = m.signals[s];
        switch (src.kind) {
          case 'Gauge':
          case 'Counter':
            return [src.name];
          case 'Ratio':
            return [src.numerator, src.denominator];
          case 'Absent':
            return [];
        }
      });
  }
}
