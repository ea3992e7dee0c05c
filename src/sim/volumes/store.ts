// The data on each simulated persistent volume, kept per claim (not per pod): a restarted or
// rescheduled pod finds what was written. Pods write as they run: a download while their init
// containers run, then their profile's bytes, a growing cache and rotating logs; never more than
// the file system holds (a full volume is full: an Event, and a counter the metrics show). The
// kubelet's stats are statfs of that file system, refreshed about once a minute.
import {
  ext4,
  creatableFiles,
  statfs,
  writableBytes,
  type VolumeContent,
  type VolumeStat,
} from './statfs.ts';
import type { VolumeWrites } from './writes.ts';

/** One persistent volume of a pod, as the kubelet admitted it. */
export interface PodVolume {
  claim: string;
  /** The pod's name for it (spec.volumes[].name). */
  volumeName: string;
  writes: VolumeWrites;
  /** Bytes the init containers download into it before the app starts; 0: no download. */
  downloadBytes: number;
  downloadKey: string;
}

/** What the store needs of a pod (a slice of the kubelet's PodState). */
export interface WritingPod {
  namespace: string;
  volumes?: PodVolume[];
  containers: Map<
    string,
    {
      name: string;
      profile: { kind: string; volumeBytes(t: number): number };
      backOffUntil?: number;
    }
  >;
  /** Profile bytes already counted, per container. */
  profileWritten?: Map<string, number>;
}

export interface ClaimVolume {
  namespace: string;
  claim: string;
  items: Map<string, VolumeContent>;
  logsWritten: number;
  logRotateBytes: number;
  logKeep: number;
  /** The kubelet's last reading. */
  stat?: VolumeStat;
  /** A write was refused for want of room (or inodes) since the volume last had some. */
  full: boolean;
  /** Times the volume filled up. */
  fullTotal: number;
}

export interface SimVolumesOptions {
  /** The file system's size (the claim's status.capacity); undefined: not bound yet. */
  capacityOf(namespace: string, claim: string): number | undefined;
  /** Default write speed of a download (the scenario's storage throughput). */
  throughputBytesPerSecond: number;
  /** A volume just filled up (a write was refused): the kubelet records an Event. */
  onFull?(namespace: string, claim: string, message: string): void;
  /** The kubelet's volume stats cache period; default 60 s. */
  statPeriodSeconds?: number;
}

const GiB = 2 ** 30;

export class SimVolumes {
  private readonly claims = new Map<string, ClaimVolume>();
  private readonly period: number;

  constructor(private readonly o: SimVolumesOptions) {
    this.period = o.statPeriodSeconds ?? 60;
  }

  get(namespace: string, claim: string): ClaimVolume | undefined {
    return this.claims.get(`${namespace}/${claim}`);
  }

  all(): Iterable<ClaimVolume> {
    return this.claims.values();
  }

  private volume(namespace: string, claim: string): ClaimVolume {
    const key = `${namespace}/${claim}`;
    let v = this.claims.get(key);
    if (!v) {
      v = {
        namespace,
        claim,
        items: new Map(),
        logsWritten: 0,
        logRotateBytes: 100 * 2 ** 20,
        logKeep: 3,
        full: false,
        fullTotal: 0,
      };
      this.claims.set(key, v);
    }
    return v;
  }

  /** Everything on the volume: its items and its logs (the live file plus the rotated ones kept). */
  content(v: ClaimVolume): VolumeContent {
    let bytes = 0;
    let files = 0;
    for (const i of v.items.values()) {
      bytes += i.bytes;
      files += i.files;
    }
    const logs = logsOnDisk(v.logsWritten, v.logRotateBytes, v.logKeep);
    return { bytes: bytes + logs.bytes, files: files + logs.files };
  }

  /**
   * Adds up to `bytes` (and `files`) to an item; what does not fit is refused, and the first refusal
   * since the volume last had room counts as filling up. Returns the bytes written.
   */
  private write(v: ClaimVolume, item: string, bytes: number, files: number, what: string): number {
    if (bytes <= 0 && files <= 0) return 0;
    const size = this.o.capacityOf(v.namespace, v.claim);
    if (size === undefined) return 0;
    const g = ext4(size);
    const content = this.content(v);
    const b = Math.min(Math.max(0, bytes), writableBytes(g, content));
    const f = Math.min(Math.max(0, files), creatableFiles(g, content));
    const cur = v.items.get(item) ?? { bytes: 0, files: 0 };
    v.items.set(item, { bytes: cur.bytes + b, files: cur.files + f });
    if (b < bytes || f < files) this.filled(v, g, b < bytes ? 'no space left' : 'no inodes left', what);
    else if (v.full && writableBytes(g, this.content(v)) > 0) v.full = false;
    return b;
  }

  private filled(v: ClaimVolume, g: ReturnType<typeof ext4>, why: string, what: string): void {
    if (v.full) return;
    v.full = true;
    v.fullTotal++;
    this.o.onFull?.(
      v.namespace,
      v.claim,
      `volume ${v.namespace}/${v.claim} is full (${why} on a ${Math.round((g.sizeBytes / GiB) * 10) / 10} GiB ext4 file system): ${what} stopped`,
    );
  }

  /**
   * One step of a pod's init containers: the downloads into its volumes, at the storage's speed.
   * True when every download is complete (a volume already holding the same download is done at once).
   */
  initStep(pod: WritingPod, dt: number): boolean {
    let done = true;
    for (const pv of pod.volumes ?? []) {
      if (pv.downloadBytes <= 0) continue;
      const v = this.volume(pod.namespace, pv.claim);
      const item = `download:${pv.downloadKey}`;
      const have = v.items.get(item)?.bytes ?? 0;
      const missing = pv.downloadBytes - have;
      if (missing <= 0) continue;
      const speed = pv.writes.throughputBytesPerSecond ?? this.o.throughputBytesPerSecond;
      const b = Math.min(missing, speed * dt);
      const filesTotal = pv.writes.downloadFiles ?? Math.ceil(pv.downloadBytes / (4 * GiB)) + 8;
      const filesNow =
        Math.ceil((filesTotal * (have + b)) / pv.downloadBytes) - (v.items.get(item)?.files ?? 0);
      const wrote = this.write(v, item, b, filesNow, `the download of ${pv.downloadKey}`);
      if (have + wrote < pv.downloadBytes) done = false;
    }
    return done;
  }

  /** One step of a pod's running app: its profile's bytes, its cache, its logs. */
  runStep(pod: WritingPod, now: number, dt: number): void {
    if (!pod.volumes?.length) return;
    const written = (pod.profileWritten ??= new Map<string, number>());
    for (const pv of pod.volumes) {
      const v = this.volume(pod.namespace, pv.claim);
      for (const c of pod.containers.values()) {
        if (c.backOffUntil !== undefined) continue;
        const level = c.profile.volumeBytes(now);
        if (c.profile.kind === 'llm') {
          // The model cache: the same files whoever downloads them (an init container, or the
          // server itself while loading), so a level, not an increment.
          const item = `download:${pv.downloadKey}`;
          const have = v.items.get(item)?.bytes ?? 0;
          if (level > have)
            this.write(
              v,
              item,
              level - have,
              Math.ceil(level / (4 * GiB)) + 8 - (v.items.get(item)?.files ?? 0),
              'the model download',
            );
          continue;
        }
        const item = `profile:${c.name}`;
        const last = written.get(`${pv.claim}/${c.name}`);
        // First seen: the profile's bytes at start are already there (a level); then what it adds.
        const add = last === undefined ? level - (v.items.get(item)?.bytes ?? 0) : level - last;
        written.set(`${pv.claim}/${c.name}`, level);
        if (add > 0) this.write(v, item, add, Math.ceil(add / (64 * 2 ** 20)), `${c.name}'s writes`);
      }
      const w = pv.writes;
      if (w.cacheBytesPerHour > 0) {
        const b = (w.cacheBytesPerHour * dt) / 3600;
        const cache = v.items.get('cache') ?? { bytes: 0, files: 0 };
        const files = Math.floor((cache.bytes + b) / w.cacheFileBytes) - cache.files;
        this.write(v, 'cache', b, files, 'the cache');
      }
      if (w.logBytesPerHour > 0) {
        v.logRotateBytes = w.logRotateBytes;
        v.logKeep = w.logKeep;
        const b = (w.logBytesPerHour * dt) / 3600;
        const size = this.o.capacityOf(v.namespace, v.claim);
        if (size === undefined) continue;
        const g = ext4(size);
        const before = logsOnDisk(v.logsWritten, v.logRotateBytes, v.logKeep).bytes;
        const after = logsOnDisk(v.logsWritten + b, v.logRotateBytes, v.logKeep).bytes;
        // A rotation frees room; growth must fit.
        if (after - before > writableBytes(g, this.content(v))) this.filled(v, g, 'no space left', 'logging');
        else v.logsWritten += b;
      }
    }
  }

  /** The kubelet's reading of a claim: refreshed once per period, else the cached one. */
  statOf(namespace: string, claim: string, now: number): VolumeStat | undefined {
    const size = this.o.capacityOf(namespace, claim);
    if (size === undefined) return undefined;
    const v = this.volume(namespace, claim);
    if (!v.stat || now - v.stat.at >= this.period || now < v.stat.at) {
      v.stat = statfs(ext4(size), this.content(v), now);
    }
    return v.stat;
  }
}

/** Logs after `written` bytes: the live file (written mod rotate size) and up to `keep` rotated ones. */
export function logsOnDisk(written: number, rotateBytes: number, keep: number): VolumeContent {
  if (written <= 0) return { bytes: 0, files: 0 };
  const rotations = Math.floor(written / rotateBytes);
  const kept = Math.min(keep, rotations);
  return { bytes: kept * rotateBytes + (written - rotations * rotateBytes), files: kept + 1 };
}
