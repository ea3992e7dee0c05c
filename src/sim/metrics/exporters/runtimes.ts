// The LLM servers' own metrics (vLLM's names), for the containers that serve a model.
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

export function runtimes(e: Exposition, view: UsageView): void {
  for (const p of view.pods()) {
    for (const c of p.containers.values()) {
      if (!c.usage.llm) continue;
      const labels: Labels = {
        namespace: p.namespace,
        pod: p.name,
        model_name: p.labels['tailor.dev/model'] ?? c.name,
      };
      e.add(
        'vllm:num_requests_running',
        'gauge',
        'Number of requests currently running on GPU.',
        labels,
        c.usage.llm.requestsRunning,
      );
      e.add(
        'vllm:num_requests_waiting',
        'gauge',
        'Number of requests waiting to be processed.',
        labels,
        c.usage.llm.requestsWaiting,
      );
      e.add(
        'vllm:kv_cache_usage_perc',
        'gauge',
        'KV-cache usage. 1 means 100 percent usage.',
        labels,
        c.usage.llm.kvCacheUsage,
      );
    }
  }
}
