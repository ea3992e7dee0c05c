// llama-server's /metrics (tools/server/server-context.cpp, the metrics handler; on only with
// --metrics): unlabelled llamacpp:* series. The current server no longer exports
// kv_cache_usage_ratio or kv_cache_tokens, so neither is here.
import type { Exposition, Labels } from '../../exposition.ts';
import { largestSequenceBetween, tokensBetween } from '../../../usage/served-totals.ts';
import type { ServerSnapshot } from './snapshot.ts';

export function llamacppSeries(e: Exposition, target: Labels, s: ServerSnapshot): void {
  const sv = s.serving;
  const t = tokensBetween(sv.trace, s.from, s.to);
  const c = (name: string, help: string, v: number) => e.add(`llamacpp:${name}`, 'counter', help, target, v);
  const g = (name: string, help: string, v: number) => e.add(`llamacpp:${name}`, 'gauge', help, target, v);
  c('prompt_tokens_total', 'Number of prompt tokens processed.', Math.floor(t.prompt));
  // Slot time spent on prompts and on generation: tokens over the per-slot rates.
  c('prompt_seconds_total', 'Prompt process time', t.prompt / sv.prefillTokensPerSecond);
  c('tokens_predicted_total', 'Number of generation tokens processed.', Math.floor(t.generated));
  c('tokens_predicted_seconds_total', 'Predict process time', t.generated / sv.decodeTokensPerSecond);
  c('n_decode_total', 'Total number of llama_decode() calls', Math.floor(t.decodeSteps));
  c('n_tokens_max', 'Largest observed n_tokens.', largestSequenceBetween(sv.trace, s.from, s.to));
  // Every busy slot adds one token per decode call.
  c(
    'n_busy_slots_per_decode',
    'Average number of busy slots per llama_decode() call',
    t.generated / Math.max(1, t.decodeSteps),
  );
  // The throughput gauges cover the time since the previous /metrics call (the handler resets that
  // bucket): a slot's rate when it processed anything in the last second, else 0.
  const last = tokensBetween(sv.trace, Math.max(s.from, s.to - 1), s.to);
  g(
    'prompt_tokens_seconds',
    'Average prompt throughput in tokens/s.',
    last.prompt > 0 ? sv.prefillTokensPerSecond : 0,
  );
  g(
    'predicted_tokens_seconds',
    'Average generation throughput in tokens/s.',
    last.generated > 0 ? sv.decodeTokensPerSecond : 0,
  );
  g('requests_processing', 'Number of requests processing.', s.gauges.requestsRunning);
  g('requests_deferred', 'Number of requests deferred.', s.gauges.requestsWaiting);
}
