// `tailor advise` on the real control plane, a real Prometheus scraping the run's simulator, and one
// tenant's ModelDeployments: llama.cpp on CPU (the simulator's llm profile exports the vLLM serving
// metrics for it, and it needs no GPU, which test/e2e/models.test.ts holds), and one scaled to zero.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdviseItem } from '../../src/cli/commands/advise.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { eventually, kubeconfigPath, prometheusTarget } from '../support/cluster.ts';
import { createModel, useModels } from '../support/models.ts';
import { runTailor, type CliResult } from '../support/cli.ts';

const env = useModels('advise', 1);
const T = () => env.tenants[0]!;
let prom: TestPrometheus | undefined;
before(async () => {
  prom = await startPrometheus(prometheusTarget());
});
after(async () => {
  await prom?.stop();
});

const model = (name: string, replicas: number) => ({
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
    runtime: { name: 'llamacpp' as const },
    serving: { contextLength: 2048, maxSequences: 1, dtype: 'auto' as const },
    replicas,
    gpu: { count: 0, type: 'auto' },
    cache: { size: 'auto', storageClassName: 'tailor-sim' },
    sizing: { mode: 'Recommend' as const, startupBoost: true },
  },
});

function tailor(...args: string[]): Promise<CliResult> {
  return runTailor(args, { kubeconfig: kubeconfigPath() });
}

test('tailor advise reads live p95 per ModelDeployment from Prometheus, and says when there is none', async () => {
  await createModel(env, model('assistant', 1));
  await createModel(env, model('parked', 0));
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
  assert.ok(assistant.live!.kvCacheUsageP95 >= 0 && assistant.live!.kvCacheUsageP95 <= 1);
  assert.ok(assistant.live!.requestsWaitingP95 >= 0);
  assert.equal(assistant.gpu.count, 0);
  assert.match(assistant.note ?? '', /runs on CPU/);
  const parked = items.find((i) => i.name === 'parked')!;
  assert.equal(parked.live, undefined);
  assert.deepEqual(parked.advice, []);
  assert.equal(parked.note, 'no live metrics for parked');

  const t = await tailor('advise', '-n', T(), '--prometheus', prom!.url, '--window', '5m');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`${T()}/assistant {2}GPU now: cpu`));
  assert.match(t.stdout, /live \(5m\): KV cache p95 \d+%, waiting p95 /);
  assert.match(t.stdout, /no live metrics for parked/);
});

test('tailor advise: Prometheus unreachable is an error with a hint', async () => {
  const r = await tailor('advise', '-n', T(), '--prometheus', 'http://127.0.0.1:9', '-o', 'json');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot reach Prometheus at http:\/\/127\.0\.0\.1:9/);
  assert.match(r.stderr, /--prometheus/);
});
