// The objects a ModelDeployment owns, built purely from it, its estimate and the GPU fit: the
// Deployment (runtime preset, probes, /dev/shm, scrape annotations, GPU placement, download step,
// start-up boost; a ModelDeployment's own simulator parameters passed on), the Service, the model-cache PVC, its VolumePolicy and the
// SizingPolicy.
import type * as k8s from '@kubernetes/client-node';
import { CACHE_MAX_SIZE_FACTOR, type ModelDeployment } from '../../api/modeldeployment.ts';
import { API_VERSION } from '../../api/common.ts';
import type { SizingPolicySpec } from '../../api/sizingpolicy.ts';
import type { VolumePolicySpec } from '../../api/volumepolicy.ts';
import type { Estimate } from '../../core/llm/estimate.ts';
import type { FitResult } from '../../core/gpu/fit.ts';
import { formatBytes, formatCpu, parseQuantity } from '../../core/quantity.ts';
import {
  BOOST_ANNOTATION,
  BOOST_DEADLINE_ANNOTATION,
  ESTIMATE_ANNOTATION,
  MODEL_LABEL,
  boostAnnotation,
  boostSchedule,
  type BoostSchedule,
  type Sizes,
} from '../../core/boost/index.ts';
import {
  EXPECTED_GROWTH_ANNOTATION,
  EXPECTED_GROWTH_REASON_ANNOTATION,
  defaultMaxBytes,
} from '../../core/models/cache-room.ts';
import type { KnownGrowth } from '../../core/volume/types.ts';
import { loadingCap, type NodeShape } from './placement.ts';
import { MODEL_DIR, mergeArgs, preset, type Preset } from './presets.ts';

export const SERVER_CONTAINER = 'server';

export interface SizingPolicyObject {
  apiVersion: typeof API_VERSION;
  kind: 'SizingPolicy';
  metadata: k8s.V1ObjectMeta;
  spec: Partial<SizingPolicySpec> & Pick<SizingPolicySpec, 'mode'>;
}

/** What the running Deployment downloaded into the cache ("repo@revision" or "repo@revision:file"). */
export const MODEL_SOURCE_ANNOTATION = 'tailor.dev/model-source';
/** The bytes that download wrote (the checkpoint), for the cache's use when there are no volume stats. */
export const MODEL_BYTES_ANNOTATION = 'tailor.dev/model-bytes';
/** Marks the model-cache PVC among a ModelDeployment's objects; its VolumePolicy selects it. */
export const CACHE_COMPONENT = 'model-cache';

/** The cache's VolumePolicy as applied: the fields left out take the kind's defaults. */
export interface VolumePolicyObject {
  apiVersion: typeof API_VERSION;
  kind: 'VolumePolicy';
  metadata: k8s.V1ObjectMeta;
  spec: Partial<VolumePolicySpec> & Pick<VolumePolicySpec, 'mode'> & { maxSize: string };
}

export interface Rendered {
  deployment: k8s.V1Deployment;
  service: k8s.V1Service;
  /** Only for a Hugging Face source: a pvc or oci source brings its own model. */
  pvc?: k8s.V1PersistentVolumeClaim;
  /** With the PVC, unless spec.cache.volumePolicy.mode is Off. */
  volumePolicy?: VolumePolicyObject;
  sizingPolicy: SizingPolicyObject;
  boost: BoostSchedule;
  endpoint: string;
  preset: Preset;
}

function ownerRef(md: ModelDeployment): k8s.V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelDeployment',
    name: md.metadata.name!,
    uid: md.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function meta(md: ModelDeployment, name: string): k8s.V1ObjectMeta {
  return {
    name,
    namespace: md.metadata.namespace!,
    labels: {
      'app.kubernetes.io/name': md.metadata.name!,
      'app.kubernetes.io/managed-by': 'tailor',
      [MODEL_LABEL]: md.metadata.name!,
    },
    ownerReferences: [ownerRef(md)],
  };
}

/** Where the model lives in the container, and the volume it comes from. */
function modelLocation(md: ModelDeployment, e: Estimate): { path: string; volume: k8s.V1Volume } {
  const m = md.spec.model;
  if (m.pvc !== undefined) {
    return {
      path: m.pvc.path === '.' ? MODEL_DIR : `${MODEL_DIR}/${m.pvc.path}`,
      volume: { name: 'model', persistentVolumeClaim: { claimName: m.pvc.claimName, readOnly: true } },
    };
  }
  if (m.oci !== undefined) {
    return {
      path: m.oci.path === '.' ? MODEL_DIR : `${MODEL_DIR}/${m.oci.path}`,
      volume: { name: 'model', image: { reference: m.oci.image, pullPolicy: 'IfNotPresent' } },
    };
  }
  const hf = m.huggingFace!;
  const dir = `${MODEL_DIR}/hf/${hf.repo}`;
  return {
    path: e.format === 'gguf' && hf.file !== undefined ? `${dir}/${hf.file}` : dir,
    volume: { name: 'model', persistentVolumeClaim: { claimName: cacheName(md) } },
  };
}

export function cacheName(md: ModelDeployment): string {
  return `${md.metadata.name!}-model-cache`;
}

/** What a Hugging Face source downloads: "repo@revision", with ":file" for one file of the repository. */
export function modelSource(md: ModelDeployment): string | undefined {
  const hf = md.spec.model.huggingFace;
  if (hf === undefined) return undefined;
  return `${hf.repo}@${hf.revision}${hf.file !== undefined ? `:${hf.file}` : ''}`;
}

function resources(sizes: Sizes, gpu: { resource: string; count: number } | undefined) {
  const gpuList: Record<string, string> = gpu && gpu.count > 0 ? { [gpu.resource]: String(gpu.count) } : {};
  return {
    requests: {
      cpu: formatCpu(sizes.requests.cpu),
      memory: formatBytes(sizes.requests.memory),
      ...gpuList,
    },
    limits: { memory: formatBytes(sizes.limits.memory), ...gpuList },
  };
}

/** The annotation on a ModelDeployment that tunes the simulated server (tests, demos). */
export const SIM_PARAMS_ANNOTATION = 'sim.tailor.dev/params';

/**
 * What a ModelDeployment itself asks of the simulator (a test's disk speed or warm-up time), passed
 * to its pods unchanged; a real cluster ignores it. Tailor adds nothing of its own: the simulator
 * tells the model's footprint from the server's image and command line, never from the estimate.
 */
export function simOverrides(md: ModelDeployment): Record<string, unknown> | undefined {
  const own = md.metadata.annotations?.[SIM_PARAMS_ANNOTATION];
  if (own === undefined) return undefined;
  try {
    const parsed = JSON.parse(own) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // not JSON: nothing passed on (the simulator would refuse the pod otherwise)
  }
  return undefined;
}

function downloadContainer(md: ModelDeployment): k8s.V1Container | undefined {
  const hf = md.spec.model.huggingFace;
  if (hf === undefined) return undefined;
  const env: k8s.V1EnvVar[] = [
    { name: 'REPO', value: hf.repo },
    { name: 'REVISION', value: hf.revision },
    { name: 'DIR', value: `${MODEL_DIR}/hf/${hf.repo}` },
    { name: 'FILE', value: hf.file ?? '' },
    { name: 'HF_HOME', value: `${MODEL_DIR}/.hf` },
    ...tokenEnv(md),
  ];
  return {
    name: 'download',
    image: 'python:3.12-slim',
    command: ['/bin/sh', '-c'],
    // Values come in through the environment, never spliced into the script.
    args: [
      'pip install --quiet --no-cache-dir "huggingface_hub[cli]>=0.34" && ' +
        'hf download "$REPO" ${FILE:+"$FILE"} --revision "$REVISION" --local-dir "$DIR"',
    ],
    env,
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    volumeMounts: [{ name: 'model', mountPath: MODEL_DIR }],
  };
}

function tokenEnv(md: ModelDeployment): k8s.V1EnvVar[] {
  const ref = md.spec.model.huggingFace?.tokenSecretRef;
  if (ref === undefined) return [];
  return [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }];
}

function probe(path: string, port: number, periodSeconds: number, failureThreshold: number): k8s.V1Probe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 5 };
}

export interface RenderOptions {
  /**
   * The cluster's nodes when the generation was first seen: the start-up boost asks for no more
   * than a node that could run the pod has room for (./placement.ts). Absent: not capped.
   */
  nodes?: readonly NodeShape[];
  /**
   * Omit: a HorizontalPodAutoscaler scales the Deployment, so `replicas` is left out of the
   * applied object and the HPA alone owns the field (server-side apply).
   */
  replicas: 'Set' | 'Omit';
  /**
   * The cache PVC's live spec.resources.requests.storage: the applied request is never below it
   * (a storage controller may have grown it; a PVC never shrinks).
   */
  cacheRequestBytes?: number;
  /** A download the cache has no room for yet: announced on the PVC for the storage controller. */
  expectedGrowth?: KnownGrowth;
}

export function render(
  md: ModelDeployment,
  e: Estimate,
  fit: FitResult,
  opts: RenderOptions = { replicas: 'Set' },
): Rendered {
  const name = md.metadata.name!;
  const ns = md.metadata.namespace!;
  const spec = md.spec;
  const choice = fit.choice;
  const gpus = e.device === 'gpu' ? (choice?.count ?? e.gpu.gpus) : 0;
  const gpuModel = choice?.gpu;
  // Placement first: the boost is capped by the nodes the pod can land on.
  const onGpu = gpus > 0 && gpuModel !== undefined;
  const cap = opts.nodes
    ? loadingCap(
        opts.nodes,
        onGpu
          ? {
              nodeSelector: { 'nvidia.com/gpu.product': gpuModel.productLabel },
              toleratedKeys: [gpuModel.resourceName],
            }
          : {},
      )
    : undefined;
  const boost = boostSchedule(e, { enabled: spec.sizing.startupBoost, ...(cap ? { nodeCap: cap } : {}) });
  const loc = modelLocation(md, e);
  const hf = spec.model.huggingFace;
  const p = preset(spec.runtime.name, {
    modelPath: loc.path,
    ...(hf ? { repo: hf.repo, revision: hf.revision } : {}),
    ...(spec.model.quantization ? { quantization: spec.model.quantization } : {}),
    servedName: spec.serving.servedModelName ?? hf?.repo ?? name,
    contextLength: e.contextTokens,
    maxSequences: e.concurrency,
    dtype: spec.serving.dtype,
    gpus,
    gpuMemoryUtilization: spec.serving.gpuMemoryUtilization ?? roundUtil(e, fit),
  });
  const labels = meta(md, name).labels!;
  const selector = { [MODEL_LABEL]: name };
  const sim = simOverrides(md);
  const annotations: Record<string, string> = {
    ...(p.metricsPath
      ? {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(p.port),
          'prometheus.io/path': p.metricsPath,
        }
      : {}),
    ...(sim !== undefined ? { [SIM_PARAMS_ANNOTATION]: JSON.stringify(sim) } : {}),
    [ESTIMATE_ANNOTATION]: JSON.stringify({
      [SERVER_CONTAINER]: {
        cpu: formatCpu(e.cpuCores.steady.value),
        memory: formatBytes(e.cpuMemoryBytes.steady.value),
        cpuLoading: formatCpu(e.cpuCores.load.value),
        memoryLoading: formatBytes(e.cpuMemoryBytes.load.value),
      },
    }),
    ...(boost.kind === 'Boost'
      ? {
          [BOOST_ANNOTATION]: boostAnnotation(SERVER_CONTAINER, boost.steady),
          [BOOST_DEADLINE_ANNOTATION]: String(boost.deadlineSeconds),
        }
      : {}),
  };
  const volumes: k8s.V1Volume[] = [loc.volume];
  const mounts: k8s.V1VolumeMount[] = [
    { name: 'model', mountPath: MODEL_DIR, ...(hf ? {} : { readOnly: true }) },
  ];
  if (p.sharedMemory) {
    // Docker's 64 MiB default /dev/shm breaks NCCL and worker IPC; memory-backed, it counts as pod memory.
    volumes.push({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '2Gi' } });
    mounts.push({ name: 'dshm', mountPath: '/dev/shm' });
  }
  const download = p.needsDownload ? downloadContainer(md) : undefined;
  const userEnv = spec.runtime.env ?? [];
  const env = [
    ...p.env.filter((v) => !userEnv.some((u) => u.name === v.name)),
    ...(p.needsDownload ? [] : tokenEnv(md)),
    ...userEnv,
  ];
  // Until Ready the startup probe holds off liveness: give it the boost deadline.
  const startupFailures = Math.ceil(boost.deadlineSeconds / 10);
  const container: k8s.V1Container = {
    name: SERVER_CONTAINER,
    image: spec.runtime.image ?? p.image,
    ...(p.command ? { command: p.command } : {}),
    args: p.command ? p.args : mergeArgs(p.args, spec.runtime.args),
    ...(env.length > 0 ? { env } : {}),
    ports: [{ name: 'http', containerPort: p.port, protocol: 'TCP' }],
    resources: resources(
      boost.loading,
      gpuModel ? { resource: gpuModel.resourceName, count: gpus } : undefined,
    ),
    resizePolicy: [
      { resourceName: 'cpu', restartPolicy: 'NotRequired' },
      { resourceName: 'memory', restartPolicy: 'NotRequired' },
    ],
    // A server that dies at start (CUDA out of memory, no room for the KV cache) says why in its
    // last log line: the kubelet shows it as the terminated state's message.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    startupProbe: probe(p.healthPath, p.port, 10, startupFailures),
    readinessProbe: probe(p.healthPath, p.port, 10, 3),
    livenessProbe: probe(p.healthPath, p.port, 20, 3),
    volumeMounts: mounts,
  };
  const deployment: k8s.V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...meta(md, name),
      ...(hf !== undefined
        ? {
            annotations: {
              [MODEL_SOURCE_ANNOTATION]: modelSource(md)!,
              [MODEL_BYTES_ANNOTATION]: String(Math.ceil(e.checkpoint.value)),
            },
          }
        : {}),
    },
    spec: {
      ...(opts.replicas === 'Set' ? { replicas: spec.replicas } : {}),
      selector: { matchLabels: selector },
      // A rolling update needs a second set of GPUs (and a second writer of an RWO cache): recreate.
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels, annotations },
        spec: {
          ...(download ? { initContainers: [download] } : {}),
          containers: [container],
          volumes,
          terminationGracePeriodSeconds: 30,
          ...(onGpu
            ? {
                nodeSelector: { 'nvidia.com/gpu.product': gpuModel.productLabel },
                tolerations: [{ key: gpuModel.resourceName, operator: 'Exists', effect: 'NoSchedule' }],
              }
            : {}),
        },
      },
    },
  };
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(md, name),
    spec: {
      selector,
      ports: [{ name: 'http', port: p.port, targetPort: p.port, protocol: 'TCP' }],
    },
  };
  let pvc: k8s.V1PersistentVolumeClaim | undefined;
  let volumePolicy: VolumePolicyObject | undefined;
  if (hf !== undefined) {
    const asked = spec.cache.size === 'auto' ? undefined : parseQuantity(spec.cache.size);
    const requestBytes = Math.max(asked ?? e.diskBytes.value, opts.cacheRequestBytes ?? 0);
    const pvcMeta = meta(md, cacheName(md));
    pvcMeta.labels!['app.kubernetes.io/component'] = CACHE_COMPONENT;
    if (opts.expectedGrowth !== undefined) {
      // Left out of the applied object once the room is there: server-side apply removes them.
      pvcMeta.annotations = {
        [EXPECTED_GROWTH_ANNOTATION]: String(Math.ceil(opts.expectedGrowth.bytes)),
        [EXPECTED_GROWTH_REASON_ANNOTATION]: opts.expectedGrowth.reason,
      };
    }
    pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: pvcMeta,
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(spec.cache.storageClassName ? { storageClassName: spec.cache.storageClassName } : {}),
        resources: { requests: { storage: formatBytes(requestBytes) } },
      },
    };
    const vp = spec.cache.volumePolicy ?? { mode: 'Auto', maxSize: 'auto' };
    if (vp.mode !== 'Off') {
      const maxSize =
        vp.maxSize === 'auto'
          ? formatBytes(defaultMaxBytes(e.checkpoint.value, requestBytes, CACHE_MAX_SIZE_FACTOR))
          : vp.maxSize;
      volumePolicy = {
        apiVersion: API_VERSION,
        kind: 'VolumePolicy',
        metadata: meta(md, name),
        spec: {
          selector: { matchLabels: { [MODEL_LABEL]: name, 'app.kubernetes.io/component': CACHE_COMPONENT } },
          mode: vp.mode,
          maxSize,
          ...(vp.threshold !== undefined ? { threshold: vp.threshold } : {}),
        },
      };
    }
  }
  const sizingPolicy: SizingPolicyObject = {
    apiVersion: API_VERSION,
    kind: 'SizingPolicy',
    metadata: meta(md, name),
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      mode: spec.sizing.mode,
      containers: [
        {
          name: SERVER_CONTAINER,
          mode: 'Auto',
          controlledResources: ['cpu', 'memory'],
          controlledValues: 'RequestsAndLimits',
          // Below the serving estimate the model cannot run (weights and runtime are resident).
          minAllowed: { memory: formatBytes(e.cpuMemoryBytes.steady.value) },
          limits: { cpu: { strategy: 'KeepRatio' }, memory: { strategy: 'KeepRatio' } },
        },
      ],
    },
  };
  return {
    deployment,
    service,
    ...(pvc ? { pvc } : {}),
    ...(volumePolicy ? { volumePolicy } : {}),
    sizingPolicy,
    boost,
    endpoint: `http://${name}.${ns}.svc:${p.port}/v1`,
    preset: p,
  };
}

/**
 * vLLM's gpu_memory_utilization: the share of the chosen GPU the estimate needs, rounded up to a
 * hundredth with 2 points of margin, at least the estimator's default budget on a roomy GPU.
 */
function roundUtil(e: Estimate, fit: FitResult): number {
  const c = fit.choice;
  if (c === undefined) return e.gpu.budgetFraction;
  const need = c.neededPerGpuBytes / c.gpu.usableBytes + 0.02;
  return Math.min(0.95, Math.max(e.gpu.budgetFraction, Math.ceil(need * 100) / 100));
}
