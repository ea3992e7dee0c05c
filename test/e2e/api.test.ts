// The CRDs on the real apiserver: they install (again and again), good objects are stored with their
// defaults and shown with the printer columns, and bad ones are refused with a message that says
// what is wrong, the same field the offline validator names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ModelDeploymentSchema, SizingPolicySchema, problems } from '../../src/api/index.ts';
import { installCrds } from '../../src/api/install.ts';
import type * as k8s from '@kubernetes/client-node';
import { apiError, useCluster } from '../support/cluster.ts';
import type { TSchema } from '@sinclair/typebox';

const cluster = useCluster(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tailor-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  // Twice, concurrently: other test files install the same CRDs, and installing must not race.
  await Promise.all([installCrds(cluster.ext), installCrds(cluster.ext)]);
});

let files = 0;
/** `kubectl apply -f` of one object, written as YAML 1.1 the way kubectl reads it. */
function apply(object: unknown): { status: number; stdout: string; stderr: string } {
  const file = join(dir, `object-${files++}.yaml`);
  writeFileSync(file, stringify(object, { version: '1.1' }));
  return cluster.kubectl('apply', '-n', cluster.namespace, '-f', file);
}

const sizingPolicy = (name: string, spec: unknown) => ({
  apiVersion: 'tailor.dev/v1alpha1',
  kind: 'SizingPolicy',
  metadata: { name },
  spec,
});
const modelDeployment = (name: string, spec: unknown) => ({
  apiVersion: 'tailor.dev/v1alpha1',
  kind: 'ModelDeployment',
  metadata: { name },
  spec,
});

test('installing the CRDs again replaces them in place', async () => {
  await installCrds(cluster.ext);
  const crd = await cluster.ext.readCustomResourceDefinition({ name: 'sizingpolicies.tailor.dev' });
  assert.ok(
    crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    'CRD Established',
  );
});

test('a good SizingPolicy is stored with its defaults and listed with the printer columns', () => {
  const r = apply(
    sizingPolicy('web', {
      targetRef: { kind: 'Deployment', name: 'web' },
      mode: 'InPlace',
      containers: [
        {
          name: 'app',
          minAllowed: { cpu: '100m', memory: '128Mi' },
          maxAllowed: { cpu: 2, memory: '4Gi' },
          limits: { cpu: { strategy: 'NoLimit' }, memory: { strategy: 'Headroom', headroomPercent: 20 } },
        },
      ],
      recommendation: { profile: 'Conservative', memory: { percentile: 99.5 } },
    }),
  );
  assert.equal(r.status, 0, r.stderr);
  const stored = cluster.kubectl('get', 'sizingpolicy', 'web', '-n', cluster.namespace, '-o', 'json');
  const spec = (JSON.parse(stored.stdout) as { spec: Record<string, unknown> }).spec;
  assert.deepEqual(spec.update, {
    minChangePercent: 10,
    cooldown: '5m',
    maxChangesPerHour: 4,
    maxPodsAtOnce: '25%',
    maxEvictionsPerHour: 1,
  });
  assert.deepEqual((spec.targetRef as { apiVersion: string }).apiVersion, 'apps/v1');

  // What the sizing controller will write; the status schema must take it.
  const status = {
    status: {
      target: 'Deployment/web',
      pods: { targeted: 3 },
      estimatedMonthlySavings: { cost: '12.34', currency: 'USD', co2eKg: '1.5' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Recommending',
          message: 'recommendations for 1 container',
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
      recommendations: [
        { name: 'app', target: { cpu: '250m', memory: '300Mi' }, basis: '120 samples over 1.0 days' },
      ],
    },
  };
  const patched = cluster.kubectl(
    'patch',
    'sizingpolicy',
    'web',
    '-n',
    cluster.namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(status),
  );
  assert.equal(patched.status, 0, patched.stderr);

  const get = cluster.kubectl('get', 'sizingpolicies', '-n', cluster.namespace);
  assert.equal(get.status, 0, get.stderr);
  const [header, row] = get.stdout.trim().split('\n');
  assert.deepEqual(header?.split(/\s{2,}/), [
    'NAME',
    'MODE',
    'TARGET',
    'PODS',
    'SAVING/MONTH',
    'READY',
    'AGE',
  ]);
  assert.deepEqual(row?.split(/\s+/).slice(0, 6), ['web', 'InPlace', 'Deployment/web', '3', '12.34', 'True']);
  // The short name and the category work too.
  assert.equal(cluster.kubectl('get', 'sp', '-n', cluster.namespace).status, 0);
  assert.match(
    cluster.kubectl('get', 'tailor', '-n', cluster.namespace).stdout,
    /sizingpolicy\.tailor\.dev\/web/,
  );
});

const web = { kind: 'Deployment', name: 'web' };
const badPolicies: { name: string; spec: unknown; path: string; message: RegExp }[] = [
  {
    name: 'min above max (CEL with quantities)',
    spec: {
      targetRef: web,
      containers: [{ name: 'app', minAllowed: { cpu: '2' }, maxAllowed: { cpu: '500m' } }],
    },
    path: 'spec.containers[0].minAllowed.cpu',
    message: /minAllowed\.cpu \(2\) must not be above maxAllowed\.cpu \(500m\)/,
  },
  {
    name: 'unknown mode (enum)',
    spec: { targetRef: web, mode: 'Sometimes' },
    path: 'spec.mode',
    message:
      /Unsupported value: "Sometimes": supported values: "Off", "Recommend", "Initial", "InPlace", "Auto"/,
  },
  {
    name: 'bad quantity',
    spec: { targetRef: web, containers: [{ name: 'app', maxAllowed: { memory: 'lots' } }] },
    path: 'spec.containers[0].maxAllowed.memory',
    message: /Invalid value: "lots": must be a Kubernetes quantity such as 250m, 2, 1\.5Gi or 512Mi/,
  },
  {
    name: 'a negative quantity',
    spec: { targetRef: web, containers: [{ name: 'app', minAllowed: { cpu: '-1' } }] },
    path: 'spec.containers[0].minAllowed.cpu',
    message: /Invalid value: "-1": must be a Kubernetes quantity such as 250m/,
  },
  {
    name: 'a quantity beyond int64 (1e400, Infinity to Tailor)',
    spec: { targetRef: web, containers: [{ name: 'app', maxAllowed: { memory: '1e400' } }] },
    path: 'spec.containers[0].maxAllowed.memory',
    message: /must be below 8Ei \(2\^63 cores or bytes\); write a real size such as 64Gi/,
  },
  {
    name: 'both targetRef and selector (CEL)',
    spec: { targetRef: web, selector: { matchLabels: { app: 'web' } } },
    path: 'spec',
    message: /set exactly one of targetRef \(a workload\) or selector \(pods by label\)/,
  },
  {
    name: 'percentile out of range',
    spec: { targetRef: web, recommendation: { cpu: { percentile: 30 } } },
    path: 'spec.recommendation.cpu.percentile',
    message: /Invalid value: 30: .*should be greater than or equal to 50/,
  },
  {
    name: 'headroom strategy without its percent (CEL)',
    spec: { targetRef: web, containers: [{ name: 'app', limits: { memory: { strategy: 'Headroom' } } }] },
    path: 'spec.containers[0].limits.memory',
    message: /headroomPercent is required with strategy Headroom/,
  },
  {
    name: 'a history window that is not a duration',
    spec: { targetRef: web, history: { window: '8days' } },
    path: 'spec.history.window',
    message: /must be a duration such as 90s, 15m, 6h, 8d or 2w/,
  },
  {
    name: 'a history window under an hour (CEL)',
    spec: { targetRef: web, history: { window: '59m59s' } },
    path: 'spec.history.window',
    message: /must be between 1h and 90d/,
  },
  {
    name: 'a history window over 90 days (CEL)',
    spec: { targetRef: web, history: { window: '2160h1ms' } },
    path: 'spec.history.window',
    message: /must be between 1h and 90d/,
  },
  {
    name: 'a history window too large for an int64 (CEL, in doubles)',
    spec: { targetRef: web, history: { window: '99999999999999999999999w' } },
    path: 'spec.history.window',
    message: /must be between 1h and 90d/,
  },
  {
    name: 'a prometheusURL (removed: the operator chooses the Prometheus servers)',
    spec: {
      targetRef: web,
      history: { source: 'Prometheus', prometheusURL: 'http://10.0.0.1:6443/api/v1/secrets#' },
    },
    path: 'spec.history.prometheusURL',
    message:
      /Forbidden: prometheusURL is no longer supported: the operator chooses the Prometheus servers it reads\. Set history\.prometheus to the name of one of the operator's sources/,
  },
  {
    name: 'a Prometheus source written as a URL',
    spec: { targetRef: web, history: { source: 'Prometheus', prometheus: 'http://prometheus:9090' } },
    path: 'spec.history.prometheus',
    message: /must be the name of one of the operator's Prometheus sources, a DNS label such as main/,
  },
  {
    name: 'a Prometheus source without source Prometheus',
    spec: { targetRef: web, history: { prometheus: 'main' } },
    path: 'spec.history.prometheus',
    message: /prometheus \(a source name\) is only used with source: Prometheus/,
  },
  {
    name: 'an empty selector',
    spec: { selector: {} },
    path: 'spec.selector',
    message: /an empty selector would match every pod in the namespace/,
  },
  {
    name: 'a matchLabels key that is not a label key (CEL)',
    spec: { selector: { matchLabels: { 'app name': 'web' } } },
    path: 'spec.selector.matchLabels',
    message: /keys must be label keys such as app or app\.kubernetes\.io\/name/,
  },
  {
    name: 'a matchLabels value that is not a label value',
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'web server' } } },
    path: 'spec.selector.matchLabels[app.kubernetes.io/name]',
    message: /must be a label value: at most 63 letters/,
  },
  {
    name: 'a matchExpressions key that is not a label key',
    spec: { selector: { matchExpressions: [{ key: 'a/b/c', operator: 'Exists' }] } },
    path: 'spec.selector.matchExpressions[0].key',
    message: /must be a label key such as app or app\.kubernetes\.io\/name/,
  },
  {
    name: 'a matchExpressions value that is not a label value',
    spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['-web'] }] } },
    path: 'spec.selector.matchExpressions[0].values[0]',
    message: /must be a label value/,
  },
  {
    name: 'a cooldown of 0s (CEL)',
    spec: { targetRef: web, update: { cooldown: '0s' } },
    path: 'spec.update.cooldown',
    message: /must be between 1m and 30d/,
  },
];

test('the apiserver takes a history window at either bound, however it is written', () => {
  for (const [i, window] of ['1h', '3600s', '60m', '90d', '12w6d', '2160h', '1h0m'].entries()) {
    const r = apply(sizingPolicy(`window-${i}`, { targetRef: web, history: { window } }));
    assert.equal(r.status, 0, `${window}: ${r.stderr}`);
    assert.deepEqual(
      problems(SizingPolicySchema, sizingPolicy(`window-${i}`, { targetRef: web, history: { window } })),
      [],
    );
  }
});

for (const c of badPolicies) {
  test(`the apiserver refuses a SizingPolicy with ${c.name}`, (t) => {
    check(t, SizingPolicySchema, sizingPolicy('bad', c.spec), c.path, c.message);
  });
}

test('the apiserver takes a selector with prefixed keys, empty values and a cooldown of 1m', () => {
  const object = sizingPolicy('labels', {
    selector: {
      matchLabels: { 'app.kubernetes.io/name': 'web', tier: '' },
      matchExpressions: [{ key: 'example.com/team_1', operator: 'In', values: ['a-b.c_d'] }],
    },
    update: { cooldown: '1m' },
  });
  const r = apply(object);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(problems(SizingPolicySchema, object), []);
});

test('history.prometheus names a source; prometheusURL is refused from any client, not pruned', async () => {
  const good = apply(
    sizingPolicy('prom', { targetRef: web, history: { source: 'Prometheus', prometheus: 'team-a' } }),
  );
  assert.equal(good.status, 0, good.stderr);
  const stored = JSON.parse(
    cluster.kubectl('get', 'sizingpolicy', 'prom', '-n', cluster.namespace, '-o', 'json').stdout,
  ) as { spec: { history: unknown } };
  assert.deepEqual(stored.spec.history, { window: '8d', source: 'Prometheus', prometheus: 'team-a' });
  // A client that does not ask for strict field validation (client-node's default) would have an
  // unknown field dropped silently, and the policy would read another Prometheus than it names.
  const refused = await cluster.objects
    .create({
      apiVersion: 'tailor.dev/v1alpha1',
      kind: 'SizingPolicy',
      metadata: { name: 'old', namespace: cluster.namespace },
      spec: { targetRef: web, history: { source: 'Prometheus', prometheusURL: 'http://prometheus:9090' } },
    } as k8s.KubernetesObject)
    .then(
      () => assert.fail('a policy with prometheusURL was stored'),
      (err: unknown) => apiError(err),
    );
  assert.equal(refused.code, 422);
  assert.match(
    refused.message,
    /spec\.history\.prometheusURL: Forbidden: prometheusURL is no longer supported/,
  );
});

function check(
  t: { diagnostic(message: string): void },
  schema: TSchema,
  object: unknown,
  path: string,
  message: RegExp,
): void {
  const r = apply(object);
  assert.notEqual(r.status, 0, `accepted: ${r.stdout}`);
  t.diagnostic(r.stderr.trim());
  assert.match(r.stderr, new RegExp(`${path.replace(/[.[\]]/g, '\\$&')}: `), 'the field is named');
  assert.match(r.stderr, message);
  // Offline validation names the same field, so `tailor` can check a file before kubectl does.
  assert.ok(
    problems(schema, object).some((p) => p.path === path),
    `offline validation misses ${path}: ${JSON.stringify(problems(schema, object))}`,
  );
}

test('a good ModelDeployment is stored with its defaults and listed with the printer columns', () => {
  const r = apply(
    modelDeployment('llama', {
      model: { huggingFace: { repo: 'meta-llama/Llama-3.1-8B-Instruct' } },
      runtime: { name: 'vllm' },
      serving: { contextLength: 8192, maxSequences: 16 },
    }),
  );
  assert.equal(r.status, 0, r.stderr);
  const status = {
    status: {
      phase: 'Ready',
      model: 'meta-llama/Llama-3.1-8B-Instruct@main',
      estimate: { memory: '19.6Gi', gpuMemoryPerGpu: '19.6Gi', gpusPerReplica: 1 },
      gpu: {
        type: 'l4',
        count: 1,
        pricePerHour: '0.80',
        reason: 'cheapest GPU with 19.6Gi free',
        alternatives: [{ type: 'a10g', count: 1, pricePerHour: '1.01', fits: true }],
      },
    },
  };
  const patched = cluster.kubectl(
    'patch',
    'modeldeployment',
    'llama',
    '-n',
    cluster.namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(status),
  );
  assert.equal(patched.status, 0, patched.stderr);
  const get = cluster.kubectl('get', 'modeldeployments', '-n', cluster.namespace);
  const [header, row] = get.stdout.trim().split('\n');
  assert.deepEqual(header?.split(/\s{2,}/), ['NAME', 'MODEL', 'RUNTIME', 'GPU', 'MEMORY', 'PHASE', 'AGE']);
  assert.deepEqual(row?.split(/\s+/).slice(0, 6), [
    'llama',
    'meta-llama/Llama-3.1-8B-Instruct@main',
    'vllm',
    'l4',
    '19.6Gi',
    'Ready',
  ]);
  const stored = JSON.parse(
    cluster.kubectl('get', 'md', 'llama', '-n', cluster.namespace, '-o', 'json').stdout,
  ) as {
    spec: Record<string, unknown>;
  };
  assert.deepEqual(stored.spec.sizing, { mode: 'InPlace', startupBoost: true });
});

const llama = { huggingFace: { repo: 'meta-llama/Llama-3.1-8B-Instruct' } };
const badModels: { name: string; spec: unknown; path: string; message: RegExp }[] = [
  {
    name: 'two model sources (CEL)',
    spec: { model: { ...llama, pvc: { claimName: 'models' } }, runtime: { name: 'vllm' } },
    path: 'spec.model',
    message: /set exactly one model source: huggingFace, pvc or oci/,
  },
  {
    name: 'an unknown runtime (enum)',
    spec: { model: llama, runtime: { name: 'triton' } },
    path: 'spec.runtime.name',
    message: /Unsupported value: "triton": supported values: "vllm", "llamacpp", "ollama", "tgi"/,
  },
  {
    name: 'a GPU type on a CPU-only deployment (CEL)',
    spec: { model: llama, runtime: { name: 'llamacpp' }, gpu: { count: 0, type: 'l4' } },
    path: 'spec.gpu.type',
    message: /type must be auto when count is 0/,
  },
  {
    name: 'a cache size that is not a size',
    spec: { model: llama, runtime: { name: 'vllm' }, cache: { size: 'big' } },
    path: 'spec.cache.size',
    message: /must be "auto" or a size such as 40Gi/,
  },
  {
    name: 'a revision that reads as a flag',
    spec: { model: { huggingFace: { repo: 'a/b', revision: '--help' } }, runtime: { name: 'vllm' } },
    path: 'spec.model.huggingFace.revision',
    message: /must be a branch, tag or commit such as main, v1\.0 or refs\/pr\/1/,
  },
  {
    name: 'a token Secret key with a "/"',
    spec: {
      model: { huggingFace: { repo: 'a/b', tokenSecretRef: { name: 'hf', key: 'a/token' } } },
      runtime: { name: 'vllm' },
    },
    path: 'spec.model.huggingFace.tokenSecretRef.key',
    message: /must be a Secret data key/,
  },
  {
    name: 'a runtime image with a space',
    spec: { model: llama, runtime: { name: 'vllm', image: 'vllm/vllm-openai latest' } },
    path: 'spec.runtime.image',
    message: /must be an image reference such as ghcr\.io\/ggml-org\/llama\.cpp:server/,
  },
  {
    name: 'a served model name that reads as a flag',
    spec: { model: llama, runtime: { name: 'vllm' }, serving: { servedModelName: '--trust-remote-code' } },
    path: 'spec.serving.servedModelName',
    message: /must be a model name without spaces, not starting with "-"/,
  },
  {
    name: 'a context length out of range',
    spec: { model: llama, runtime: { name: 'vllm' }, serving: { contextLength: 10 } },
    path: 'spec.serving.contextLength',
    message: /should be greater than or equal to 128/,
  },
];

test('the apiserver refuses a ModelDeployment whose name is not a DNS label (it names the Service)', (t) => {
  const object = modelDeployment('chat.v2', { model: llama, runtime: { name: 'vllm' } });
  const r = apply(object);
  assert.notEqual(r.status, 0, `accepted: ${r.stdout}`);
  t.diagnostic(r.stderr.trim());
  assert.match(r.stderr, /metadata\.name must be a DNS label starting with a letter, such as llama-3-8b/);
  assert.deepEqual(
    problems(ModelDeploymentSchema, object).map((p) => p.message),
    [r.stderr.match(/metadata\.name must be [^\n]*\(it names the Service\)/)?.[0]],
  );
});

for (const c of badModels) {
  test(`the apiserver refuses a ModelDeployment with ${c.name}`, (t) => {
    check(t, ModelDeploymentSchema, modelDeployment('bad', c.spec), c.path, c.message);
  });
}
