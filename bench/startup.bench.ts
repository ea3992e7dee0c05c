// Start-up boost: for models served as a ModelDeployment would serve them, the time to Ready and
// the CPU (and memory) reserved over a day, with the boost and without it (sized for serving:
// slow to load and killed by its loading peak; or sized for loading: reserved all day). Loading
// is played by the simulator's llm profile at the CPU each variant requests; then (part 2) the
// same comparison on the real control plane and simulator, with the controllers running.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import type { ModelDeployment, ModelDeploymentSpec } from '../src/api/modeldeployment.ts';
import { render } from '../src/controllers/models/render.ts';
import { catalogueForGguf, plan } from '../src/controllers/models/resolve.ts';
import { catalogueArchitecture } from '../src/core/llm/catalogue/index.ts';
import { loadTraceLibrary, type TraceLibrary } from '../src/sim/usage/index.ts';
import { profileResolver } from '../src/sim/profiles.ts';
import { runOnCluster, type ClusterRun } from './startup-cluster.ts';

const DAY = 86_400;
const GiB = 2 ** 30;

interface Case {
  name: string;
  spec: Pick<ModelDeploymentSpec, 'model' | 'runtime'> & {
    serving: Partial<ModelDeploymentSpec['serving']>;
    gpu: Partial<ModelDeploymentSpec['gpu']>;
  };
}

const CASES: Case[] = [
  {
    name: 'Qwen2.5-0.5B-Instruct, vLLM, 1 x L4, 4k x 8',
    spec: {
      model: { huggingFace: { repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'main' } },
      runtime: { name: 'vllm' },
      serving: { contextLength: 4096, maxSequences: 8 },
      gpu: { type: 'l4' },
    },
  },
  {
    name: 'Llama-3.1-8B-Instruct, vLLM, 1 x L4, 8k x 4',
    spec: {
      model: { huggingFace: { repo: 'meta-llama/Llama-3.1-8B-Instruct', revision: 'main' } },
      runtime: { name: 'vllm' },
      serving: { contextLength: 8192, maxSequences: 4 },
      gpu: { type: 'l4' },
    },
  },
  {
    name: 'Qwen2.5-32B-Instruct, vLLM, 2 x A100 80GB, 16k x 16',
    spec: {
      model: { huggingFace: { repo: 'Qwen/Qwen2.5-32B-Instruct', revision: 'main' } },
      runtime: { name: 'vllm' },
      serving: { contextLength: 16384, maxSequences: 16 },
      gpu: { type: 'a100-80gb', count: 2 },
    },
  },
  {
    name: 'Llama-3.1-70B-Instruct, vLLM, 4 x H100, 8k x 32',
    spec: {
      model: { huggingFace: { repo: 'meta-llama/Llama-3.1-70B-Instruct', revision: 'main' } },
      runtime: { name: 'vllm' },
      serving: { contextLength: 8192, maxSequences: 32 },
      gpu: { type: 'h100-80gb', count: 4 },
    },
  },
  {
    name: 'Mistral-7B-Instruct-v0.3, TGI, 1 x L4, 4k x 8',
    spec: {
      model: { huggingFace: { repo: 'mistralai/Mistral-7B-Instruct-v0.3', revision: 'main' } },
      runtime: { name: 'tgi' },
      serving: { contextLength: 4096, maxSequences: 8 },
      gpu: { type: 'l4' },
    },
  },
  {
    name: 'Llama-3.2-3B-Instruct Q4_K_M, llama.cpp, 1 x T4, 8k x 4',
    spec: {
      model: {
        huggingFace: {
          repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF',
          revision: 'main',
          file: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf',
        },
      },
      runtime: { name: 'llamacpp' },
      serving: { contextLength: 8192, maxSequences: 4 },
      gpu: { type: 't4' },
    },
  },
];

type Variant = 'Boost' | 'ServingSize' | 'LoadingSize';

interface VariantResult {
  variant: Variant;
  cpuLoading: number;
  cpuServing: number;
  secondsToReady: number;
  /** Requested CPU integrated over a day with one start: cores x seconds. */
  cpuSecondsPerDay: number;
  memoryGiBHoursPerDay: number;
  /** The loading peak is above the memory limit: the simulator (and the kernel) kills it. */
  oomWhileLoading: boolean;
}

export interface CaseResult {
  name: string;
  weightsGiB: number;
  variants: VariantResult[];
}

function md(c: Case): ModelDeployment {
  return {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'bench', namespace: 'bench', uid: 'bench', generation: 1 },
    spec: {
      ...c.spec,
      serving: { dtype: 'auto', ...c.spec.serving },
      gpu: { type: 'auto', ...c.spec.gpu },
      replicas: 1,
      cache: { size: 'auto' },
      sizing: { mode: 'InPlace', startupBoost: true },
    },
  };
}

function runCase(c: Case, traces: TraceLibrary): CaseResult {
  const m = md(c);
  const repo = m.spec.model.huggingFace!.repo;
  const arch = m.spec.runtime.name === 'llamacpp' ? catalogueForGguf(repo) : catalogueArchitecture(repo);
  if (arch?.kind !== 'ok') throw new Error(`${repo}: not catalogued`);
  const r = plan(m, arch.value, 'catalogue');
  if (r.kind !== 'Resolved') throw new Error(`${c.name}: ${r.problem.message}`);
  const e = r.value.estimate;
  const out = render(m, e, r.value.fit);
  const b = out.boost;
  // The simulator tells the server's footprint from the rendered pod, as a kubelet would run it; the
  // bench sets only the machine: a 250 MB/s disk that 4 cores saturate (loading is CPU work).
  const template = out.deployment.spec!.template;
  const pod = {
    metadata: {
      ...template.metadata!,
      annotations: {
        ...template.metadata!.annotations,
        'sim.tailor.dev/params': JSON.stringify({
          loadBytesPerSecond: 250e6,
          loadBytesPerSecondPerCore: 62.5e6,
        }),
      },
    },
    spec: template.spec!,
  };
  const server = pod.spec.containers[0]!;
  const resolve = profileResolver(traces);
  const gpu = r.value.fit.choice!;
  const variants: VariantResult[] = [];
  const sizes: Record<Variant, { loading: typeof b.loading; serving: typeof b.steady }> = {
    Boost: { loading: b.loading, serving: b.steady },
    ServingSize: { loading: b.steady, serving: b.steady },
    LoadingSize: { loading: b.loading, serving: b.loading },
  };
  for (const variant of ['Boost', 'ServingSize', 'LoadingSize'] as const) {
    const s = sizes[variant];
    const resolved = resolve(pod, server, {
      seed: `bench/${c.name}`,
      startedAt: 0,
      gpus: gpu.count,
      gpuMemoryBytesPerGpu: gpu.gpu.usableBytes,
      cpuCores: s.loading.requests.cpu,
    });
    if (!resolved.ok) throw new Error(`${c.name}: ${resolved.error}`);
    const profile = resolved.profile;
    const ready = profile.startupSeconds;
    let peak = 0;
    for (let t = 0; t <= ready; t += 0.5) peak = Math.max(peak, profile.sample(t).memoryBytes);
    const serve = DAY - ready;
    variants.push({
      variant,
      cpuLoading: s.loading.requests.cpu,
      cpuServing: s.serving.requests.cpu,
      secondsToReady: ready,
      cpuSecondsPerDay: Math.round(s.loading.requests.cpu * ready + s.serving.requests.cpu * serve),
      memoryGiBHoursPerDay:
        Math.round(
          ((s.loading.requests.memory * ready + s.serving.requests.memory * serve) / GiB / 3600) * 10,
        ) / 10,
      oomWhileLoading: peak > s.loading.limits.memory,
    });
  }
  return { name: c.name, weightsGiB: Math.round((e.weights.value / GiB) * 100) / 100, variants };
}

function table(results: CaseResult[]): string[] {
  const lines = [
    '| model | variant | CPU loading -> serving | time to Ready | CPU-seconds reserved / day | memory GiB-h / day | OOM while loading |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    for (const v of r.variants) {
      lines.push(
        `| ${r.name} (${r.weightsGiB} GiB) | ${v.variant} | ${v.cpuLoading} -> ${v.cpuServing} | ${v.secondsToReady} s | ${v.cpuSecondsPerDay.toLocaleString('en')} | ${v.memoryGiBHoursPerDay} | ${v.oomWhileLoading ? 'yes' : 'no'} |`,
      );
    }
  }
  return lines;
}

export default async function run(): Promise<void> {
  const started = Date.now();
  const traces = loadTraceLibrary();
  const results = CASES.map((c) => runCase(c, traces));
  const sum = (v: Variant, f: (x: VariantResult) => number) =>
    results.reduce((s, r) => s + f(r.variants.find((x) => x.variant === v)!), 0);
  const summary = {
    cpuSecondsPerDay: {
      Boost: sum('Boost', (v) => v.cpuSecondsPerDay),
      ServingSize: sum('ServingSize', (v) => v.cpuSecondsPerDay),
      LoadingSize: sum('LoadingSize', (v) => v.cpuSecondsPerDay),
    },
    secondsToReady: {
      Boost: sum('Boost', (v) => v.secondsToReady),
      ServingSize: sum('ServingSize', (v) => v.secondsToReady),
      LoadingSize: sum('LoadingSize', (v) => v.secondsToReady),
    },
  };
  console.log(table(results).join('\n'));
  let cluster: ClusterRun | undefined;
  if (process.env.STARTUP_BENCH_CLUSTER !== '0')
    cluster = await runOnCluster((m) => console.log(`[startup] ${m}`));
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores`,
    models: results,
    summary,
    ...(cluster ? { cluster } : {}),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(join(import.meta.dirname, 'results', 'startup.json'), JSON.stringify(result, null, 2) + '\n');
  const pct = (a: number, b: number) => `${Math.round((1 - a / b) * 100)}%`;
  const md = [
    '# Start-up boost',
    '',
    `Reproduce: \`npm run bench -- startup\` (about ${result.seconds} s). Measured ${result.date} on this project's ${result.machine} machine.`,
    '',
    'Each model is sized as a ModelDeployment sizes it (estimate, GPU fit, boost schedule) and its loading is played',
    "by the simulator's own reference for the rendered server (src/sim/runtimes: weights, KV cache and warm-up from the",
    "model's config.json and the runtime's start-up rules, not Tailor's estimate): reading the weights runs at 250 MB/s",
    'with 4 cores or more and proportionally slower on fewer;',
    'warm-up (compilation, graph capture) takes longer on fewer cores than the runtime parallelises over. Over a day',
    'with one start:',
    '',
    '- **Boost**: starts at the loading CPU and memory, shrunk in place to the serving size once Ready;',
    '- **ServingSize**: no boost, sized for serving all the time (slower to load, and the page-cache peak of loading',
    '  exceeds its memory limit);',
    '- **LoadingSize**: no boost, sized for loading all the time (as fast as Boost, reserved all day).',
    '',
    ...table(results),
    '',
    `Summed over the ${results.length} models: time to Ready ${summary.secondsToReady.Boost} s with the boost vs ${summary.secondsToReady.ServingSize} s sized for serving ` +
      `(${pct(summary.secondsToReady.Boost, summary.secondsToReady.ServingSize)} faster); CPU-seconds reserved per day ${summary.cpuSecondsPerDay.Boost.toLocaleString('en')} with the boost vs ` +
      `${summary.cpuSecondsPerDay.LoadingSize.toLocaleString('en')} sized for loading (${pct(summary.cpuSecondsPerDay.Boost, summary.cpuSecondsPerDay.LoadingSize)} less) and ` +
      `${summary.cpuSecondsPerDay.ServingSize.toLocaleString('en')} sized for serving.`,
    '',
    ...(cluster
      ? [
          '## On the real control plane and simulator',
          '',
          cluster.description,
          '',
          '| ModelDeployment | startupBoost | CPU at start -> after | time to Ready | restarts | same pod | CPU-seconds requested until Ready + 10 min |',
          '| --- | --- | --- | --- | --- | --- | --- |',
          ...cluster.runs.map(
            (r) =>
              `| ${r.name} | ${r.boost} | ${r.cpuAtStart} -> ${r.cpuAfter} | ${r.secondsToReady} s | ${r.restarts} | ${r.samePod ? 'yes' : 'no'} | ${r.cpuSecondsFirst10Min} |`,
          ),
          '',
        ]
      : []),
  ].join('\n');
  writeFileSync(join(import.meta.dirname, 'results', 'startup.md'), md);
}
