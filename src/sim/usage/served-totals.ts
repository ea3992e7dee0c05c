// What a serving process has counted since it started: tokens, finished requests and per-request
// histograms, read off the served trace's loop at any instant in O(log n), as the servers' own
// counters would show them. Pure; the indexes are built once per trace and kept beside it.
import type { FinishedRequests, ServedTrace } from './server.ts';

/** A per-request figure a server observes into a histogram. */
export type RequestField =
  | 'promptTokens'
  | 'generatedTokens'
  | 'queueSeconds'
  | 'firstTokenSeconds'
  | 'e2eSeconds'
  /** From admission to the last token (TGI's inference duration, vLLM's RUNNING phase). */
  | 'inferenceSeconds'
  /** Inference time over generated tokens (TGI's mean time per token). */
  | 'secondsPerToken';

/** A histogram as Prometheus exposes it: cumulative counts per upper bound, with sum and count. */
export interface HistogramValue {
  readonly bounds: readonly number[];
  /** counts[i]: observations <= bounds[i] (cumulative), without the +Inf bucket (that is count). */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface TokenTotals {
  prompt: number;
  generated: number;
  /** Decode steps (one token for every running sequence): llama.cpp's llama_decode() calls. */
  decodeSteps: number;
}

function value(f: FinishedRequests, field: RequestField, i: number): number {
  switch (field) {
    case 'promptTokens':
    case 'generatedTokens':
    case 'queueSeconds':
    case 'firstTokenSeconds':
    case 'e2eSeconds':
      return f[field][i]!;
    case 'inferenceSeconds':
      return f.e2eSeconds[i]! - f.queueSeconds[i]!;
    case 'secondsPerToken':
      return (f.e2eSeconds[i]! - f.queueSeconds[i]!) / Math.max(1, f.generatedTokens[i]!);
  }
}

interface SeriesIndex {
  prompt: Float64Array;
  generated: Float64Array;
  decodeSteps: Float64Array;
}

const seriesIndexes = new WeakMap<ServedTrace, SeriesIndex>();

function prefix(L: number, at: (j: number) => number): Float64Array {
  const p = new Float64Array(L + 1);
  for (let j = 0; j < L; j++) p[j + 1] = p[j]! + at(j);
  return p;
}

function seriesIndex(s: ServedTrace): SeriesIndex {
  let ix = seriesIndexes.get(s);
  if (!ix) {
    const L = s.loopSeconds;
    ix = {
      prompt: prefix(L, (j) => s.promptTokensPerSecond[j]!),
      generated: prefix(L, (j) => s.generatedTokensPerSecond[j]!),
      // Tokens per second over sequences in flight: the steps each sequence took that second.
      decodeSteps: prefix(L, (j) => s.generatedTokensPerSecond[j]! / Math.max(1, s.running[j]!)),
    };
    seriesIndexes.set(s, ix);
  }
  return ix;
}

/** The integral of a per-second series from loop phase 0 to x (x >= 0, any number of loops). */
function integral(p: Float64Array, L: number, x: number): number {
  const loops = Math.floor(x / L);
  const r = x - loops * L;
  const k = Math.min(L - 1, Math.floor(r));
  return loops * p[L]! + p[k]! + (r - k) * (p[k + 1]! - p[k]!);
}

/**
 * Tokens processed between two phases of the loop (phase = simulated time + the replica's offset),
 * as the server's counters rise over that span.
 */
export function tokensBetween(s: ServedTrace, from: number, to: number): TokenTotals {
  if (!(to > from)) return { prompt: 0, generated: 0, decodeSteps: 0 };
  const ix = seriesIndex(s);
  const L = s.loopSeconds;
  const span = (p: Float64Array) => Math.max(0, integral(p, L, to) - integral(p, L, from));
  return { prompt: span(ix.prompt), generated: span(ix.generated), decodeSteps: span(ix.decodeSteps) };
}

/** Index of the first finished request whose phase is above r (the count finishing at or before r). */
function upperBound(phase: Float64Array, r: number): number {
  let lo = 0;
  let hi = phase.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (phase[mid]! <= r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Requests finished from phase 0 to x: whole loops, then those of the last partial loop. */
function finishedUpTo(s: ServedTrace, x: number): { loops: number; k: number } {
  const L = s.loopSeconds;
  const loops = Math.floor(x / L);
  return { loops, k: upperBound(s.finished.phase, x - loops * L) };
}

export function finishedBetween(s: ServedTrace, from: number, to: number): number {
  if (!(to > from)) return 0;
  const n = s.finished.phase.length;
  const a = finishedUpTo(s, from);
  const b = finishedUpTo(s, to);
  return (b.loops - a.loops) * n + b.k - a.k;
}

/** Every STEP requests a checkpoint of the cumulative bucket counts; a query scans fewer than STEP. */
const STEP = 64;

interface HistogramIndex {
  /** checkpoints[c * B + b]: requests among the first c * STEP with a value <= bounds[b]. */
  checkpoints: Uint32Array;
  sums: Float64Array;
}

const histogramIndexes = new WeakMap<FinishedRequests, Map<string, HistogramIndex>>();

function histogramIndex(f: FinishedRequests, field: RequestField, bounds: readonly number[]): HistogramIndex {
  let byKey = histogramIndexes.get(f);
  if (!byKey) {
    byKey = new Map();
    histogramIndexes.set(f, byKey);
  }
  const key = `${field}|${bounds.join(',')}`;
  let ix = byKey.get(key);
  if (ix) return ix;
  const n = f.phase.length;
  const B = bounds.length;
  const checkpoints = new Uint32Array((Math.floor(n / STEP) + 1) * B);
  const sums = new Float64Array(n + 1);
  const running = new Uint32Array(B);
  for (let i = 0; i < n; i++) {
    if (i % STEP === 0) checkpoints.set(running, (i / STEP) * B);
    const v = value(f, field, i);
    sums[i + 1] = sums[i]! + v;
    for (let b = 0; b < B; b++) if (v <= bounds[b]!) running[b]!++;
  }
  if (n % STEP === 0) checkpoints.set(running, (n / STEP) * B);
  ix = { checkpoints, sums };
  byKey.set(key, ix);
  return ix;
}

/** Cumulative bucket counts of the first k requests of the loop. */
function countsUpTo(
  f: FinishedRequests,
  field: RequestField,
  bounds: readonly number[],
  ix: HistogramIndex,
  k: number,
): number[] {
  const B = bounds.length;
  const c = Math.floor(k / STEP);
  const out = Array.from(ix.checkpoints.subarray(c * B, c * B + B));
  for (let i = c * STEP; i < k; i++) {
    const v = value(f, field, i);
    for (let b = 0; b < B; b++) if (v <= bounds[b]!) out[b]!++;
  }
  return out;
}

/** The histogram of one per-request figure over the requests finished between two phases. */
export function histogramBetween(
  s: ServedTrace,
  field: RequestField,
  bounds: readonly number[],
  from: number,
  to: number,
): HistogramValue {
  const f = s.finished;
  const n = f.phase.length;
  if (!(to > from) || n === 0)
    return { bounds, counts: bounds.map(() => 0), sum: 0, count: finishedBetween(s, from, to) };
  const ix = histogramIndex(f, field, bounds);
  const whole = countsUpTo(f, field, bounds, ix, n);
  const at = (x: number) => {
    const { loops, k } = finishedUpTo(s, x);
    const part = countsUpTo(f, field, bounds, ix, k);
    return {
      counts: part.map((c, b) => loops * whole[b]! + c),
      sum: loops * ix.sums[n]! + ix.sums[k]!,
      count: loops * n + k,
    };
  };
  const a = at(from);
  const b = at(to);
  return {
    bounds,
    counts: b.counts.map((c, i) => c - a.counts[i]!),
    sum: b.sum - a.sum,
    count: b.count - a.count,
  };
}

/** The largest prompt + generated tokens of the requests finished between two phases (0 if none). */
export function largestSequenceBetween(s: ServedTrace, from: number, to: number): number {
  const f = s.finished;
  const n = f.phase.length;
  if (!(to > from) || n === 0) return 0;
  const L = s.loopSeconds;
  let max = 0;
  const take = (i: number) => {
    max = Math.max(max, f.promptTokens[i]! + f.generatedTokens[i]!);
  };
  if (to - from >= L) for (let i = 0; i < n; i++) take(i);
  else {
    const a = finishedUpTo(s, from);
    const b = finishedUpTo(s, to);
    if (b.loops === a.loops) for (let i = a.k; i < b.k; i++) take(i);
    else {
      for (let i = a.k; i < n; i++) take(i);
      for (let i = 0; i < b.k; i++) take(i);
    }
  }
  return max;
}
