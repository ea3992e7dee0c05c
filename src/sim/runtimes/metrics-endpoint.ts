// What an inference server's /metrics serves, told from its container as a scrape would find it: the
// runtime (runtimeOf), whether the endpoint is on (llama-server needs --metrics), and the labels the
// server itself puts on its series (vLLM's model_name). Never from annotations Tailor writes.
import type * as k8s from '@kubernetes/client-node';
import { envValue, flagValue, runtimeOf } from './identify.ts';

export type ServerMetrics = { readonly port: number } &
  /** vLLM labels every series with the served model name and the engine index. */
  (
    | { readonly runtime: 'vllm'; readonly modelName: string }
    /** llama-server answers /metrics only when started with --metrics (else 501 Not Supported). */
    | { readonly runtime: 'llamacpp'; readonly endpoint: 'Enabled' | 'Disabled' }
    | { readonly runtime: 'tgi' }
    /** Ollama has no Prometheus endpoint at all. */
    | { readonly runtime: 'ollama' }
  );

/**
 * The port the server listens on: --port, else the container's first port, else the server's
 * default (vLLM 8000, llama-server 8080, text-generation-launcher 3000, Ollama 11434).
 */
function portOf(c: k8s.V1Container, fallback: number): number {
  const flag = Number(flagValue(c, '--port'));
  if (Number.isInteger(flag) && flag > 0) return flag;
  return c.ports?.[0]?.containerPort ?? fallback;
}

/** vLLM's ModelConfig default model (vllm/config/model.py, v0.11.0) when neither --model nor a positional is given. */
const VLLM_DEFAULT_MODEL = 'Qwen/Qwen3-0.6B';

function words(c: k8s.V1Container): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])];
}

/** `vllm serve MODEL ...`: the positional model after `serve` (vllm/entrypoints/cli/serve.py). */
function positionalModel(c: k8s.V1Container): string | undefined {
  const w = words(c);
  const i = w.indexOf('serve');
  const next = i >= 0 ? w[i + 1] : undefined;
  return next !== undefined && !next.startsWith('-') ? next : undefined;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'on', 'enabled'].includes(v.toLowerCase());
}

export function serverMetricsOf(c: k8s.V1Container): ServerMetrics | undefined {
  const runtime = runtimeOf(c);
  switch (runtime) {
    case undefined:
      return undefined;
    case 'vllm': {
      // --served-model-name takes several names; the metrics carry the first (ModelConfig.served_model_name).
      const served = flagValue(c, '--served-model-name');
      const model = flagValue(c, '--model') ?? positionalModel(c) ?? VLLM_DEFAULT_MODEL;
      return { runtime, port: portOf(c, 8000), modelName: served ?? model };
    }
    case 'llamacpp':
      // common/arg.cpp: --metrics, or the environment variable LLAMA_ARG_ENDPOINT_METRICS.
      return {
        runtime,
        port: portOf(c, 8080),
        endpoint:
          words(c).includes('--metrics') || truthy(envValue(c, 'LLAMA_ARG_ENDPOINT_METRICS'))
            ? 'Enabled'
            : 'Disabled',
      };
    case 'tgi':
      return { runtime, port: portOf(c, 3000) };
    case 'ollama':
      return { runtime, port: portOf(c, 11434) };
  }
}
