// ModelDeployment end to end on the real control plane and simulator: two tenants in two
// namespaces each deploy a different model with different parameters; their pods are sized from
// the estimate, boosted while loading and shrunk in place once Ready without a restart; a bad edit
// changes nothing that runs, and a bad new ModelDeployment creates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { RecommendReport } from '../../src/cli/commands/recommend-report.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually, kubeconfigPath } from '../support/cluster.ts';
import {
  createModel,
  eventReasons,
  modelPods,
  patchModel,
  readModel,
  readSizingPolicy,
  useModels,
} from '../support/models.ts';

const env = useModels('models', 2);
const A = (): string => env.tenants[0]!;
const B = (): string => env.tenants[1]!;

/** Tenant A: vLLM on the simulator's L4, a small Qwen with 8 sequences of 4k tokens. */
const chat = () => ({
  apiVersion: 'tailor.dev/v1alpha1' as const,
  kind: 'ModelDeployment' as const,
  metadata: {
    name: 'chat',
    namespace: A(),
    // Load in seconds, not the minute a real vLLM takes: the test's clock runs at wall speed.
    annotations: {
      'sim.tailor.dev/params': JSON.stringify({
        warmupSeconds: 6,
        loadBytesPerSecond: 100e6,
        loadBytesPerSecondPerCore: 25e6,
      }),
    },
  },
  spec: {
    model: { huggingFace: { repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'main' } },
    runtime: { name: 'vllm' as const },
    serving: { contextLength: 4096, maxSequences: 8, dtype: 'auto' as const },
    replicas: 1,
    // auto: the cheapest GPU that fits among those the cluster's nodes have (the simulator's L4).
    gpu: { type: 'auto' },
    cache: { size: 'auto', storageClassName: 'tailor-sim' },
    sizing: { mode: 'InPlace' as const, startupBoost: true },
  },
});

/** Tenant B: llama.cpp on CPU, a GGUF Llama 3.2 1B, one sequence of 2k tokens, recommend only. */
const assistant = () => ({
  apiVersion: 'tailor.dev/v1alpha1' as const,
  kind: 'ModelDeployment' as const,
  metadata: { name: 'assistant', namespace: B() },
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
    replicas: 1,
    gpu: { count: 0, type: 'auto' },
    cache: { size: 'auto', storageClassName: 'tailor-sim' },
    sizing: { mode: 'Recommend' as const, startupBoost: true },
  },
});

/** A failing wait says where the pod is stuck: phase, conditions, init and app container states. */
function describePod(pod: k8s.V1Pod): string {
  const st = pod.status;
  const states = [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])].map(
    (c) => `${c.name}=${JSON.stringify(c.state)}`,
  );
  const conditions = (st?.conditions ?? []).map(
    (c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`,
  );
  return `phase ${st?.phase}; ${conditions.join(', ')}; ${states.join(', ')}`;
}

function server(pod: k8s.V1Pod) {
  const spec = pod.spec!.containers.find((c) => c.name === 'server')!;
  const status = pod.status?.containerStatuses?.find((c) => c.name === 'server');
  return { spec, status };
}

async function owned(namespace: string, name: string, uid: string) {
  const [d, s, pvc, sp] = await Promise.all([
    env.apps.readNamespacedDeployment({ name, namespace }),
    env.core.readNamespacedService({ name, namespace }),
    env.core.readNamespacedPersistentVolumeClaim({ name: `${name}-model-cache`, namespace }),
    readSizingPolicy(env, namespace, name),
  ]);
  for (const o of [d, s, pvc, sp]) {
    const ref = o.metadata?.ownerReferences?.[0];
    assert.equal(ref?.uid, uid, `${o.metadata?.name} owned by the ModelDeployment`);
    assert.equal(ref?.controller, true, `${o.metadata?.name}: controller reference`);
  }
  return { d, s, pvc, sp };
}

let chatPodUid = '';
let chatGeneration = 0;

test('two tenants deploy different models: sized from the estimate, boosted while loading, shrunk in place once Ready', async () => {
  const a = await createModel(env, chat());
  const b = await createModel(env, assistant());

  const ownedA = await eventually(() => owned(A(), 'chat', a.metadata.uid!), {
    what: 'objects of chat',
    timeoutMs: 30_000,
  });
  const ownedB = await eventually(() => owned(B(), 'assistant', b.metadata.uid!), {
    what: 'objects of assistant',
    timeoutMs: 30_000,
  });
  chatGeneration = ownedA.d.metadata!.generation!;
  // Different parameters reach the servers' arguments.
  const argsA = ownedA.d.spec!.template.spec!.containers[0]!.args!;
  assert.equal(argsA[argsA.indexOf('--max-model-len') + 1], '4096');
  assert.equal(argsA[argsA.indexOf('--max-num-seqs') + 1], '8');
  const argsB = ownedB.d.spec!.template.spec!.containers[0]!.args!;
  assert.equal(argsB[argsB.indexOf('-c') + 1], '2048');
  assert.equal(argsB[argsB.indexOf('-np') + 1], '1');
  assert.deepEqual(ownedA.d.spec!.template.spec!.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-L4' });
  assert.equal(ownedA.sp.spec.mode, 'InPlace');
  assert.equal(ownedB.sp.spec.mode, 'Recommend');
  assert.equal(ownedA.pvc.spec!.storageClassName, 'tailor-sim');

  // Loading: the pod runs with the boosted template (more CPU and memory than the steady annotation).
  const loading = await eventually(
    async () => {
      const pods = await modelPods(env, A(), 'chat');
      assert.equal(pods.length, 1, 'one chat pod');
      const s = server(pods[0]!);
      assert.ok(
        s.status?.started !== undefined || s.status?.state !== undefined,
        `the server container is running (pod: ${describePod(pods[0]!)})`,
      );
      return pods[0]!;
    },
    { what: 'chat pod running', timeoutMs: 180_000 },
  );
  chatPodUid = loading.metadata!.uid!;
  const steady = JSON.parse(loading.metadata!.annotations!['tailor.dev/startup-boost']!) as Record<
    string,
    { requests: { cpu: string; memory: string }; limits: { memory: string } }
  >;
  const boostedCpu = parseQuantity(ownedA.d.spec!.template.spec!.containers[0]!.resources!.requests!.cpu)!;
  const steadyCpu = parseQuantity(steady['server']!.requests.cpu)!;
  assert.ok(boostedCpu > steadyCpu, `boosted ${boostedCpu} cores > steady ${steadyCpu}`);
  assert.equal(
    parseQuantity(server(loading).spec.resources!.requests!.cpu),
    boostedCpu,
    'the pod starts boosted',
  );

  // Ready: shrunk in place to the steady sizes, same pod, no restart.
  const shrunk = await eventually(
    async () => {
      const pods = await modelPods(env, A(), 'chat');
      const p = pods[0];
      assert.ok(p, 'chat pod exists');
      assert.ok(p.metadata!.annotations?.['tailor.dev/startup-boost-done'], 'boost released');
      const s = server(p);
      assert.equal(parseQuantity(s.spec.resources!.requests!.cpu), steadyCpu, 'spec at steady cpu');
      assert.equal(
        parseQuantity(s.status?.resources?.requests?.cpu),
        steadyCpu,
        'kubelet applied steady cpu',
      );
      assert.equal(s.spec.resources!.limits!.memory, steady['server']!.limits.memory, 'steady memory limit');
      return p;
    },
    { what: 'chat shrunk in place', timeoutMs: 90_000, intervalMs: 500 },
  );
  assert.equal(shrunk.metadata!.uid, chatPodUid, 'the same pod, resized in place');
  assert.equal(server(shrunk).status?.restartCount, 0, 'no restart');
  assert.equal(shrunk.status?.qosClass, 'Burstable');
  assert.equal(server(shrunk).spec.resources!.requests!['nvidia.com/gpu'], '1', 'the GPU is untouched');
  const reasons = await eventReasons(env, A(), shrunk.metadata!.name!);
  assert.ok(reasons.includes('BoostApplied') && reasons.includes('BoostReleased'), reasons.join(','));

  // Status: phase, endpoint, estimate and GPU.
  const mdA = await eventually(
    async () => {
      const m = await readModel(env, A(), 'chat');
      assert.equal(m.status?.phase, 'Ready', `phase ${m.status?.phase}`);
      return m;
    },
    { what: 'chat Ready', timeoutMs: 30_000 },
  );
  assert.equal(mdA.status!.endpoint, `http://chat.${A()}.svc:8000/v1`);
  assert.equal(mdA.status!.gpu!.type, 'l4');
  assert.equal(mdA.status!.gpu!.count, 1);
  assert.match(mdA.status!.gpu!.reason, /on this cluster's nodes \(l4\)/);
  assert.ok(mdA.status!.estimate!.memory, 'estimated memory');
  assert.equal(mdA.status!.estimate!.cpuServing, steady['server']!.requests.cpu);
  assert.equal(mdA.status!.observedGeneration, mdA.metadata.generation);
  assert.equal(mdA.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');

  // Tenant B: CPU-served, sized from the estimate; loading needs no more than serving, so no boost.
  const podB = await eventually(
    async () => {
      const pods = await modelPods(env, B(), 'assistant');
      const p = pods[0];
      assert.ok(p, 'assistant pod exists');
      assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'assistant Ready');
      return p;
    },
    { what: 'assistant Ready', timeoutMs: 60_000 },
  );
  const mdB = await eventually(
    async () => {
      const m = await readModel(env, B(), 'assistant');
      assert.equal(m.status?.phase, 'Ready', `phase ${m.status?.phase}`);
      return m;
    },
    { what: 'assistant status Ready', timeoutMs: 30_000 },
  );
  assert.equal(mdB.status!.gpu!.type, 'cpu');
  assert.equal(podB.metadata!.annotations!['tailor.dev/startup-boost'], undefined);
  // CPU from the estimate (4 threads), lowered to the room on the nodes that can run it: the
  // general nodes' 3920m allocatable, halved, so it fits beside other pods.
  assert.equal(mdB.status!.estimate!.cpuServing, '4');
  assert.equal(
    parseQuantity(server(podB).spec.resources!.requests!.cpu),
    1.95,
    'CPU from the estimate, capped by the nodes that can run it',
  );
  assert.ok(
    parseQuantity(server(podB).spec.resources!.requests!.memory)! >=
      parseQuantity(mdB.status!.estimate!.hostMemoryServing!.replace(/i$/, 'i'))!,
    'memory covers the serving estimate',
  );
  assert.notEqual(mdA.status!.model, mdB.status!.model);
});

test('tailor recommend and the ModelDeployment status show the estimate beside usage and recommendation', async () => {
  assert.ok(chatPodUid, 'runs after the first test');
  // The tenant's operator publishes usage-based recommendations on the SizingPolicy the
  // ModelDeployment owns; the ModelDeployment's status shows them beside the estimate.
  const policy = await eventually(
    async () => {
      const sp = await readSizingPolicy(env, A(), 'chat');
      const rec = sp.status?.recommendations?.find((r) => r.name === 'server');
      assert.ok(rec?.target.cpu && rec.target.memory, `a recommendation: ${JSON.stringify(rec)}`);
      return sp;
    },
    { what: 'the sizing controller to recommend for chat', timeoutMs: 60_000 },
  );
  const rec = policy.status!.recommendations!.find((r) => r.name === 'server')!;
  const m = await eventually(
    async () => {
      const m = await readModel(env, A(), 'chat');
      const c = m.status?.recommendation?.containers?.find((x) => x.name === 'server');
      assert.ok(c?.cpu && c.memory, `recommendation in status: ${JSON.stringify(m.status?.recommendation)}`);
      return m;
    },
    { what: 'the recommendation in the ModelDeployment status', timeoutMs: 30_000 },
  );
  assert.equal(m.status!.recommendation!.sizingPolicy, 'chat');
  const shown = m.status!.recommendation!.containers.find((x) => x.name === 'server')!;
  // The sizing controller refreshes as usage comes in: the status shows one of its recommendations.
  assert.ok(parseQuantity(shown.memory)! > 0 && parseQuantity(rec.target.memory)! > 0, 'memory');
  assert.match(shown.basis ?? '', /sample/, `basis ${shown.basis}`);
  assert.ok(m.status!.estimate?.cpuServing, 'the estimate beside it');

  const home = mkdtempSync(join(tmpdir(), 'tailor-models-'));
  try {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'recommend',
          '-n',
          A(),
          '--sample-for',
          '8s',
          '-o',
          'json',
          '--no-prometheus-discovery',
          '--kubeconfig',
          kubeconfigPath(),
        ],
        { cwd: process.cwd(), timeout: 120_000, env: { ...process.env, TAILOR_HOME: home } },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as RecommendReport;
    const item = report.items.find((i) => i.workload.name === 'chat' && i.container === 'server');
    assert.ok(
      item,
      `chat/server in ${report.items.map((i) => `${i.workload.name}/${i.container}`).join(', ')}`,
    );
    assert.equal(item.estimate?.modelDeployment, 'chat');
    assert.equal(item.estimate?.cpu, parseQuantity(m.status!.estimate.cpuServing));
    assert.ok(item.memory.usage !== null, 'usage beside the estimate');
    assert.ok(item.memory.recommendation !== null, 'recommendation beside the estimate');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a bad edit (context too long) is refused with a condition and leaves the running Deployment unchanged', async () => {
  assert.ok(chatPodUid, 'runs after the first test');
  const before = await env.apps.readNamespacedDeployment({ name: 'chat', namespace: A() });
  const edited = await patchModel(env, A(), 'chat', { spec: { serving: { contextLength: 65536 } } });
  const m = await eventually(
    async () => {
      const m = await readModel(env, A(), 'chat');
      assert.equal(m.status?.observedGeneration, edited.metadata.generation, 'edit observed');
      const c = m.status?.conditions?.find((x) => x.type === 'Accepted');
      assert.equal(c?.status, 'False', 'Accepted False');
      assert.equal(c?.reason, 'ContextTooLong', `reason ${c?.reason}`);
      return m;
    },
    { what: 'the edit refused', timeoutMs: 30_000 },
  );
  const message = m.status!.conditions!.find((x) => x.type === 'Accepted')!.message;
  assert.match(message, /32768/, 'says the model maximum');
  assert.match(message, /not applied/, 'says the edit was not applied');
  assert.equal(m.status!.phase, 'Ready', 'still serving');
  assert.equal(m.status!.gpu!.type, 'l4', 'last good GPU choice kept');
  const after = await env.apps.readNamespacedDeployment({ name: 'chat', namespace: A() });
  assert.equal(after.metadata!.generation, before.metadata!.generation, 'Deployment not changed');
  assert.equal(after.metadata!.generation, chatGeneration);
  const args = after.spec!.template.spec!.containers[0]!.args!;
  assert.equal(args[args.indexOf('--max-model-len') + 1], '4096');
  // One Event per change, on the ModelDeployment, for `kubectl describe`.
  const reasons = await eventually(
    async () => {
      const r = await eventReasons(env, A(), 'chat');
      assert.ok(r.includes('ContextTooLong'), `events: ${r.join(',')}`);
      return r;
    },
    { what: 'the refusal Event', timeoutMs: 10_000 },
  );
  assert.equal(reasons.filter((x) => x === 'Applied').length, 1, `events: ${reasons.join(',')}`);
  assert.equal(reasons.filter((x) => x === 'ContextTooLong').length, 1, `events: ${reasons.join(',')}`);
  const pods = await modelPods(env, A(), 'chat');
  assert.deepEqual(
    pods.map((p) => p.metadata!.uid),
    [chatPodUid],
    'the same pod still serves',
  );
});

test('a bad new ModelDeployment creates nothing: no GPU fits, or the model is unknown to the catalogue and the hub', async () => {
  const ns = B();
  const huge = assistant();
  huge.metadata = { name: 'huge', namespace: ns };
  huge.spec = {
    ...huge.spec,
    model: { huggingFace: { repo: 'meta-llama/Llama-3.1-405B-Instruct', revision: 'main' } } as never,
    runtime: { name: 'vllm' as never },
    gpu: { count: 1, type: 'l4' },
    serving: { contextLength: 8192, maxSequences: 1, dtype: 'auto' },
  };
  const ghost = assistant();
  ghost.metadata = { name: 'ghost', namespace: ns };
  ghost.spec = {
    ...ghost.spec,
    model: { huggingFace: { repo: 'nobody/no-such-model', revision: 'main' } } as never,
    runtime: { name: 'vllm' as never },
    gpu: { type: 'auto' } as never,
  };
  await createModel(env, huge);
  await createModel(env, ghost);
  for (const [name, reason] of [
    ['huge', 'NoGpuFits'],
    ['ghost', 'ModelNotFound'],
  ] as const) {
    const m = await eventually(
      async () => {
        const m = await readModel(env, ns, name);
        const c = m.status?.conditions?.find((x) => x.type === 'Accepted');
        assert.equal(c?.reason, reason, `${name}: reason ${c?.reason}`);
        return m;
      },
      { what: `${name} refused`, timeoutMs: 30_000 },
    );
    assert.equal(m.status!.phase, 'Failed', name);
    assert.match(
      m.status!.conditions!.find((x) => x.type === 'Accepted')!.message,
      /Nothing was created/,
      name,
    );
  }
  const [d, s, pvc, sp] = await Promise.all([
    env.apps.listNamespacedDeployment({ namespace: ns }),
    env.core.listNamespacedService({ namespace: ns }),
    env.core.listNamespacedPersistentVolumeClaim({ namespace: ns }),
    env.custom.listNamespacedCustomObject({
      group: 'tailor.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'sizingpolicies',
    }) as Promise<{
      items: k8s.KubernetesObject[];
    }>,
  ]);
  for (const list of [d.items, s.items, pvc.items, sp.items]) {
    const names = list.map((o) => o.metadata?.name ?? '');
    assert.ok(
      !names.some((n) => n.startsWith('huge') || n.startsWith('ghost')),
      `nothing created: ${names.join(', ')}`,
    );
  }
});

test('deleting a ModelDeployment removes what it owns (the garbage collector follows the owner references)', async () => {
  const before = await env.apps.listNamespacedDeployment({ namespace: B() });
  assert.deepEqual(
    before.items.map((d) => d.metadata?.name),
    ['assistant'],
  );
  await env.custom.deleteNamespacedCustomObject({
    group: 'tailor.dev',
    version: 'v1alpha1',
    namespace: B(),
    plural: 'modeldeployments',
    name: 'assistant',
  });
  await eventually(
    async () => {
      const [d, s, sp] = await Promise.all([
        env.apps.listNamespacedDeployment({ namespace: B() }),
        env.core.listNamespacedService({ namespace: B() }),
        env.custom.listNamespacedCustomObject({
          group: 'tailor.dev',
          version: 'v1alpha1',
          namespace: B(),
          plural: 'sizingpolicies',
        }) as Promise<{ items: unknown[] }>,
      ]);
      assert.equal(d.items.length, 0, `deployments left: ${d.items.map((x) => x.metadata?.name).join(',')}`);
      assert.equal(s.items.length, 0, 'services left');
      assert.equal(sp.items.length, 0, 'sizing policies left');
    },
    { what: 'owned objects collected', timeoutMs: 60_000 },
  );
});

test("a wrong estimate fails on the simulator's own ground truth: vLLM with too little GPU memory crash-loops with its own error", async () => {
  assert.ok(chatPodUid, 'runs after the first test');
  // A flag Tailor's estimate does not read: the server gets 3% of the L4 (0.7 GiB), less than the
  // weights (0.93 GiB). The estimate still says it fits; the simulator's reference says otherwise.
  // (The context goes back to 4096: the refused edit above left 65536 in the spec.)
  await patchModel(env, A(), 'chat', {
    spec: {
      serving: { contextLength: 4096 },
      runtime: { name: 'vllm', args: ['--gpu-memory-utilization', '0.03'] },
    },
  });
  const crashed = await eventually(
    async () => {
      const pods = await modelPods(env, A(), 'chat');
      const p = pods.find((x) => x.metadata!.uid !== chatPodUid);
      assert.ok(p, 'the new revision has a pod');
      const s = server(p);
      const args = s.spec.args ?? [];
      assert.equal(args[args.indexOf('--gpu-memory-utilization') + 1], '0.03');
      const last = s.status?.lastState?.terminated;
      assert.ok(last, `the server died: ${JSON.stringify(s.status?.state)}`);
      return { p, s, last };
    },
    { what: 'the chat server to crash', timeoutMs: 120_000, intervalMs: 1000 },
  );
  assert.equal(crashed.last.reason, 'Error');
  assert.equal(crashed.last.exitCode, 1);
  assert.match(
    crashed.last.message ?? '',
    /^ValueError: No available memory for the cache blocks\. Try increasing `gpu_memory_utilization` when initializing the engine\.$/,
  );
  assert.ok((crashed.s.status?.restartCount ?? 0) >= 1, 'restarted');
  assert.notEqual(
    crashed.p.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    'True',
    'never Ready',
  );
  // It keeps crashing: the kubelet backs off, the ModelDeployment never reports the new pod Ready.
  const looping = await eventually(
    async () => {
      const p = (await modelPods(env, A(), 'chat')).find((x) => x.metadata!.uid === crashed.p.metadata!.uid);
      const s = p && server(p);
      assert.ok((s?.status?.restartCount ?? 0) >= 2, `restarts ${s?.status?.restartCount}`);
      return s!;
    },
    { what: 'a crash loop', timeoutMs: 120_000, intervalMs: 1000 },
  );
  assert.equal(looping.status?.ready, false);
  const m = await readModel(env, A(), 'chat');
  assert.notEqual(m.status?.phase, 'Ready', `phase ${m.status?.phase}`);
});
