// The simulator's own ground truth for LLM servers, checked against the runtimes' published start-up
// logs (vLLM 0.6 logs of Qwen2.5-0.5B on a 14.56 GiB T4 and Meta-Llama-3-8B on an A100 40GB), and
// the command lines it reads the servers' settings from; and the kubelet's probe timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { PRESET_IMAGES } from '../../src/controllers/models/presets.ts';
import {
  kvBytesPerToken,
  loadedWeightsBytes,
  referenceOf,
  vllmActivationBytes,
  type RuntimeFigures,
} from '../../src/sim/runtimes/reference.ts';
import { architectureOf, type Architecture } from '../../src/sim/runtimes/models.ts';
import { modelRefOf, servedOf } from '../../src/sim/runtimes/served.ts';
import { startupOf } from '../../src/sim/runtimes/startup.ts';
import { serverOf } from '../../src/sim/runtimes/truth.ts';
import { buildSpec, type LlmSpec } from '../../src/sim/usage/index.ts';
import { probeVerdict, probesOf, probeKillEvents } from '../../src/sim/kubelet/probes.ts';

const GiB = 2 ** 30;
const within = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.abs(expected),
    `${what}: ${actual} vs published ${expected} (tolerance ${tolerance * 100}%)`,
  );

const qwen = architectureOf('Qwen/Qwen2.5-0.5B-Instruct')!;
/** Meta-Llama-3-8B's config.json (Llama 3.0: 8192 positions). */
const llama3: Architecture = {
  repo: 'meta-llama/Meta-Llama-3-8B',
  params: 8_030_261_248,
  layers: 32,
  hidden: 4096,
  intermediate: 14_336,
  heads: 32,
  kvHeads: 8,
  headDim: 128,
  vocab: 128_256,
  maxPosition: 8192,
};

void test('weights in GPU memory match vLLM\'s "Loading model weights took" (within 0.1%)', () => {
  within(loadedWeightsBytes(llama3) / GiB, 14.9595, 0.001, 'Meta-Llama-3-8B');
  within(loadedWeightsBytes(qwen) / GiB, 0.9276, 0.001, 'Qwen2.5-0.5B');
});

void test("KV cache per token matches vLLM's KV memory / (GPU blocks x 16 tokens) (within 0.1%)", () => {
  // "reserved for KV Cache is 10.63GiB" / "# GPU blocks: 58059"; "11.12GiB" / "5691".
  within(kvBytesPerToken(qwen, 2), (10.63 * GiB) / (58_059 * 16), 0.001, 'Qwen2.5-0.5B');
  within(kvBytesPerToken(llama3, 2), (11.12 * GiB) / (5691 * 16), 0.001, 'Meta-Llama-3-8B');
  assert.equal(kvBytesPerToken(qwen, 1), kvBytesPerToken(qwen, 2) / 2, 'fp8 KV halves it');
});

void test("vLLM's profiling peak for Qwen2.5-0.5B (32768 batched tokens, 256 sequences) is 1.44 GiB (within 15%)", () => {
  within(vllmActivationBytes(qwen, 32_768, 256, 1) / GiB, 1.44, 0.15, 'activation peak');
});

function spec(over: Partial<LlmSpec>): LlmSpec {
  return buildSpec('llm', [over]) as LlmSpec;
}

const qwenFigures = (over: Partial<RuntimeFigures> = {}): RuntimeFigures => ({
  runtime: 'vllm',
  fileBytes: 988_097_824,
  cudaContextBytes: 0.5 * GiB,
  gpuBufferBytes: 0.11 * GiB,
  activationPeakBytes: 1.44 * GiB,
  cudaGraphBytes: 0.13 * GiB,
  maxPosition: 32_768,
  device: 'gpu',
  tensorParallel: 1,
  ...over,
});

void test("vLLM's budget: the KV cache gets total x utilisation less weights, peak and non-torch memory, as logged", () => {
  // "total_gpu_memory (14.56GiB) x gpu_memory_utilization (0.90) = 13.11GiB; model weights take
  // 0.93GiB; non_torch_memory takes 0.11GiB; PyTorch activation peak memory takes 1.44GiB; the rest
  // of the memory reserved for KV Cache is 10.63GiB" and "# GPU blocks: 58059" of 16 tokens.
  const s = spec({
    weightsBytes: loadedWeightsBytes(qwen),
    kvBytesPerToken: kvBytesPerToken(qwen, 2),
    contextLength: 32_768,
    gpuMemoryUtilization: 0.9,
  });
  const t = startupOf(qwenFigures(), s, 1, 14.56 * GiB);
  assert.equal(t.exit, undefined);
  within(t.kvCapacityTokens, 58_059 * 16, 0.01, 'KV tokens');
  assert.equal(t.downloadBytes, 988_097_824, 'the download is the checkpoint file');
});

void test("a model that does not fit dies with the runtime's own error text, at the step that fails", () => {
  const base = { weightsBytes: loadedWeightsBytes(qwen), kvBytesPerToken: kvBytesPerToken(qwen, 2) };
  const L4 = 22.5 * GiB;
  const cases: {
    name: string;
    s: Partial<LlmSpec>;
    f?: Partial<RuntimeFigures>;
    gpu?: number;
    phase: string;
    text: RegExp;
  }[] = [
    {
      name: 'budget below the weights',
      s: { ...base, contextLength: 4096, gpuMemoryUtilization: 0.03 },
      phase: 'Warmup',
      text: /^ValueError: No available memory for the cache blocks\. Try increasing `gpu_memory_utilization`/,
    },
    {
      name: 'room for less than one sequence',
      s: { ...base, contextLength: 32_768, gpuMemoryUtilization: 0.12 },
      phase: 'Warmup',
      text: /To serve at least one request with the models's max seq len \(32768\), \(0\.38 GiB KV cache is needed, which is larger than the available KV cache memory \(0\.\d\d GiB\)\. Based on the available memory, the estimated maximum model length is \d+\./,
    },
    {
      name: 'utilisation above the free memory',
      s: { ...base, contextLength: 4096, gpuMemoryUtilization: 0.99 },
      phase: 'Starting',
      text: /^ValueError: Free memory on device \(22\.00\/22\.50 GiB\) on startup is less than desired GPU memory utilization \(0\.99, 22\.27 GiB\)/,
    },
    {
      name: "max_model_len above the model's",
      s: { ...base, contextLength: 65_536 },
      phase: 'Starting',
      text: /User-specified max_model_len \(65536\) is greater than the derived max_model_len \(max_position_embeddings=32768/,
    },
    {
      name: 'weights larger than the device',
      s: { weightsBytes: 30 * GiB, kvBytesPerToken: 131_072, contextLength: 4096 },
      phase: 'Loading',
      text: /^torch\.OutOfMemoryError: CUDA out of memory\./,
    },
    {
      name: 'llama.cpp: KV buffer beyond the device',
      s: { weightsBytes: 807_694_464, kvBytesPerToken: 32_768, contextLength: 131_072, maxSequences: 8 },
      f: { runtime: 'llamacpp', activationPeakBytes: 0, cudaGraphBytes: 0, gpuBufferBytes: 266 * 2 ** 20 },
      phase: 'Warmup',
      text: /cudaMalloc failed: out of memory; llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache; main: exiting due to model loading error$/,
    },
  ];
  for (const c of cases) {
    const t = startupOf(qwenFigures(c.f), spec(c.s), 1, c.gpu ?? L4);
    assert.equal(t.exit?.phase, c.phase, c.name);
    assert.equal(t.exit?.exitCode, 1, c.name);
    assert.match(t.exit?.message ?? '', c.text, c.name);
  }
  // The same Qwen with the settings a ModelDeployment renders serves on the L4.
  const ok = startupOf(
    qwenFigures(),
    spec({ ...base, contextLength: 4096, gpuMemoryUtilization: 0.9 }),
    1,
    L4,
  );
  assert.equal(ok.exit, undefined);
  assert.ok(ok.kvCapacityTokens > 1e6, `${ok.kvCapacityTokens} tokens of KV`);
});

const container = (
  image: string,
  args: string[],
  env: k8s.V1EnvVar[] = [],
  command?: string[],
): k8s.V1Container => ({
  name: 'server',
  image,
  args,
  env,
  ...(command ? { command } : {}),
});

void test("the servers' settings come from their command lines and environment, with each runtime's defaults", () => {
  const vllm = servedOf(
    container(PRESET_IMAGES.vllm, [
      '--model',
      '/models/hf/Qwen/Qwen2.5-0.5B-Instruct',
      '--max-model-len',
      '4096',
      '--max-num-seqs=8',
      '--gpu-memory-utilization',
      '0.85',
      '--tensor-parallel-size',
      '2',
      '--kv-cache-dtype',
      'fp8',
    ]),
    2,
    22.5 * GiB,
  )!;
  assert.equal(vllm.model.kind, 'Safetensors');
  assert.deepEqual(
    [
      vllm.contextLength,
      vllm.maxSequences,
      vllm.gpuMemoryUtilization,
      vllm.tensorParallel,
      vllm.kvDtypeBytes,
      vllm.batchedTokens,
    ],
    [4096, 8, 0.85, 2, 1, 2048],
  );
  const bare = servedOf(
    container('vllm/vllm-openai:v0.11.0', ['serve', 'Qwen/Qwen2.5-0.5B-Instruct']),
    1,
    80 * GiB,
  )!;
  assert.equal(bare.model.kind, 'Safetensors');
  assert.equal(bare.contextLength, undefined, "max_model_len defaults to the model's");
  assert.deepEqual([bare.maxSequences, bare.gpuMemoryUtilization, bare.batchedTokens], [1024, 0.9, 8192]);

  const llama = servedOf(
    container(PRESET_IMAGES.llamacpp, [
      '-m',
      '/models/hf/x/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
      '-c',
      '8192',
      '-np',
      '4',
    ]),
    0,
    0,
  )!;
  assert.equal(llama.model.kind, 'Gguf');
  assert.deepEqual(
    [llama.contextLength, llama.maxSequences, llama.gpuLayers],
    [2048, 4, 0],
    '-c is shared by the slots',
  );
  const byEnv = servedOf(
    container(
      PRESET_IMAGES.llamacppCuda,
      [],
      [
        { name: 'LLAMA_ARG_MODEL', value: '/m/Llama-3.2-1B-Instruct-f16.gguf' },
        { name: 'LLAMA_ARG_N_GPU_LAYERS', value: '99' },
      ],
    ),
    1,
    22.5 * GiB,
  )!;
  assert.equal(byEnv.model.kind === 'Gguf' && byEnv.model.file.quant, 'f16');
  assert.deepEqual([byEnv.contextLength, byEnv.gpuLayers], [4096, 99], 'n_ctx 4096 by default');

  const ollama = servedOf(
    container(
      PRESET_IMAGES.ollama,
      ['ollama serve & pid=$!; sleep 2; ollama pull "$TAILOR_MODEL" && wait $pid'],
      [
        { name: 'TAILOR_MODEL', value: 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0' },
        { name: 'OLLAMA_CONTEXT_LENGTH', value: '2048' },
        { name: 'OLLAMA_NUM_PARALLEL', value: '2' },
      ],
      ['/bin/sh', '-c'],
    ),
    0,
    0,
  )!;
  assert.equal(ollama.model.kind === 'Gguf' && ollama.model.file.quant, 'Q8_0');
  assert.deepEqual([ollama.contextLength, ollama.maxSequences], [2048, 2]);

  const tgi = servedOf(
    container(PRESET_IMAGES.tgi, [
      '--model-id',
      'mistralai/Mistral-7B-Instruct-v0.3',
      '--max-total-tokens',
      '4096',
      '--max-input-tokens',
      '4095',
    ]),
    1,
    22.5 * GiB,
  )!;
  assert.deepEqual([tgi.model.kind, tgi.contextLength, tgi.batchedTokens], ['Safetensors', 4096, 4145]);
  assert.equal(servedOf(container('nginx:1.27', []), 0, 0), undefined, 'not a server');
  assert.equal(
    modelRefOf('/root/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/abc').kind,
    'Safetensors',
  );
});

void test('a model without a reference is refused with what to do, unless the pod declares its size', () => {
  const c = container(PRESET_IMAGES.vllm, ['--model', '/models/hf/acme/custom-7b']);
  const pod = (annotations: Record<string, string> = {}): k8s.V1Pod => ({
    metadata: { annotations },
    spec: { containers: [c] },
  });
  const refused = serverOf(pod(), c, 1, 22.5 * GiB);
  assert.equal(refused.kind, 'NoReference');
  assert.match(
    refused.kind === 'NoReference' ? refused.error : '',
    /^vllm serves "\/models\/hf\/acme\/custom-7b", a model the simulator has no reference for \(it knows Qwen\/Qwen2\.5-0\.5B-Instruct, .*\); add it to src\/sim\/runtimes\/models\.ts, or declare its weightsBytes and kvBytesPerToken in the pod annotation sim\.tailor\.dev\/params$/,
  );
  const declared = serverOf(pod({ 'sim.tailor.dev/params': '{"weightsBytes": "14Gi"}' }), c, 1, 22.5 * GiB);
  assert.equal(declared.kind, 'Reference', 'physics only, on the declared size');
  // A scenario's vLLM container that names no model plays its declared profile.
  const scenario = container('vllm/vllm-openai:v0.6.3', []);
  assert.equal(serverOf(pod(), scenario, 1, 22.5 * GiB).kind, 'Declared');
  // The reference's own numbers: the Q4 file is what llama.cpp maps and downloads.
  const q4 = servedOf(
    container(PRESET_IMAGES.llamacpp, ['-m', '/m/Llama-3.2-1B-Instruct-Q4_K_M.gguf', '-c', '2048']),
    0,
    0,
  )!;
  const r = referenceOf(q4, architectureOf('meta-llama/Llama-3.2-1B-Instruct'), 807_694_464, 0);
  assert.equal(r.params.weightsBytes, 807_694_464);
  assert.equal(r.params.kvBytesPerToken, 32_768, '16 layers x 2 x 8 KV heads x 64 x f16');
  assert.equal(r.figures.device, 'cpu');
});

const probe = (o: Partial<k8s.V1Probe>): k8s.V1Probe => ({ httpGet: { path: '/health', port: 8000 }, ...o });

void test('probes: the startup probe gates readiness, kills when it runs out; readiness ticks; liveness without a startup probe', () => {
  const c = (over: Partial<k8s.V1Container>): k8s.V1Container => ({ name: 's', ...over });
  const withStartup = probesOf(
    c({
      startupProbe: probe({ periodSeconds: 10, failureThreshold: 6 }),
      readinessProbe: probe({ periodSeconds: 10 }),
    }),
  );
  // Healthy at 25 s: the startup probe passes at 30 s, readiness at its next tick (30 s).
  const table: [number, number, string][] = [
    [0, 25, 'NotReady'],
    [29, 25, 'NotReady'],
    [30, 25, 'Ready'],
    // Never healthy: 6 failures at 0, 10, ..., 50 s: killed at 50 s.
    [49, Infinity, 'NotReady'],
    [50, Infinity, 'Kill'],
    // Healthy at 55 s is too late for attempts up to 50 s.
    [50, 55, 'Kill'],
  ];
  for (const [since, healthy, kind] of table)
    assert.equal(
      probeVerdict(withStartup, since, healthy).kind,
      kind,
      `at ${since}s, healthy from ${healthy}s`,
    );
  const kill = probeVerdict(withStartup, 60, Infinity);
  assert.deepEqual(kill, { kind: 'Kill', probe: 'Startup', atSeconds: 50 });

  // Readiness alone, with an initial delay and two successes needed.
  const readiness = probesOf(
    c({ readinessProbe: probe({ initialDelaySeconds: 5, periodSeconds: 4, successThreshold: 2 }) }),
  );
  assert.equal(probeVerdict(readiness, 12, 6).kind, 'NotReady', 'first pass at 9 s');
  assert.equal(probeVerdict(readiness, 13, 6).kind, 'Ready', 'second pass at 13 s');
  // No readiness probe: ready once started.
  assert.equal(probeVerdict(probesOf(c({ startupProbe: probe({}) })), 0, 0).kind, 'Ready');

  // Liveness with no startup probe kills a server still loading: defaults 10 s x 3 -> at 20 s.
  const live = probesOf(c({ livenessProbe: probe({}) }));
  assert.equal(probeVerdict(live, 19, 60).kind, 'Ready', 'no readiness probe: ready, still alive');
  assert.deepEqual(probeVerdict(live, 20, 60), { kind: 'Kill', probe: 'Liveness', atSeconds: 20 });
  assert.equal(probeVerdict(live, 100, 15).kind, 'Ready', 'healthy before the third failure');

  const ev = probeKillEvents('Startup', 'server', '10.128.0.7', withStartup.startup);
  assert.equal(
    ev.unhealthy,
    'Startup probe failed: Get "http://10.128.0.7:8000/health": dial tcp 10.128.0.7:8000: connect: connection refused',
  );
  assert.equal(ev.killing, 'Container server failed startup probe, will be restarted');
  assert.equal(
    probeKillEvents('Startup', 'server', '10.0.0.1', withStartup.startup, 503).unhealthy,
    'Startup probe failed: HTTP probe failed with statuscode: 503',
  );
});

void test('a declared llm profile whose weights exceed the GPU memory it may use dies part-way through loading, never Ready', async () => {
  const { createProfile, loadTraceLibrary } = await import('../../src/sim/usage/index.ts');
  const traces = loadTraceLibrary();
  const ctx = { seed: 's', startedAt: 0, gpus: 1, gpuMemoryBytesPerGpu: 24 * GiB, cpuCores: 4 };
  const big = createProfile({ kind: 'llm', weightsBytes: 30 * GiB, loadBytesPerSecond: GiB }, ctx, traces);
  assert.equal(big.startupSeconds, Infinity);
  assert.ok(big.exit, 'exits');
  // 0.9 x 24 GiB of 30 GiB loaded at 1 GiB/s.
  within(big.exit.afterSeconds, 21.6, 0.01, 'dies when the GPU is full');
  assert.equal(big.exit.exitCode, 1);
  assert.match(big.exit.message, /^torch\.OutOfMemoryError: CUDA out of memory/);
  const fits = createProfile({ kind: 'llm', weightsBytes: 15 * GiB, loadBytesPerSecond: GiB }, ctx, traces);
  assert.equal(fits.exit, undefined);
  assert.equal(fits.startupSeconds, 15 + 30, 'read at 1 GiB/s, then 30 s of warm-up');
});

void test("health: Ollama's /api/version answers before the model is loaded; a container without probes keeps its start-up time", async () => {
  const { healthOf, healthVerdict } = await import('../../src/sim/kubelet/health.ts');
  const readiness = { httpGet: { path: '/api/version', port: 11434 }, periodSeconds: 5 };
  const ollama = healthOf({ name: 's', image: PRESET_IMAGES.ollama, readinessProbe: readiness });
  assert.equal(healthVerdict(ollama, 5, 60).kind, 'Ready', 'ready at 5 s, loading until 60 s');
  const vllm = healthOf({
    name: 's',
    image: PRESET_IMAGES.vllm,
    readinessProbe: { ...readiness, httpGet: { path: '/health', port: 8000 } },
  });
  assert.equal(healthVerdict(vllm, 55, 60).kind, 'NotReady');
  assert.equal(healthVerdict(vllm, 60, 60).kind, 'Ready');
  const bare = healthOf({ name: 's', image: 'nginx:1.27' });
  assert.equal(healthVerdict(bare, 4, 5).kind, 'NotReady');
  assert.equal(healthVerdict(bare, 5, 5).kind, 'Ready');
  assert.equal(healthOf({ name: 's', image: PRESET_IMAGES.llamacpp }).loadingStatus, 503);
  assert.equal(healthOf({ name: 's', terminationMessagePolicy: 'FallbackToLogsOnError' }).logsOnError, true);
});
