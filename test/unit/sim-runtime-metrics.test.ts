import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  createProfile,
  createTraceLibrary,
  TRACE_FILES,
  type LlmProfile,
  type TraceLibrary,
} from '../../src/sim/usage/index.ts';
import { finishedBetween, histogramBetween, tokensBetween } from '../../src/sim/usage/served-totals.ts';
import { serverMetricsOf } from '../../src/sim/runtimes/metrics-endpoint.ts';
import { runtimes } from '../../src/sim/metrics/exporters/runtimes.ts';
import { Exposition } from '../../src/sim/metrics/exposition.ts';
import { podExposition, podTargets } from '../../src/sim/metrics/pod-targets.ts';
import type { ContainerState, PodState } from '../../src/sim/kubelet/state.ts';
import type { UsageView } from '../../src/sim/metrics/view.ts';
import { preset, PRESET_IMAGES, type ServeInput } from '../../src/controllers/models/presets.ts';

const T = 1_717_400_000;

/** Two requests of 100 prompt and 400 generated tokens at second 10 of a 100-second loop. */
function library(): TraceLibrary {
  const row = (second: number, c: number, g: number) =>
    `2023-11-16 18:${String(Math.floor((10 + second) / 60)).padStart(2, '0')}:${String((10 + second) % 60).padStart(2, '0')}.0000000,${c},${g}`;
  const text = [
    'TIMESTAMP,ContextTokens,GeneratedTokens',
    row(0, 0, 0),
    row(10, 100, 400),
    row(10, 100, 400),
    row(99, 0, 0),
  ].join('\r\n');
  return createTraceLibrary((path) => {
    if (path !== TRACE_FILES['azure-code']) throw new Error(`no such file ${path}`);
    return text;
  });
}

function profile(): LlmProfile {
  return createProfile(
    {
      kind: 'llm',
      trace: 'azure-code',
      maxSequences: 1,
      rateMultiplier: 1,
      warmupSeconds: 0,
      decodeTokensPerSecond: 40,
      prefillTokensPerSecond: 1000,
      contextLength: 2048,
    },
    { seed: 'pod/app', startedAt: T, gpus: 0, gpuMemoryBytesPerGpu: 0 },
    library(),
  ) as LlmProfile;
}

test('served totals: tokens and finished requests rise by one loop per loop, from any phase', () => {
  const { trace } = profile().serving;
  assert.equal(trace.loopSeconds, 100);
  for (const from of [0, 37.5, 99]) {
    const t = tokensBetween(trace, from, from + 300);
    assert.ok(Math.abs(t.prompt - 600) < 1e-6, `prompt ${t.prompt}`);
    assert.ok(Math.abs(t.generated - 2400) < 1e-6, `generated ${t.generated}`);
    // Four requests a loop, the two empty ones that mark its ends included.
    assert.equal(finishedBetween(trace, from, from + 300), 12);
  }
  assert.equal(finishedBetween(trace, 50, 50), 0);
  // Decode steps: one sequence at a time, so one step per generated token.
  const once = tokensBetween(trace, 0, 100);
  assert.ok(Math.abs(once.decodeSteps - once.generated) < 1e-6);
});

test('served totals: the second of two simultaneous requests waits for the first, as the histogram shows', () => {
  const { trace } = profile().serving;
  const h = histogramBetween(trace, 'e2eSeconds', [1, 10.5, 15, 30], 0, 100);
  assert.equal(h.count, 4);
  // The first: 0.1 s of prefill and 10 s of decode; the second waits for it, then as long again.
  assert.deepEqual(h.counts, [2, 3, 3, 4]);
  assert.ok(Math.abs(h.sum - (10.1 + 20.2)) < 0.01, `sum ${h.sum}`);
  const q = histogramBetween(trace, 'queueSeconds', [0.5, 11], 0, 200);
  assert.equal(q.count, 8);
  assert.deepEqual(q.counts, [6, 8]);
});

const serve: ServeInput = {
  modelPath: '/models/m.gguf',
  servedName: 'chat',
  contextLength: 2048,
  maxSequences: 1,
  dtype: 'auto',
  gpus: 0,
  gpuMemoryUtilization: 0.9,
};

function container(runtime: 'vllm' | 'llamacpp' | 'tgi' | 'ollama', over: Partial<k8s.V1Container> = {}) {
  const p = preset(runtime, serve);
  return { name: 'server', image: p.image, command: p.command, args: p.args, env: p.env, ...over };
}

test('the server is told from the container: vLLM by its served name, llama-server by --metrics', () => {
  assert.deepEqual(serverMetricsOf(container('vllm')), { runtime: 'vllm', port: 8000, modelName: 'chat' });
  assert.deepEqual(serverMetricsOf(container('vllm', { args: ['--model', '/models/x'] })), {
    runtime: 'vllm',
    port: 8000,
    modelName: '/models/x',
  });
  assert.deepEqual(serverMetricsOf(container('llamacpp')), {
    runtime: 'llamacpp',
    port: 8080,
    endpoint: 'Enabled',
  });
  assert.deepEqual(serverMetricsOf(container('llamacpp', { args: ['-m', '/models/m.gguf'] })), {
    runtime: 'llamacpp',
    port: 8080,
    endpoint: 'Disabled',
  });
  assert.deepEqual(
    serverMetricsOf(
      container('llamacpp', { args: [], env: [{ name: 'LLAMA_ARG_ENDPOINT_METRICS', value: '1' }] }),
    ),
    { runtime: 'llamacpp', port: 8080, endpoint: 'Enabled' },
  );
  assert.deepEqual(serverMetricsOf(container('tgi')), { runtime: 'tgi', port: 8080 });
  assert.deepEqual(serverMetricsOf(container('ollama')), { runtime: 'ollama', port: 11434 });
  assert.equal(serverMetricsOf({ name: 'web', image: 'nginx:1.27' }), undefined);
});

/** A view of one pod with one server container, 250 s into serving. */
function viewOf(c: k8s.V1Container, ready = true): UsageView {
  const prof = profile();
  const now = prof.serving.since + 250;
  const state = {
    name: c.name,
    image: c.image ?? '',
    server: serverMetricsOf(c),
    profile: prof,
    ready,
    usage: prof.sample(now),
  } as unknown as ContainerState;
  const pod = {
    namespace: 'team-a',
    name: 'chat-7d9f-abcde',
    node: 'sim-node-1',
    podIP: '10.128.0.7',
    containers: new Map([[c.name, state]]),
  } as unknown as PodState;
  return { now: () => now, nodes: () => [], pods: () => [pod], volumes: () => [], apiPods: () => [] };
}

function scrape(c: k8s.V1Container, ready = true): string {
  const e = new Exposition();
  runtimes(e, viewOf(c, ready));
  return e.text();
}

function value(text: string, series: RegExp): number {
  const line = text.split('\n').find((l) => series.test(l));
  assert.ok(line, `no ${series} in\n${text.slice(0, 2000)}`);
  return Number(line.split(' ').at(-1));
}

test('vLLM exports vllm:* with model_name and engine, token counters and latency histograms', () => {
  const text = scrape(container('vllm', { image: PRESET_IMAGES.vllm }));
  const labels = 'namespace="team-a",pod="chat-7d9f-abcde",node="sim-node-1",model_name="chat",engine="0"';
  assert.match(text, new RegExp(`^vllm:num_requests_waiting\\{${labels}\\} \\d+$`, 'm'));
  assert.match(text, /^# TYPE vllm:kv_cache_usage_perc gauge$/m);
  assert.match(text, /^# TYPE vllm:prompt_tokens_total counter$/m);
  assert.match(text, /^# TYPE vllm:e2e_request_latency_seconds histogram$/m);
  // 250 s of serving is two and a half loops of 800 generated tokens.
  const generated = value(text, /^vllm:generation_tokens_total\{/);
  assert.ok(generated >= 1600 && generated <= 2400, `generated ${generated}`);
  const count = value(text, /^vllm:time_to_first_token_seconds_count\{/);
  assert.equal(value(text, /^vllm:time_to_first_token_seconds_bucket\{.*le="\+Inf"\}/), count);
  assert.equal(value(text, /^vllm:request_success_total\{.*finished_reason="stop"\}/), count);
  assert.ok(count >= 8 && count <= 12, `count ${count}`);
  assert.doesNotMatch(text, /llamacpp:|tgi_|vllm:gpu_cache_usage_perc/);
});

test('llama-server exports llamacpp:* only, without labels of its own and without the KV-cache series it dropped', () => {
  const text = scrape(container('llamacpp'));
  assert.match(
    text,
    /^llamacpp:requests_deferred\{namespace="team-a",pod="chat-7d9f-abcde",node="sim-node-1"\} \d+$/m,
  );
  assert.match(text, /^# TYPE llamacpp:prompt_tokens_total counter$/m);
  const predicted = value(text, /^llamacpp:tokens_predicted_total\{/);
  const seconds = value(text, /^llamacpp:tokens_predicted_seconds_total\{/);
  assert.ok(Math.abs(seconds - predicted / 40) < 0.1, `${seconds} s for ${predicted} tokens at 40/s`);
  assert.equal(value(text, /^llamacpp:n_tokens_max\{/), 500);
  assert.doesNotMatch(text, /vllm:|tgi_|kv_cache/);
});

test('TGI exports tgi_* with counters that carry no _total suffix', () => {
  const text = scrape(container('tgi'));
  assert.match(text, /^# TYPE tgi_request_success counter$/m);
  assert.match(text, /^tgi_queue_size\{namespace="team-a",pod="chat-7d9f-abcde",node="sim-node-1"\} \d+$/m);
  assert.equal(value(text, /^tgi_request_duration_count\{/), value(text, /^tgi_request_success\{/));
  assert.doesNotMatch(text, /vllm:|llamacpp:|^tgi_\w+_total\{/m);
});

test('nothing from Ollama, from llama-server without --metrics, or from a server still loading', () => {
  assert.equal(scrape(container('ollama')).trim(), '');
  assert.equal(scrape(container('llamacpp', { args: ['-m', '/models/m.gguf'] })).trim(), '');
  assert.equal(scrape(container('vllm'), false).trim(), '');
});

test('http_sd lists each serving pod as a kubernetes-pods target; its own path serves the bare body', () => {
  const view = viewOf(container('llamacpp'));
  assert.deepEqual(podTargets(view, '127.0.0.1:9464'), [
    {
      targets: ['127.0.0.1:9464'],
      labels: {
        __metrics_path__: '/metrics/pods/team-a/chat-7d9f-abcde',
        instance: '10.128.0.7:8080',
        namespace: 'team-a',
        pod: 'chat-7d9f-abcde',
        node: 'sim-node-1',
      },
    },
  ]);
  const body = podExposition(view, 'team-a', 'chat-7d9f-abcde') ?? '';
  assert.match(body, /^llamacpp:requests_deferred \d+$/m);
  assert.equal(podExposition(view, 'team-a', 'other'), undefined);
  assert.deepEqual(podTargets(viewOf(container('ollama')), '127.0.0.1:9464'), []);
  assert.deepEqual(podTargets(viewOf(container('vllm'), false), '127.0.0.1:9464'), []);
});
