// The parameters of each profile kind: their types, defaults and checks, in one table per kind so
// annotations, scenario files and code all accept the same names with the same rules.
import type { ProfileKind } from './types.ts';
import type { AzureTraceName } from './traces.ts';
import {
  FieldError,
  type NumberRule,
  boolean,
  bytes,
  cores,
  number,
  oneOf,
  onlyKeys,
  seconds,
  string,
  type Path,
} from './fields.ts';

export const PROFILE_KINDS: readonly ProfileKind[] = ['llm', 'web', 'batch', 'idle', 'replay'];
export const AZURE_TRACES: readonly AzureTraceName[] = ['azure-code', 'azure-conv'];
export type Interpolation = 'linear' | 'step';

/** An LLM inference server (vLLM-like): loads its weights, then serves an Azure request trace. */
export interface LlmParams {
  /** Size of the weights, loaded from the volume into host memory and the GPU. */
  weightsBytes: number;
  /** KV-cache bytes per token: 2 x layers x KV heads x head dim x dtype bytes. */
  kvBytesPerToken: number;
  /** Concurrent sequences the server batches at most (vLLM max_num_seqs). */
  maxSequences: number;
  /** Longest context a request may hold (vLLM max_model_len); longer prompts are cut. */
  contextLength: number;
  trace: AzureTraceName;
  /** Multiplies the trace's request rate (2 = the same requests in half the time). */
  rateMultiplier: number;
  /** How fast weights are read (download or disk, then host-to-GPU copy). */
  loadBytesPerSecond: number;
  /**
   * Reading speed per CPU core the container is guaranteed, up to loadBytesPerSecond (deserialising
   * and copying tensors is CPU work). 0: loading does not depend on CPU. When set, warm-up also
   * takes longer on fewer than loadCpuCores cores.
   */
  loadBytesPerSecondPerCore: number;
  /** After the weights are in: CUDA graphs, profiling run, compilation. */
  warmupSeconds: number;
  /** Decode speed of one sequence. */
  decodeTokensPerSecond: number;
  /** Prompt processing speed of the server (prompts are processed one after another). */
  prefillTokensPerSecond: number;
  /** Host memory of the server process itself (interpreter, framework, CUDA host state). */
  runtimeMemoryBytes: number;
  /** Page cache left active by reading the weights, as a fraction of their size. */
  pageCacheFraction: number;
  loadCpuCores: number;
  servingCpuCores: number;
  /** Extra cores per 1000 tokens/s processed, prompt and generated (tokenising, scheduling, sampling). */
  cpuCoresPer1kTokens: number;
  /** Share of GPU memory the server may use for weights and KV cache (vLLM gpu_memory_utilization). */
  gpuMemoryUtilization: number;
  /** Report the whole KV pool as used GPU memory from the start, as vLLM does, rather than the tokens held. */
  preallocateKvCache: boolean;
  /** The weights are downloaded into the pod's volume while loading (a model cache). */
  modelCacheOnVolume: boolean;
}

/** A web service: a daily sine peaking in the afternoon, with noise. */
export interface WebParams {
  baseCpuCores: number;
  peakCpuCores: number;
  baseMemoryBytes: number;
  peakMemoryBytes: number;
  periodSeconds: number;
  /** Hour (UTC) of the peak within a 24 h period; scaled for other periods. */
  peakHour: number;
  /** Relative amplitude of the noise, 0..1. */
  noise: number;
  startupSeconds: number;
  volumeBytes: number;
  volumeGrowthBytesPerHour: number;
}

/** A periodic job: busy for `busySeconds` of every `periodSeconds`, memory building up while busy. */
export interface BatchParams {
  baseCpuCores: number;
  peakCpuCores: number;
  baseMemoryBytes: number;
  peakMemoryBytes: number;
  periodSeconds: number;
  busySeconds: number;
  /** Start of the busy phase within the period; unset spreads containers by their seed. */
  phaseSeconds?: number;
  noise: number;
  startupSeconds: number;
  volumeBytes: number;
  volumeGrowthBytesPerHour: number;
}

/** A container that does next to nothing (a sidecar, a forgotten deployment). */
export interface IdleParams {
  cpuCores: number;
  memoryBytes: number;
  noise: number;
  startupSeconds: number;
  volumeBytes: number;
}

/** One pod of the Alibaba GenTD26 trace, looped. */
export interface ReplayParams {
  /** The pod's container_ip in the trace files; or `index`; neither picks one by the seed. */
  pod?: string;
  /** Position of the pod in pod_memory_util_anon.csv, in order of first appearance. */
  index?: number;
  /** The memory limit the trace's utilisation fractions are of. */
  memoryBytes: number;
  /** CPU at full GPU duty cycle (the trace has no CPU series; CPU follows the duty cycle). */
  cpuCores: number;
  interpolation: Interpolation;
  /** Shifts the trace against simulated time. */
  offsetSeconds: number;
  startupSeconds: number;
  volumeBytes: number;
}

interface ParamsByKind {
  llm: LlmParams;
  web: WebParams;
  batch: BatchParams;
  idle: IdleParams;
  replay: ReplayParams;
}

export type SpecOf<K extends ProfileKind> = { kind: K } & ParamsByKind[K];
/** A profile with every parameter set. */
export type ProfileSpec = { [K in ProfileKind]: SpecOf<K> }[ProfileKind];
/** A profile as written: parameters left out take their defaults. */
export type ProfileInput = { [K in ProfileKind]: { kind: K } & Partial<ParamsByKind[K]> }[ProfileKind];
export type LlmSpec = SpecOf<'llm'>;
export type WebSpec = SpecOf<'web'>;
export type BatchSpec = SpecOf<'batch'>;
export type IdleSpec = SpecOf<'idle'>;
export type ReplaySpec = SpecOf<'replay'>;

interface Param<T> {
  readonly default: T;
  parse(v: unknown, path: Path): T;
}
type Schema<P> = { readonly [K in keyof P]-?: Param<P[K]> };

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const p = {
  bytes: (d: number, rule: NumberRule = { min: 0 }): Param<number> => ({
    default: d,
    parse: (v, at) => bytes(v, at, rule),
  }),
  cores: (d: number, rule: NumberRule = { min: 0 }): Param<number> => ({
    default: d,
    parse: (v, at) => cores(v, at, rule),
  }),
  seconds: (d: number, rule: NumberRule = { min: 0 }): Param<number> => ({
    default: d,
    parse: (v, at) => seconds(v, at, rule),
  }),
  num: (d: number, rule: NumberRule): Param<number> => ({
    default: d,
    parse: (v, at) => number(v, at, rule),
  }),
  bool: (d: boolean): Param<boolean> => ({ default: d, parse: (v, at) => boolean(v, at) }),
  oneOf: <T extends string>(d: T, allowed: readonly T[], noun: string): Param<T> => ({
    default: d,
    parse: (v, at) => oneOf(v, at, allowed, noun),
  }),
};
const unset = <T>(parse: (v: unknown, at: Path) => T): Param<T | undefined> => ({
  default: undefined,
  parse,
});

const SCHEMAS: { [K in ProfileKind]: Schema<ParamsByKind[K]> } = {
  llm: {
    // About an 8B-parameter model in bf16 (Llama-3.1-8B: 32 layers, 8 KV heads of 128).
    weightsBytes: p.bytes(15 * Gi, { min: 1 }),
    kvBytesPerToken: p.bytes(128 * 1024, { min: 1 }),
    maxSequences: p.num(256, { min: 1, integer: true }),
    contextLength: p.num(8192, { min: 16, integer: true }),
    trace: p.oneOf<AzureTraceName>('azure-conv', AZURE_TRACES, 'a request trace'),
    // Half the published rate: the traces came from a larger deployment than one mid-size GPU.
    rateMultiplier: p.num(0.5, { above: 0, max: 1000 }),
    loadBytesPerSecond: p.bytes(500 * Mi, { min: 1 }),
    loadBytesPerSecondPerCore: p.bytes(0),
    warmupSeconds: p.seconds(30),
    decodeTokensPerSecond: p.num(40, { min: 1 }),
    prefillTokensPerSecond: p.num(8000, { min: 1 }),
    runtimeMemoryBytes: p.bytes(3 * Gi),
    pageCacheFraction: p.num(0.25, { min: 0, max: 1 }),
    loadCpuCores: p.cores(4),
    servingCpuCores: p.cores(1),
    cpuCoresPer1kTokens: p.cores(0.1),
    gpuMemoryUtilization: p.num(0.9, { above: 0, max: 1 }),
    preallocateKvCache: p.bool(false),
    modelCacheOnVolume: p.bool(true),
  },
  web: {
    baseCpuCores: p.cores(0.05),
    peakCpuCores: p.cores(0.4),
    baseMemoryBytes: p.bytes(160 * Mi),
    peakMemoryBytes: p.bytes(320 * Mi),
    periodSeconds: p.seconds(86400, { min: 60 }),
    peakHour: p.num(15, { min: 0, max: 24 }),
    noise: p.num(0.15, { min: 0, max: 1 }),
    startupSeconds: p.seconds(5),
    volumeBytes: p.bytes(0),
    volumeGrowthBytesPerHour: p.bytes(0),
  },
  batch: {
    baseCpuCores: p.cores(0.01),
    peakCpuCores: p.cores(1),
    baseMemoryBytes: p.bytes(64 * Mi),
    peakMemoryBytes: p.bytes(768 * Mi),
    periodSeconds: p.seconds(3600, { min: 60 }),
    busySeconds: p.seconds(900, { above: 0 }),
    phaseSeconds: unset((v, at) => seconds(v, at)),
    noise: p.num(0.1, { min: 0, max: 1 }),
    startupSeconds: p.seconds(2),
    volumeBytes: p.bytes(0),
    volumeGrowthBytesPerHour: p.bytes(0),
  },
  idle: {
    cpuCores: p.cores(0.002),
    memoryBytes: p.bytes(24 * Mi),
    noise: p.num(0.1, { min: 0, max: 1 }),
    startupSeconds: p.seconds(1),
    volumeBytes: p.bytes(0),
  },
  replay: {
    pod: unset((v, at) => string(v, at)),
    index: unset((v, at) => number(v, at, { min: 0, integer: true })),
    memoryBytes: p.bytes(16 * Gi, { min: 1 }),
    cpuCores: p.cores(1),
    interpolation: p.oneOf<Interpolation>('linear', ['linear', 'step'], 'an interpolation'),
    offsetSeconds: p.num(0, {}),
    startupSeconds: p.seconds(10),
    volumeBytes: p.bytes(0),
  },
};

export function paramNames(kind: ProfileKind): readonly string[] {
  return Object.keys(SCHEMAS[kind]);
}

/** Every parameter of `kind` at its default. */
export function defaultSpec<K extends ProfileKind>(kind: K): SpecOf<K> {
  const out: Record<string, unknown> = { kind };
  for (const [k, param] of Object.entries(SCHEMAS[kind] as Record<string, Param<unknown>>)) {
    if (param.default !== undefined) out[k] = param.default;
  }
  return out as unknown as SpecOf<K>;
}

/** Fills the parameters an input leaves out; trusts the values it has (typed callers). */
export function withDefaults(input: ProfileInput): ProfileSpec {
  const out: Record<string, unknown> = { ...defaultSpec(input.kind) };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) out[k] = v;
  return out as unknown as ProfileSpec;
}

/**
 * Checks untyped parameters of `kind` (annotation JSON, a scenario mapping) field by field; keys in
 * `ignore` (e.g. `kind` in a scenario) are skipped. Throws FieldError with paths below `path`.
 */
export function checkParams(
  kind: ProfileKind,
  raw: Record<string, unknown>,
  path: Path = [],
  ignore: readonly string[] = [],
): Record<string, unknown> {
  const schema = SCHEMAS[kind] as Record<string, Param<unknown>>;
  const names = Object.keys(schema);
  const given = Object.entries(raw).filter(([k]) => !ignore.includes(k));
  onlyKeys(Object.fromEntries(given), path, names, `a parameter of profile ${kind}`);
  const out: Record<string, unknown> = {};
  for (const [name, v] of given) {
    const param = schema[name];
    if (param && v !== undefined) out[name] = param.parse(v, [...path, name]);
  }
  return out;
}

/**
 * Lays checked parameters (later layers win) over `base` when it is of the same kind, else over the
 * defaults, and applies the rules between parameters (a FieldError below `path` when one fails).
 */
export function buildSpec(
  kind: ProfileKind,
  layers: readonly Record<string, unknown>[],
  base?: ProfileSpec,
  path: Path = [],
): ProfileSpec {
  const out: Record<string, unknown> = base?.kind === kind ? { ...base } : { ...defaultSpec(kind) };
  for (const layer of layers) Object.assign(out, layer);
  const spec = out as unknown as ProfileSpec;
  crossCheck(spec, path);
  return spec;
}

/** checkParams then buildSpec, for one source of parameters. */
export function resolveParams(
  kind: ProfileKind,
  raw: Record<string, unknown>,
  path: Path = [],
  base?: ProfileSpec,
  ignore: readonly string[] = [],
): ProfileSpec {
  return buildSpec(kind, [checkParams(kind, raw, path, ignore)], base, path);
}

/** Rules between parameters, which a per-field check cannot see. */
function crossCheck(spec: ProfileSpec, path: Path): void {
  switch (spec.kind) {
    case 'web':
    case 'batch':
      if (spec.peakCpuCores < spec.baseCpuCores) {
        throw new FieldError(
          [...path, 'peakCpuCores'],
          `${spec.peakCpuCores} is below baseCpuCores ${spec.baseCpuCores}`,
        );
      }
      if (spec.peakMemoryBytes < spec.baseMemoryBytes) {
        throw new FieldError(
          [...path, 'peakMemoryBytes'],
          `${spec.peakMemoryBytes} bytes is below baseMemoryBytes ${spec.baseMemoryBytes}`,
        );
      }
      if (spec.kind === 'batch' && spec.busySeconds > spec.periodSeconds) {
        throw new FieldError(
          [...path, 'busySeconds'],
          `${spec.busySeconds}s is longer than periodSeconds ${spec.periodSeconds}s`,
        );
      }
      return;
    case 'replay':
      if (spec.pod !== undefined && spec.index !== undefined) {
        throw new FieldError([...path, 'index'], 'give pod or index, not both');
      }
      return;
    case 'llm':
    case 'idle':
      return;
  }
}
