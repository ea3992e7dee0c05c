// The ModelDeployment's objects, built purely: runtime presets and their arguments, GPU placement,
// the download step, /dev/shm, scrape annotations, boost and simulator annotations, owner
// references, cache size; and the spec problems refused before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ModelDeploymentSchema } from '../../src/api/modeldeployment.ts';
import type { ModelDeployment, ModelDeploymentSpec } from '../../src/api/modeldeployment.ts';
import { validate } from '../../src/api/validate.ts';
import { render } from '../../src/controllers/models/render.ts';
import { mergeArgs } from '../../src/controllers/models/presets.ts';
import {
  catalogueForGguf,
  gpusOnNodes,
  plan,
  resolve,
  type Resolution,
} from '../../src/controllers/models/resolve.ts';
import { buildStatus } from '../../src/controllers/models/status.ts';
import { catalogueArchitecture } from '../../src/core/llm/catalogue/index.ts';
import { parseQuantity } from '../../src/core/quantity.ts';

type SpecIn = Partial<Omit<ModelDeploymentSpec, 'serving' | 'gpu'>> & {
  model: ModelDeploymentSpec['model'];
  runtime: ModelDeploymentSpec['runtime'];
  serving?: Partial<ModelDeploymentSpec['serving']>;
  gpu?: Partial<ModelDeploymentSpec['gpu']>;
};

function md(spec: SpecIn, name = 'chat'): ModelDeployment {
  return {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name, namespace: 'tenant-a', uid: 'uid-1', generation: 3 },
    spec: {
      replicas: 1,
      cache: { size: 'auto', storageClassName: 'fast' },
      sizing: { mode: 'InPlace', startupBoost: true },
      ...spec,
      serving: { dtype: 'auto', ...spec.serving },
      gpu: { type: 'auto', ...spec.gpu },
    },
  };
}

function planOf(m: ModelDeployment): Resolution {
  const repo = m.spec.model.huggingFace?.repo ?? '';
  const a = catalogueForGguf(repo) ?? catalogueArchitecture(repo);
  if (a?.kind !== 'ok') throw new Error(`not catalogued: ${repo}`);
  return plan(m, a.value, 'catalogue');
}

function rendered(m: ModelDeployment) {
  const r = planOf(m);
  if (r.kind !== 'Resolved') throw new Error(JSON.stringify(r.problem));
  return { ...render(m, r.value.estimate, r.value.fit), resolved: r.value };
}

const hf = (repo: string, file?: string) => ({
  huggingFace: { repo, revision: 'main', ...(file ? { file } : {}) },
});

function argAfter(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

void test('render: each runtime preset sets its flags, probes, ports and download step', () => {
  const cases: {
    name: string;
    m: ModelDeployment;
    flags: Record<string, string>;
    port: number;
    download: boolean;
    shm: boolean;
    scrape: boolean;
  }[] = [
    {
      name: 'vLLM on an L4',
      m: md({
        model: hf('Qwen/Qwen2.5-7B-Instruct'),
        runtime: { name: 'vllm' },
        serving: { contextLength: 4096, maxSequences: 8 },
        gpu: { type: 'l4' },
      }),
      flags: {
        '--max-model-len': '4096',
        '--max-num-seqs': '8',
        '--tensor-parallel-size': '1',
        '--dtype': 'auto',
      },
      port: 8000,
      download: true,
      shm: true,
      scrape: true,
    },
    {
      name: 'llama.cpp on CPU: -c is the context of all slots',
      m: md({
        model: hf('bartowski/Llama-3.2-1B-Instruct-GGUF', 'Llama-3.2-1B-Instruct-Q4_K_M.gguf'),
        runtime: { name: 'llamacpp' },
        serving: { contextLength: 4096, maxSequences: 2 },
        gpu: { count: 0 },
      }),
      flags: {
        '-c': '8192',
        '-np': '2',
        '-m': '/models/hf/bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
      },
      port: 8080,
      download: true,
      shm: false,
      scrape: true,
    },
    {
      name: 'Ollama pulls by itself and exports no metrics',
      m: md({ model: hf('Qwen/Qwen2.5-0.5B-Instruct-GGUF'), runtime: { name: 'ollama' }, gpu: { count: 0 } }),
      flags: {},
      port: 11434,
      download: false,
      shm: false,
      scrape: false,
    },
    {
      name: 'TGI shards over 2 GPUs',
      m: md({
        model: hf('Qwen/Qwen2.5-32B-Instruct'),
        runtime: { name: 'tgi' },
        serving: { contextLength: 4096 },
        gpu: { count: 2, type: 'a100-80gb' },
      }),
      flags: { '--num-shard': '2', '--max-total-tokens': '4096', '--model-id': 'Qwen/Qwen2.5-32B-Instruct' },
      port: 8080,
      download: false,
      shm: true,
      scrape: true,
    },
  ];
  for (const c of cases) {
    const r = rendered(c.m);
    const pod = r.deployment.spec!.template;
    const server = pod.spec!.containers[0]!;
    for (const [flag, value] of Object.entries(c.flags))
      assert.equal(argAfter(server.args ?? [], flag), value, `${c.name}: ${flag}`);
    if (c.m.spec.runtime.name === 'llamacpp') assert.ok(server.args!.includes('--metrics'), c.name);
    assert.equal(server.ports![0]!.containerPort, c.port, c.name);
    assert.equal(server.readinessProbe?.httpGet?.port, c.port, c.name);
    assert.ok(
      (server.startupProbe?.failureThreshold ?? 0) * 10 >= r.boost.deadlineSeconds,
      `${c.name}: startup probe waits for loading`,
    );
    assert.equal(pod.spec!.initContainers?.[0]?.name === 'download', c.download, `${c.name}: download`);
    assert.equal(
      pod.spec!.volumes!.some((v) => v.emptyDir?.medium === 'Memory'),
      c.shm,
      `${c.name}: /dev/shm`,
    );
    assert.equal(
      pod.metadata!.annotations!['prometheus.io/scrape'] === 'true',
      c.scrape,
      `${c.name}: scrape`,
    );
    // Nothing of the estimate reaches the simulator: it tells the server by its image and arguments.
    assert.equal(pod.metadata!.annotations!['sim.tailor.dev/profile'], undefined, c.name);
    assert.equal(pod.metadata!.annotations!['sim.tailor.dev/params'], undefined, c.name);
    assert.equal(
      server.terminationMessagePolicy,
      'FallbackToLogsOnError',
      `${c.name}: the log says why it died`,
    );
    assert.equal(r.service.spec!.ports![0]!.port, c.port, c.name);
    assert.match(r.endpoint, new RegExp(`^http://chat\\.tenant-a\\.svc:${c.port}/v1$`), c.name);
    for (const o of [r.deployment, r.service, r.sizingPolicy, ...(r.pvc ? [r.pvc] : [])]) {
      const ref = o.metadata!.ownerReferences?.[0];
      assert.equal(ref?.kind, 'ModelDeployment', `${c.name}: ${o.kind} owned`);
      assert.equal(ref?.uid, 'uid-1', c.name);
      assert.equal(ref?.controller, true, c.name);
    }
  }
});

void test('render: GPU placement, boost in the template, steady in the annotation, cache sized from the estimate', () => {
  const r = rendered(
    md({
      model: hf('Qwen/Qwen2.5-3B-Instruct'),
      runtime: { name: 'vllm' },
      serving: { contextLength: 8192, maxSequences: 8 },
      gpu: { type: 'l4' },
    }),
  );
  const spec = r.deployment.spec!.template.spec!;
  assert.deepEqual(spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-L4' });
  assert.equal(spec.tolerations?.[0]?.key, 'nvidia.com/gpu');
  const res = spec.containers[0]!.resources!;
  assert.equal(res.requests!['nvidia.com/gpu'], '1');
  assert.equal(res.limits!['nvidia.com/gpu'], '1');
  assert.equal(r.boost.kind, 'Boost');
  assert.equal(parseQuantity(res.requests!.cpu), r.boost.loading.requests.cpu);
  assert.equal(res.limits!.cpu, undefined, 'no CPU limit: it would throttle loading');
  const ann = r.deployment.spec!.template.metadata!.annotations!;
  const steady = JSON.parse(ann['tailor.dev/startup-boost']!) as Record<
    string,
    { requests: { cpu: string } }
  >;
  assert.equal(parseQuantity(steady['server']!.requests.cpu), r.boost.steady.requests.cpu);
  assert.ok(r.boost.steady.requests.cpu < r.boost.loading.requests.cpu);
  assert.equal(ann['sim.tailor.dev/params'], undefined, 'no footprint from the estimate');
  assert.equal(
    parseQuantity(r.pvc!.spec!.resources!.requests!['storage']),
    r.resolved.estimate.diskBytes.value,
  );
  assert.equal(r.pvc!.spec!.storageClassName, 'fast');
  assert.equal(r.sizingPolicy.spec.mode, 'InPlace');
  assert.deepEqual(r.sizingPolicy.spec.targetRef, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'chat',
  });
  assert.equal(r.deployment.spec!.strategy!.type, 'Recreate');
  // An explicit cache size wins; a pvc source has no cache of its own.
  const sized = rendered(
    md({ model: hf('Qwen/Qwen2.5-7B-Instruct'), runtime: { name: 'vllm' }, cache: { size: '100Gi' } }),
  );
  assert.equal(sized.pvc!.spec!.resources!.requests!['storage'], '100Gi');
  const onPvc = md({
    model: { pvc: { claimName: 'weights', path: 'qwen' } },
    runtime: { name: 'vllm' },
    serving: { servedModelName: 'Qwen/Qwen2.5-7B-Instruct' },
  });
  const a = catalogueArchitecture('Qwen/Qwen2.5-7B-Instruct');
  assert.equal(a?.kind, 'ok');
  const p = plan(onPvc, a.kind === 'ok' ? a.value : (undefined as never), 'catalogue');
  assert.equal(p.kind, 'Resolved');
  if (p.kind === 'Resolved') {
    const x = render(onPvc, p.value.estimate, p.value.fit);
    assert.equal(x.pvc, undefined);
    assert.equal(x.deployment.spec!.template.spec!.volumes![0]!.persistentVolumeClaim!.claimName, 'weights');
    assert.equal(x.deployment.spec!.template.spec!.initContainers, undefined);
    assert.equal(argAfter(x.deployment.spec!.template.spec!.containers[0]!.args!, '--model'), '/models/qwen');
  }
});

void test('user arguments replace the preset flag they name, value and all', () => {
  const preset = ['--model', '/m', '--max-model-len', '8192', '--enforce-eager', '--dtype=auto'];
  const cases: [string[], string[]][] = [
    [[], preset],
    [
      ['--max-model-len', '4096'],
      ['--model', '/m', '--enforce-eager', '--dtype=auto', '--max-model-len', '4096'],
    ],
    [['--dtype=half'], ['--model', '/m', '--max-model-len', '8192', '--enforce-eager', '--dtype=half']],
    [['--enforce-eager'], ['--model', '/m', '--max-model-len', '8192', '--dtype=auto', '--enforce-eager']],
    [
      ['--seed', '-1'],
      [...preset, '--seed', '-1'],
    ],
  ];
  for (const [user, want] of cases) assert.deepEqual(mergeArgs(preset, user), want, user.join(' '));
});

void test('plan: bad input is a named problem with what to change', () => {
  const cases: { name: string; m: ModelDeployment; reason: string; hint: RegExp }[] = [
    {
      name: 'context longer than the model',
      m: md({
        model: hf('Qwen/Qwen2.5-7B-Instruct'),
        runtime: { name: 'vllm' },
        serving: { contextLength: 1_000_000 },
      }),
      reason: 'ContextTooLong',
      hint: /serving\.contextLength/,
    },
    {
      name: 'GGUF on vLLM',
      m: md({ model: { ...hf('Qwen/Qwen2.5-7B-Instruct'), format: 'gguf' }, runtime: { name: 'vllm' } }),
      reason: 'FormatUnsupportedByRuntime',
      hint: /llamacpp or ollama/,
    },
    {
      name: 'fits no GPU of the asked type',
      m: md({
        model: hf('meta-llama/Llama-3.1-70B-Instruct'),
        runtime: { name: 'vllm' },
        serving: { contextLength: 8192 },
        gpu: { type: 't4', count: 1 },
      }),
      reason: 'NoGpuFits',
      hint: /contextLength|smaller/,
    },
    {
      name: 'unknown GPU',
      m: md({ model: hf('Qwen/Qwen2.5-7B-Instruct'), runtime: { name: 'vllm' }, gpu: { type: 'rtx-9999' } }),
      reason: 'UnknownGpu',
      hint: /l4/,
    },
  ];
  for (const c of cases) {
    const r = planOf(c.m);
    assert.equal(r.kind, 'Problem', c.name);
    if (r.kind !== 'Problem') continue;
    assert.equal(r.problem.reason, c.reason, c.name);
    assert.match(r.problem.hint, c.hint, c.name);
    assert.equal(r.problem.transient, false, c.name);
  }
});

void test('status: a bad edit keeps the running estimate and says the edit was not applied', () => {
  const good = md({
    model: hf('Qwen/Qwen2.5-0.5B-Instruct'),
    runtime: { name: 'vllm' },
    gpu: { type: 'l4' },
  });
  const r = planOf(good);
  assert.equal(r.kind, 'Resolved');
  if (r.kind !== 'Resolved') return;
  const deployment = {
    metadata: { name: 'chat', annotations: { 'tailor.dev/applied-generation': '3' }, ownerReferences: [] },
    status: { readyReplicas: 1 },
  };
  const now = new Date('2026-01-01T00:00:00Z');
  const s1 = buildStatus({
    md: good,
    outcome: { kind: 'Resolved', value: r.value, endpoint: 'http://x' },
    synced: { kind: 'Synced' },
    deployment,
    pods: [],
    sizingPolicy: undefined,
    now,
  });
  assert.equal(s1.phase, 'Ready');
  assert.equal(s1.gpu?.type, 'l4');
  assert.equal(s1.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');
  const bad = { ...good, metadata: { ...good.metadata, generation: 4 }, status: s1 };
  const problem = {
    reason: 'ContextTooLong' as const,
    message: 'too long',
    hint: 'set serving.contextLength to 32768 or less',
    transient: false,
  };
  const s2 = buildStatus({
    md: bad,
    outcome: { kind: 'Problem', problem },
    synced: { kind: 'Synced' },
    deployment,
    pods: [],
    sizingPolicy: undefined,
    now: new Date('2026-01-01T00:05:00Z'),
  });
  assert.equal(s2.phase, 'Ready', 'still serving the last good generation');
  assert.deepEqual(s2.estimate, s1.estimate);
  assert.equal(s2.observedGeneration, 4);
  const accepted = s2.conditions?.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.reason, 'ContextTooLong');
  assert.match(accepted?.message ?? '', /not applied.*generation 3.*unchanged/);
  // Nothing running: the same problem is Failed, and says nothing was created.
  const s3 = buildStatus({
    md: bad,
    outcome: { kind: 'Problem', problem },
    synced: { kind: 'Synced' },
    deployment: undefined,
    pods: [],
    sizingPolicy: undefined,
    now,
  });
  assert.equal(s3.phase, 'Failed');
  assert.match(s3.conditions?.find((c) => c.type === 'Accepted')?.message ?? '', /Nothing was created/);
});

void test('the example ModelDeployments are valid and resolve from the catalogue', () => {
  for (const file of ['examples/modeldeployment.yaml', 'examples/modeldeployment-llamacpp.yaml']) {
    const obj = validate(ModelDeploymentSchema, parse(readFileSync(file, 'utf8')), file);
    const m = { ...obj, metadata: { ...obj.metadata, uid: 'u', generation: 1 } } as ModelDeployment;
    const r = planOf(m);
    assert.equal(r.kind, 'Resolved', file);
  }
});

void test('gpu type auto picks among the GPUs the cluster has, by product label (MIG only where advertised)', () => {
  const node = (product: string, allocatable: Record<string, string> = {}) => ({
    metadata: { name: product, labels: { 'nvidia.com/gpu.product': product } },
    status: { allocatable: { 'nvidia.com/gpu': '1', ...allocatable } },
  });
  assert.deepEqual(
    gpusOnNodes([node('NVIDIA-L4'), { metadata: { name: 'cpu' } }]).map((g) => g.id),
    ['l4'],
  );
  const mig = gpusOnNodes([node('NVIDIA-A100-SXM4-80GB', { 'nvidia.com/mig-3g.40gb': '2' })]).map(
    (g) => g.id,
  );
  assert.ok(mig.includes('a100-80gb') && mig.includes('a100-80gb-mig-3g.40gb'), mig.join(','));
  assert.ok(!mig.includes('a100-80gb-mig-1g.10gb'), 'a slice the node does not advertise');
  // Mixed strategy with every GPU cut: no nvidia.com/gpu, so no whole GPU to place a model on.
  const allCut = {
    metadata: { name: 'cut', labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' } },
    status: { allocatable: { 'nvidia.com/mig-3g.40gb': '2', 'nvidia.com/mig-1g.10gb': '1' } },
  };
  assert.deepEqual(
    gpusOnNodes([allCut]).map((g) => g.id),
    ['a100-80gb-mig-1g.10gb', 'a100-80gb-mig-3g.40gb'],
  );

  const m = md({ model: hf('Qwen/Qwen2.5-0.5B-Instruct'), runtime: { name: 'vllm' } });
  const a = catalogueArchitecture('Qwen/Qwen2.5-0.5B-Instruct');
  assert.equal(a?.kind, 'ok');
  if (a?.kind !== 'ok') return;
  const anywhere = plan(m, a.value, 'catalogue');
  const here = plan(m, a.value, 'catalogue', gpusOnNodes([node('NVIDIA-L4')]));
  assert.equal(
    anywhere.kind === 'Resolved' && anywhere.value.fit.choice?.gpu.id,
    't4',
    'cheapest in the catalogue',
  );
  assert.equal(here.kind === 'Resolved' && here.value.fit.choice?.gpu.id, 'l4', 'cheapest on the cluster');
  assert.match(here.kind === 'Resolved' ? here.value.fit.reason : '', /on this cluster's nodes \(l4\)/);
});

void test('resolve: a model outside the catalogue is read from the hub with the tenant token, or a named problem', async () => {
  const ghost = md({ model: hf('acme/private-model'), runtime: { name: 'vllm' } });
  const withToken = md({
    model: {
      huggingFace: {
        repo: 'acme/private-model',
        revision: 'main',
        tokenSecretRef: { name: 'hf', key: 'token' },
      },
    },
    runtime: { name: 'vllm' },
  });
  const config = JSON.stringify({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    torch_dtype: 'bfloat16',
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    vocab_size: 128256,
    max_position_embeddings: 131072,
    tie_word_embeddings: true,
  });
  const seen: (string | null)[] = [];
  const hub = (status: number, body: string, code?: string): typeof fetch =>
    ((_url: string, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return Promise.resolve(new Response(body, { status, headers: code ? { 'x-error-code': code } : {} }));
    }) as typeof fetch;
  const secrets = (value: string | undefined) => () => Promise.resolve(value);
  const cases: {
    name: string;
    m: ModelDeployment;
    fetch: typeof fetch;
    secret?: string;
    want: string;
    transient?: boolean;
  }[] = [
    { name: 'config.json from the hub', m: ghost, fetch: hub(200, config), want: 'Resolved' },
    { name: 'no such repository', m: ghost, fetch: hub(404, 'nope', 'RepoNotFound'), want: 'ModelNotFound' },
    {
      name: 'hub down',
      m: ghost,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      want: 'HubUnreachable',
      transient: true,
    },
    { name: 'token Secret missing', m: withToken, fetch: hub(200, config), want: 'TokenMissing' },
    { name: 'token sent', m: withToken, fetch: hub(200, config), secret: 'hf_secret', want: 'Resolved' },
  ];
  for (const c of cases) {
    seen.length = 0;
    const r = await resolve(c.m, {
      hub: { baseUrl: 'http://hub.invalid', fetch: c.fetch },
      readSecret: secrets(c.secret),
    });
    assert.equal(r.kind === 'Resolved' ? 'Resolved' : r.problem.reason, c.want, c.name);
    if (r.kind === 'Problem') assert.equal(r.problem.transient, c.transient ?? false, c.name);
    if (c.secret) assert.equal(seen[0], `Bearer ${c.secret}`, `${c.name}: bearer token`);
  }
});

void test('with an HPA on the Deployment, replicas are left out of the applied object and status says who owns them', () => {
  const m = md({ model: hf('Qwen/Qwen2.5-0.5B-Instruct'), runtime: { name: 'vllm' }, gpu: { type: 'l4' } });
  m.spec.replicas = 2;
  const r = planOf(m);
  assert.equal(r.kind, 'Resolved');
  if (r.kind !== 'Resolved') return;
  assert.equal(render(m, r.value.estimate, r.value.fit).deployment.spec!.replicas, 2);
  const omitted = render(m, r.value.estimate, r.value.fit, { replicas: 'Omit' }).deployment.spec!;
  assert.equal('replicas' in omitted, false, 'no replicas field at all');
  const s = buildStatus({
    md: m,
    outcome: { kind: 'Resolved', value: r.value, endpoint: 'http://x' },
    synced: { kind: 'Synced' },
    autoscaler: 'chat-hpa',
    deployment: { metadata: { name: 'chat' }, spec: { replicas: 3 } as never, status: { readyReplicas: 3 } },
    pods: [],
    sizingPolicy: undefined,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  assert.equal(s.replicasManagedBy, 'HorizontalPodAutoscaler/chat-hpa');
  assert.equal(s.replicas, 3, "the HPA's count, not spec.replicas");
  assert.equal(s.phase, 'Ready');
  assert.match(
    s.conditions!.find((c) => c.type === 'Accepted')!.message,
    /HorizontalPodAutoscaler\/chat-hpa/,
  );
});

void test('status: an API error shows as Synced=False ReconcileError and keeps what status said', () => {
  const m = md({ model: hf('Qwen/Qwen2.5-0.5B-Instruct'), runtime: { name: 'vllm' }, gpu: { type: 'l4' } });
  const r = planOf(m);
  if (r.kind !== 'Resolved') return assert.fail('resolves');
  const now = new Date('2026-01-01T00:00:00Z');
  const ok = buildStatus({
    md: m,
    outcome: { kind: 'Resolved', value: r.value, endpoint: 'http://x' },
    synced: { kind: 'Synced' },
    deployment: undefined,
    pods: [],
    sizingPolicy: undefined,
    now,
  });
  assert.equal(ok.conditions!.find((c) => c.type === 'Synced')?.status, 'True');
  const failed = buildStatus({
    md: { ...m, status: ok },
    outcome: { kind: 'Unknown' },
    synced: { kind: 'Error', message: 'read Secret: Unavailable (HTTP 503): etcd down' },
    deployment: undefined,
    pods: [],
    sizingPolicy: undefined,
    now,
  });
  const c = failed.conditions!.find((x) => x.type === 'Synced')!;
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'ReconcileError');
  assert.match(c.message, /HTTP 503\): etcd down \(retried with backoff\)/);
  assert.deepEqual(failed.estimate, ok.estimate, 'what was known is kept');
  assert.deepEqual(
    failed.conditions!.find((x) => x.type === 'Accepted'),
    ok.conditions!.find((x) => x.type === 'Accepted'),
  );
});

void test('status: a name conflict says nothing was written', () => {
  const m = md({ model: hf('Qwen/Qwen2.5-0.5B-Instruct'), runtime: { name: 'vllm' } });
  const problem = {
    reason: 'NameConflict' as const,
    message: 'Service/chat (no controller) already exists and is not owned by this ModelDeployment',
    hint: 'rename the ModelDeployment',
    transient: false,
  };
  const s = buildStatus({
    md: m,
    outcome: { kind: 'Problem', problem },
    synced: { kind: 'Synced' },
    deployment: undefined,
    pods: [],
    sizingPolicy: undefined,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  const a = s.conditions!.find((x) => x.type === 'Accepted')!;
  assert.equal(a.status, 'False');
  assert.equal(a.reason, 'NameConflict');
  assert.match(a.message, /Service\/chat .*To fix: rename the ModelDeployment\. Nothing was created\./);
  assert.equal(s.phase, 'Failed');
});

void test("render: a ModelDeployment's own simulator parameters (test inputs) pass to its pods unchanged, nothing added", () => {
  const m = md({ model: hf('Qwen/Qwen2.5-0.5B-Instruct'), runtime: { name: 'vllm' }, gpu: { type: 'l4' } });
  m.metadata.annotations = {
    'sim.tailor.dev/params': JSON.stringify({ warmupSeconds: 6, loadBytesPerSecond: 1e8 }),
  };
  const ann = rendered(m).deployment.spec!.template.metadata!.annotations!;
  assert.deepEqual(JSON.parse(ann['sim.tailor.dev/params']!), { warmupSeconds: 6, loadBytesPerSecond: 1e8 });
  m.metadata.annotations = { 'sim.tailor.dev/params': 'not json' };
  assert.equal(
    rendered(m).deployment.spec!.template.metadata!.annotations!['sim.tailor.dev/params'],
    undefined,
  );
});
