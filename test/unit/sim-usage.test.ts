// Usage profiles of the simulator: determinism by seed, the llm load and serving model, replay of
// the recorded series, the annotation grammar and its messages, and the cost of sampling a fleet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/devcluster/paths.ts';
import {
  createProfile,
  createTraceLibrary,
  defaultSpec,
  loadTraceLibrary,
  parsePodProfiles,
  parseProfile,
  profileAnnotations,
  TRACE_FILES,
  type LlmProfile,
  type ProfileContext,
  type ProfileInput,
  type TraceLibrary,
} from '../../src/sim/usage/index.ts';

const Gi = 2 ** 30;
const L4 = 23034 * 2 ** 20;
const T = 1_717_400_000; // a simulated epoch second
const ctx = (seed: string, over: Partial<ProfileContext> = {}): ProfileContext => ({
  seed,
  startedAt: T,
  gpus: 0,
  gpuMemoryBytesPerGpu: 0,
  ...over,
});

/** A library over in-memory files, for exact expectations. */
function memoryLibrary(files: Partial<Record<keyof typeof TRACE_FILES, string>>): TraceLibrary {
  return createTraceLibrary((path) => {
    const entry = Object.entries(TRACE_FILES).find(([, p]) => p === path);
    const text = entry ? files[entry[0] as keyof typeof TRACE_FILES] : undefined;
    if (text === undefined) throw new Error(`no such file ${path}`);
    return text;
  });
}

const azureRow = (second: number, ctxTokens: number, gen: number) => {
  const s = 10 + second;
  return `2023-11-16 18:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.0000000,${ctxTokens},${gen}`;
};
/** Arrivals at the given seconds of a 100-second loop (empty requests at 0 and 99 fix its length). */
function azure(rows: [number, number, number][]): string {
  const all = [azureRow(0, 0, 0), ...rows.map(([s, c, g]) => azureRow(s, c, g)), azureRow(99, 0, 0)];
  return ['TIMESTAMP,ContextTokens,GeneratedTokens', ...all].join('\r\n');
}

const real = loadTraceLibrary();

test('the same seed gives the same series, another seed a different one, for every synthetic kind', () => {
  const inputs: ProfileInput[] = [{ kind: 'web' }, { kind: 'batch' }, { kind: 'idle' }];
  for (const input of inputs) {
    const kind = input.kind;
    const a = createProfile(input, ctx('ns/pod-a/app'), real);
    const a2 = createProfile(input, ctx('ns/pod-a/app'), real);
    const b = createProfile(input, ctx('ns/pod-b/app'), real);
    const times = Array.from({ length: 200 }, (_, i) => T + i * 37);
    const sa = times.map((t) => a.sample(t));
    assert.deepEqual(
      times.map((t) => a2.sample(t)),
      sa,
      kind,
    );
    // Pure in t: asking again, backwards, changes nothing.
    assert.deepEqual(
      [...times]
        .reverse()
        .map((t) => a.sample(t))
        .reverse(),
      sa,
      kind,
    );
    const differ = times.filter((t, i) => b.sample(t).cpuCores !== sa[i]!.cpuCores).length;
    assert.ok(differ > 150, `${kind}: only ${differ} of 200 samples differ between seeds`);
  }
});

test('web peaks in the afternoon and stays within its base and peak, noise aside', () => {
  const day = Date.UTC(2024, 5, 3) / 1000;
  const p = createProfile(
    { kind: 'web', baseCpuCores: 0.1, peakCpuCores: 1, noise: 0.1, peakHour: 15 },
    ctx('w'),
    real,
  );
  const hourly = (h: number) => {
    let s = 0;
    for (let m = 0; m < 60; m++) s += p.sample(day + h * 3600 + m * 60).cpuCores;
    return s / 60;
  };
  assert.ok(hourly(15) > 0.85 && hourly(15) < 1.1, `15h: ${hourly(15)}`);
  assert.ok(hourly(3) < 0.15, `3h: ${hourly(3)}`);
  for (let t = day; t < day + 86400; t += 97) {
    const c = p.sample(t).cpuCores;
    assert.ok(c >= 0.1 * 0.9 - 1e-9 && c <= 1.1 + 1e-9, `${c} at ${t}`);
  }
});

test('batch is busy for busySeconds of each period, its memory peaking at the end of the busy phase', () => {
  const p = createProfile(
    {
      kind: 'batch',
      periodSeconds: 3600,
      busySeconds: 600,
      phaseSeconds: 0,
      noise: 0,
      baseMemoryBytes: 100,
      peakMemoryBytes: 1100,
    },
    ctx('b'),
    real,
  );
  const hour = 1_717_398_000; // a multiple of 3600
  assert.equal(p.sample(hour + 10).cpuCores, 1);
  assert.equal(p.sample(hour + 599).cpuCores, 1);
  assert.equal(p.sample(hour + 601).cpuCores, 0.01);
  assert.ok(p.sample(hour + 300).memoryBytes < p.sample(hour + 590).memoryBytes);
  assert.equal(p.sample(hour + 700).memoryBytes, 100);
});

test('llm: memory and GPU memory rise while the weights load, then host memory drops back', () => {
  const spec: ProfileInput = {
    kind: 'llm',
    weightsBytes: 16 * Gi,
    loadBytesPerSecond: Gi,
    warmupSeconds: 20,
  };
  const p = createProfile(spec, ctx('llm', { gpus: 1, gpuMemoryBytesPerGpu: L4 }), real) as LlmProfile;
  const d = defaultSpec('llm');
  assert.equal(p.loadSeconds, 16);
  let prev = -1;
  for (let s = 0; s < 16; s++) {
    const u = p.sample(T + s);
    assert.ok(u.memoryBytes > prev, `memory did not rise at ${s}s`);
    assert.ok(u.cpuCores > 3, `loading is CPU-heavy: ${u.cpuCores} at ${s}s`);
    prev = u.memoryBytes;
  }
  const peak = p.sample(T + 15.999);
  // Weights plus page cache on top of the runtime: at least the weights, at most all three.
  assert.ok(peak.memoryBytes >= 16 * Gi, `peak ${peak.memoryBytes / Gi} GiB`);
  assert.ok(peak.memoryBytes <= d.runtimeMemoryBytes + 16 * Gi * (1 + d.pageCacheFraction));
  assert.ok(
    Math.abs(peak.gpuMemoryBytes - 16 * Gi) < 0.01 * Gi,
    `GPU ${peak.gpuMemoryBytes / Gi} GiB at end of load`,
  );
  const serving = p.sample(T + 600);
  assert.ok(serving.memoryBytes < peak.memoryBytes / 2, 'host memory stays at the load peak');
  assert.ok(serving.gpuMemoryBytes >= 16 * Gi);
  assert.ok(serving.llm);
  assert.ok(
    p.volumeBytes(T + 8) > 7 * Gi && p.volumeBytes(T + 8) < 9 * Gi,
    'the model cache fills while loading',
  );
  assert.equal(p.volumeBytes(T + 100), 16 * Gi);
});

test('llm: startupSeconds scales with the weights', () => {
  const start = (w: number) =>
    createProfile(
      { kind: 'llm', weightsBytes: w * Gi, loadBytesPerSecond: Gi, warmupSeconds: 10 },
      ctx('s'),
      real,
    ).startupSeconds;
  assert.equal(start(8), 18);
  assert.equal(start(16), 26);
  assert.equal(start(70), 80);
});

test('llm: GPU memory is the weights plus the KV cache of the tokens in flight', () => {
  // One request of 1000 prompt and 400 generated tokens per 100-second loop; at 40 tokens/s it
  // decodes for 10 s, its KV growing from 1000 to 1400 tokens.
  const lib = memoryLibrary({ 'azure-conv': azure([[10, 1000, 400]]) });
  const kv = 100_000;
  const p = createProfile(
    {
      kind: 'llm',
      weightsBytes: 10 * Gi,
      kvBytesPerToken: kv,
      rateMultiplier: 1,
      warmupSeconds: 0,
      decodeTokensPerSecond: 40,
    },
    ctx('kv', { gpus: 1, gpuMemoryBytesPerGpu: L4 }),
    lib,
  );
  // One loop, starting at an idle second, so the request's seconds are contiguous.
  let serving = T + p.startupSeconds + 1;
  while (p.sample(serving).llm!.requestsRunning > 0) serving++;
  const loop = Array.from({ length: 100 }, (_, i) => p.sample(serving + i));
  const busy = loop.filter((u) => u.llm!.requestsRunning > 0);
  assert.ok(busy.length >= 9 && busy.length <= 12, `${busy.length} busy seconds`);
  const idle = loop.filter((u) => u.llm!.tokensPerSecond === 0);
  assert.ok(idle.length >= 85);
  for (const u of idle) assert.equal(u.gpuMemoryBytes, 10 * Gi);
  const tokens = (u: (typeof loop)[number]) => (u.gpuMemoryBytes - 10 * Gi) / kv;
  const peak = Math.max(...loop.map(tokens));
  assert.ok(peak > 1300 && peak <= 1400, `peak KV ${peak} tokens`);
  // Rising while it decodes.
  const seq = loop.map(tokens).filter((x) => x > 1000.5);
  for (let i = 1; i < seq.length; i++) assert.ok(seq[i]! > seq[i - 1]!, 'KV does not grow while decoding');
  for (const u of loop) {
    assert.ok(u.llm!.kvCacheUsage >= 0 && u.llm!.kvCacheUsage <= 1);
    assert.ok(Math.abs(u.llm!.kvCacheUsage - tokens(u) / (p as LlmProfile).kvCapacityTokens) < 1e-9);
  }
});

test('llm: with one sequence at a time, a second simultaneous request waits', () => {
  const lib = memoryLibrary({
    'azure-code': azure([
      [10, 100, 400],
      [10, 100, 400],
    ]),
  });
  const p = createProfile(
    {
      kind: 'llm',
      trace: 'azure-code',
      maxSequences: 1,
      rateMultiplier: 1,
      warmupSeconds: 0,
      decodeTokensPerSecond: 40,
    },
    ctx('q', { gpus: 1, gpuMemoryBytesPerGpu: L4 }),
    lib,
  );
  const loop = Array.from({ length: 100 }, (_, i) => p.sample(T + p.startupSeconds + 1 + i).llm!);
  assert.ok(loop.every((u) => u.requestsRunning <= 1));
  const waiting = loop.filter((u) => u.requestsWaiting === 1).length;
  assert.ok(waiting >= 8 && waiting <= 11, `${waiting} seconds with one waiting`);
  assert.ok(loop.filter((u) => u.requestsRunning === 1).length >= 18);
});

test('llm on the real Azure trace: concurrency, KV use and CPU grow with the request rate', () => {
  const at = (rate: number) => {
    const p = createProfile(
      { kind: 'llm', trace: 'azure-conv', rateMultiplier: rate },
      ctx('r', { gpus: 1, gpuMemoryBytesPerGpu: L4 }),
      real,
    );
    let run = 0;
    let kv = 0;
    let cpu = 0;
    const n = 600;
    for (let i = 0; i < n; i++) {
      const u = p.sample(T + 120 + i * 6);
      run += u.llm!.requestsRunning;
      kv += u.llm!.kvCacheUsage;
      cpu += u.cpuCores;
      assert.ok(u.llm!.requestsRunning <= 256);
    }
    return { run: run / n, kv: kv / n, cpu: cpu / n };
  };
  const low = at(0.25);
  const high = at(0.5);
  assert.ok(high.run > 1.5 * low.run, JSON.stringify({ low, high }));
  assert.ok(high.kv > 1.5 * low.kv);
  assert.ok(high.cpu > low.cpu);
});

test('llm without a GPU keeps the weights and the KV cache in host memory', () => {
  const p = createProfile({ kind: 'llm', weightsBytes: 4 * Gi, warmupSeconds: 0 }, ctx('cpu-only'), real);
  const u = p.sample(T + 3600);
  assert.equal(u.gpuMemoryBytes, 0);
  assert.ok(u.memoryBytes > 4 * Gi);
});

/** The public data sets beside the checkout (tests only): the shipped, gzipped copies must read the same. */
const PUBLIC_DATA = resolve(packageRoot(), '..', 'shared', 'data');

/** The rows of one pod in a GenTD26 file, read independently of the library (from the public file). */
function fileSeries(file: string, pod: string): { t: number; v: number }[] {
  const lines = readFileSync(join(PUBLIC_DATA, file), 'utf8').split(/\r?\n/);
  const cols = lines[0]!.split(',');
  const [iv, it, ip] = ['value', 'timestamp_anon', 'container_ip'].map((c) => cols.indexOf(c)) as [
    number,
    number,
    number,
  ];
  return lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((f) => f[ip] === pod)
    .map((f) => ({ t: Number(f[it]), v: Number(f[iv]) }));
}

test('replay reproduces the recorded memory and GPU memory of a GenTD26 pod, and loops', () => {
  const pods = real.alibabaPods();
  // A pod with all three series.
  const pod = pods.find(
    (p) => real.alibabaSeries('gpu-memory-bytes', p) && real.alibabaSeries('gpu-duty-cycle', p),
  )!;
  const mem = fileSeries(TRACE_FILES['memory-util'], pod);
  const gpu = fileSeries(TRACE_FILES['gpu-memory-bytes'], pod);
  const p = createProfile({ kind: 'replay', pod, memoryBytes: 10 * Gi }, ctx('rp', { startedAt: 0 }), real);
  for (const k of [0, 1, 100, 700, mem.length - 1]) {
    const row = mem[k]!;
    assert.ok(Math.abs(p.sample(row.t).memoryBytes - Math.max(0, row.v) * 10 * Gi) < 1, `memory at row ${k}`);
  }
  for (const k of [0, 50, 500]) {
    const row = gpu[k]!;
    assert.ok(Math.abs(p.sample(row.t).gpuMemoryBytes - row.v) < 1, `GPU memory at row ${k}`);
  }
  const span = mem[mem.length - 1]!.t - mem[0]!.t + 57;
  const x = mem[300]!.t + 20;
  assert.deepEqual(p.sample(x + span), p.sample(x));
  assert.deepEqual(p.sample(x + 3 * span), p.sample(x));
  // Chosen by index, the same pod.
  const byIndex = createProfile(
    { kind: 'replay', index: pods.indexOf(pod), memoryBytes: 10 * Gi },
    ctx('other', { startedAt: 0 }),
    real,
  );
  assert.deepEqual(byIndex.sample(x), p.sample(x));
});

test('replay interpolates linearly or steps, and refuses an unknown pod or index', () => {
  const lib = memoryLibrary({
    'memory-util': 'value,timestamp_anon,container_ip\n0.2,1000.0,p1\n0.6,1060.0,p1\n0.4,1120.0,p1\n',
    'gpu-memory-bytes': 'timestamp_anon,value,container_ip\n',
    'gpu-duty-cycle': 'value,timestamp_anon,container_ip\n',
  });
  const lin = createProfile(
    { kind: 'replay', pod: 'p1', memoryBytes: 1000 },
    ctx('x', { startedAt: 0 }),
    lib,
  );
  const step = createProfile(
    { kind: 'replay', pod: 'p1', memoryBytes: 1000, interpolation: 'step' },
    ctx('x', { startedAt: 0 }),
    lib,
  );
  assert.ok(Math.abs(lin.sample(1030).memoryBytes - 400) < 1e-6);
  assert.ok(Math.abs(step.sample(1030).memoryBytes - 200) < 1e-6);
  assert.ok(Math.abs(lin.sample(1060).memoryBytes - 600) < 1e-6);
  // span = 120 + 60: t = 1180 is the start again.
  assert.ok(Math.abs(lin.sample(1180).memoryBytes - 200) < 1e-6);
  assert.equal(lin.sample(1030).gpuMemoryBytes, 0);
  assert.throws(
    () => createProfile({ kind: 'replay', pod: 'nope' }, ctx('x'), lib),
    /replay: pod "nope" is not in alibaba-gentd26\/pod_memory_util_anon.csv \(1 pods, e.g. p1\)/,
  );
  assert.throws(
    () => createProfile({ kind: 'replay', index: 5 }, ctx('x'), lib),
    /index 5 is out of range; .* has 1 pods \(0..0\)/,
  );
});

test('a missing trace file is a Prerequisite error naming the file', () => {
  const lib = createTraceLibrary(() => {
    throw new Error('ENOENT');
  });
  assert.throws(
    () => createProfile({ kind: 'llm' }, ctx('x'), lib),
    (e: Error & { code?: string }) =>
      e.code === 'Prerequisite' &&
      e.message === 'cannot read trace file azure-llm-2023/AzureLLMInferenceTrace_conv.csv: ENOENT',
  );
});

test('annotations: pod-wide and per-container kinds and parameters', () => {
  const a = {
    'sim.tailor.dev/profile': 'llm',
    'sim.tailor.dev/params': '{"weightsBytes": "16Gi", "trace": "azure-code"}',
    'sim.tailor.dev/profile.sidecar': 'idle',
    'sim.tailor.dev/params.sidecar': '{"memoryBytes": "50Mi"}',
    'sim.tailor.dev/params.vllm': '{"maxSequences": 64}',
  };
  const vllm = parseProfile(a, 'vllm');
  assert.ok(vllm.ok);
  assert.equal(vllm.spec.kind, 'llm');
  assert.ok(
    vllm.spec.kind === 'llm' &&
      vllm.spec.weightsBytes === 16 * Gi &&
      vllm.spec.trace === 'azure-code' &&
      vllm.spec.maxSequences === 64,
  );
  // The pod-wide params were written for llm: they do not reach a container with its own kind.
  const sidecar = parseProfile(a, 'sidecar');
  assert.deepEqual(sidecar, { ok: true, spec: { ...defaultSpec('idle'), memoryBytes: 50 * 2 ** 20 } });
  // No annotation: the defaults given, else web.
  assert.deepEqual(parseProfile({}, 'x'), { ok: true, spec: defaultSpec('web') });
  const batch = { ...defaultSpec('batch'), peakCpuCores: 3 };
  assert.deepEqual(parseProfile({}, 'x', batch), { ok: true, spec: batch });
  assert.deepEqual(parseProfile({ 'sim.tailor.dev/params': '{"busySeconds": "5m"}' }, 'x', batch), {
    ok: true,
    spec: { ...batch, busySeconds: 300 },
  });
});

test('annotations: bad input gives messages naming the annotation, the field and the allowed values', () => {
  const err = (a: Record<string, string>, c = 'app') => {
    const r = parseProfile(a, c);
    assert.equal(r.ok, false);
    return r.ok ? '' : r.error;
  };
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'gpu' }),
    'annotation sim.tailor.dev/profile: "gpu" is not a profile; allowed: llm, web, batch, idle, replay',
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile.app': 'LLM' }),
    'annotation sim.tailor.dev/profile.app: "LLM" is not a profile; allowed: llm, web, batch, idle, replay',
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'idle', 'sim.tailor.dev/params': '{"peakCpuCores": 1}' }),
    'annotation sim.tailor.dev/params: "peakCpuCores" is not a parameter of profile idle; allowed: cpuCores, memoryBytes, noise, startupSeconds, volumeBytes',
  );
  assert.match(
    err({ 'sim.tailor.dev/profile': 'llm', 'sim.tailor.dev/params.app': '{"weightGiB": 16}' }),
    /^annotation sim\.tailor\.dev\/params\.app: "weightGiB" is not a parameter of profile llm; allowed: weightsBytes, kvBytesPerToken, maxSequences, /,
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'llm', 'sim.tailor.dev/params': '{"trace": "azure"}' }),
    'annotation sim.tailor.dev/params: trace: "azure" is not a request trace; allowed: azure-code, azure-conv',
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'llm', 'sim.tailor.dev/params': '{"maxSequences": 0}' }),
    'annotation sim.tailor.dev/params: maxSequences: expected an integer >= 1, got 0',
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'llm', 'sim.tailor.dev/params': '{"weightsBytes": "lots"}' }),
    'annotation sim.tailor.dev/params: weightsBytes: expected a byte quantity such as 16Gi or 512Mi, or a number of bytes, got "lots"',
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'web', 'sim.tailor.dev/params': '{"peakMemoryBytes": "512m"}' }),
    'annotation sim.tailor.dev/params: peakMemoryBytes: "512m" is thousandths of a byte; write Mi for mebibytes (e.g. 512Mi)',
  );
  assert.equal(
    err({
      'sim.tailor.dev/profile': 'web',
      'sim.tailor.dev/params': '{"baseCpuCores": 2, "peakCpuCores": "500m"}',
    }),
    'annotation sim.tailor.dev/params: peakCpuCores: 0.5 is below baseCpuCores 2',
  );
  assert.equal(
    err({ 'sim.tailor.dev/params': '[1, 2]' }),
    'annotation sim.tailor.dev/params: expected a JSON object of parameters, got a list',
  );
  assert.match(
    err({ 'sim.tailor.dev/params.app': '{peak: 1}' }),
    /^annotation sim\.tailor\.dev\/params\.app: not valid JSON \(/,
  );
  assert.equal(
    err({ 'sim.tailor.dev/profile': 'replay', 'sim.tailor.dev/params': '{"pod": "a", "index": 1}' }),
    'annotation sim.tailor.dev/params: index: give pod or index, not both',
  );
});

test('annotations written by profileAnnotations read back to the same spec, whatever the defaults', () => {
  const specs = [
    { ...defaultSpec('llm'), weightsBytes: 40 * Gi, trace: 'azure-code' as const },
    { ...defaultSpec('replay'), index: 3 },
    { ...defaultSpec('batch'), phaseSeconds: 120 },
    defaultSpec('idle'),
  ];
  for (const spec of specs) {
    const r = parseProfile(profileAnnotations('c', spec), 'c', {
      ...defaultSpec('llm'),
      weightsBytes: 2 * Gi,
    });
    assert.deepEqual(r, { ok: true, spec });
  }
});

test('parsePodProfiles refuses an annotation naming no container of the pod', () => {
  const r = parsePodProfiles({ 'sim.tailor.dev/profile.sidcar': 'idle' }, ['app', 'sidecar']);
  assert.deepEqual(r, {
    ok: false,
    error:
      'annotation sim.tailor.dev/profile.sidcar: the pod has no container "sidcar"; containers: app, sidecar',
  });
  const ok = parsePodProfiles({ 'sim.tailor.dev/profile.sidecar': 'idle' }, ['app', 'sidecar']);
  assert.ok(ok.ok && ok.specs.get('sidecar')?.kind === 'idle' && ok.specs.get('app')?.kind === 'web');
});

test('sampling 10,000 profiles over 60 ticks is fast', () => {
  const kinds: ProfileInput[] = [{ kind: 'web' }, { kind: 'idle' }, { kind: 'batch' }];
  const t0 = performance.now();
  const profiles = Array.from({ length: 10_000 }, (_, i) => {
    if (i % 500 === 0)
      return createProfile({ kind: 'llm' }, ctx(`p${i}`, { gpus: 1, gpuMemoryBytesPerGpu: L4 }), real);
    if (i % 500 === 1) return createProfile({ kind: 'replay' }, ctx(`p${i}`), real);
    return createProfile(kinds[i % 3]!, ctx(`ns-${i % 500}/pod-${i}/app`), real);
  });
  const t1 = performance.now();
  let sum = 0;
  for (let tick = 0; tick < 60; tick++) {
    const t = T + 120 + tick * 10;
    for (const p of profiles) sum += p.sample(t).memoryBytes;
  }
  const t2 = performance.now();
  const perSample = ((t2 - t1) * 1000) / 600_000;
  process.stdout.write(
    `# create 10,000 profiles: ${(t1 - t0).toFixed(0)} ms; 600,000 samples: ${(t2 - t1).toFixed(0)} ms (${perSample.toFixed(2)} µs each)\n`,
  );
  assert.ok(sum > 0);
  assert.ok(t2 - t1 < 5000, `sampling took ${t2 - t1} ms`);
});

test('a restarted llm container loads again, but finds the model cache its pod already wrote', () => {
  const spec = {
    kind: 'llm' as const,
    weightsBytes: 8 * Gi,
    loadBytesPerSecond: Gi,
    warmupSeconds: 0,
    modelCacheOnVolume: true,
  };
  const first = createProfile(spec, ctx('r', { podStartedAt: T }), real);
  // Restarted 100 s after the pod started (an OOM kill, say).
  const again = createProfile(spec, ctx('r', { startedAt: T + 100, podStartedAt: T }), real);
  assert.ok(first.sample(T + 100).memoryBytes > 7 * Gi, 'the first run has its weights in memory by then');
  assert.equal(
    again.sample(T + 101).memoryBytes,
    first.sample(T + 1).memoryBytes,
    'the new process loads from scratch',
  );
  assert.ok(
    again.sample(T + 101).memoryBytes < first.sample(T + 100).memoryBytes - 5 * Gi,
    'far below the loaded one',
  );
  assert.equal(again.volumeBytes(T + 101), 8 * Gi, 'the cache on the volume is full already');
  assert.equal(first.volumeBytes(T + 4), 4 * Gi, 'the first download fills the cache at the load rate');
});
