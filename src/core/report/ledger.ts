// Tailor's own record of what each workload container held, used and was recommended over time
// (the ledger that realised savings are integrated from): time-bucketed, pod-second weighted, kept
// 35 days, and encoded compactly for the policy's SizingCheckpoint. Pure: times and samples come in.
import { gunzipSync, gzipSync } from 'node:zlib';

/** CPU cores, memory bytes, GPUs (fractional for MIG slices). */
export interface LedgerAmount {
  readonly cpu: number;
  readonly memory: number;
  readonly gpu: number;
}

export const ZERO: LedgerAmount = { cpu: 0, memory: 0, gpu: 0 };

/**
 * One time bucket of one container. Amounts are sums of amount x seconds over the pods (divide by
 * the matching pod-seconds for the mean per pod, by `seconds` for the mean total).
 */
export interface LedgerBucket {
  /** Seconds since the epoch, aligned to `width`. */
  readonly start: number;
  /** 300 (the last 48 h) or 3600 (older). */
  readonly width: number;
  /** Wall-clock seconds the bucket was observed (at most `width`). */
  readonly seconds: number;
  readonly podSeconds: number;
  readonly requested: LedgerAmount;
  /** What the pods asked for before Tailor changed them. */
  readonly baseline: LedgerAmount;
  /** Pod-seconds that had a usage sample (usage is missing for a pod without metrics). */
  readonly usedPodSeconds: number;
  readonly used: LedgerAmount;
  /** Pod-seconds that had a recommendation. */
  readonly recommendedPodSeconds: number;
  readonly recommended: LedgerAmount;
  readonly oomKills: number;
  readonly resizes: number;
}

export interface LedgerWorkload {
  readonly kind: string;
  readonly name: string;
}

export interface ContainerLedger {
  readonly workload: LedgerWorkload;
  readonly container: string;
  /**
   * The labels every pod of the workload carried at its last sample, so `tailor report -l` can
   * select the records of pods that are gone. Absent in ledgers written before they were kept.
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** The time of the last sample: the next one covers (through, t]. */
  readonly through: number;
  /** Oldest first. */
  readonly buckets: readonly LedgerBucket[];
}

/** One policy's ledger (the namespace is the policy's). */
export interface Ledger {
  readonly containers: readonly ContainerLedger[];
}

export const EMPTY_LEDGER: Ledger = { containers: [] };

/** What one pod's container held at the sample time. */
export interface PodSample {
  readonly requested: LedgerAmount;
  readonly baseline: LedgerAmount;
  /** Absent: no fresh usage sample for this pod. */
  readonly used?: LedgerAmount;
  /** Absent: no recommendation yet. */
  readonly recommended?: LedgerAmount;
}

export interface ContainerSample {
  readonly workload: LedgerWorkload;
  readonly container: string;
  /** The labels all the sampled pods share (see ContainerLedger.labels). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly pods: readonly PodSample[];
  /** OOM kills and Tailor resizes seen since the previous sample. */
  readonly oomKills: number;
  readonly resizes: number;
}

export const FINE_WIDTH = 300;
export const COARSE_WIDTH = 3600;
/** Five-minute buckets this far back (a short demo shows a series), hourly before. */
export const FINE_SECONDS = 48 * 3600;
export const KEEP_SECONDS = 35 * 86_400;
/** A gap longer than this (the operator was down) is not attributed: the pods may have changed meanwhile. */
export const MAX_GAP_SECONDS = 600;

export function ledgerKey(workload: LedgerWorkload, container: string): string {
  return `${workload.kind}/${workload.name}/${container}`;
}

const add = (a: LedgerAmount, b: LedgerAmount, k = 1): LedgerAmount => ({
  cpu: a.cpu + b.cpu * k,
  memory: a.memory + b.memory * k,
  gpu: a.gpu + b.gpu * k,
});

function emptyBucket(start: number, width: number): LedgerBucket {
  return {
    start,
    width,
    seconds: 0,
    podSeconds: 0,
    requested: ZERO,
    baseline: ZERO,
    usedPodSeconds: 0,
    used: ZERO,
    recommendedPodSeconds: 0,
    recommended: ZERO,
    oomKills: 0,
    resizes: 0,
  };
}

/** Two buckets as one (same container): sums, the earlier start, the wider width. */
export function mergeBuckets(a: LedgerBucket, b: LedgerBucket, start: number, width: number): LedgerBucket {
  return {
    start,
    width,
    seconds: Math.min(width, a.seconds + b.seconds),
    podSeconds: a.podSeconds + b.podSeconds,
    requested: add(a.requested, b.requested),
    baseline: add(a.baseline, b.baseline),
    usedPodSeconds: a.usedPodSeconds + b.usedPodSeconds,
    used: add(a.used, b.used),
    recommendedPodSeconds: a.recommendedPodSeconds + b.recommendedPodSeconds,
    recommended: add(a.recommended, b.recommended),
    oomKills: a.oomKills + b.oomKills,
    resizes: a.resizes + b.resizes,
  };
}

/**
 * Adds one sample per container at time `t` (a sizing pass): each covers (through, t], at most
 * MAX_GAP_SECONDS, and is put in t's bucket. The first sample of a container only starts its clock.
 * Then rolls up and trims (see compact).
 */
export function record(ledger: Ledger, t: number, samples: readonly ContainerSample[]): Ledger {
  const byKey = new Map(ledger.containers.map((c) => [ledgerKey(c.workload, c.container), c]));
  for (const s of samples) {
    const key = ledgerKey(s.workload, s.container);
    const prev = byKey.get(key);
    const dt = prev ? Math.max(0, Math.min(MAX_GAP_SECONDS, t - prev.through)) : 0;
    if (prev && t < prev.through) continue; // a clock step back: nothing to attribute
    const start = Math.floor(t / FINE_WIDTH) * FINE_WIDTH;
    const buckets = [...(prev?.buckets ?? [])];
    const last = buckets[buckets.length - 1];
    let b = last && last.start === start && last.width === FINE_WIDTH ? last : emptyBucket(start, FINE_WIDTH);
    if (b !== last) buckets.push(b);
    let requested = ZERO;
    let baseline = ZERO;
    let used = ZERO;
    let recommended = ZERO;
    let usedPods = 0;
    let recPods = 0;
    for (const p of s.pods) {
      requested = add(requested, p.requested, dt);
      baseline = add(baseline, p.baseline, dt);
      if (p.used) {
        used = add(used, p.used, dt);
        usedPods++;
      }
      if (p.recommended) {
        recommended = add(recommended, p.recommended, dt);
        recPods++;
      }
    }
    b = {
      ...b,
      seconds: Math.min(FINE_WIDTH, b.seconds + (s.pods.length > 0 ? dt : 0)),
      podSeconds: b.podSeconds + s.pods.length * dt,
      requested: add(b.requested, requested),
      baseline: add(b.baseline, baseline),
      usedPodSeconds: b.usedPodSeconds + usedPods * dt,
      used: add(b.used, used),
      recommendedPodSeconds: b.recommendedPodSeconds + recPods * dt,
      recommended: add(b.recommended, recommended),
      oomKills: b.oomKills + s.oomKills,
      resizes: b.resizes + s.resizes,
    };
    buckets[buckets.length - 1] = b;
    const labels = s.labels ?? prev?.labels;
    byKey.set(key, {
      workload: s.workload,
      container: s.container,
      ...(labels !== undefined ? { labels } : {}),
      through: t,
      buckets,
    });
  }
  return compact({ containers: [...byKey.values()] }, t);
}

/**
 * Five-minute buckets older than FINE_SECONDS merged into hours; buckets older than KEEP_SECONDS and
 * containers with nothing left dropped.
 */
export function compact(ledger: Ledger, now: number, keepSeconds = KEEP_SECONDS): Ledger {
  const fineFrom = now - FINE_SECONDS;
  const keepFrom = now - keepSeconds;
  const containers: ContainerLedger[] = [];
  for (const c of ledger.containers) {
    const out: LedgerBucket[] = [];
    for (const b of c.buckets) {
      if (b.start + b.width <= keepFrom) continue;
      if (b.width === FINE_WIDTH && b.start + FINE_WIDTH <= fineFrom) {
        const hour = Math.floor(b.start / COARSE_WIDTH) * COARSE_WIDTH;
        const last = out[out.length - 1];
        if (last && last.start === hour && last.width === COARSE_WIDTH)
          out[out.length - 1] = mergeBuckets(last, b, hour, COARSE_WIDTH);
        else out.push(mergeBuckets(emptyBucket(hour, COARSE_WIDTH), b, hour, COARSE_WIDTH));
        continue;
      }
      out.push(b);
    }
    if (out.length > 0) containers.push({ ...c, buckets: out });
  }
  return { containers };
}

/** Sums of buckets that start within [from, until). */
export function bucketsIn(c: ContainerLedger, from: number, until: number): LedgerBucket[] {
  return c.buckets.filter((b) => b.start + b.width > from && b.start < until);
}

// ---- encoding ----

const FORMAT = 1;
/** Means are kept to this many significant digits: far below any price's precision. */
const DIGITS = 6;
/** What a checkpoint gives the ledger (the series and the bookkeeping take the rest). */
export const MAX_LEDGER_BYTES = 200_000;

/**
 * A bucket on the wire: [start minute, width minutes, seconds, pod-seconds, requested cpu, memory, gpu,
 * baseline x3, used pod-seconds, used x3, recommended pod-seconds, recommended x3, OOM kills, resizes].
 * Amounts are means per pod (they repeat from bucket to bucket, which gzip folds away).
 */
type WireBucket = number[];

interface WireContainer {
  k: string;
  n: string;
  c: string;
  /** Labels (left out when unknown); a later field, so FORMAT stays 1 and older readers skip it. */
  l?: Record<string, string>;
  t: number;
  b: WireBucket[];
}

export interface EncodedLedger {
  /** base64 of the gzipped JSON. */
  readonly data: string;
  readonly containers: number;
  readonly buckets: number;
  /** Buckets left out to stay under the cap (the oldest first). */
  readonly dropped: number;
}

const r = (x: number) => (x === 0 ? 0 : Number(x.toPrecision(DIGITS)));
const mean = (a: LedgerAmount, n: number) =>
  n > 0 ? [r(a.cpu / n), r(a.memory / n), r(a.gpu / n)] : [0, 0, 0];

function toWire(b: LedgerBucket): WireBucket {
  return [
    b.start / 60,
    b.width / 60,
    r(b.seconds),
    r(b.podSeconds),
    ...mean(b.requested, b.podSeconds),
    ...mean(b.baseline, b.podSeconds),
    r(b.usedPodSeconds),
    ...mean(b.used, b.usedPodSeconds),
    r(b.recommendedPodSeconds),
    ...mean(b.recommended, b.recommendedPodSeconds),
    b.oomKills,
    b.resizes,
  ];
}

function fromWireBucket(w: unknown): LedgerBucket | undefined {
  if (!Array.isArray(w) || w.length !== 20 || !w.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return undefined;
  const v = w as number[];
  if (v.some((x) => x < 0)) return undefined;
  const amount = (i: number, n: number): LedgerAmount => ({
    cpu: v[i]! * n,
    memory: v[i + 1]! * n,
    gpu: v[i + 2]! * n,
  });
  const width = v[1]! * 60;
  if (width !== FINE_WIDTH && width !== COARSE_WIDTH) return undefined;
  return {
    start: v[0]! * 60,
    width,
    seconds: v[2]!,
    podSeconds: v[3]!,
    requested: amount(4, v[3]!),
    baseline: amount(7, v[3]!),
    usedPodSeconds: v[10]!,
    used: amount(11, v[10]!),
    recommendedPodSeconds: v[14]!,
    recommended: amount(15, v[14]!),
    oomKills: v[18]!,
    resizes: v[19]!,
  };
}

function pack(ledger: Ledger, from: number): { data: string; buckets: number } {
  let buckets = 0;
  const c: WireContainer[] = ledger.containers.map((x) => {
    const b = x.buckets.filter((y) => y.start >= from).map(toWire);
    buckets += b.length;
    return {
      k: x.workload.kind,
      n: x.workload.name,
      c: x.container,
      ...(x.labels !== undefined ? { l: { ...x.labels } } : {}),
      t: x.through,
      b,
    };
  });
  return { data: gzipSync(Buffer.from(JSON.stringify({ v: FORMAT, c }))).toString('base64'), buckets };
}

/** Encodes the ledger; when over `maxBytes` of base64, the oldest buckets are left out (whole hours, by bisection). */
export function encodeLedger(ledger: Ledger, maxBytes = MAX_LEDGER_BYTES): EncodedLedger {
  const total = ledger.containers.reduce((n, c) => n + c.buckets.length, 0);
  const all = pack(ledger, -Infinity);
  if (all.data.length <= maxBytes)
    return { data: all.data, containers: ledger.containers.length, buckets: all.buckets, dropped: 0 };
  const starts = [...new Set(ledger.containers.flatMap((c) => c.buckets.map((b) => b.start)))].sort(
    (a, b) => a - b,
  );
  // The smallest cut-off index whose packing fits (the newest buckets kept).
  let lo = 1;
  let hi = starts.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pack(ledger, starts[mid]!).data.length <= maxBytes) hi = mid;
    else lo = mid + 1;
  }
  const p = pack(ledger, starts[lo] ?? Infinity);
  return {
    data: p.data,
    containers: ledger.containers.length,
    buckets: p.buckets,
    dropped: total - p.buckets,
  };
}

export interface DecodedLedger {
  readonly ledger: Ledger;
  /** Buckets or containers that did not decode: left out. */
  readonly skipped: number;
  readonly error?: string;
}

export function decodeLedger(data: string | undefined): DecodedLedger {
  if (!data) return { ledger: EMPTY_LEDGER, skipped: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8'));
  } catch (err) {
    return { ledger: EMPTY_LEDGER, skipped: 0, error: `not gzipped JSON: ${(err as Error).message}` };
  }
  const p = parsed as { v?: unknown; c?: unknown };
  if (p.v !== FORMAT || !Array.isArray(p.c))
    return { ledger: EMPTY_LEDGER, skipped: 0, error: `unknown ledger format ${JSON.stringify(p.v)}` };
  let skipped = 0;
  const containers: ContainerLedger[] = [];
  for (const x of p.c as unknown[]) {
    const w = x as Partial<WireContainer>;
    if (
      typeof w?.k !== 'string' ||
      typeof w.n !== 'string' ||
      typeof w.c !== 'string' ||
      typeof w.t !== 'number' ||
      !Number.isFinite(w.t) ||
      !Array.isArray(w.b)
    ) {
      skipped++;
      continue;
    }
    const buckets: LedgerBucket[] = [];
    for (const wb of w.b) {
      const b = fromWireBucket(wb);
      if (b) buckets.push(b);
      else skipped++;
    }
    buckets.sort((a, b) => a.start - b.start);
    const labels = labelsOf(w.l);
    containers.push({
      workload: { kind: w.k, name: w.n },
      container: w.c,
      ...(labels !== undefined ? { labels } : {}),
      through: w.t,
      buckets,
    });
  }
  return { ledger: { containers }, skipped };
}

/** Wire labels: an object of strings, else unknown (a bad value is not a reason to drop the records). */
function labelsOf(l: unknown): Record<string, string> | undefined {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return undefined;
  const entries = Object.entries(l as Record<string, unknown>);
  return entries.every(([, v]) => typeof v === 'string')
    ? (Object.fromEntries(entries) as Record<string, string>)
    : undefined;
}

/** The labels every one of these label sets carries with the same value (pods of one workload). */
export function sharedLabels(
  sets: readonly (Readonly<Record<string, string>> | undefined)[],
): Record<string, string> {
  const [first, ...rest] = sets;
  return Object.fromEntries(Object.entries(first ?? {}).filter(([k, v]) => rest.every((s) => s?.[k] === v)));
}
