// `tailor advise` on the real control plane, a real Prometheus scraping the run's simulator, and one
// tenant's servers, each read by its own metric names: llama.cpp on CPU (llamacpp:* only, as a real
// llama-server with --metrics; it needs no GPU, which test/e2e/models.test.ts holds), one scaled to
// zero, an Ollama one (no metrics at all), and a vLLM server pod (vllm:* with model_name and engine).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdviseItem } from '../../src/cli/commands/advise.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { eventually, kubeconfigPath, prometheusTarget, simPod } from '../support/cluster.ts';
import { p95Query } from '../../src/core/llm/runtime-metrics.ts';
import { PRESET_IMAGES } from '../../src/controllers/models/presets.ts';
import { createModel, useModels } from '../support/models.ts';
import { runTailor, type CliResult } from '../support/cli.ts';

const env = useModels('advise', 1);
const T = () => env.tenants[0]!;
let prom: TestPrometheus | undefined;
before(async () => {
  prom = await startPrometheus(prometheusTarget(), { serverPods: true });
});
after(async () => {
  await prom?.stop();
});

const model = (name: string, replicas: number, runtime: 'llamacpp' | 'ollama' = 'llamacpp') => ({
  apiVersion: 'tailor.dev/v1alpha1' as const,
  kind: 'ModelDeployment' as const,
  metadata: { name, namespace: T() },
  spec: {
    model: {
      huggingFace: {
        repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF',
        revision: 'main',
        file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
      },
    },
    runtime: { name: runtime },
    serving: { contextLength: 2048, maxSequences: 1, dtype: 'auto' as const },
    replicas,
    gpu: { count: 0, type: 'auto' },
    cache: { size: 'auto', storageClassName: 'tailor-sim' },
    sizing: { mode: 'Recommend' as const, startupBoost: true },
  },
});

/** An instant query against the test's Prometheus: the series with their labels. */
async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${prom!.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: [] } };
  assert.equal(body.status, 'success', `${promql}: ${body.error ?? ''}`);
  return body.data!.result;
}

function tailor(...args: string[]): Promise<CliResult> {
  return runTailor(args, { kubeconfig: kubeconfigPath() });
}

test('tailor advise reads live p95 per ModelDeployment from Prometheus, and says when there is none', async () => {
  await createModel(env, model('assistant', 1));
  await createModel(env, model('parked', 0));
  await createModel(env, model('local', 0, 'ollama'));
  const items = await eventually(
    async () => {
      const r = await tailor('advise', '-n', T(), '--prometheus', prom!.url, '--window', '5m', '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      const got = (JSON.parse(r.stdout) as { items: AdviseItem[] }).items;
      assert.ok(got.find((i) => i.name === 'assistant')?.live, `no live metrics yet: ${r.stdout}`);
      return got;
    },
    { timeoutMs: 180_000, intervalMs: 3000, what: 'live metrics for assistant' },
  );
  const assistant = items.find((i) => i.name === 'assistant')!;
  // llama-server's own figures: waiting requests (llamacpp:requests_deferred), and no KV-cache usage,
  // which the current server does not export.
  assert.equal(assistant.runtime, 'llamacpp');
  assert.ok(assistant.live!.requestsWaitingP95 >= 0);
  assert.equal(assistant.live!.kvCacheUsageP95, undefined);
  assert.equal(assistant.gpu.count, 0);
  assert.match(assistant.note ?? '', /runs on CPU/);
  const parked = items.find((i) => i.name === 'parked')!;
  assert.equal(parked.live, undefined);
  assert.deepEqual(parked.advice, []);
  assert.equal(parked.note, 'no live metrics for parked');
  const local = items.find((i) => i.name === 'local')!;
  assert.equal(local.live, undefined);
  assert.equal(local.note, 'no live metrics for local: Ollama exports no Prometheus metrics');

  // What Prometheus holds for the llama.cpp pod: llamacpp:* under the scrape's namespace and pod
  // labels, and none of the vLLM series a real llama-server never exports.
  const sel = `namespace="${T()}",pod=~"assistant-.+"`;
  // Scraped on its own by the kubernetes-pods job too, labelled as kubernetes_sd relabelling labels it.
  const deferred = await eventually(
    async () => {
      const r = await query(`llamacpp:requests_deferred{job="kubernetes-pods",${sel}}`);
      assert.equal(r.length, 1, JSON.stringify(r));
      return r[0]!;
    },
    { timeoutMs: 30_000, intervalMs: 2000, what: 'the kubernetes-pods job scraping llama-server' },
  );
  assert.match(deferred.metric.instance ?? '', /^10\.\d+\.\d+\.\d+:8080$/);
  assert.match(deferred.metric.node ?? '', /^sim-/);
  assert.ok(Number((await query(`llamacpp:tokens_predicted_total{${sel}}`))[0]?.value[1]) >= 0);
  assert.deepEqual(await query(`{__name__=~"vllm:.+",${sel}}`), []);
  assert.deepEqual(await query(`{__name__=~"llamacpp:kv_cache.+",${sel}}`), []);

  const t = await tailor('advise', '-n', T(), '--prometheus', prom!.url, '--window', '5m');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`${T()}/assistant {2}GPU now: cpu`));
  assert.match(t.stdout, /live \(5m\): KV cache p95 not exported, waiting p95 /);
  assert.match(t.stdout, /no live metrics for parked/);
  assert.match(t.stdout, /Ollama exports no Prometheus metrics/);
});

test("a vLLM server is read by vLLM's names, with model_name and engine, and exports nothing of llama.cpp", async () => {
  const pod = simPod({
    name: 'chat-0-vllm',
    profile: 'llm',
    params: {
      weightsBytes: '200Mi',
      runtimeMemoryBytes: '200Mi',
      warmupSeconds: 1,
      modelCacheOnVolume: false,
      maxSequences: 8,
      contextLength: 2048,
      loadCpuCores: 0.2,
      servingCpuCores: 0.1,
    },
    resources: { requests: { cpu: '200m', memory: '512Mi' } },
  });
  const c = pod.spec!.containers[0]!;
  c.image = PRESET_IMAGES.vllm;
  c.args = ['--model', '/models/qwen', '--served-model-name', 'chat', '--max-model-len', '2048'];
  await env.core.createNamespacedPod({ namespace: T(), body: pod });
  const sel = `namespace="${T()}",pod="chat-0-vllm"`;
  const waiting = await eventually(
    async () => {
      const r = await query(`vllm:num_requests_waiting{job="kubernetes-pods",${sel}}`);
      assert.equal(r.length, 1, 'vllm:num_requests_waiting scraped');
      return r[0]!;
    },
    { timeoutMs: 120_000, intervalMs: 2000, what: 'vLLM series in Prometheus' },
  );
  assert.equal(waiting.metric.model_name, 'chat');
  assert.equal(waiting.metric.engine, '0');
  assert.match(waiting.metric.instance ?? '', /:8000$/);
  // The same table advise reads gives the p95 by vLLM's names.
  for (const signal of ['kvCacheUsage', 'requestsWaiting'] as const) {
    const q = p95Query('vllm', signal, { namespace: T(), podRegex: 'chat-0-vllm' }, 300);
    assert.equal(q.kind, 'Query');
    const r = await query(q.kind === 'Query' ? q.promql : '');
    assert.equal(r.length, 1, `${signal}: ${JSON.stringify(r)}`);
    assert.ok(Number(r[0]!.value[1]) >= 0);
  }
  await eventually(
    async () =>
      assert.equal(
        (await query(`vllm:e2e_request_latency_seconds_count{job="kubernetes-pods",${sel}}`)).length,
        1,
      ),
    { timeoutMs: 60_000, intervalMs: 2000, what: 'vLLM latency histogram' },
  );
  assert.deepEqual(await query(`{__name__=~"llamacpp:.+|tgi_.+",${sel}}`), []);
});

test('tailor advise: Prometheus unreachable is an error with a hint', async () => {
  const r = await tailor('advise', '-n', T(), '--prometheus', 'http://127.0.0.1:9', '-o', 'json');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot reach Prometheus at http:\/\/127\.0\.0\.1:9/);
  assert.match(r.stderr, /--prometheus/);
});
