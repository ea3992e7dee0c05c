// The simulator's scenario file: node pools, storage, the simulated clock, the default usage profile
// and the workloads `tailor sim --scenario` creates. Refusals name the file, line, field and allowed values.
import { readWrites, type VolumeWrites } from './volumes/writes.ts';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { TailorError } from '../errors.ts';
import {
  FieldError,
  bytes,
  cores,
  formatPath,
  isRecord,
  list,
  number,
  oneOf,
  onlyKeys,
  record,
  seconds,
  show,
  string,
  type Path,
} from './usage/fields.ts';
import { PROFILE_KINDS, buildSpec, checkParams, defaultSpec, type ProfileSpec } from './usage/params.ts';
import { parseProfile, profileAnnotations } from './usage/annotations.ts';
import type { ProfileKind } from './usage/types.ts';
import type { SimNodeSpec } from './nodes.ts';
import { readScaleDown, type ScaleDown } from './consolidation/config.ts';
import { GPU_BOARDS, MIG_RESOURCES, checkMigLayout, type GpuProduct, type MigResource } from './gpus.ts';

/** GPU product names as NVIDIA's GPU feature discovery labels them, with the memory nvidia-smi reports (./gpus.ts). */
export const GPU_MODELS = GPU_BOARDS;
export type GpuModel = GpuProduct;
const GPU_MODEL_NAMES = Object.keys(GPU_MODELS) as GpuModel[];

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
export type WorkloadKind = 'Deployment' | 'StatefulSet';
export type ResourceName = 'cpu' | 'memory' | 'ephemeral-storage' | 'nvidia.com/gpu' | MigResource;
export type ResizeRestartPolicy = 'NotRequired' | 'RestartContainer';
const RESOURCE_NAMES: readonly ResourceName[] = [
  'cpu',
  'memory',
  'ephemeral-storage',
  'nvidia.com/gpu',
  ...MIG_RESOURCES,
];

/** Label put on every simulated node naming its pool; `pool:` in a workload selects on it. */
export const POOL_LABEL = 'sim.tailor.dev/pool';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface NodePool {
  name: string;
  count: number;
  instanceType: string;
  /** Nodes are spread over these round-robin. */
  zones: string[];
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  /** Most pods a node runs. */
  pods: number;
  /** mig: the MIG devices every GPU of the pool is cut into (mixed strategy), e.g. [3g.40gb, 2g.20gb, 1g.10gb]. */
  gpu?: { model: GpuModel; count: number; memoryBytes: number; mig?: string[] };
  /**
   * Held back for the system (kube-reserved + system-reserved); allocatable is the rest less the
   * hard eviction threshold. Undefined: a managed cluster's scale (src/sim/kubelet/allocatable.ts).
   */
  reserved?: { cpuCores: number; memoryBytes: number };
  /** evictionHard memory.available; undefined: the kubelet's 100Mi. */
  evictionHardMemoryBytes?: number;
  labels: Record<string, string>;
  taints: Taint[];
  /** Scale-down of the pool's nodes by the simulator (./consolidation); absent: off. */
  scaleDown?: ScaleDown;
}

export interface Clock {
  /** Simulated seconds per real second (60: a simulated minute each second). */
  speed: number;
  /** Simulated epoch seconds at start; undefined: the real time when the simulator starts. */
  start?: number;
  /** Simulated seconds between usage updates. */
  tickSeconds: number;
}

export interface Storage {
  storageClass: string;
  /** How fast a simulated volume is written (a model download into its cache). */
  throughputBytesPerSecond: number;
  /** How long the simulated CSI resizer takes to expand a volume. */
  expansionSeconds: number;
  /** The simulated cloud refuses to grow a volume past this (ControllerResizeInfeasible); none when left out. */
  volumeQuotaBytes?: number;
}

export interface WorkloadContainer {
  name: string;
  image: string;
  /** Kubernetes quantity strings as written ("500m", "2Gi"). */
  requests: Partial<Record<ResourceName, string>>;
  limits: Partial<Record<ResourceName, string>>;
  resizePolicy: Partial<Record<'cpu' | 'memory', ResizeRestartPolicy>>;
  /** Undefined: the pod's annotations, else the scenario's default profile, decide. */
  profile?: ProfileSpec;
}

export interface Workload {
  namespace: string;
  name: string;
  kind: WorkloadKind;
  replicas: number;
  /** A node pool to run on: a nodeSelector on POOL_LABEL plus tolerations of the pool's taints. */
  pool?: string;
  labels: Record<string, string>;
  /** Pod annotations (may carry sim.tailor.dev/profile themselves). */
  annotations: Record<string, string>;
  containers: WorkloadContainer[];
  /** One volume per pod from the scenario's StorageClass (volumeClaimTemplates for a StatefulSet). */
  volume?: {
    name: string;
    sizeBytes: number;
    mountPath: string;
    /** How the pods fill it (a download by an init container, a cache, logs); see src/sim/volumes/writes.ts. */
    writes?: VolumeWrites;
  };
}

export interface Scenario {
  /** The file it was read from, for messages. */
  file: string;
  name: string;
  /** Seeds the usage noise together with pod and container names, so a scenario replays the same. */
  seed: string;
  region: string;
  clock: Clock;
  storage: Storage;
  defaultProfile: ProfileSpec;
  nodePools: NodePool[];
  /** With `copies` expanded. */
  workloads: Workload[];
}

const DEFAULT_IMAGE = 'registry.k8s.io/pause:3.10';
const Gi = 2 ** 30;
const Mi = 2 ** 20;

export function defaultScenario(): Scenario {
  return {
    file: '<default>',
    name: 'default',
    seed: 'tailor',
    region: 'sim-region',
    clock: { speed: 1, tickSeconds: 10 },
    storage: { storageClass: 'tailor-sim', throughputBytesPerSecond: 200 * Mi, expansionSeconds: 5 },
    defaultProfile: defaultSpec('web'),
    nodePools: [
      {
        name: 'general',
        count: 3,
        instanceType: 'sim.general-8x32',
        zones: ['sim-region-a', 'sim-region-b', 'sim-region-c'],
        cpuCores: 8,
        memoryBytes: 32 * Gi,
        ephemeralStorageBytes: 100 * Gi,
        pods: 110,
        labels: {},
        taints: [],
      },
      {
        name: 'gpu-l4',
        count: 1,
        instanceType: 'sim.gpu-l4-8x32',
        zones: ['sim-region-a'],
        cpuCores: 8,
        memoryBytes: 32 * Gi,
        ephemeralStorageBytes: 200 * Gi,
        pods: 110,
        gpu: { model: 'NVIDIA-L4', count: 1, memoryBytes: GPU_MODELS['NVIDIA-L4'].memoryMiB * Mi },
        labels: {},
        taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      },
    ],
    workloads: [],
  };
}

/** Reads a scenario; throws TailorError('InvalidInput') naming `file`, the line and the field. */
export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lineCounter.linePos(syntax.pos[0]);
    const msg = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new TailorError('InvalidInput', `${file}:${pos.line}:${pos.col}: not valid YAML: ${msg}`);
  }
  try {
    return readScenario(doc.toJS() ?? {}, file);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    const line = lineOf(doc, lineCounter, err.at);
    const where = err.path.length ? `${formatPath(err.path)}: ` : '';
    throw new TailorError('InvalidInput', `${file}${line ? `:${line}` : ''}: ${where}${err.detail}`);
  }
}

/** Line of the deepest node along `path` that exists (a missing field points at its parent). */
function lineOf(doc: Document, lc: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isRecord(node) && Array.isArray(node.range) && typeof node.range[0] === 'number') {
      return lc.linePos(node.range[0]).line;
    }
  }
  return undefined;
}

const TOP_KEYS = ['name', 'seed', 'region', 'clock', 'storage', 'defaultProfile', 'nodePools', 'workloads'];

function readScenario(raw: unknown, file: string): Scenario {
  const top = record(raw, []);
  onlyKeys(top, [], TOP_KEYS, 'a scenario field');
  const d = defaultScenario();
  const region = top.region === undefined ? d.region : dnsLabel(top.region, ['region']);
  const defaultProfile =
    top.defaultProfile === undefined ? d.defaultProfile : readProfile(top.defaultProfile, ['defaultProfile']);
  const nodePools =
    top.nodePools === undefined
      ? d.nodePools
      : list(top.nodePools, ['nodePools']).map((p, i) => readPool(p, ['nodePools', i], region));
  if (nodePools.length === 0) throw new FieldError(['nodePools'], 'expected at least one node pool');
  unique(
    nodePools.map((p) => p.name),
    (i) => ['nodePools', i, 'name'],
    'node pool name',
  );

  const workloads: Workload[] = [];
  const seen = new Map<string, Path>();
  list(top.workloads ?? [], ['workloads']).forEach((w, i) => {
    for (const one of readWorkloads(w, ['workloads', i], nodePools, defaultProfile)) {
      const key = `${one.namespace}/${one.name}`;
      const before = seen.get(key);
      if (before)
        throw new FieldError(['workloads', i], `${key} is defined twice (also by ${formatPath(before)})`);
      seen.set(key, ['workloads', i]);
      workloads.push(one);
    }
  });
  return {
    file,
    name: top.name === undefined ? file : string(top.name, ['name']),
    seed:
      top.seed === undefined
        ? d.seed
        : String(typeof top.seed === 'number' ? top.seed : string(top.seed, ['seed'])),
    region,
    clock: readClock(top.clock, ['clock'], d.clock),
    storage: readStorage(top.storage, ['storage'], d.storage),
    defaultProfile,
    nodePools,
    workloads,
  };
}

function readClock(raw: unknown, path: Path, d: Clock): Clock {
  if (raw === undefined) return d;
  const o = record(raw, path);
  onlyKeys(o, path, ['speed', 'start', 'tickSeconds'], 'a clock field');
  const clock: Clock = {
    speed: o.speed === undefined ? d.speed : number(o.speed, [...path, 'speed'], { above: 0, max: 100000 }),
    tickSeconds:
      o.tickSeconds === undefined
        ? d.tickSeconds
        : seconds(o.tickSeconds, [...path, 'tickSeconds'], { above: 0 }),
  };
  if (o.start !== undefined) clock.start = instant(o.start, [...path, 'start']);
  return clock;
}

function instant(v: unknown, path: Path): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new FieldError(
    path,
    `expected an RFC 3339 time such as 2024-06-03T08:00:00Z or epoch seconds, got ${show(v)}`,
  );
}

function readStorage(raw: unknown, path: Path, d: Storage): Storage {
  if (raw === undefined) return d;
  const o = record(raw, path);
  onlyKeys(
    o,
    path,
    ['storageClass', 'throughputBytesPerSecond', 'expansionSeconds', 'volumeQuota'],
    'a storage field',
  );
  return {
    storageClass:
      o.storageClass === undefined ? d.storageClass : dnsSubdomain(o.storageClass, [...path, 'storageClass']),
    throughputBytesPerSecond:
      o.throughputBytesPerSecond === undefined
        ? d.throughputBytesPerSecond
        : bytes(o.throughputBytesPerSecond, [...path, 'throughputBytesPerSecond'], { min: 1 }),
    expansionSeconds:
      o.expansionSeconds === undefined
        ? d.expansionSeconds
        : seconds(o.expansionSeconds, [...path, 'expansionSeconds']),
    ...(o.volumeQuota === undefined
      ? d.volumeQuotaBytes === undefined
        ? {}
        : { volumeQuotaBytes: d.volumeQuotaBytes }
      : { volumeQuotaBytes: bytes(o.volumeQuota, [...path, 'volumeQuota'], { min: 1 }) }),
  };
}

/** A profile as a scenario writes it: `web`, or `{kind: llm, weightsBytes: 16Gi, ...}`. */
function readProfile(raw: unknown, path: Path, base?: ProfileSpec): ProfileSpec {
  if (typeof raw === 'string') return buildSpec(oneOf(raw, path, PROFILE_KINDS, 'a profile'), [], base, path);
  const o = record(raw, path);
  if (o.kind === undefined) throw new FieldError(path, `no kind; allowed: ${PROFILE_KINDS.join(', ')}`);
  const kind: ProfileKind = oneOf(o.kind, [...path, 'kind'], PROFILE_KINDS, 'a profile');
  return buildSpec(kind, [checkParams(kind, o, path, ['kind'])], base, path);
}

const POOL_KEYS = [
  'name',
  'count',
  'instanceType',
  'zones',
  'cpu',
  'memory',
  'ephemeralStorage',
  'pods',
  'gpu',
  'reserved',
  'evictionHard',
  'labels',
  'taints',
  'scaleDown',
];

function readPool(raw: unknown, path: Path, region: string): NodePool {
  const o = record(raw, path);
  onlyKeys(o, path, POOL_KEYS, 'a node pool field');
  const at = (k: string): Path => [...path, k];
  const need = (k: string) => {
    if (o[k] === undefined) throw new FieldError(path, `${k} is required`);
    return o[k];
  };
  const name = dnsLabel(need('name'), at('name'));
  const pool: NodePool = {
    name,
    count: number(need('count'), at('count'), { min: 0, max: 5000, integer: true }),
    instanceType:
      o.instanceType === undefined ? `sim.${name}` : labelValue(o.instanceType, at('instanceType')),
    zones:
      o.zones === undefined
        ? [`${region}-a`]
        : list(o.zones, at('zones')).map((z, i) => labelValue(z, [...path, 'zones', i])),
    cpuCores: cores(need('cpu'), at('cpu'), { above: 0 }),
    memoryBytes: bytes(need('memory'), at('memory'), { above: 0 }),
    ephemeralStorageBytes:
      o.ephemeralStorage === undefined ? 100 * Gi : bytes(o.ephemeralStorage, at('ephemeralStorage')),
    pods: o.pods === undefined ? 110 : number(o.pods, at('pods'), { min: 1, max: 10000, integer: true }),
    labels: o.labels === undefined ? {} : labels(o.labels, at('labels')),
    taints:
      o.taints === undefined
        ? []
        : list(o.taints, at('taints')).map((t, i) => readTaint(t, [...path, 'taints', i])),
  };
  if (pool.zones.length === 0) throw new FieldError(at('zones'), 'expected at least one zone');
  if (o.gpu !== undefined) pool.gpu = readGpu(o.gpu, at('gpu'));
  if (o.scaleDown !== undefined) pool.scaleDown = readScaleDown(o.scaleDown, at('scaleDown'), pool.count);
  if (o.reserved !== undefined) {
    const r = record(o.reserved, at('reserved'));
    onlyKeys(r, at('reserved'), ['cpu', 'memory'], 'a reserved field');
    pool.reserved = {
      cpuCores: r.cpu === undefined ? 0 : cores(r.cpu, [...path, 'reserved', 'cpu']),
      memoryBytes: r.memory === undefined ? 0 : bytes(r.memory, [...path, 'reserved', 'memory']),
    };
    if (pool.reserved.cpuCores >= pool.cpuCores) {
      throw new FieldError(
        [...path, 'reserved', 'cpu'],
        `${pool.reserved.cpuCores} leaves no CPU of the node's ${pool.cpuCores}`,
      );
    }
  }
  if (o.evictionHard !== undefined) {
    const e = record(o.evictionHard, at('evictionHard'));
    onlyKeys(e, at('evictionHard'), ['memory.available'], 'an evictionHard signal the simulator plays');
    if (e['memory.available'] !== undefined)
      pool.evictionHardMemoryBytes = bytes(e['memory.available'], [
        ...path,
        'evictionHard',
        'memory.available',
      ]);
  }
  const held = (pool.reserved?.memoryBytes ?? 0) + (pool.evictionHardMemoryBytes ?? 0);
  if (held >= pool.memoryBytes) {
    throw new FieldError(
      [...path, pool.reserved ? 'reserved' : 'evictionHard'],
      `leaves no memory of the node's ${pool.memoryBytes} bytes`,
    );
  }
  return pool;
}

function readGpu(raw: unknown, path: Path): NonNullable<NodePool['gpu']> {
  const o = record(raw, path);
  onlyKeys(o, path, ['model', 'count', 'memory', 'mig'], 'a gpu field');
  if (o.model === undefined)
    throw new FieldError(path, `model is required; allowed: ${GPU_MODEL_NAMES.join(', ')}`);
  const model = oneOf(o.model, [...path, 'model'], GPU_MODEL_NAMES, 'a GPU model');
  const gpu = {
    model,
    count:
      o.count === undefined ? 1 : number(o.count, [...path, 'count'], { min: 1, max: 16, integer: true }),
    memoryBytes:
      o.memory === undefined
        ? GPU_MODELS[model].memoryMiB * Mi
        : bytes(o.memory, [...path, 'memory'], { above: 0 }),
  };
  if (o.mig === undefined) return gpu;
  const mig = list(o.mig, [...path, 'mig']).map((p, i) => string(p, [...path, 'mig', i]));
  const wrong = checkMigLayout({ name: '', gpus: 1, gpuModel: model, migLayout: [mig] });
  if (wrong) throw new FieldError([...path, 'mig'], wrong);
  return { ...gpu, mig };
}

function readTaint(raw: unknown, path: Path): Taint {
  const o = record(raw, path);
  onlyKeys(o, path, ['key', 'value', 'effect'], 'a taint field');
  if (o.key === undefined) throw new FieldError(path, 'key is required');
  const taint: Taint = {
    key: labelKey(o.key, [...path, 'key']),
    effect: oneOf(
      o.effect ?? 'NoSchedule',
      [...path, 'effect'],
      ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
      'a taint effect',
    ),
  };
  if (o.value !== undefined) taint.value = labelValue(o.value, [...path, 'value']);
  return taint;
}

const WORKLOAD_KEYS = [
  'namespace',
  'name',
  'kind',
  'replicas',
  'copies',
  'pool',
  'labels',
  'annotations',
  'containers',
  'volume',
];

/** One workload entry, expanded over `copies` with `{i}` in namespace and name replaced by the copy's number. */
function readWorkloads(
  raw: unknown,
  path: Path,
  pools: readonly NodePool[],
  defaultProfile: ProfileSpec,
): Workload[] {
  const o = record(raw, path);
  onlyKeys(o, path, WORKLOAD_KEYS, 'a workload field');
  const at = (k: string): Path => [...path, k];
  for (const k of ['namespace', 'name', 'containers'])
    if (o[k] === undefined) throw new FieldError(path, `${k} is required`);
  const copies =
    o.copies === undefined ? 1 : number(o.copies, at('copies'), { min: 1, max: 10000, integer: true });
  const nsTemplate = string(o.namespace, at('namespace'));
  const nameTemplate = string(o.name, at('name'));
  if (copies > 1 && !nsTemplate.includes('{i}') && !nameTemplate.includes('{i}')) {
    throw new FieldError(
      at('copies'),
      'with copies > 1, namespace or name must contain {i} (the copy number)',
    );
  }
  const pool =
    o.pool === undefined
      ? undefined
      : oneOf(
          o.pool,
          at('pool'),
          pools.map((p) => p.name),
          'a node pool of this scenario',
        );
  const containers = list(o.containers, at('containers')).map((c, i) =>
    readContainer(c, [...path, 'containers', i], defaultProfile),
  );
  if (containers.length === 0) throw new FieldError(at('containers'), 'expected at least one container');
  unique(
    containers.map((c) => c.name),
    (i) => [...path, 'containers', i, 'name'],
    'container name',
  );
  const base = {
    kind: oneOf(
      o.kind ?? 'Deployment',
      at('kind'),
      ['Deployment', 'StatefulSet'] as const,
      'a workload kind',
    ),
    replicas:
      o.replicas === undefined
        ? 1
        : number(o.replicas, at('replicas'), { min: 0, max: 10000, integer: true }),
    labels: o.labels === undefined ? {} : labels(o.labels, at('labels')),
    annotations: o.annotations === undefined ? {} : stringMap(o.annotations, at('annotations')),
    containers,
    ...(pool === undefined ? {} : { pool }),
    ...(o.volume === undefined ? {} : { volume: readVolume(o.volume, at('volume')) }),
  };
  // A profile the workload's own annotations choose is read when its pods run; read it now too, so
  // a typo there fails the scenario with the key path instead of a log line per pod.
  for (const c of containers) {
    if (c.profile) continue;
    const read = parseProfile(base.annotations, c.name, defaultProfile);
    if (!read.ok) throw new FieldError(at('annotations'), read.error);
  }
  const width = String(copies - 1).length;
  const out: Workload[] = [];
  for (let i = 0; i < copies; i++) {
    const n = String(i).padStart(width, '0');
    out.push({
      ...base,
      namespace: dnsLabel(nsTemplate.replaceAll('{i}', n), at('namespace')),
      name: dnsLabel(nameTemplate.replaceAll('{i}', n), at('name')),
    });
  }
  return out;
}

function readVolume(raw: unknown, path: Path): NonNullable<Workload['volume']> {
  const o = record(raw, path);
  onlyKeys(o, path, ['name', 'size', 'mountPath', 'writes'], 'a volume field');
  if (o.size === undefined) throw new FieldError(path, 'size is required');
  return {
    name: o.name === undefined ? 'data' : dnsLabel(o.name, [...path, 'name']),
    sizeBytes: bytes(o.size, [...path, 'size'], { above: 0 }),
    mountPath: o.mountPath === undefined ? '/data' : absolutePath(o.mountPath, [...path, 'mountPath']),
    ...(o.writes === undefined ? {} : { writes: readWrites(o.writes, [...path, 'writes']) }),
  };
}

const CONTAINER_KEYS = ['name', 'image', 'requests', 'limits', 'resizePolicy', 'profile'];

function readContainer(raw: unknown, path: Path, defaultProfile: ProfileSpec): WorkloadContainer {
  const o = record(raw, path);
  onlyKeys(o, path, CONTAINER_KEYS, 'a container field');
  if (o.name === undefined) throw new FieldError(path, 'name is required');
  const c: WorkloadContainer = {
    name: dnsLabel(o.name, [...path, 'name']),
    image: o.image === undefined ? DEFAULT_IMAGE : string(o.image, [...path, 'image']),
    requests: o.requests === undefined ? {} : resources(o.requests, [...path, 'requests']),
    limits: o.limits === undefined ? {} : resources(o.limits, [...path, 'limits']),
    resizePolicy: {},
  };
  if (o.resizePolicy !== undefined) {
    const r = record(o.resizePolicy, [...path, 'resizePolicy']);
    onlyKeys(r, [...path, 'resizePolicy'], ['cpu', 'memory'], 'a resource with a resize policy');
    for (const k of ['cpu', 'memory'] as const) {
      if (r[k] !== undefined) {
        c.resizePolicy[k] = oneOf(
          r[k],
          [...path, 'resizePolicy', k],
          ['NotRequired', 'RestartContainer'] as const,
          'a resize policy',
        );
      }
    }
  }
  for (const name of RESOURCE_NAMES) {
    const req = c.requests[name];
    const lim = c.limits[name];
    if (req === undefined || lim === undefined) continue;
    const [rv, lv] = [amount(name, req), amount(name, lim)];
    if (name.startsWith('nvidia.com/') && rv !== lv) {
      throw new FieldError(
        [...path, 'requests', name],
        `${req} differs from limits ${lim}; GPU requests must equal limits`,
      );
    }
    if (rv > lv) throw new FieldError([...path, 'requests', name], `${req} is above limits ${lim}`);
  }
  if (o.profile !== undefined) c.profile = readProfile(o.profile, [...path, 'profile'], defaultProfile);
  return c;
}

function amount(name: ResourceName, q: string): number {
  switch (name) {
    case 'cpu':
      return cores(q, []);
    case 'memory':
    case 'ephemeral-storage':
      return bytes(q, []);
    case 'nvidia.com/gpu':
    default:
      // Whole GPUs and MIG devices: counts.
      return Number(q);
  }
}

function resources(raw: unknown, path: Path): Partial<Record<ResourceName, string>> {
  const o = record(raw, path);
  const [mig, rest] = partition(Object.keys(o), (k) => k.startsWith('nvidia.com/mig-'));
  for (const k of mig)
    if (!(MIG_RESOURCES as readonly string[]).includes(k))
      throw new FieldError(path, `"${k}" is not a MIG device; allowed: ${MIG_RESOURCES.join(', ')}`, [
        ...path,
        k,
      ]);
  onlyKeys(
    Object.fromEntries(rest.map((k) => [k, o[k]])),
    path,
    RESOURCE_NAMES.filter((r) => !r.startsWith('nvidia.com/mig-')),
    'a resource the simulator knows',
  );
  const out: Partial<Record<ResourceName, string>> = {};
  for (const name of RESOURCE_NAMES) {
    const v = o[name];
    if (v === undefined) continue;
    const at = [...path, name];
    switch (name) {
      case 'cpu':
        cores(v, at);
        break;
      case 'memory':
      case 'ephemeral-storage':
        bytes(v, at);
        break;
      case 'nvidia.com/gpu':
      default:
        number(v, at, { min: 0, max: name === 'nvidia.com/gpu' ? 16 : 56, integer: true });
        break;
    }
    // Checked above: a number or a quantity string.
    out[name] = typeof v === 'number' ? String(v) : (v as string).trim();
  }
  return out;
}

function partition<T>(xs: readonly T[], p: (x: T) => boolean): [T[], T[]] {
  return [xs.filter(p), xs.filter((x) => !p(x))];
}

function unique(names: string[], at: (i: number) => Path, what: string): void {
  const first = new Map<string, number>();
  names.forEach((n, i) => {
    const j = first.get(n);
    if (j !== undefined)
      throw new FieldError(at(i), `${what} ${JSON.stringify(n)} is used twice (also at index ${j})`);
    first.set(n, i);
  });
}

function dnsLabel(v: unknown, path: Path): string {
  if (typeof v === 'string' && v.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) return v;
  throw new FieldError(
    path,
    `expected a DNS label (lower-case letters, digits and '-', at most 63), got ${show(v)}`,
  );
}

function dnsSubdomain(v: unknown, path: Path): string {
  if (typeof v === 'string' && v.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) return v;
  throw new FieldError(
    path,
    `expected a DNS subdomain (lower-case letters, digits, '-' and '.'), got ${show(v)}`,
  );
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

function labelKey(v: unknown, path: Path): string {
  if (typeof v === 'string') {
    const slash = v.lastIndexOf('/');
    const prefix = slash < 0 ? undefined : v.slice(0, slash);
    const name = slash < 0 ? v : v.slice(slash + 1);
    if (LABEL_NAME.test(name) && (prefix === undefined || /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix)))
      return v;
  }
  throw new FieldError(path, `expected a label key such as example.com/team or team, got ${show(v)}`);
}

function labelValue(v: unknown, path: Path): string {
  const s = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
  if (typeof s === 'string' && (s === '' || LABEL_NAME.test(s))) return s;
  throw new FieldError(
    path,
    `expected a label value (letters, digits, '-', '_' and '.', at most 63), got ${show(v)}`,
  );
}

function labels(raw: unknown, path: Path): Record<string, string> {
  const o = record(raw, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[labelKey(k, [...path, k])] = labelValue(v, [...path, k]);
  return out;
}

function stringMap(raw: unknown, path: Path): Record<string, string> {
  const o = record(raw, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    out[labelKey(k, [...path, k])] =
      typeof v === 'string'
        ? v
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : string(v, [...path, k]);
  }
  return out;
}

function absolutePath(v: unknown, path: Path): string {
  if (typeof v === 'string' && v.startsWith('/')) return v;
  throw new FieldError(path, `expected an absolute path such as /data, got ${show(v)}`);
}

/**
 * Every node of the scenario as the node fleet registers it, named `<pool>-<n>`, zones taken
 * round-robin; the nodes report the pool's size as capacity and the rest after `reserved` and the
 * hard eviction threshold as allocatable.
 */
export function scenarioNodes(s: Scenario): SimNodeSpec[] {
  const nodes: SimNodeSpec[] = [];
  for (const pool of s.nodePools) {
    const width = String(Math.max(0, pool.count - 1)).length;
    for (let i = 0; i < pool.count; i++) {
      const labels: Record<string, string> = {
        'topology.kubernetes.io/region': s.region,
        [POOL_LABEL]: pool.name,
        ...(pool.gpu ? { 'nvidia.com/gpu.present': 'true' } : {}),
        ...pool.labels,
      };
      nodes.push({
        name: `${pool.name}-${String(i).padStart(width, '0')}`,
        cpu: pool.cpuCores,
        memoryBytes: pool.memoryBytes,
        ...(pool.reserved
          ? { kubeReserved: { cpu: pool.reserved.cpuCores, memoryBytes: pool.reserved.memoryBytes } }
          : {}),
        ...(pool.evictionHardMemoryBytes !== undefined
          ? { evictionHardMemoryBytes: pool.evictionHardMemoryBytes }
          : {}),
        ephemeralStorageBytes: pool.ephemeralStorageBytes,
        pods: pool.pods,
        gpus: pool.gpu?.count ?? 0,
        ...(pool.gpu ? { gpuModel: pool.gpu.model, gpuMemoryBytes: pool.gpu.memoryBytes } : {}),
        ...(pool.gpu?.mig
          ? { migLayout: Array.from({ length: pool.gpu.count }, () => [...pool.gpu!.mig!]) }
          : {}),
        instanceType: pool.instanceType,
        zone: pool.zones[i % pool.zones.length]!,
        labels,
        taints: pool.taints.map((t) => ({
          key: t.key,
          effect: t.effect,
          ...(t.value === undefined ? {} : { value: t.value }),
        })),
      });
    }
  }
  return nodes;
}

/** The pod annotations of a workload: its own, plus the profile of each container that names one. */
export function workloadPodAnnotations(w: Workload): Record<string, string> {
  const out = { ...w.annotations };
  for (const c of w.containers) if (c.profile) Object.assign(out, profileAnnotations(c.name, c.profile));
  return out;
}
