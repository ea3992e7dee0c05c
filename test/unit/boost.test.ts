// Start-up boost: the schedule from an estimate (boost, none, off), the shrink plan (QoS kept,
// memory never below usage, never a raise), the annotation grammar, and the simulator's rule that
// more CPU loads a model faster up to the disk bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boostSchedule,
  loadSeconds,
  parseBoostAnnotation,
  steadyPlan,
  boostAnnotation,
} from '../../src/core/boost/index.ts';
import { catalogueArchitecture } from '../../src/core/llm/catalogue/index.ts';
import { estimate, type Estimate, type EstimateRequest } from '../../src/core/llm/estimate.ts';
import { podView } from '../../src/core/resize/pod-view.ts';
import { qosOf } from '../../src/core/resize/qos.ts';
import { createProfile, loadTraceLibrary, type LlmProfile } from '../../src/sim/usage/index.ts';

const Gi = 2 ** 30;
const Mi = 2 ** 20;

function est(id: string, req: Partial<EstimateRequest>): Estimate {
  const a = catalogueArchitecture(id);
  if (a?.kind !== 'ok') throw new Error(id);
  const e = estimate(a.value, { runtime: 'vllm', format: 'safetensors', ...req });
  if (e.kind !== 'ok') throw new Error(JSON.stringify(e.problem));
  return e.value;
}

void test('boost schedule: per runtime and device, what loads boosted and what it shrinks to', () => {
  const cases: {
    name: string;
    e: Estimate;
    enabled?: boolean;
    kind: string;
    loadingCpu: number;
    steadyCpu: number;
  }[] = [
    {
      name: 'vLLM 8B on a GPU',
      e: est('meta-llama/Llama-3.1-8B-Instruct', {}),
      kind: 'Boost',
      loadingCpu: 4,
      steadyCpu: 2,
    },
    {
      name: 'vLLM 70B on 4 GPUs',
      e: est('meta-llama/Llama-3.1-70B-Instruct', { tensorParallel: 4 }),
      kind: 'Boost',
      loadingCpu: 10,
      steadyCpu: 5,
    },
    {
      name: 'llama.cpp on CPU keeps its weights resident: nothing to boost',
      e: est('Qwen/Qwen2.5-0.5B-Instruct', { runtime: 'llamacpp', format: 'gguf', device: 'cpu' }),
      kind: 'None',
      loadingCpu: 4,
      steadyCpu: 4,
    },
    {
      name: 'llama.cpp on a GPU: page cache while copying to the GPU',
      e: est('Qwen/Qwen2.5-0.5B-Instruct', { runtime: 'llamacpp', format: 'gguf' }),
      kind: 'Boost',
      loadingCpu: 2,
      steadyCpu: 1,
    },
    {
      name: 'boost off: one size, the loading peak memory and serving CPU',
      e: est('meta-llama/Llama-3.1-8B-Instruct', {}),
      enabled: false,
      kind: 'Off',
      loadingCpu: 2,
      steadyCpu: 2,
    },
  ];
  for (const c of cases) {
    const s = boostSchedule(c.e, c.enabled === undefined ? {} : { enabled: c.enabled });
    assert.equal(s.kind, c.kind, c.name);
    assert.equal(s.loading.requests.cpu, c.loadingCpu, `${c.name}: loading cpu`);
    assert.equal(s.steady.requests.cpu, c.steadyCpu, `${c.name}: steady cpu`);
    // Memory covers the loading peak (page cache counts against the cgroup) and never shrinks below serving.
    assert.ok(
      s.loading.limits.memory >= c.e.cpuMemoryBytes.load.value,
      `${c.name}: limit holds the load peak`,
    );
    assert.ok(
      s.steady.requests.memory >= c.e.cpuMemoryBytes.steady.value,
      `${c.name}: steady covers serving`,
    );
    assert.ok(s.steady.limits.memory >= s.steady.requests.memory, `${c.name}: limit >= request`);
    assert.equal(s.steady.requests.memory % (64 * Mi), 0, `${c.name}: whole 64Mi steps`);
    assert.ok(s.deadlineSeconds > s.expectedLoadSeconds, `${c.name}: the deadline leaves room`);
  }
  // 8B vLLM: 15 GiB of page cache while the checkpoint is read, then 2.5 GiB.
  const s = boostSchedule(est('meta-llama/Llama-3.1-8B-Instruct', {}));
  assert.ok(s.loading.requests.memory > 17 * Gi && s.steady.requests.memory < 3 * Gi);
});

function boostedPod(
  requests: Record<string, string>,
  limits: Record<string, string>,
  annotation: string,
  sidecar = true,
) {
  return podView({
    metadata: { name: 'p', namespace: 'ns', annotations: { 'tailor.dev/startup-boost': annotation } },
    spec: {
      containers: [
        { name: 'server', resources: { requests, limits } },
        ...(sidecar ? [{ name: 'sidecar', resources: { requests: { cpu: '10m' } } }] : []),
      ],
    },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

void test('shrink plan: steady sizes in one patch, QoS kept, memory never below usage, never a raise', () => {
  const steady = { requests: { cpu: 2, memory: 3 * Gi }, limits: { memory: 4 * Gi } };
  const annotation = boostAnnotation('server', steady);
  const parsed = parseBoostAnnotation(annotation);
  assert.equal(parsed.kind, 'Ok');
  if (parsed.kind !== 'Ok') return;
  const pod = boostedPod(
    { cpu: '4', memory: '18Gi', 'nvidia.com/gpu': '1' },
    { memory: '20Gi', 'nvidia.com/gpu': '1' },
    annotation,
  );
  const cases: { name: string; usage: Map<string, number>; memReq: number; memLim: number }[] = [
    { name: 'usage below steady', usage: new Map([['server', 2 * Gi]]), memReq: 3 * Gi, memLim: 4 * Gi },
    // Usage unknown (metrics.k8s.io unreadable, no sample yet): memory is not lowered blind; CPU goes.
    { name: 'no metrics: memory holds still', usage: new Map(), memReq: 18 * Gi, memLim: 20 * Gi },
    {
      name: 'a sample for another container only: this one holds still',
      usage: new Map([['sidecar', 1 * Gi]]),
      memReq: 18 * Gi,
      memLim: 20 * Gi,
    },
    {
      name: 'usage above the steady limit: kept at usage + 10%',
      usage: new Map([['server', 5 * Gi]]),
      memReq: Math.ceil(5.5 * Gi),
      memLim: Math.ceil(5.5 * Gi),
    },
  ];
  for (const c of cases) {
    const plan = steadyPlan(pod, parsed.steady, c.usage);
    assert.equal(plan.kind, 'Shrink', c.name);
    if (plan.kind !== 'Shrink') continue;
    assert.equal(plan.containers.length, 1, `${c.name}: only the annotated container`);
    const after = plan.containers[0]!.after;
    assert.equal(after.requests.cpu, 2, c.name);
    assert.equal(after.requests.memory, c.memReq, c.name);
    assert.equal(after.limits.memory, c.memLim, c.name);
    assert.equal(qosOf([after]), qosOf([plan.containers[0]!.before]), `${c.name}: QoS kept`);
  }
  // Already at (or below) steady: nothing to send, and never a raise.
  const small = boostedPod({ cpu: '1', memory: '2Gi' }, { memory: '3Gi' }, annotation);
  const none = steadyPlan(small, parsed.steady);
  assert.equal(none.kind, 'NothingToDo');
  // Guaranteed pods stay Guaranteed only if requests equal limits: a shrink that breaks that is refused.
  const guaranteed = boostedPod({ cpu: '4', memory: '8Gi' }, { cpu: '4', memory: '8Gi' }, annotation, false);
  assert.equal(steadyPlan(guaranteed, parsed.steady).kind, 'WouldChangeQos');
});

void test('boost annotation: bad JSON and bad quantities are named', () => {
  const cases: [string | undefined, RegExp][] = [
    [undefined, /no tailor.dev\/startup-boost annotation/],
    ['{', /not JSON/],
    ['[]', /object of containers/],
    ['{"server":{"requests":{"cpu":"lots"}}}', /server.requests.cpu: "lots" is not a quantity/],
    ['{"server":{"limits":{"memory":"1e400"}}}', /server.limits.memory: "1e400" is too large/],
    ['{"server":{"requests":{"memory":"-1Gi"}}}', /server.requests.memory: "-1Gi" is negative/],
  ];
  for (const [text, re] of cases) {
    const r = parseBoostAnnotation(text);
    assert.equal(r.kind, 'Invalid', String(text));
    if (r.kind === 'Invalid') assert.match(r.message, re);
  }
});

void test('load time rule: more CPU reads faster up to the disk bound; warm-up slows below the cores it wants', () => {
  const base = {
    weightsBytes: 1000e6,
    boundBytesPerSecond: 250e6,
    bytesPerSecondPerCore: 62.5e6,
    warmupSeconds: 40,
    warmupCores: 4,
  };
  const cases: [number, number, number][] = [
    // cores, read s, warm-up s
    [1, 16, 160],
    [2, 8, 80],
    [4, 4, 40],
    [8, 4, 40], // disk-bound: more cores do not help
  ];
  for (const [cores, read, warmup] of cases) {
    const t = loadSeconds({ ...base, cores });
    assert.equal(Math.round(t.read), read, `${cores} cores: read`);
    assert.equal(Math.round(t.warmup), warmup, `${cores} cores: warm-up`);
  }
  // Without a per-core rate, loading does not depend on CPU (the simulator's old behaviour).
  const flat = loadSeconds({ ...base, bytesPerSecondPerCore: 0, cores: 1 });
  assert.equal(flat.total, 4 + 40);
});

void test('sim llm profile: start-up time follows the CPU request when loadBytesPerSecondPerCore is set', () => {
  const traces = loadTraceLibrary();
  const input = {
    kind: 'llm' as const,
    weightsBytes: 1000e6,
    loadBytesPerSecond: 250e6,
    loadBytesPerSecondPerCore: 62.5e6,
    warmupSeconds: 10,
    loadCpuCores: 4,
  };
  const at = (cpuCores: number | undefined) =>
    (
      createProfile(
        input,
        {
          seed: 's',
          startedAt: 0,
          gpus: 0,
          gpuMemoryBytesPerGpu: 0,
          ...(cpuCores === undefined ? {} : { cpuCores }),
        },
        traces,
      ) as LlmProfile
    ).startupSeconds;
  assert.equal(at(4), 14);
  assert.equal(at(2), 28);
  assert.equal(at(8), 14);
  assert.equal(at(undefined), 14, 'no request known: played at the loading cores');
  assert.equal(at(0), 14, 'BestEffort: played at the loading cores');
  const old = createProfile(
    { kind: 'llm', weightsBytes: 1000e6, loadBytesPerSecond: 250e6, warmupSeconds: 10 },
    { seed: 's', startedAt: 0, gpus: 0, gpuMemoryBytesPerGpu: 0, cpuCores: 1 },
    traces,
  );
  assert.equal(old.startupSeconds, 14, 'without a per-core rate the CPU does not matter');
});
