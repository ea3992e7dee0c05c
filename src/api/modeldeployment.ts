// The ModelDeployment kind (tailor.dev/v1alpha1): one served model per object, in its tenant's
// namespace. This schema is the one source of its TypeScript types, offline validation and CRD.
import { Type } from '@sinclair/typebox';
import type { SchemaOptions, Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { parseQuantity } from '../core/quantity.ts';
import {
  API_VERSION,
  Conditions,
  Decimal,
  EXPECTED,
  Enum,
  Matching,
  ObjectMeta,
  ObjectName,
  Timestamp,
  closed,
  isQuantity,
  withRules,
} from './common.ts';
import type { KindDefinition } from './common.ts';
import { SizingModeSchema } from './sizingpolicy.ts';

export const RUNTIMES = ['vllm', 'llamacpp', 'ollama', 'tgi'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export const WEIGHT_FORMATS = ['safetensors', 'gguf'] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];

// A relative path whose segments do not start with a dot: no way out of the volume with "..".
const SEGMENT = '[A-Za-z0-9_@+=,-][A-Za-z0-9_.@+=,-]*';
const RELATIVE_PATH = `^(\\.|${SEGMENT}(/${SEGMENT})*)$`;

/** An image reference, as in a pod: registry/repository[:tag][@digest]; no spaces, no leading "-". */
function ImageRef(options: SchemaOptions) {
  return Matching(
    '^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$',
    'an image reference such as ghcr.io/ggml-org/llama.cpp:server or registry.example.com/llm/vllm@sha256:...',
    { ...options, minLength: 1, maxLength: 1024 },
  );
}

const HuggingFace = Type.Object(
  {
    repo: Matching(
      '^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$',
      'a Hugging Face repository such as meta-llama/Llama-3.1-8B-Instruct',
      {
        maxLength: 256,
        description: 'The model repository, owner/name.',
      },
    ),
    // Passed to the downloader as an argument: it must not start with "-" nor climb out with "..".
    revision: Matching(
      '^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?(/[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)*$',
      'a branch, tag or commit such as main, v1.0 or refs/pr/1',
      {
        minLength: 1,
        maxLength: 128,
        default: 'main',
        description: 'Branch, tag or commit. Pin a commit so every replica serves the same weights.',
      },
    ),
    file: Type.Optional(
      Matching(
        RELATIVE_PATH,
        'a file path inside the repository, such as Llama-3.2-3B-Instruct-Q4_K_M.gguf',
        {
          maxLength: 512,
          description: 'For GGUF repositories holding several quantizations: the file to serve.',
        },
      ),
    ),
    tokenSecretRef: Type.Optional(
      Type.Object(
        {
          name: ObjectName({ description: 'A Secret in the same namespace.' }),
          key: Matching('^[-._a-zA-Z0-9]+$', 'a Secret data key: letters, digits, "-", "_" and "."', {
            minLength: 1,
            maxLength: 253,
            default: 'token',
            description: 'The key holding the token.',
          }),
        },
        { ...closed, description: 'A Hugging Face token, for gated or private models.' },
      ),
    ),
  },
  { ...closed, description: 'Download the model from the Hugging Face hub into the model cache.' },
);

const Pvc = Type.Object(
  {
    claimName: ObjectName({
      description: 'A PersistentVolumeClaim in the same namespace that holds the model.',
    }),
    path: Matching(RELATIVE_PATH, 'a relative path inside the volume, such as models/llama-3.1-8b, or "."', {
      maxLength: 1024,
      default: '.',
      description:
        'The model folder (safetensors) or .gguf file, relative to the volume root; "." is the root.',
    }),
  },
  { ...closed, description: 'Serve a model already on a volume; nothing is downloaded.' },
);

const Oci = Type.Object(
  {
    image: ImageRef({ description: 'An OCI image or artifact holding the model files.' }),
    path: Matching(RELATIVE_PATH, 'a relative path inside the image, such as models/llama-3.1-8b, or "."', {
      maxLength: 1024,
      default: '.',
      description: 'The model folder or .gguf file, relative to the image root; "." is the root.',
    }),
  },
  {
    ...closed,
    description: 'Mount a model packaged as an OCI image (an image volume); nothing is downloaded.',
  },
);

const Model = withRules(
  Type.Object(
    {
      huggingFace: Type.Optional(HuggingFace),
      pvc: Type.Optional(Pvc),
      oci: Type.Optional(Oci),
      format: Type.Optional(
        Enum(WEIGHT_FORMATS, {
          description: 'Weight format. Left out: safetensors for vllm and tgi, gguf for llamacpp and ollama.',
        }),
      ),
      quantization: Type.Optional(
        Matching('^[A-Za-z0-9_.-]+$', 'a quantization name such as Q4_K_M, awq, gptq or fp8', {
          maxLength: 32,
          description:
            'For GGUF, the file type (Q4_K_M, Q5_K_M, Q8_0...); for safetensors, the method when the config does not ' +
            'say it (awq, gptq, fp8, bitsandbytes). Left out: read from the model.',
        }),
      ),
    },
    { ...closed, description: 'Which model to serve: set exactly one of huggingFace, pvc or oci.' },
  ),
  {
    rule: '[has(self.huggingFace), has(self.pvc), has(self.oci)].filter(x, x).size() == 1',
    message: 'set exactly one model source: huggingFace, pvc or oci',
    check: (m) => [m.huggingFace, m.pvc, m.oci].filter((x) => x !== undefined).length === 1,
  },
);

const EnvVar = Type.Object(
  {
    name: Matching('^[A-Za-z_][A-Za-z0-9_]*$', 'an environment variable name such as VLLM_LOGGING_LEVEL', {
      maxLength: 128,
    }),
    value: Type.String({ maxLength: 4096 }),
  },
  closed,
);

const Runtime = Type.Object(
  {
    name: Enum(RUNTIMES, { description: 'The inference server.' }),
    image: Type.Optional(ImageRef({ description: "Replaces the preset's container image." })),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024 }), {
        maxItems: 64,
        'x-kubernetes-list-type': 'atomic',
        description:
          "Arguments added after the preset's; a flag given here replaces the preset's value for it.",
      }),
    ),
    env: Type.Optional(
      Type.Array(EnvVar, {
        maxItems: 32,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'Environment variables for the server container.',
      }),
    ),
  },
  { ...closed, description: 'The inference server and overrides of its preset.' },
);

const Serving = Type.Object(
  {
    contextLength: Type.Optional(
      Type.Integer({
        minimum: 128,
        maximum: 2097152,
        description:
          "Longest sequence (prompt + output) in tokens. Left out: the model's maximum, at most 8192. Sizes the KV cache.",
      }),
    ),
    maxSequences: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 4096,
        description:
          'Sequences served at once per replica, each up to contextLength. Left out: 1. Sizes the KV cache.',
      }),
    ),
    dtype: Enum(['auto', 'bfloat16', 'float16'] as const, {
      default: 'auto',
      description: "Dtype of unquantized weights; auto keeps the checkpoint's.",
    }),
    gpuMemoryUtilization: Type.Optional(
      Type.Number({
        minimum: 0.1,
        maximum: 0.99,
        description:
          'vLLM only: the share of GPU memory it takes up front. Left out: Tailor sets it from the estimate.',
      }),
    ),
    // Passed to the server as an argument: a leading "-" would read as a flag, a space split it.
    servedModelName: Type.Optional(
      Matching(
        '^[A-Za-z0-9_][A-Za-z0-9_.:/@+-]*$',
        'a model name without spaces, not starting with "-", such as Qwen/Qwen2.5-7B-Instruct or chat',
        {
          minLength: 1,
          maxLength: 256,
          description: 'The model name clients ask for. Left out: the repository name.',
        },
      ),
    ),
  },
  { ...closed, default: {}, description: 'What the server must handle: these drive the estimate.' },
);

const GPU_TYPE_EXPECTED =
  '"auto" or a GPU id from the catalogue such as l4, a100-80gb or h100-80gb-mig-3g.40gb';
const Gpu = withRules(
  Type.Object(
    {
      count: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 16,
          description:
            'GPUs per replica; 0 runs on CPU. Left out: the fewest GPUs the model fits on (tensor parallel).',
        }),
      ),
      type: Matching('^(auto|[a-z0-9][a-z0-9.-]*)$', GPU_TYPE_EXPECTED, {
        maxLength: 63,
        default: 'auto',
        description: 'The GPU to use, by catalogue id; auto: the cheapest that fits (status.gpu says why).',
      }),
    },
    { ...closed, default: {}, description: 'Which GPUs each replica gets.' },
  ),
  {
    rule: "!has(self.count) || self.count > 0 || self.type == 'auto'",
    message: 'type must be auto when count is 0 (the model runs on CPU)',
    fieldPath: '.type',
    check: (g) => g.count === undefined || g.count > 0 || g.type === 'auto',
  },
);

const CacheSize = withRules(
  Type.String({
    maxLength: 64,
    default: 'auto',
    [EXPECTED]: '"auto" or a size such as 40Gi',
    description: 'Size of the model-cache volume; auto: the model files plus room for one more revision.',
  }),
  {
    rule: "self == 'auto' || (isQuantity(self) && !self.startsWith('-') && quantity(self).isLessThan(quantity('8Ei')))",
    message: 'must be "auto" or a size such as 40Gi (below 8Ei)',
    check: (s) => s === 'auto' || (isQuantity(s) && parseQuantity(s) !== undefined),
  },
);

/** Auto and Recommend are the VolumePolicy's modes; Off: no VolumePolicy for the cache. */
export const CACHE_VOLUME_MODES = ['Auto', 'Recommend', 'Off'] as const;
export type CacheVolumeMode = (typeof CACHE_VOLUME_MODES)[number];

/** How many times the model's files the cache may grow to when maxSize is auto. */
export const CACHE_MAX_SIZE_FACTOR = 4;

const CacheMaxSize = withRules(
  Type.String({
    maxLength: 64,
    default: 'auto',
    [EXPECTED]: '"auto" or a size such as 200Gi',
    description:
      `Largest size the cache may be grown to; auto: ${CACHE_MAX_SIZE_FACTOR} times the model's files, at least the cache's size, ` +
      'rounded up to a whole GiB.',
  }),
  {
    rule: "self == 'auto' || (isQuantity(self) && !self.startsWith('-') && quantity(self).isLessThan(quantity('8Ei')))",
    message: 'must be "auto" or a size such as 200Gi (below 8Ei)',
    check: (s) => s === 'auto' || (isQuantity(s) && parseQuantity(s) !== undefined),
  },
);

// As the VolumePolicy's threshold takes it: "N%" above 0 and at most 99, or an amount above 0.
const THRESHOLD_PERCENT = '^[0-9]{1,3}(\\.[0-9]{1,2})?%$';
const THRESHOLD_PERCENT_RE = new RegExp(THRESHOLD_PERCENT);
const THRESHOLD_EXPECTED =
  'a share of the volume above 0% and at most 99% such as "10%", or a size above 0 such as 5Gi';
const Threshold = withRules(
  Type.String({
    maxLength: 64,
    minLength: 1,
    [EXPECTED]: THRESHOLD_EXPECTED,
    description: "Free space below which the cache is expanded. Left out: the VolumePolicy's default (10%).",
  }),
  {
    rule:
      `self.endsWith('%') ? (self.matches(r'${THRESHOLD_PERCENT}') && double(self.substring(0, size(self) - 1)) > 0.0 && ` +
      "double(self.substring(0, size(self) - 1)) <= 99.0) : (isQuantity(self) && !self.startsWith('-') && " +
      "quantity(self).isGreaterThan(quantity('0')))",
    message: `must be ${THRESHOLD_EXPECTED}`,
    check: (s) => {
      if (s.endsWith('%')) {
        const p = Number(s.slice(0, -1));
        return THRESHOLD_PERCENT_RE.test(s) && p > 0 && p <= 99;
      }
      return isQuantity(s) && (parseQuantity(s) ?? 0) > 0;
    },
  },
);
const CacheVolumePolicy = Type.Object(
  {
    mode: Enum(CACHE_VOLUME_MODES, {
      default: 'Auto',
      description:
        'Auto: the cache is expanded before it fills and before a new revision is downloaded. Recommend: the ' +
        "VolumePolicy's status says what it would do, nothing is patched. Off: no VolumePolicy (a new revision " +
        'that does not fit still waits for room).',
    }),
    maxSize: CacheMaxSize,
    threshold: Type.Optional(Threshold),
  },
  {
    ...closed,
    default: {},
    description:
      'The VolumePolicy Tailor creates for the model cache (same name as the ModelDeployment): it grows the volume ' +
      'before it fills, and ahead of a new revision that needs more room than is free.',
  },
);

const Cache = withRules(
  Type.Object(
    {
      storageClassName: Type.Optional(
        ObjectName({ description: "StorageClass for the model cache. Left out: the cluster's default." }),
      ),
      size: CacheSize,
      volumePolicy: Type.Optional(CacheVolumePolicy),
    },
    { ...closed, default: {}, description: 'The volume the model is downloaded to (Hugging Face sources).' },
  ),
  {
    rule:
      "!has(self.volumePolicy) || self.volumePolicy.maxSize == 'auto' || self.size == 'auto' || " +
      '!isQuantity(self.size) || !isQuantity(self.volumePolicy.maxSize) || ' +
      '!quantity(self.volumePolicy.maxSize).isLessThan(quantity(self.size))',
    message: 'volumePolicy.maxSize must not be below size',
    fieldPath: '.volumePolicy.maxSize',
    check: (c) => {
      const max = c.volumePolicy?.maxSize;
      if (max === undefined || max === 'auto' || c.size === 'auto') return true;
      const m = parseQuantity(max);
      const s = parseQuantity(c.size);
      return m === undefined || s === undefined || m >= s;
    },
  },
);

const Sizing = Type.Object(
  {
    mode: SizingModeSchema('InPlace'),
    startupBoost: Type.Boolean({
      default: true,
      description: 'Give a loading pod more CPU and memory, then shrink it in place once Ready.',
    }),
  },
  { ...closed, default: {}, description: 'How Tailor keeps the pods right-sized after the first estimate.' },
);

export const ModelDeploymentSpec = Type.Object(
  {
    model: Model,
    runtime: Runtime,
    serving: Serving,
    replicas: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 1,
      description: 'Server replicas; 0 scales to none.',
    }),
    gpu: Gpu,
    cache: Cache,
    sizing: Sizing,
  },
  { ...closed, description: 'The model, its server, and the load it must handle.' },
);
export type ModelDeploymentSpec = Static<typeof ModelDeploymentSpec>;

export const MODEL_PHASES = ['Pending', 'Downloading', 'Starting', 'Ready', 'Degraded', 'Failed'] as const;
export type ModelPhase = (typeof MODEL_PHASES)[number];

const Size = (description: string) => Type.Optional(Type.String({ maxLength: 64, description }));

export const Estimate = Type.Object(
  {
    memory: Size(
      'What one replica needs to serve: GPU memory summed over its GPUs, or host memory when it runs on CPU (e.g. "17.2Gi").',
    ),
    gpuMemoryPerGpu: Size('GPU memory on each GPU: weights + KV cache + runtime overhead.'),
    gpusPerReplica: Type.Optional(Type.Integer({ minimum: 0 })),
    weights: Size('Weights, in total.'),
    kvCache: Size('KV cache for maxSequences sequences of contextLength tokens.'),
    kvCachePerToken: Size('KV cache one token takes.'),
    hostMemoryLoading: Size('Pod memory while the model loads (page cache included).'),
    hostMemoryServing: Size('Pod memory once serving.'),
    cpuLoading: Size('CPU while loading.'),
    cpuServing: Size('CPU once serving.'),
    cacheSize: Size('Model-cache volume.'),
    loadSeconds: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Expected time from start to Ready.' }),
    ),
    basis: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: 'Where the figures come from, e.g. "config.json: 8.03B params, bf16".',
      }),
    ),
  },
  { description: 'What the model needs, worked out from the model itself before any pod runs.' },
);

export const GpuOption = Type.Object({
  type: Type.String({ maxLength: 63, description: 'Catalogue id.' }),
  count: Type.Integer({ minimum: 0 }),
  pricePerHour: Type.Optional(Decimal({ description: 'Per replica.' })),
  fits: Type.Boolean(),
  reason: Type.Optional(Type.String({ maxLength: 512, description: 'Why it fits or not.' })),
});

export const GpuChoice = Type.Object(
  {
    type: Type.String({ maxLength: 63, description: 'Catalogue id of the chosen GPU, or "cpu".' }),
    name: Type.Optional(Type.String({ maxLength: 128, description: 'Its name, e.g. "NVIDIA L4 24GB".' })),
    count: Type.Integer({ minimum: 0, description: 'GPUs per replica.' }),
    pricePerHour: Type.Optional(Decimal({ description: 'Per replica.' })),
    currency: Type.Optional(Type.String({ maxLength: 3 })),
    reason: Type.String({ maxLength: 1024, description: 'Why this one.' }),
    alternatives: Type.Optional(
      Type.Array(GpuOption, {
        maxItems: 16,
        'x-kubernetes-list-type': 'atomic',
        description: 'The others considered.',
      }),
    ),
  },
  { description: 'The GPU chosen and why.' },
);

export type Estimate = Static<typeof Estimate>;
export type GpuChoice = Static<typeof GpuChoice>;
export type GpuOption = Static<typeof GpuOption>;

export const UsageRecommendation = Type.Object(
  {
    sizingPolicy: Type.String({ maxLength: 253, description: 'The SizingPolicy it comes from.' }),
    containers: Type.Array(
      Type.Object({
        name: Type.String({ maxLength: 63 }),
        cpu: Type.Optional(Type.String({ maxLength: 64, description: 'Recommended CPU request.' })),
        memory: Type.Optional(Type.String({ maxLength: 64, description: 'Recommended memory request.' })),
        basis: Type.Optional(Type.String({ maxLength: 1024 })),
      }),
      { maxItems: 16, 'x-kubernetes-list-type': 'atomic' },
    ),
  },
  {
    description:
      'What real usage says, from the SizingPolicy this ModelDeployment owns, beside the estimate (what the model says).',
  },
);
export type UsageRecommendation = Static<typeof UsageRecommendation>;

export const ModelDeploymentStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
  phase: Type.Optional(
    Enum(MODEL_PHASES, {
      description:
        'Pending: nothing running yet. Downloading: fetching the model. Starting: pods loading it. Ready: serving. ' +
        'Degraded: serving with fewer ready replicas than asked. Failed: cannot proceed; the conditions say why.',
    }),
  ),
  model: Type.Optional(
    Type.String({
      maxLength: 512,
      description: 'The model as resolved, e.g. "Qwen/Qwen2.5-7B-Instruct@main (bf16)".',
    }),
  ),
  endpoint: Type.Optional(
    Type.String({
      maxLength: 512,
      description: 'Where clients reach it, e.g. http://name.namespace.svc:8000/v1.',
    }),
  ),
  replicas: Type.Optional(Type.Integer({ minimum: 0 })),
  replicasManagedBy: Type.Optional(
    Type.String({
      maxLength: 512,
      description:
        'Set when a HorizontalPodAutoscaler targets the Deployment: "HorizontalPodAutoscaler/<name>". Tailor then ' +
        'leaves replicas out of what it applies (the HPA owns the field) and spec.replicas is not applied.',
    }),
  ),
  readyReplicas: Type.Optional(Type.Integer({ minimum: 0 })),
  estimate: Type.Optional(Estimate),
  gpu: Type.Optional(GpuChoice),
  recommendation: Type.Optional(UsageRecommendation),
  lastTransitionTime: Type.Optional(Timestamp({ description: 'When phase last changed.' })),
  conditions: Type.Optional(Conditions()),
});
export type ModelDeploymentStatus = Static<typeof ModelDeploymentStatus>;

// The name becomes the Deployment's, the Service's (a DNS-1035 label) and a label value, so it must
// be all three; refused here rather than by the Service create after the Deployment was made.
const DNS_1035 = '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$';
const DNS_1035_RE = new RegExp(DNS_1035);

export const ModelDeploymentSchema = withRules(
  Type.Object(
    {
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal('ModelDeployment'),
      metadata: ObjectMeta,
      spec: ModelDeploymentSpec,
      status: Type.Optional(ModelDeploymentStatus),
    },
    {
      description:
        'Serves one open model (vLLM, llama.cpp, Ollama or TGI) sized from the model itself: Tailor estimates memory, ' +
        'picks the cheapest GPU that fits, and keeps the pods right-sized.',
    },
  ),
  {
    rule: `!has(self.metadata.name) || self.metadata.name.matches(r'${DNS_1035}')`,
    message:
      'metadata.name must be a DNS label starting with a letter, such as llama-3-8b: lower-case letters, digits and "-", at most 63 characters (it names the Service)',
    // No fieldPath: the apiserver takes none into metadata, so the error is the object's own.
    check: (o) => typeof o.metadata.name !== 'string' || DNS_1035_RE.test(o.metadata.name),
  },
);
/** As read from the API: metadata is the full ObjectMeta the apiserver fills in. */
export type ModelDeployment = Omit<Static<typeof ModelDeploymentSchema>, 'metadata'> & {
  metadata: V1ObjectMeta;
};

export const ModelDeploymentKind: KindDefinition<typeof ModelDeploymentSchema> = {
  kind: 'ModelDeployment',
  plural: 'modeldeployments',
  singular: 'modeldeployment',
  shortNames: ['md'],
  categories: ['tailor'],
  schema: ModelDeploymentSchema,
  description: ModelDeploymentSchema.description ?? '',
  printerColumns: [
    { name: 'Model', type: 'string', jsonPath: '.status.model' },
    { name: 'Runtime', type: 'string', jsonPath: '.spec.runtime.name' },
    { name: 'GPU', type: 'string', jsonPath: '.status.gpu.type' },
    {
      name: 'Memory',
      type: 'string',
      jsonPath: '.status.estimate.memory',
      description: 'Estimated memory per replica.',
    },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'GPUs', type: 'integer', jsonPath: '.status.gpu.count', priority: 1 },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', priority: 1 },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
  ],
};
