// The API schemas: offline validation messages, defaults, the generated CRD files, and the CRD
// schema being structural (the subset the apiserver accepts) with bounded CEL costs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { TailorError } from '../../src/errors.ts';
import {
  KINDS,
  ModelDeploymentSchema,
  SizingPolicySchema,
  containerPolicy,
  crdYaml,
  parseDuration,
  problems,
  rulesOf,
  toCrd,
  tuning,
  validate,
} from '../../src/api/index.ts';
import type { JsonSchemaProps, KindDefinition, SizingPolicySpec } from '../../src/api/index.ts';
import type { TSchema } from '@sinclair/typebox';

const policy = (spec: unknown) => ({
  apiVersion: 'tailor.dev/v1alpha1',
  kind: 'SizingPolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec,
});
const web = { kind: 'Deployment', name: 'web' };

test('a minimal SizingPolicy gets every default, as the apiserver would store it', () => {
  const p = validate(SizingPolicySchema, policy({ targetRef: web }), 'policy');
  assert.deepEqual(p.spec, {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    mode: 'Recommend',
    recommendation: { profile: 'Balanced' },
    history: { window: '8d', source: 'MetricsServer' },
    update: {
      minChangePercent: 10,
      cooldown: '5m',
      maxChangesPerHour: 4,
      maxPodsAtOnce: '25%',
      maxEvictionsPerHour: 1,
    },
    oom: { bumpFactor: 1.2, minBumpMemory: '100Mi' },
  });
});

test("history.prometheus names one of the operator's Prometheus sources", () => {
  const p = validate(
    SizingPolicySchema,
    policy({ targetRef: web, history: { source: 'Prometheus', prometheus: 'team-a' } }),
    'policy',
  );
  assert.deepEqual(p.spec.history, { window: '8d', source: 'Prometheus', prometheus: 'team-a' });
});

test('validate does not change its input', () => {
  const input = policy({ targetRef: web });
  validate(SizingPolicySchema, input, 'policy');
  assert.deepEqual(input.spec, { targetRef: web });
});

const spCases: { name: string; spec: unknown; want: [path: string, message: RegExp][] }[] = [
  {
    name: 'min above max, both resources, with the values',
    spec: {
      targetRef: web,
      containers: [
        { name: 'app', minAllowed: { cpu: 2, memory: '1Gi' }, maxAllowed: { cpu: '500m', memory: '512Mi' } },
      ],
    },
    want: [
      [
        'spec.containers[0].minAllowed.cpu',
        /^minAllowed.cpu \(2\) must not be above maxAllowed.cpu \(500m\)$/,
      ],
      [
        'spec.containers[0].minAllowed.memory',
        /^minAllowed.memory \(1Gi\) must not be above maxAllowed.memory \(512Mi\)$/,
      ],
    ],
  },
  {
    name: 'equal quantities in different units are not min above max',
    spec: {
      targetRef: web,
      containers: [{ name: 'app', minAllowed: { memory: '1Gi' }, maxAllowed: { memory: '1024Mi' } }],
    },
    want: [],
  },
  {
    name: 'unknown mode lists the modes',
    spec: { targetRef: web, mode: 'Sometimes' },
    want: [
      [
        'spec.mode',
        /^must be one of "Off", "Recommend", "Initial", "InPlace", "Auto"; got the text "Sometimes"$/,
      ],
    ],
  },
  {
    name: 'a bare Off read by YAML as false says to quote it',
    spec: { targetRef: web, mode: false },
    want: [['spec.mode', /got false \(a boolean\): YAML reads a bare Off.*in quotes/]],
  },
  {
    name: 'bad quantities, and a decimal number',
    spec: {
      targetRef: web,
      containers: [{ name: 'app', minAllowed: { memory: 'lots', cpu: 0.5 }, maxAllowed: { cpu: '-1' } }],
    },
    want: [
      [
        'spec.containers[0].minAllowed.cpu',
        /^must be a Kubernetes quantity .*quote decimals.*; got the decimal 0.5$/,
      ],
      ['spec.containers[0].minAllowed.memory', /^must be a Kubernetes quantity such as 250m/],
      ['spec.containers[0].maxAllowed.cpu', /^must be a Kubernetes quantity/],
    ],
  },
  {
    name: 'negative and unbounded quantities (1e400 is Infinity as a number)',
    spec: {
      targetRef: web,
      containers: [
        { name: 'app', minAllowed: { cpu: '-250m', memory: 0 }, maxAllowed: { memory: '1e400', cpu: '8E' } },
      ],
    },
    want: [
      ['spec.containers[0].minAllowed.cpu', /^must be a Kubernetes quantity such as 250m/],
      ['spec.containers[0].maxAllowed.memory', /^must be below 8Ei \(2\^63 cores or bytes\)/],
    ],
  },
  {
    name: 'both targetRef and selector',
    spec: { targetRef: web, selector: { matchLabels: { app: 'web' } } },
    want: [['spec', /^set exactly one of targetRef \(a workload\) or selector \(pods by label\)$/]],
  },
  {
    name: 'neither targetRef nor selector',
    spec: { mode: 'Auto' },
    want: [['spec', /^set exactly one of targetRef/]],
  },
  {
    name: 'percentile and headroom out of range',
    spec: { targetRef: web, recommendation: { cpu: { percentile: 30 }, memory: { headroomPercent: 501 } } },
    want: [
      ['spec.recommendation.cpu.percentile', /^must be a number from 50 to 100; got the number 30$/],
      [
        'spec.recommendation.memory.headroomPercent',
        /^must be a whole number from 0 to 500; got the number 501$/,
      ],
    ],
  },
  {
    name: 'unknown fields name the known ones',
    spec: { targetRef: web, modee: 'Auto' },
    want: [['spec.modee', /^unknown field; the fields here are targetRef, selector, mode, containers/]],
  },
  {
    name: 'workload kind, name and missing fields',
    spec: { targetRef: { kind: 'Job', name: 'Web_1' }, containers: [{}] },
    want: [
      [
        'spec.targetRef.kind',
        /^must be one of "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"; got the text "Job"$/,
      ],
      ['spec.targetRef.name', /^must be a Kubernetes object name/],
      ['spec.containers[0].name', /^is required$/],
    ],
  },
  {
    name: 'an empty selector and a matchExpression without values',
    spec: { selector: {} },
    want: [
      [
        'spec.selector',
        /^selector must have matchLabels or matchExpressions: an empty selector would match every pod/,
      ],
    ],
  },
  {
    name: 'In without values',
    spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
    want: [['spec.selector.matchExpressions[0]', /^values must be given for In and NotIn/]],
  },
  {
    name: 'limit strategies: headroom needs its percent, and limits need RequestsAndLimits',
    spec: {
      targetRef: web,
      containers: [
        { name: 'a', limits: { cpu: { strategy: 'Headroom' } } },
        {
          name: 'b',
          controlledValues: 'RequestsOnly',
          limits: { memory: { strategy: 'Headroom', headroomPercent: 20 } },
        },
        { name: 'c', limits: { memory: { strategy: 'NoLimit' } } },
      ],
    },
    want: [
      [
        'spec.containers[2].limits.memory.strategy',
        /^must be one of "KeepRatio", "Headroom"; got the text "NoLimit"$/,
      ],
      [
        'spec.containers[0].limits.cpu',
        /^headroomPercent is required with strategy Headroom, and only allowed with it$/,
      ],
      ['spec.containers[1].limits', /^limits apply only with controlledValues: RequestsAndLimits$/],
    ],
  },
  {
    name: 'duplicate container entries',
    spec: { targetRef: web, containers: [{ name: 'app' }, { name: '*' }, { name: 'app' }] },
    want: [['spec.containers[2]', /^duplicate entry: item 0 already has name "app"$/]],
  },
  {
    name: 'durations, source names and pod counts',
    spec: {
      targetRef: web,
      history: { window: '8days', prometheus: 'main' },
      update: { cooldown: '5 min', maxPodsAtOnce: 0 },
    },
    want: [
      ['spec.history.window', /^must be a duration such as 90s, 15m, 6h, 8d or 2w$/],
      ['spec.update.cooldown', /^must be a duration/],
      ['spec.update.maxPodsAtOnce', /^must be a number of pods \(1 or more\) or a percentage/],
      ['spec.history.prometheus', /^prometheus \(a source name\) is only used with source: Prometheus$/],
    ],
  },
  {
    name: 'a Prometheus source given as a URL',
    spec: { targetRef: web, history: { source: 'Prometheus', prometheus: 'http://evil:9090/?' } },
    want: [
      [
        'spec.history.prometheus',
        /^must be the name of one of the operator's Prometheus sources, a DNS label such as main$/,
      ],
    ],
  },
  {
    name: 'prometheusURL (removed): refused, pointing at the named sources',
    spec: {
      targetRef: web,
      history: { source: 'Prometheus', prometheusURL: 'http://10.0.0.1:6443/api/v1/secrets#' },
    },
    want: [
      [
        'spec.history.prometheusURL',
        /^prometheusURL is no longer supported: the operator chooses the Prometheus servers it reads\. Set history\.prometheus to the name of one of the operator's sources/,
      ],
    ],
  },
  {
    name: 'evictions per hour out of range',
    spec: { targetRef: web, update: { maxEvictionsPerHour: -1 } },
    want: [['spec.update.maxEvictionsPerHour', /^must be/]],
  },
  {
    name: 'a history window under an hour',
    spec: { targetRef: web, history: { window: '59m' } },
    want: [['spec.history.window', /^must be between 1h and 90d$/]],
  },
  {
    name: 'a history window over 90 days, however written',
    spec: { targetRef: web, history: { window: '12w6d1s' } },
    want: [['spec.history.window', /^must be between 1h and 90d$/]],
  },
  {
    name: 'a history window of 99999999999999999999999w is out of range, not an overflow',
    spec: { targetRef: web, history: { window: '99999999999999999999999w' } },
    want: [['spec.history.window', /^must be between 1h and 90d$/]],
  },
  {
    name: 'a window of 1h',
    spec: { targetRef: web, history: { window: '1h' } },
    want: [],
  },
  {
    name: 'a window of 90d',
    spec: { targetRef: web, history: { window: '90d' } },
    want: [],
  },
  {
    name: 'a window of 12w6d (90 days)',
    spec: { targetRef: web, history: { window: '12w6d' } },
    want: [],
  },
  {
    name: 'a window of 3600000ms',
    spec: { targetRef: web, history: { window: '3600000ms' } },
    want: [],
  },
  {
    name: 'a matchLabels key that is not a label key',
    spec: { selector: { matchLabels: { 'app name': 'web' } } },
    want: [
      ['spec.selector.matchLabels', /^keys must be label keys such as app or app\.kubernetes\.io\/name/],
    ],
  },
  {
    name: 'a matchLabels value that is not a label value',
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'web server' } } },
    want: [
      ['spec.selector.matchLabels[app.kubernetes.io/name]', /^must be a label value: at most 63 letters/],
    ],
  },
  {
    name: 'a matchExpressions key and value that are not labels',
    spec: { selector: { matchExpressions: [{ key: 'a/b/c', operator: 'In', values: ['-web'] }] } },
    want: [
      [
        'spec.selector.matchExpressions[0].key',
        /^must be a label key such as app or app\.kubernetes\.io\/name/,
      ],
      ['spec.selector.matchExpressions[0].values[0]', /^must be a label value/],
    ],
  },
  {
    name: 'a cooldown of 0s',
    spec: { targetRef: web, update: { cooldown: '0s' } },
    want: [['spec.update.cooldown', /^must be between 1m and 30d$/]],
  },
  {
    name: 'a cooldown over 30 days',
    spec: { targetRef: web, update: { cooldown: '5w' } },
    want: [['spec.update.cooldown', /^must be between 1m and 30d$/]],
  },
  {
    name: 'a label selector with good keys and values, and a cooldown of 1m',
    spec: {
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'web', tier: '' },
        matchExpressions: [{ key: 'example.com/team_1', operator: 'In', values: ['a-b.c_d'] }],
      },
      update: { cooldown: '1m' },
    },
    want: [],
  },
  {
    name: 'OOM bump factor below 1',
    spec: { targetRef: web, oom: { bumpFactor: 0.9 } },
    want: [['spec.oom.bumpFactor', /^must be a number from 1 to 10; got the decimal 0.9$/]],
  },
];

/** Offline validation reports exactly the wanted paths, each with a message matching its pattern. */
function expectProblems(
  got: { path: string; message: string }[],
  want: readonly (readonly [string, RegExp])[],
): void {
  assert.deepEqual(
    got.map((p) => p.path).sort(),
    want.map(([path]) => path).sort(),
    `paths: ${JSON.stringify(got, null, 1)}`,
  );
  for (const [path, message] of want)
    assert.match(got.find((p) => p.path === path)?.message ?? '', message, path);
}

for (const c of spCases) {
  test(`SizingPolicy: ${c.name}`, () => expectProblems(problems(SizingPolicySchema, policy(c.spec)), c.want));
}

test('validate throws InvalidInput listing every problem, one line each', () => {
  assert.throws(
    () => validate(SizingPolicySchema, policy({ mode: 'Sometimes' }), 'SizingPolicy shop/web (web.yaml)'),
    (err: unknown) => {
      assert.ok(err instanceof TailorError);
      assert.equal(err.code, 'InvalidInput');
      const lines = err.message.split('\n');
      assert.equal(lines[0], 'SizingPolicy shop/web (web.yaml) is not valid:');
      assert.match(lines[1] ?? '', /^ {2}- spec\.mode: must be one of/);
      assert.match(lines[2] ?? '', /^ {2}- spec: set exactly one of targetRef/);
      return true;
    },
  );
});

test('apiVersion and kind are checked', () => {
  const got = problems(SizingPolicySchema, { ...policy({ targetRef: web }), apiVersion: 'tailor.dev/v1' });
  assert.deepEqual(got, [
    { path: 'apiVersion', message: 'must be "tailor.dev/v1alpha1"; got the text "tailor.dev/v1"' },
  ]);
});

test('containerPolicy: by name, else "*", else the defaults', () => {
  const spec = validate(
    SizingPolicySchema,
    policy({
      targetRef: web,
      containers: [
        { name: 'app', minAllowed: { cpu: '100m' } },
        { name: '*', mode: 'Off' },
      ],
    }),
    'policy',
  ).spec;
  assert.equal(containerPolicy(spec, 'app').minAllowed?.cpu, '100m');
  assert.equal(containerPolicy(spec, 'sidecar').mode, 'Off');
  assert.deepEqual(containerPolicy({}, 'app'), {
    name: '*',
    mode: 'Auto',
    controlledResources: ['cpu', 'memory'],
    controlledValues: 'RequestsAndLimits',
    limits: { cpu: { strategy: 'KeepRatio' }, memory: { strategy: 'KeepRatio' } },
  });
});

test('tuning: the profile, overridden field by field', () => {
  const spec = (recommendation: unknown): SizingPolicySpec =>
    validate(SizingPolicySchema, policy({ targetRef: web, recommendation }), 'policy').spec;
  assert.deepEqual(tuning(spec({}).recommendation), {
    cpu: { percentile: 90, headroomPercent: 15 },
    memory: { percentile: 100, headroomPercent: 0 },
  });
  assert.deepEqual(tuning(spec({ profile: 'Aggressive', memory: { headroomPercent: 30 } }).recommendation), {
    cpu: { percentile: 80, headroomPercent: 10 },
    memory: { percentile: 95, headroomPercent: 30 },
  });
  assert.deepEqual(tuning(spec({ profile: 'Conservative', cpu: { percentile: 99 } }).recommendation), {
    cpu: { percentile: 99, headroomPercent: 25 },
    memory: { percentile: 100, headroomPercent: 15 },
  });
});

test('parseDuration', () => {
  const table: [string, number | undefined][] = [
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['8d', 8 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['250ms', 250],
    ['8days', undefined],
    ['', undefined],
    ['-1h', undefined],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

const model = (spec: unknown) => ({
  apiVersion: 'tailor.dev/v1alpha1',
  kind: 'ModelDeployment',
  metadata: { name: 'llama', namespace: 'tenant-a' },
  spec,
});

test('a minimal ModelDeployment gets every default', () => {
  const md = validate(
    ModelDeploymentSchema,
    model({
      model: { huggingFace: { repo: 'meta-llama/Llama-3.1-8B-Instruct' } },
      runtime: { name: 'vllm' },
    }),
    'md',
  );
  assert.deepEqual(md.spec, {
    model: { huggingFace: { repo: 'meta-llama/Llama-3.1-8B-Instruct', revision: 'main' } },
    runtime: { name: 'vllm' },
    serving: { dtype: 'auto' },
    replicas: 1,
    gpu: { type: 'auto' },
    cache: { size: 'auto', volumePolicy: { mode: 'Auto', maxSize: 'auto' } },
    sizing: { mode: 'InPlace', startupBoost: true },
  });
});

const mdCases: { name: string; spec: unknown; want: [string, RegExp][] }[] = [
  {
    name: 'two model sources',
    spec: {
      model: { huggingFace: { repo: 'a/b' }, pvc: { claimName: 'models' } },
      runtime: { name: 'vllm' },
    },
    want: [['spec.model', /^set exactly one model source: huggingFace, pvc or oci$/]],
  },
  {
    name: 'a revision that reads as a flag, and a token key with a "/"',
    spec: {
      model: {
        huggingFace: { repo: 'a/b', revision: '--help', tokenSecretRef: { name: 'hf', key: 'a/token' } },
      },
      runtime: { name: 'vllm' },
    },
    want: [
      [
        'spec.model.huggingFace.revision',
        /^must be a branch, tag or commit such as main, v1\.0 or refs\/pr\/1/,
      ],
      ['spec.model.huggingFace.tokenSecretRef.key', /^must be a Secret data key/],
    ],
  },
  {
    name: 'revisions as the hub writes them',
    spec: {
      model: {
        huggingFace: {
          repo: 'a/b',
          revision: 'refs/pr/1',
          tokenSecretRef: { name: 'hf', key: 'HF_TOKEN.v2' },
        },
      },
      runtime: { name: 'vllm' },
    },
    want: [],
  },
  {
    name: 'images with spaces or a leading "-", and a served name that reads as a flag',
    spec: {
      model: { oci: { image: 'registry.example.com/models llama' } },
      runtime: { name: 'vllm', image: '-v' },
      serving: { servedModelName: '--trust-remote-code' },
    },
    want: [
      ['spec.model.oci.image', /^must be an image reference such as ghcr\.io\/ggml-org\/llama\.cpp:server/],
      ['spec.runtime.image', /^must be an image reference/],
      ['spec.serving.servedModelName', /^must be a model name without spaces, not starting with "-"/],
    ],
  },
  {
    name: 'images by tag and digest, and a served name with a slash',
    spec: {
      model: { oci: { image: 'registry.example.com:5000/models/llama:3.1-q4' } },
      runtime: { name: 'vllm', image: 'vllm/vllm-openai@sha256:0123456789abcdef0123456789abcdef' },
      serving: { servedModelName: 'Qwen/Qwen2.5-7B-Instruct' },
    },
    want: [],
  },
  {
    name: 'no model source',
    spec: { model: { format: 'gguf' }, runtime: { name: 'llamacpp' } },
    want: [['spec.model', /^set exactly one model source/]],
  },
  {
    name: 'unknown runtime and format',
    spec: { model: { oci: { image: 'x' }, format: 'onnx' }, runtime: { name: 'triton' } },
    want: [
      ['spec.model.format', /^must be one of "safetensors", "gguf"; got the text "onnx"$/],
      ['spec.runtime.name', /^must be one of "vllm", "llamacpp", "ollama", "tgi"; got the text "triton"$/],
    ],
  },
  {
    name: 'repository, path, cache size and GPU type',
    spec: {
      model: { pvc: { claimName: 'models', path: '../etc' } },
      runtime: { name: 'llamacpp' },
      gpu: { count: 0, type: 'l4' },
      cache: { size: 'big' },
    },
    want: [
      ['spec.model.pvc.path', /^must be a relative path inside the volume/],
      ['spec.gpu.type', /^type must be auto when count is 0/],
      ['spec.cache.size', /^must be "auto" or a size such as 40Gi \(below 8Ei\)$/],
    ],
  },
  {
    name: 'a cache size beyond int64',
    spec: {
      model: { pvc: { claimName: 'models' } },
      runtime: { name: 'llamacpp' },
      cache: { size: '1e400' },
    },
    want: [['spec.cache.size', /^must be "auto" or a size such as 40Gi \(below 8Ei\)$/]],
  },
  {
    name: 'serving parameters out of range',
    spec: {
      model: { huggingFace: { repo: 'llama' } },
      runtime: { name: 'vllm' },
      serving: { contextLength: 10, maxSequences: 0, gpuMemoryUtilization: 1.5 },
      replicas: -1,
    },
    want: [
      [
        'spec.model.huggingFace.repo',
        /^must be a Hugging Face repository such as meta-llama\/Llama-3.1-8B-Instruct$/,
      ],
      ['spec.serving.contextLength', /^must be a whole number from 128 to 2097152; got the number 10$/],
      ['spec.serving.maxSequences', /^must be a whole number from 1 to 4096/],
      ['spec.serving.gpuMemoryUtilization', /^must be a number from 0.1 to 0.99/],
      ['spec.replicas', /^must be a whole number from 0 to 64/],
    ],
  },
];

test('a ModelDeployment name must be a DNS label: it names the Service', () => {
  const spec = { model: { huggingFace: { repo: 'a/b' } }, runtime: { name: 'vllm' } };
  for (const name of ['chat.v2', '1llama', 'Llama'])
    expectProblems(problems(ModelDeploymentSchema, { ...model(spec), metadata: { name } }), [
      ['', /^metadata\.name must be a DNS label starting with a letter, such as llama-3-8b/],
    ]);
  expectProblems(problems(ModelDeploymentSchema, { ...model(spec), metadata: { name: 'llama-3-8b' } }), []);
  expectProblems(
    problems(ModelDeploymentSchema, { ...model(spec), metadata: { generateName: 'llama-' } }),
    [],
  );
});

for (const c of mdCases) {
  test(`ModelDeployment: ${c.name}`, () =>
    expectProblems(problems(ModelDeploymentSchema, model(c.spec)), c.want));
}

test('the committed CRD files are what gen-crds writes now (run `npm run gen:crds`)', async () => {
  for (const { definition, source, file } of KINDS) {
    const want = crdYaml(definition, source);
    assert.equal(readFileSync(file, 'utf8'), want, `${file} is stale or was edited by hand`);
    // `prettier --check .` covers deploy/: the generator must already write what prettier would.
    const options = (await resolveConfig(file)) ?? {};
    assert.equal(
      await format(want, { ...options, filepath: file }),
      want,
      `${file} is not prettier-formatted`,
    );
  }
});

test('CRD YAML quotes strings YAML 1.1 reads as booleans (kubectl would see Off as false)', () => {
  for (const { definition, source } of KINDS) assert.doesNotMatch(crdYaml(definition, source), /- Off$/m);
});

test('CRDs survive client-node typed (de)serialization unchanged', () => {
  for (const { definition } of KINDS) {
    const crd = toCrd(definition);
    const back: unknown = parse(k8s.dumpYaml(k8s.loadYaml(JSON.stringify(crd))));
    assert.ok(isDeepStrictEqual(back, JSON.parse(JSON.stringify(crd))), definition.kind);
  }
});

// The apiserver's structural-schema rules (KEP-1012), and the bounds its CEL cost estimate needs.
function structuralProblems(node: JsonSchemaProps, at: string, bounded: boolean): string[] {
  const out: string[] = [];
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    if (!isDeepStrictEqual(node.anyOf, [{ type: 'integer' }, { type: 'string' }]) || 'type' in node) {
      out.push(`${at}: int-or-string must be anyOf [integer, string] with no type`);
    }
  } else if (typeof node.type !== 'string') {
    out.push(`${at}: no type`);
  }
  for (const junctor of ['anyOf', 'oneOf', 'allOf', 'not']) {
    if (junctor in node && !(intOrString && junctor === 'anyOf'))
      out.push(`${at}: ${junctor} is not structural here`);
  }
  for (const key of Object.keys(node)) {
    if (
      [
        '$id',
        '$ref',
        '$schema',
        'const',
        'patternProperties',
        'uniqueItems',
        'definitions',
        'dependencies',
      ].includes(key)
    ) {
      out.push(`${at}: ${key} is not allowed in a CRD schema`);
    }
    if (key.startsWith('x-') && !key.startsWith('x-kubernetes-'))
      out.push(`${at}: ${key} leaked into the CRD`);
  }
  if (
    'additionalProperties' in node &&
    ('properties' in node || typeof node.additionalProperties !== 'object')
  ) {
    out.push(`${at}: additionalProperties must be a schema and not beside properties`);
  }
  if (node['x-kubernetes-preserve-unknown-fields'] === true) out.push(`${at}: free-form field (no schema)`);
  const rules = (node['x-kubernetes-validations'] ?? []) as unknown[];
  if (rules.length > 0) {
    if (!bounded) out.push(`${at}: CEL rule under a list or map without maxItems/maxProperties`);
    if ((node.type === 'string' || intOrString) && typeof node.maxLength !== 'number') {
      out.push(`${at}: CEL reads a string without maxLength`);
    }
  }
  if (node['x-kubernetes-list-type'] === 'map') {
    const items = node.items as JsonSchemaProps;
    const required = (items.required ?? []) as string[];
    for (const key of (node['x-kubernetes-list-map-keys'] ?? []) as string[]) {
      const prop = (items.properties as Record<string, JsonSchemaProps>)[key];
      if (!required.includes(key) && !(prop && 'default' in prop))
        out.push(`${at}: list-map key ${key} must be required`);
    }
  }
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, JsonSchemaProps>)) {
    out.push(...structuralProblems(child, `${at}.${key}`, bounded));
  }
  if (node.items) {
    const ok = bounded && typeof node.maxItems === 'number';
    out.push(...structuralProblems(node.items as JsonSchemaProps, `${at}[]`, ok));
  }
  if (typeof node.additionalProperties === 'object') {
    const ok = bounded && typeof node.maxProperties === 'number';
    out.push(...structuralProblems(node.additionalProperties as JsonSchemaProps, `${at}.*`, ok));
  }
  return out;
}

test('the CRD schemas are structural, every node typed, CEL inputs bounded', () => {
  for (const { definition } of KINDS) {
    const schema = toCrd(definition).spec.versions[0]!.schema.openAPIV3Schema;
    assert.deepEqual(structuralProblems(schema, definition.kind, true), []);
  }
});

test('every rule of the schema reaches the CRD, and nothing else TypeBox-only does', () => {
  const count = (s: TSchema): number => {
    const r = s as TSchema & Record<string, unknown>;
    let n = rulesOf(s).length;
    for (const child of Object.values((r.properties ?? {}) as Record<string, TSchema>)) n += count(child);
    for (const child of Object.values((r.patternProperties ?? {}) as Record<string, TSchema>))
      n += count(child);
    if (r.items) n += count(r.items as TSchema);
    return n;
  };
  for (const { definition } of KINDS as readonly { definition: KindDefinition }[]) {
    const json = JSON.stringify(toCrd(definition));
    const inCrd = json.split('"rule":').length - 1;
    // metadata's own schema is not carried: the apiserver validates metadata.
    assert.equal(inCrd, count(definition.schema), definition.kind);
    assert.doesNotMatch(json, /x-tailor|\$id/);
  }
});

test('printer columns and names', () => {
  const sp = toCrd(KINDS[0]!.definition);
  assert.deepEqual(sp.spec.names.shortNames, ['sp']);
  assert.deepEqual(sp.spec.names.categories, ['tailor']);
  assert.deepEqual(
    sp.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name),
    ['Mode', 'Target', 'Pods', 'Saving/month', 'Ready', 'Age'],
  );
  const md = toCrd(KINDS[1]!.definition);
  assert.deepEqual(md.spec.names.shortNames, ['md']);
  assert.deepEqual(
    md.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name),
    ['Model', 'Runtime', 'GPU', 'Memory', 'Phase', 'Age'],
  );
  assert.deepEqual(sp.spec.versions[0]!.subresources, { status: {} });
});
