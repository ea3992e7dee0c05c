// Each inference server's own metrics, under its own names: vLLM's vllm:*, llama-server's
// llamacpp:* (only with --metrics), TGI's tgi_*, and nothing for Ollama, which has no Prometheus
// endpoint. The runtime is told from the container's image and command line (../../runtimes), never
// from what Tailor writes. A server exports only once it answers HTTP with a loaded model: vLLM and
// TGI start listening after loading, llama-server answers 503 until its model is loaded.
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';
import type { ContainerState, PodState } from '../../kubelet/state.ts';
import type { LlmProfile } from '../../usage/llm.ts';
import type { ServerSnapshot } from './servers/snapshot.ts';
import { vllmSeries } from './servers/vllm.ts';
import { llamacppSeries } from './servers/llamacpp.ts';
import { tgiSeries } from './servers/tgi.ts';

/**
 * The job name and target labels of the prometheus-community chart's `kubernetes-pods` scrape job
 * (kubernetes_sd_configs role pod, kept by prometheus.io/scrape): namespace, pod and node.
 */
export const SERVER_SCRAPE_JOB = 'kubernetes-pods';

export function targetLabels(p: PodState): Labels {
  return { namespace: p.namespace, pod: p.name, node: p.node };
}

function snapshotOf(c: ContainerState, now: number): ServerSnapshot | undefined {
  if (!c.ready || !c.usage.llm) return undefined;
  const serving = (c.profile as Partial<LlmProfile>).serving;
  if (serving === undefined || now < serving.since) return undefined;
  return {
    gauges: c.usage.llm,
    serving,
    from: serving.since + serving.phaseOffset,
    to: now + serving.phaseOffset,
  };
}

/** One container's server series, with the given target labels (none: the server's own /metrics body). */
export function serverSeries(e: Exposition, c: ContainerState, now: number, target: Labels): boolean {
  const server = c.server;
  if (server === undefined) return false;
  const s = snapshotOf(c, now);
  if (s === undefined) return false;
  switch (server.runtime) {
    case 'vllm':
      vllmSeries(e, target, server.modelName, s);
      return true;
    case 'llamacpp':
      if (server.endpoint === 'Disabled') return false;
      llamacppSeries(e, target, s);
      return true;
    case 'tgi':
      tgiSeries(e, target, s);
      return true;
    case 'ollama':
      return false;
  }
}

export function runtimes(e: Exposition, view: UsageView): void {
  const now = view.now();
  for (const p of view.pods())
    for (const c of p.containers.values()) serverSeries(e, c, now, targetLabels(p));
}
