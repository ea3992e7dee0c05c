// The ModelDeployment's status, built purely from what the controller knows: the resolution (or
// the problem with the spec), the owned Deployment and pods, and the SizingPolicy's recommendation.
// Conditions keep their transition time while their status stays the same.
import type * as k8s from '@kubernetes/client-node';
import type { Condition } from '../../api/common.ts';
import type {
  Estimate as EstimateStatus,
  GpuChoice,
  ModelDeployment,
  ModelDeploymentStatus,
  ModelPhase,
  UsageRecommendation,
} from '../../api/modeldeployment.ts';
import type { SizingPolicy } from '../../api/sizingpolicy.ts';
import type { Estimate } from '../../core/llm/estimate.ts';
import type { FitResult } from '../../core/gpu/fit.ts';
import { formatCpu } from '../../core/quantity.ts';
import type { Problem, Resolved } from './resolve.ts';
import type { CacheRoom } from '../../core/models/cache-room.ts';

/**
 * Room in the model cache for the revision to roll out (Hugging Face sources): True
 * (RoomAvailable, NoDownloadPending) or False (WaitingForVolume, VolumeCannotGrow: rollout held).
 */
export const CACHE_CONDITION = 'CacheVolume';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** "17.2Gi", "640Mi": short enough for a printer column. */
export function size(bytes: number): string {
  if (bytes >= GiB) return `${(Math.ceil((bytes / GiB) * 10) / 10).toString()}Gi`;
  return `${Math.ceil(bytes / MiB)}Mi`;
}

export function estimateStatus(e: Estimate, source: string): EstimateStatus {
  const onGpu = e.device === 'gpu' && e.gpu.gpus > 0;
  return {
    memory: size(onGpu ? e.gpuMemoryBytes.value * e.gpu.gpus : e.cpuMemoryBytes.steady.value),
    ...(onGpu ? { gpuMemoryPerGpu: size(e.gpuMemoryBytes.value) } : {}),
    gpusPerReplica: onGpu ? e.gpu.gpus : 0,
    weights: size(e.weights.value),
    kvCache: size(e.kvCache.totalBytes),
    kvCachePerToken: `${Math.round(e.kvCache.bytesPerToken / 1024)}Ki`,
    hostMemoryLoading: size(e.cpuMemoryBytes.load.value),
    hostMemoryServing: size(e.cpuMemoryBytes.steady.value),
    cpuLoading: formatCpu(e.cpuCores.load.value),
    cpuServing: formatCpu(e.cpuCores.steady.value),
    cacheSize: size(e.diskBytes.value),
    loadSeconds: Math.ceil(e.loadSeconds.warm.value),
    basis:
      `${source}: ${(e.model.params / 1e9).toFixed(2)}B params, ${e.model.quantization}, ${e.contextTokens} tokens x ${e.concurrency} sequences on ${e.runtime}`.slice(
        0,
        2048,
      ),
  };
}

export function gpuStatus(e: Estimate, f: FitResult): GpuChoice {
  const c = f.choice;
  if (e.device === 'cpu' || c === undefined) {
    return { type: 'cpu', count: 0, reason: f.reason.slice(0, 1024) };
  }
  return {
    type: c.gpu.id,
    name: c.gpu.name,
    count: c.count,
    pricePerHour: c.hourlyPrice.toFixed(2),
    currency: 'USD',
    reason: f.reason.slice(0, 1024),
    alternatives: f.alternatives
      .filter((o) => o !== c)
      .slice(0, 16)
      .map((o) => ({
        type: o.gpu.id,
        count: o.count,
        pricePerHour: o.hourlyPrice.toFixed(2),
        fits: o.fits,
        reason: o.why.slice(0, 512),
      })),
  };
}

export function recommendationStatus(sp: SizingPolicy | undefined): UsageRecommendation | undefined {
  const recs = sp?.status?.recommendations;
  if (sp === undefined || recs === undefined || recs.length === 0) return undefined;
  return {
    sizingPolicy: sp.metadata.name!,
    containers: recs.map((r) => ({
      name: r.name,
      ...(r.target['cpu'] !== undefined ? { cpu: String(r.target['cpu']) } : {}),
      ...(r.target['memory'] !== undefined ? { memory: String(r.target['memory']) } : {}),
      ...(r.basis ? { basis: r.basis } : {}),
    })),
  };
}

/** Where the owned pods are: nothing yet, downloading, loading, serving, some serving. */
export function phaseOf(
  replicas: number,
  deployment: k8s.V1Deployment | undefined,
  pods: readonly k8s.V1Pod[],
): ModelPhase {
  if (deployment === undefined || replicas === 0) return 'Pending';
  const ready = deployment.status?.readyReplicas ?? 0;
  if (ready >= replicas) return 'Ready';
  if (ready > 0) return 'Degraded';
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const downloading = live.some((p) =>
    (p.status?.initContainerStatuses ?? []).some((s) => s.name === 'download' && !s.state?.terminated),
  );
  if (downloading) return 'Downloading';
  if (live.some((p) => p.spec?.nodeName)) return 'Starting';
  return 'Pending';
}

export interface StatusInput {
  md: ModelDeployment;
  /** The current generation's resolution, or what is wrong with it. */
  outcome:
    | { kind: 'Resolved'; value: Resolved; endpoint: string }
    | { kind: 'Problem'; problem: Problem }
    /** An API error came before the spec was judged: keep what status said. */
    | { kind: 'Unknown' };
  /** How the last reconcile's API calls went: an error shows here, not only in the log. */
  synced: { kind: 'Synced' } | { kind: 'Error'; message: string };
  /** The HorizontalPodAutoscaler that owns the Deployment's replicas, if one targets it. */
  autoscaler?: string;
  deployment: k8s.V1Deployment | undefined;
  pods: readonly k8s.V1Pod[];
  sizingPolicy: SizingPolicy | undefined;
  /** This pass's room decision for a new revision; absent when none is pending. */
  cacheRoom?: CacheRoom;
  now: Date;
}

function condition(
  old: readonly Condition[] | undefined,
  c: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition {
  const prev = old?.find((x) => x.type === c.type);
  const lastTransitionTime =
    prev && prev.status === c.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...c, lastTransitionTime };
}

/** The generation the running Deployment was rendered from (annotated on it), if any. */
export const APPLIED_GENERATION_ANNOTATION = 'tailor.dev/applied-generation';

export function buildStatus(i: StatusInput): ModelDeploymentStatus {
  const old = i.md.status ?? {};
  const gen = i.md.metadata.generation ?? 0;
  // With an HPA the Deployment's replicas are the HPA's choice, not the spec's.
  const replicas =
    i.autoscaler !== undefined ? (i.deployment?.spec?.replicas ?? i.md.spec.replicas) : i.md.spec.replicas;
  const applied = i.deployment?.metadata?.annotations?.[APPLIED_GENERATION_ANNOTATION];
  let phase = phaseOf(replicas, i.deployment, i.pods);
  const conditions: Condition[] = [];
  const out: ModelDeploymentStatus = { observedGeneration: gen };
  const held = i.cacheRoom !== undefined && i.cacheRoom.kind !== 'Fits';
  if (i.outcome.kind === 'Unknown') {
    for (const k of ['model', 'endpoint', 'estimate', 'gpu'] as const) {
      if (old[k] !== undefined) (out as Record<string, unknown>)[k] = old[k];
    }
    const was = old.conditions?.find((c) => c.type === 'Accepted');
    if (was) conditions.push(was);
  } else if (i.outcome.kind === 'Resolved') {
    const r = i.outcome.value;
    out.model = r.model.slice(0, 512);
    out.endpoint = i.outcome.endpoint;
    out.estimate = estimateStatus(r.estimate, r.source);
    out.gpu = gpuStatus(r.estimate, r.fit);
    conditions.push(
      condition(
        old.conditions,
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Applied',
          message: `generation ${gen} ${held ? `accepted; its rollout waits for room in the model cache (see the ${CACHE_CONDITION} condition)` : i.synced.kind === 'Synced' ? 'applied' : 'accepted, not yet fully applied (see the Synced condition)'}: ${out.gpu.type === 'cpu' ? 'runs on CPU' : `${out.gpu.count} x ${out.gpu.type}`}, ${out.estimate.memory} estimated per replica${i.autoscaler ? `; replicas left to HorizontalPodAutoscaler/${i.autoscaler}` : ''}`,
          observedGeneration: gen,
        },
        i.now,
      ),
    );
  } else {
    const p = i.outcome.problem;
    // A bad edit leaves the last good objects running: keep saying what they are.
    if (i.deployment !== undefined) {
      for (const k of ['model', 'endpoint', 'estimate', 'gpu'] as const) {
        if (old[k] !== undefined) (out as Record<string, unknown>)[k] = old[k];
      }
    } else {
      phase = p.transient ? 'Pending' : 'Failed';
    }
    const kept =
      i.deployment !== undefined
        ? p.reason === 'NameConflict'
          ? ' Nothing was written: the running deployment is unchanged.'
          : ` This edit was not applied: the running deployment${applied ? ` (generation ${applied})` : ''} is unchanged.`
        : ' Nothing was created.';
    conditions.push(
      condition(
        old.conditions,
        {
          type: 'Accepted',
          status: 'False',
          reason: p.reason,
          message: `${p.message}. To fix: ${p.hint}.${kept}`.slice(0, 32768),
          observedGeneration: gen,
        },
        i.now,
      ),
    );
  }
  out.phase = phase;
  out.replicas = replicas;
  if (i.autoscaler !== undefined) out.replicasManagedBy = `HorizontalPodAutoscaler/${i.autoscaler}`;
  out.readyReplicas = i.deployment?.status?.readyReplicas ?? 0;
  const rec = recommendationStatus(i.sizingPolicy);
  if (rec) out.recommendation = rec;
  conditions.push(
    condition(
      old.conditions,
      {
        type: 'Ready',
        status: phase === 'Ready' ? 'True' : 'False',
        reason: phase,
        message:
          phase === 'Ready'
            ? `${out.readyReplicas} of ${replicas} replicas serving${out.endpoint ? ` at ${out.endpoint}` : ''}`
            : `${out.readyReplicas} of ${replicas} replicas ready (${phase})`,
        observedGeneration: gen,
      },
      i.now,
    ),
  );
  conditions.push(
    condition(
      old.conditions,
      i.synced.kind === 'Synced'
        ? {
            type: 'Synced',
            status: 'True',
            reason: 'ReconcileSuccess',
            message: 'the last reconcile made its API calls without error',
            observedGeneration: gen,
          }
        : {
            type: 'Synced',
            status: 'False',
            reason: 'ReconcileError',
            message: `${i.synced.message} (retried with backoff)`.slice(0, 1024),
            observedGeneration: gen,
          },
      i.now,
    ),
  );
  const cache = cacheCondition(i);
  if (cache) conditions.push(condition(old.conditions, cache, i.now));
  out.conditions = conditions;
  out.lastTransitionTime =
    old.phase === phase && old.lastTransitionTime
      ? old.lastTransitionTime
      : i.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return out;
}

function cacheCondition(i: StatusInput): Omit<Condition, 'lastTransitionTime'> | undefined {
  if (i.md.spec.model.huggingFace === undefined || i.outcome.kind !== 'Resolved') {
    // No judgement this pass (an API error): keep what was said.
    const was = i.md.status?.conditions?.find((c) => c.type === CACHE_CONDITION);
    return i.outcome.kind === 'Unknown' ? was : undefined;
  }
  const observedGeneration = i.md.metadata.generation ?? 0;
  const r = i.cacheRoom;
  if (r === undefined)
    return {
      type: CACHE_CONDITION,
      status: 'True',
      reason: 'NoDownloadPending',
      message: 'the running pods have this revision; no new download is pending',
      observedGeneration,
    };
  switch (r.kind) {
    case 'Fits':
      return {
        type: CACHE_CONDITION,
        status: 'True',
        reason: 'RoomAvailable',
        message: r.message,
        observedGeneration,
      };
    case 'Waiting':
      return {
        type: CACHE_CONDITION,
        status: 'False',
        reason: 'WaitingForVolume',
        message: r.message.slice(0, 32768),
        observedGeneration,
      };
    case 'CannotGrow':
      return {
        type: CACHE_CONDITION,
        status: 'False',
        reason: 'VolumeCannotGrow',
        message: `${r.why}: ${r.message}`.slice(0, 32768),
        observedGeneration,
      };
  }
}

/** Equal for the purpose of writing: a status write only when something changed. */
export function sameStatus(a: ModelDeploymentStatus | undefined, b: ModelDeploymentStatus): boolean {
  return JSON.stringify(normalize(a ?? {})) === JSON.stringify(normalize(b));
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, normalize(o[k])]),
    );
  }
  return v;
}
