// How a pod fills the persistent volumes it mounts, beyond what its usage profile writes: a
// download before the app starts, a cache that grows, logs that rotate. Read from the pod
// annotation `sim.tailor.dev/volume` (every claim the pod mounts) or `sim.tailor.dev/volume.<pod
// volume name>` (that one, wins), JSON; a scenario workload's `volume.writes` becomes the former.
import {
  FieldError,
  bytes,
  formatPath,
  isRecord,
  number,
  onlyKeys,
  show,
  string,
  type Path,
} from '../usage/fields.ts';

export const VOLUME_ANNOTATION = 'sim.tailor.dev/volume';

export interface VolumeWrites {
  /** Written by the pod's init containers before its app containers start (a model download); 0: none beyond the llm profile's model cache. */
  downloadBytes: number;
  /** What the download is: the same key already on the volume is not fetched again. Default: the init container's REPO@REVISION, else "download". */
  downloadKey?: string;
  /** Files the download makes; default one per 4 GiB (safetensors shards) plus 8 (config, tokenizer). */
  downloadFiles?: number;
  /** Write speed of the download; default the scenario's storage throughput. */
  throughputBytesPerSecond?: number;
  /** A cache growing while the app runs (kept across restarts: it is on the volume). */
  cacheBytesPerHour: number;
  /** Mean size of a cache file: small files use inodes before bytes (ext4 has one per 16 KiB). */
  cacheFileBytes: number;
  /** Logs written while the app runs, rotated at `logRotateBytes`, `logKeep` rotated files kept. */
  logBytesPerHour: number;
  logRotateBytes: number;
  logKeep: number;
}

export const NO_WRITES: VolumeWrites = {
  downloadBytes: 0,
  cacheBytesPerHour: 0,
  cacheFileBytes: 2 ** 20,
  logBytesPerHour: 0,
  logRotateBytes: 100 * 2 ** 20,
  logKeep: 3,
};

const FIELDS = [
  'downloadBytes',
  'downloadKey',
  'downloadFiles',
  'throughputBytesPerSecond',
  'cacheBytesPerHour',
  'cacheFileBytes',
  'logBytesPerHour',
  'logRotateBytes',
  'logKeep',
] as const;

/** Checks a writes object (annotation JSON or scenario YAML); fields left out keep `base`'s. */
export function readWrites(raw: unknown, path: Path, base: VolumeWrites = NO_WRITES): VolumeWrites {
  if (!isRecord(raw)) throw new FieldError(path, `expected an object of volume writes, got ${show(raw)}`);
  onlyKeys(raw, path, FIELDS, 'a volume writes field');
  const o = raw;
  const at = (k: string): Path => [...path, k];
  const w: VolumeWrites = { ...base };
  if (o.downloadBytes !== undefined) w.downloadBytes = bytes(o.downloadBytes, at('downloadBytes'));
  if (o.downloadKey !== undefined) w.downloadKey = string(o.downloadKey, at('downloadKey'));
  if (o.downloadFiles !== undefined)
    w.downloadFiles = number(o.downloadFiles, at('downloadFiles'), { min: 1, integer: true });
  if (o.throughputBytesPerSecond !== undefined)
    w.throughputBytesPerSecond = bytes(o.throughputBytesPerSecond, at('throughputBytesPerSecond'), {
      above: 0,
    });
  if (o.cacheBytesPerHour !== undefined)
    w.cacheBytesPerHour = bytes(o.cacheBytesPerHour, at('cacheBytesPerHour'));
  if (o.cacheFileBytes !== undefined)
    w.cacheFileBytes = bytes(o.cacheFileBytes, at('cacheFileBytes'), { min: 1 });
  if (o.logBytesPerHour !== undefined) w.logBytesPerHour = bytes(o.logBytesPerHour, at('logBytesPerHour'));
  if (o.logRotateBytes !== undefined)
    w.logRotateBytes = bytes(o.logRotateBytes, at('logRotateBytes'), { min: 4096 });
  if (o.logKeep !== undefined) w.logKeep = number(o.logKeep, at('logKeep'), { min: 0, integer: true });
  return w;
}

export type WritesResult =
  { ok: true; byVolume: (volumeName: string) => VolumeWrites } | { ok: false; error: string };

/** The writes of each of a pod's volumes, from its annotations; an error names the annotation and field. */
export function parseWrites(annotations: Record<string, string>): WritesResult {
  const parse = (key: string, base: VolumeWrites): VolumeWrites => {
    let v: unknown;
    try {
      v = JSON.parse(annotations[key]!);
    } catch (err) {
      throw new FieldError(
        [],
        `not valid JSON (${(err as Error).message}); expected an object such as {"cacheBytesPerHour": "1Gi"}`,
      );
    }
    return readWrites(v, [], base);
  };
  let current = VOLUME_ANNOTATION;
  try {
    const podWide =
      annotations[VOLUME_ANNOTATION] !== undefined ? parse(VOLUME_ANNOTATION, NO_WRITES) : NO_WRITES;
    const own = new Map<string, VolumeWrites>();
    for (const key of Object.keys(annotations)) {
      if (!key.startsWith(`${VOLUME_ANNOTATION}.`)) continue;
      current = key;
      own.set(key.slice(VOLUME_ANNOTATION.length + 1), parse(key, podWide));
    }
    return { ok: true, byVolume: (name) => own.get(name) ?? podWide };
  } catch (err) {
    if (err instanceof FieldError)
      return {
        ok: false,
        error: `annotation ${current}: ${err.path.length ? `${formatPath(err.path)}: ` : ''}${err.detail}`,
      };
    throw err;
  }
}
