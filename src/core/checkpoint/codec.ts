// The recommender state Tailor keeps outside its local disk (one SizingCheckpoint per policy): what
// each series' recommendation is computed from, encoded compactly (sparse histogram buckets, gzip,
// base64) and capped in size, and decoded defensively (a bad entry is dropped, never a crash).
import { gunzipSync, gzipSync } from 'node:zlib';
import type { RecommenderState } from '../recommend/recommender.ts';

export type CheckpointResource = 'cpu' | 'memory';

/** A recommender state as folded by the store: minutes (from, through] are in it, by minute number. */
export interface StateSnapshot {
  readonly from: number;
  readonly through: number;
  readonly state: RecommenderState;
}

/**
 * One minute row: [minute number, CPU max, memory max], null where that resource had no sample; an
 * exact minute (after the states) also carries its CPU samples' count, sum and sum of squares, so a
 * restored store feeds the same spread (core/recommend/minute-spread.ts). Checkpoints written
 * before carry three values: such a minute is read as its busiest sample.
 */
export type MinuteSnapshot =
  | readonly [number, number | null, number | null]
  | readonly [number, number | null, number | null, number, number, number];

export interface OomSnapshot {
  readonly pod: string;
  readonly t: number;
  readonly usage: number;
}

/** What a store needs to resume one workload/container series (its namespace is the policy's). */
export interface SeriesSnapshot {
  readonly workload: { readonly kind: string; readonly name: string; readonly ownerKind?: string };
  readonly container: string;
  /** Exact times of the first and last sample, seconds since the epoch. */
  readonly firstSample: number;
  readonly lastSample: number;
  /** Identifies the recommender configs and window the states were folded with: other ones do not apply. */
  readonly view: string;
  readonly states: Partial<Record<CheckpointResource, StateSnapshot>>;
  /**
   * Minute rows, oldest first: exact after the states' `through`, and before it one row per
   * interval holding that interval's peaks (for the memory floor and for a later rebuild).
   */
  readonly minutes: readonly MinuteSnapshot[];
  readonly ooms: readonly OomSnapshot[];
}

/** The apiserver refuses objects over 1.5 MiB: what one checkpoint may hold, leaving room for metadata. */
export const MAX_CHECKPOINT_BYTES = 1_300_000;
/** Of which the bookkeeping (eviction and change times) at most; the series get the rest. */
export const MAX_BOOKKEEPING_BYTES = 300_000;
export const MAX_SERIES_BYTES = 1024 * 1024;
/** Per series, whatever the window: the newest rows are kept. */
export const MAX_MINUTES_PER_SERIES = 400;
export const MAX_OOMS_PER_SERIES = 20;

const FORMAT = 1;

/** Weights are kept to this many significant digits: far below the histogram's 1-5% buckets. */
const DIGITS = 6;

interface WireState {
  f: number;
  t: number;
  first: number | null;
  last: number | null;
  n: number;
  ref: number;
  total: number;
  /** Sparse buckets: [index, weight], non-zero ones only. */
  w: [number, number][];
  opts: RecommenderState['slow']['options'];
  peaks: [number, number][];
  oom: [number, number] | null;
}

interface WireSeries {
  k: string;
  n: string;
  o?: string;
  c: string;
  fs: number;
  ls: number;
  v: string;
  s: Partial<Record<CheckpointResource, WireState>>;
  m: MinuteSnapshot[];
  x: [string, number, number][];
}

export interface Encoded {
  /** base64 of the gzipped JSON: what goes into the object. */
  readonly data: string;
  readonly kept: number;
  /** Series left out to stay under the size cap (the least recently seen first). */
  readonly dropped: number;
}

/**
 * Encodes the series, newest (by last sample) first, leaving out the oldest ones when the whole would
 * not fit in `maxBytes` of base64.
 */
export function encodeSeries(series: readonly SeriesSnapshot[], maxBytes = MAX_SERIES_BYTES): Encoded {
  const wire = [...series].sort((a, b) => b.lastSample - a.lastSample).map(toWire);
  const pack = (n: number) =>
    gzipSync(Buffer.from(JSON.stringify({ v: FORMAT, s: wire.slice(0, n) }))).toString('base64');
  let data = pack(wire.length);
  if (data.length <= maxBytes) return { data, kept: wire.length, dropped: 0 };
  // The largest count that fits, by bisection (each try compresses once).
  let lo = 0;
  let hi = wire.length - 1;
  data = pack(0);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (pack(mid).length <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0) data = pack(lo);
  return { data, kept: lo, dropped: wire.length - lo };
}

export interface Decoded {
  readonly series: SeriesSnapshot[];
  /** Entries that did not decode (a newer or damaged format): left out, said in the log. */
  readonly skipped: number;
  readonly error?: string;
}

export function decodeSeries(data: string | undefined): Decoded {
  if (!data) return { series: [], skipped: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8'));
  } catch (err) {
    return { series: [], skipped: 0, error: `not gzipped JSON: ${(err as Error).message}` };
  }
  const p = parsed as { v?: unknown; s?: unknown };
  if (p.v !== FORMAT || !Array.isArray(p.s))
    return { series: [], skipped: 0, error: `unknown format ${JSON.stringify(p.v)}` };
  const series: SeriesSnapshot[] = [];
  let skipped = 0;
  for (const w of p.s) {
    const s = fromWire(w);
    if (s) series.push(s);
    else skipped++;
  }
  return { series, skipped };
}

function toWire(s: SeriesSnapshot): WireSeries {
  const states: WireSeries['s'] = {};
  for (const r of ['cpu', 'memory'] as const) {
    const st = s.states[r];
    if (st) states[r] = stateToWire(st);
  }
  return {
    k: s.workload.kind,
    n: s.workload.name,
    ...(s.workload.ownerKind ? { o: s.workload.ownerKind } : {}),
    c: s.container,
    fs: s.firstSample,
    ls: s.lastSample,
    v: s.view,
    s: states,
    m: s.minutes.slice(-MAX_MINUTES_PER_SERIES).map((m) => minuteToWire(m)),
    x: s.ooms.slice(-MAX_OOMS_PER_SERIES).map((o) => [o.pod, o.t, o.usage]),
  };
}

function stateToWire(s: StateSnapshot): WireState {
  const st = s.state;
  const w: [number, number][] = [];
  st.slow.weights.forEach((x, i) => {
    if (x > 0) w.push([i, round(x)]);
  });
  return {
    f: s.from,
    t: s.through,
    first: st.firstSampleTime ?? null,
    last: st.lastSampleTime ?? null,
    n: st.sampleCount,
    ref: st.slow.referenceTime,
    total: round(st.slow.totalWeight),
    w,
    opts: st.slow.options,
    // Peaks are usage values (bytes, cores): kept exact, a rounded-down peak would lower a floor.
    peaks: st.peaks.recent.map((p) => [p.start, p.peak]),
    oom: st.oom ? [st.oom.t, st.oom.floor] : null,
  };
}

function fromWire(v: unknown): SeriesSnapshot | undefined {
  const w = v as Partial<WireSeries>;
  if (
    typeof w?.k !== 'string' ||
    typeof w.n !== 'string' ||
    typeof w.c !== 'string' ||
    !num(w.fs) ||
    !num(w.ls) ||
    typeof w.v !== 'string' ||
    !Array.isArray(w.m) ||
    !Array.isArray(w.x)
  )
    return undefined;
  const states: Partial<Record<CheckpointResource, StateSnapshot>> = {};
  for (const r of ['cpu', 'memory'] as const) {
    const ws = w.s?.[r];
    if (ws === undefined) continue;
    const st = stateFromWire(ws);
    if (!st) return undefined;
    states[r] = st;
  }
  const minutes: MinuteSnapshot[] = [];
  for (const m of w.m as unknown[]) {
    if (!Array.isArray(m) || !num(m[0]) || !numOrNull(m[1]) || !numOrNull(m[2])) return undefined;
    if (m.length >= 6 && num(m[3]) && num(m[4]) && num(m[5]))
      minutes.push([m[0], m[1], m[2], m[3], m[4], m[5]]);
    else minutes.push([m[0], m[1], m[2]]);
  }
  const ooms: OomSnapshot[] = [];
  for (const o of w.x as unknown[]) {
    if (!Array.isArray(o) || typeof o[0] !== 'string' || !num(o[1]) || !num(o[2])) return undefined;
    ooms.push({ pod: o[0], t: o[1], usage: o[2] });
  }
  return {
    workload: { kind: w.k, name: w.n, ...(typeof w.o === 'string' ? { ownerKind: w.o } : {}) },
    container: w.c,
    firstSample: w.fs,
    lastSample: w.ls,
    view: w.v,
    states,
    minutes: minutes.slice(-MAX_MINUTES_PER_SERIES),
    ooms: ooms.slice(-MAX_OOMS_PER_SERIES),
  };
}

function stateFromWire(v: unknown): StateSnapshot | undefined {
  const w = v as Partial<WireState>;
  if (
    !num(w?.f) ||
    !num(w.t) ||
    !num(w.n) ||
    !num(w.ref) ||
    !num(w.total) ||
    !Array.isArray(w.w) ||
    !Array.isArray(w.peaks) ||
    typeof w.opts !== 'object' ||
    w.opts === null ||
    !num(w.opts.firstEdge) ||
    !num(w.opts.ratio) ||
    !num(w.opts.halfLifeSeconds)
  )
    return undefined;
  const weights: number[] = [];
  for (const pair of w.w as unknown[]) {
    if (!Array.isArray(pair) || !num(pair[0]) || !num(pair[1])) return undefined;
    const [i, x] = pair as [number, number];
    // A bucket index far past any real value is damage, not data (1.01^5000 overflows every quantity).
    if (!Number.isInteger(i) || i < 0 || i > 5000 || x < 0) return undefined;
    while (weights.length <= i) weights.push(0);
    weights[i] = x;
  }
  const recent: { start: number; peak: number }[] = [];
  for (const pair of w.peaks as unknown[]) {
    if (!Array.isArray(pair) || !num(pair[0]) || !num(pair[1])) return undefined;
    recent.push({ start: pair[0], peak: pair[1] });
  }
  const oom =
    Array.isArray(w.oom) && num(w.oom[0]) && num(w.oom[1]) ? { t: w.oom[0], floor: w.oom[1] } : undefined;
  return {
    from: w.f,
    through: w.t,
    state: {
      version: 1,
      firstSampleTime: num(w.first) ? w.first : undefined,
      lastSampleTime: num(w.last) ? w.last : undefined,
      sampleCount: w.n,
      slow: { options: { ...w.opts }, referenceTime: w.ref, weights, totalWeight: w.total },
      peaks: { recent },
      oom,
    },
  };
}

function round(x: number): number {
  return Number(x.toPrecision(DIGITS));
}

function num(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function numOrNull(x: unknown): x is number | null {
  return x === null || num(x);
}

/** A minute as written: its spread only where it has one. */
function minuteToWire(m: MinuteSnapshot): MinuteSnapshot {
  return m.length === 6 ? [m[0], m[1], m[2], m[3], m[4], m[5]] : [m[0], m[1], m[2]];
}
