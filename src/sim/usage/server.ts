// The serving model of the llm profile: a request trace pushed once through a continuous-batching
// server (FCFS, at most N sequences, a KV pool of so many tokens, one prefill at a time) and kept as per-second series of
// one loop, so a sample is an array lookup whatever the fleet size.
import type { AzureTraceName, TraceLibrary } from './traces.ts';

export interface ServerConfig {
  trace: AzureTraceName;
  rateMultiplier: number;
  maxSequences: number;
  contextLength: number;
  decodeTokensPerSecond: number;
  prefillTokensPerSecond: number;
  /** Tokens the KV pool holds; a request holds its prompt plus what it generated so far. */
  kvCapacityTokens: number;
}

/** Per-second averages over one loop of the trace, in the periodic steady state. */
export interface ServedTrace {
  readonly loopSeconds: number;
  readonly running: Float32Array;
  readonly waiting: Float32Array;
  readonly kvTokens: Float32Array;
  readonly promptTokensPerSecond: Float32Array;
  readonly generatedTokensPerSecond: Float32Array;
  /** Each request of one loop once, as it finishes: what the servers' counters and histograms count. */
  readonly finished: FinishedRequests;
}

/** Requests of one loop ordered by the loop second (0 <= phase < L) at which they finish. */
export interface FinishedRequests {
  readonly phase: Float64Array;
  readonly promptTokens: Float32Array;
  readonly generatedTokens: Float32Array;
  /** Seconds from arrival to admission (a running slot), to the first token, and to the last. */
  readonly queueSeconds: Float32Array;
  readonly firstTokenSeconds: Float32Array;
  readonly e2eSeconds: Float32Array;
}

export function servedTrace(lib: TraceLibrary, cfg: ServerConfig): ServedTrace {
  const key = `served|${cfg.trace}|${cfg.rateMultiplier}|${cfg.maxSequences}|${cfg.contextLength}|${cfg.decodeTokensPerSecond}|${cfg.prefillTokensPerSecond}|${cfg.kvCapacityTokens}`;
  return lib.memo(key, () => simulate(lib, cfg));
}

function simulate(lib: TraceLibrary, cfg: ServerConfig): ServedTrace {
  const trace = lib.requestTrace(cfg.trace);
  const L = Math.max(1, Math.ceil(trace.durationSeconds / cfg.rateMultiplier));
  const bins = new Bins(L);
  const running = bins.make();
  const waiting = bins.make();
  const kv = bins.make();
  const prompt = bins.make();
  const generated = bins.make();
  const capacity = Math.max(1, Math.floor(cfg.kvCapacityTokens));
  const done: { phase: number; prompt: number; gen: number; queue: number; first: number; e2e: number }[] =
    [];
  const inFlight = new MinHeap();
  let used = 0;
  let lastStart = -Infinity;
  let prefillFree = -Infinity;

  // Two passes over the loop: the first only warms the queue up, so what the second records (wrapped
  // onto one loop) is what a server that has been up for a while shows at that point of the trace.
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < trace.arrivals.length; i++) {
      const arrival = trace.arrivals[i]! / cfg.rateMultiplier + pass * L;
      const ctx = Math.min(trace.contextTokens[i]!, cfg.contextLength);
      const gen = trace.generatedTokens[i]!;
      // A sequence is admitted only when the pool can hold all it will hold (no preemption modelled).
      const need = Math.min(ctx + gen, capacity);
      const held = Math.min(ctx, need);
      // FCFS: nobody overtakes the head of the queue.
      let t = Math.max(arrival, lastStart);
      while (inFlight.size > 0 && inFlight.peek() <= t) used -= inFlight.pop();
      while (inFlight.size >= cfg.maxSequences || used + need > capacity) {
        t = Math.max(t, inFlight.peek());
        used -= inFlight.pop();
      }
      lastStart = t;
      // Prompts share the server's compute: one prefill after another, each at the full rate.
      const prefillStart = Math.max(t, prefillFree);
      const prefillEnd = prefillStart + ctx / cfg.prefillTokensPerSecond;
      prefillFree = prefillEnd;
      const finish = prefillEnd + gen / cfg.decodeTokensPerSecond;
      inFlight.push(finish, need);
      used += need;
      if (pass === 0) continue;
      done.push({
        phase: mod(finish - L, L),
        prompt: ctx,
        gen,
        queue: t - arrival,
        first: prefillEnd - arrival,
        e2e: finish - arrival,
      });
      bins.addConst(waiting, arrival, t, 1);
      bins.addConst(running, t, finish, 1);
      bins.addConst(prompt, prefillStart, prefillEnd, cfg.prefillTokensPerSecond);
      bins.addConst(generated, prefillEnd, finish, cfg.decodeTokensPerSecond);
      bins.addRamp(kv, prefillStart, prefillEnd, 0, held);
      bins.addRamp(kv, prefillEnd, finish, held, need);
    }
  }
  return {
    loopSeconds: L,
    running: bins.finish(running),
    waiting: bins.finish(waiting),
    kvTokens: bins.finish(kv),
    promptTokensPerSecond: bins.finish(prompt),
    generatedTokensPerSecond: bins.finish(generated),
    finished: finishedRequests(done),
  };
}

function finishedRequests(
  done: { phase: number; prompt: number; gen: number; queue: number; first: number; e2e: number }[],
): FinishedRequests {
  done.sort((a, b) => a.phase - b.phase);
  const f32 = (pick: (d: (typeof done)[number]) => number) => Float32Array.from(done, pick);
  return {
    phase: Float64Array.from(done, (d) => d.phase),
    promptTokens: f32((d) => d.prompt),
    generatedTokens: f32((d) => d.gen),
    queueSeconds: f32((d) => d.queue),
    firstTokenSeconds: f32((d) => d.first),
    e2eSeconds: f32((d) => d.e2e),
  };
}

/**
 * Per-second bins of one loop, accumulating integrals of a value over time intervals that wrap
 * around the loop. Constant pieces go through a difference array so a request that waited for
 * hours in an overloaded queue costs O(1), not one step per second.
 */
class Bins {
  constructor(readonly L: number) {}

  make(): { direct: Float64Array; diff: Float64Array; base: number } {
    return { direct: new Float64Array(this.L), diff: new Float64Array(this.L + 1), base: 0 };
  }

  addConst(
    acc: { direct: Float64Array; diff: Float64Array; base: number },
    a: number,
    b: number,
    w: number,
  ): void {
    if (!(b > a) || w === 0) return;
    const L = this.L;
    const whole = Math.floor((b - a) / L);
    acc.base += whole * w;
    a += whole * L;
    if (!(b > a)) return;
    const k0 = Math.floor(a);
    const k1 = Math.floor(b);
    if (k0 === k1) {
      acc.direct[mod(k0, L)]! += w * (b - a);
      return;
    }
    acc.direct[mod(k0, L)]! += w * (k0 + 1 - a);
    if (b > k1) acc.direct[mod(k1, L)]! += w * (b - k1);
    // whole bins k0+1 .. k1-1, fewer than L of them
    const n = k1 - k0 - 1;
    if (n <= 0) return;
    const s = mod(k0 + 1, L);
    const e = s + n;
    if (e <= L) {
      acc.diff[s]! += w;
      acc.diff[e]! -= w;
    } else {
      acc.diff[s]! += w;
      acc.diff[L]! -= w;
      acc.diff[0]! += w;
      acc.diff[e - L]! -= w;
    }
  }

  /** A value rising linearly from v0 at a to v1 at b; prefill and decode phases are short, so bin by bin. */
  addRamp(acc: { direct: Float64Array }, a: number, b: number, v0: number, v1: number): void {
    if (!(b > a)) return;
    const slope = (v1 - v0) / (b - a);
    let x = a;
    while (x < b) {
      const k = Math.floor(x);
      const end = Math.min(b, k + 1);
      acc.direct[mod(k, this.L)]! += (v0 + slope * (x - a) + v0 + slope * (end - a)) * 0.5 * (end - x);
      x = end;
    }
  }

  finish(acc: { direct: Float64Array; diff: Float64Array; base: number }): Float32Array {
    const out = new Float32Array(this.L);
    let run = 0;
    for (let i = 0; i < this.L; i++) {
      run += acc.diff[i]!;
      out[i] = acc.base + run + acc.direct[i]!;
    }
    return out;
  }
}

function mod(k: number, L: number): number {
  const r = k % L;
  return r < 0 ? r + L : r;
}

/** Finish times of the sequences in flight, earliest first, each with the KV tokens it holds. */
class MinHeap {
  private keys: number[] = [];
  private vals: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  peek(): number {
    return this.keys[0] ?? Infinity;
  }
  push(key: number, val: number): void {
    const k = this.keys;
    const v = this.vals;
    let i = k.length;
    k.push(key);
    v.push(val);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (k[parent]! <= key) break;
      k[i] = k[parent]!;
      v[i] = v[parent]!;
      i = parent;
    }
    k[i] = key;
    v[i] = val;
  }
  /** Removes the earliest and returns its tokens. */
  pop(): number {
    const k = this.keys;
    const v = this.vals;
    const top = v[0]!;
    const lastK = k.pop()!;
    const lastV = v.pop()!;
    const n = k.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && k[r]! < k[l]! ? r : l;
      if (k[c]! >= lastK) break;
      k[i] = k[c]!;
      v[i] = v[c]!;
      i = c;
    }
    k[i] = lastK;
    v[i] = lastV;
    return top;
  }
}
