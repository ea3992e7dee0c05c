// The figures for "does the next revision fit in the model cache": what the running Deployment
// downloaded, what the new one will, the PVC's capacity and StorageClass, and the cache's current
// use (volume stats when the operator has a source, else the running revision's size). The
// decision itself is pure (src/core/models/cache-room.ts).
import type * as k8s from '@kubernetes/client-node';
import type { ModelDeployment } from '../../api/modeldeployment.ts';
import { cacheRoom, type CacheRoom, type Grower } from '../../core/models/cache-room.ts';
import { parseQuantity } from '../../core/quantity.ts';
import type { VolumeStatsSource } from '../../sources/volume-stats.ts';
import { MODEL_BYTES_ANNOTATION, MODEL_SOURCE_ANNOTATION, modelSource, type Rendered } from './render.ts';

/** Stats older than this are not the cache's use now (the kubelet refreshes them about once a minute). */
export const STATS_FRESH_SECONDS = 180;

export interface CacheDeps {
  /** The StorageClass of that name; undefined when it is missing or cannot be read. */
  storageClass(name: string): Promise<k8s.V1StorageClass | undefined>;
  volumeStats?: VolumeStatsSource;
  /** Seconds since the epoch. */
  now(): number;
  /** A stats source that failed: the caller logs it, the running revision's size stands in. */
  onStatsError?(err: unknown): void;
}

/** What a Deployment we rendered downloaded: its annotation, else its download step's environment. */
export function deployedSource(d: k8s.V1Deployment | undefined): string | undefined {
  const annotated = d?.metadata?.annotations?.[MODEL_SOURCE_ANNOTATION];
  if (annotated !== undefined) return annotated;
  const env = d?.spec?.template?.spec?.initContainers?.find((c) => c.name === 'download')?.env ?? [];
  const v = (n: string) => env.find((e) => e.name === n)?.value;
  const repo = v('REPO');
  const revision = v('REVISION');
  if (repo === undefined || revision === undefined) return undefined;
  const file = v('FILE');
  return `${repo}@${revision}${file ? `:${file}` : ''}`;
}

/**
 * The room decision for this pass, or undefined when no new download is pending: no Hugging Face
 * source, no running Deployment (the first download goes to a claim sized for it), no claim yet,
 * or the running Deployment already has this source.
 */
export async function roomForNext(
  md: ModelDeployment,
  rendered: Rendered,
  needBytes: number,
  live: { pvc: k8s.V1PersistentVolumeClaim | undefined; deployment: k8s.V1Deployment | undefined },
  deps: CacheDeps,
): Promise<CacheRoom | undefined> {
  const next = modelSource(md);
  const { pvc, deployment } = live;
  if (next === undefined || deployment === undefined || pvc === undefined) return undefined;
  const running = deployedSource(deployment);
  if (running === undefined || running === next) return undefined;
  const runningBytes = parseQuantity(deployment.metadata?.annotations?.[MODEL_BYTES_ANNOTATION]);
  // 1. Current use: fresh volume stats, else what the running revision downloaded (unknown for a
  //    Deployment from before this annotation: revisions of one model are about the same size).
  let used: { bytes: number; source: 'VolumeStats' | 'RunningRevision' } = {
    bytes: runningBytes ?? needBytes,
    source: 'RunningRevision',
  };
  if (deps.volumeStats !== undefined) {
    const ns = md.metadata.namespace!;
    const since = deps.now() - STATS_FRESH_SECONDS;
    try {
      const samples = (await deps.volumeStats.read(since, [ns])).get(`${ns}/${pvc.metadata!.name!}`) ?? [];
      const last = samples.filter((s) => s.at >= since).at(-1);
      if (last !== undefined) used = { bytes: last.usedBytes, source: 'VolumeStats' };
    } catch (err) {
      deps.onStatsError?.(err);
    }
  }
  // 2. Whether the volume can grow: its StorageClass, and the maximum of our VolumePolicy.
  const className = pvc.spec?.storageClassName;
  const sc = className ? await deps.storageClass(className) : undefined;
  const vp = rendered.volumePolicy;
  const grower: Grower = vp?.spec.mode ?? 'Off';
  const maxBytes = vp !== undefined ? parseQuantity(vp.spec.maxSize) : undefined;
  return cacheRoom({
    next,
    needBytes,
    used,
    capacityBytes: parseQuantity(pvc.status?.capacity?.storage),
    expandable: sc === undefined ? undefined : sc.allowVolumeExpansion === true,
    grower,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  });
}
