// The recorded traces profiles replay (Azure LLM requests, Alibaba GenTD26 pod series), parsed once
// per file on first use, behind a loader so this module does no I/O of its own.
import { TailorError } from '../../errors.ts';

export type AzureTraceName = 'azure-code' | 'azure-conv';
export type AlibabaMetric = 'memory-util' | 'gpu-memory-bytes' | 'gpu-duty-cycle';

/** Paths of the trace files below the data folder. */
export const TRACE_FILES: { readonly [K in AzureTraceName | AlibabaMetric]: string } = {
  'azure-code': 'azure-llm-2023/AzureLLMInferenceTrace_code.csv',
  'azure-conv': 'azure-llm-2023/AzureLLMInferenceTrace_conv.csv',
  'memory-util': 'alibaba-gentd26/pod_memory_util_anon.csv',
  'gpu-memory-bytes': 'alibaba-gentd26/pod_gpu_memory_used_bytes_anon.csv',
  'gpu-duty-cycle': 'alibaba-gentd26/pod_gpu_duty_cycle_anon.csv',
};

/** Reads one trace file (a path of TRACE_FILES) as text; throws when it cannot. */
export type TraceLoader = (relativePath: string) => string;

export interface RequestTrace {
  readonly name: AzureTraceName;
  /** Arrival of each request in seconds after the first one, ascending. */
  readonly arrivals: Float64Array;
  readonly contextTokens: Uint32Array;
  readonly generatedTokens: Uint32Array;
  /** Whole seconds from the first arrival to one past the last: the loop length at rate 1. */
  readonly durationSeconds: number;
  /** Tokens (context + generated) of the requests arriving in each whole second. */
  readonly tokensPerSecond: Float64Array;
  /** Prefix sums of tokensPerSecond: tokens arriving in seconds [a, b) are prefix[b] - prefix[a]. */
  readonly tokensPrefix: Float64Array;
  /** Prefix sums of arrivals per second, the same way. */
  readonly requestsPrefix: Float64Array;
}

/** One pod's series of one metric: times (trace epoch seconds) ascending, values as published. */
export interface PodSeries {
  readonly pod: string;
  readonly metric: AlibabaMetric;
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** The usual distance between samples (57 s in GenTD26). */
  readonly stepSeconds: number;
}

export interface TraceLibrary {
  requestTrace(name: AzureTraceName): RequestTrace;
  /** Pods of pod_memory_util_anon.csv in order of first appearance: what `index` counts in. */
  alibabaPods(): readonly string[];
  /** Undefined when the pod has no series of that metric (e.g. no GPU series for a CPU pod). */
  alibabaSeries(metric: AlibabaMetric, pod: string): PodSeries | undefined;
  /** Data derived from the traces, computed once per key and kept with the library. */
  memo<T>(key: string, make: () => T): T;
}

export function createTraceLibrary(load: TraceLoader): TraceLibrary {
  const requests = new Map<AzureTraceName, RequestTrace>();
  const series = new Map<AlibabaMetric, { order: string[]; byPod: Map<string, PodSeries> }>();
  const memos = new Map<string, unknown>();

  const read = (file: string): string => {
    try {
      return load(file);
    } catch (err) {
      throw new TailorError('Prerequisite', `cannot read trace file ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const alibaba = (metric: AlibabaMetric) => {
    let s = series.get(metric);
    if (!s) {
      s = parseAlibaba(read(TRACE_FILES[metric]), metric, TRACE_FILES[metric]);
      series.set(metric, s);
    }
    return s;
  };

  return {
    requestTrace(name) {
      let r = requests.get(name);
      if (!r) {
        r = parseAzure(read(TRACE_FILES[name]), name, TRACE_FILES[name]);
        requests.set(name, r);
      }
      return r;
    },
    alibabaPods: () => alibaba('memory-util').order,
    alibabaSeries: (metric, pod) => alibaba(metric).byPod.get(pod),
    memo<T>(key: string, make: () => T): T {
      if (!memos.has(key)) memos.set(key, make());
      return memos.get(key) as T;
    },
  };
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function columns(header: string | undefined, want: readonly string[], file: string): number[] {
  const cols = (header ?? '').split(',');
  return want.map((w) => {
    const i = cols.indexOf(w);
    if (i < 0)
      throw new TailorError(
        'InvalidInput',
        `${file}: no column ${w} in header ${JSON.stringify(header ?? '')}`,
      );
    return i;
  });
}

/** "2023-11-16 18:17:03.9799600" as epoch seconds (UTC: only differences matter). */
function azureTime(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d(?:\.\d+)?)$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, sec] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)) / 1000 + Number(sec);
}

export function parseAzure(text: string, name: AzureTraceName, file: string): RequestTrace {
  const all = lines(text);
  const [iTime, iCtx, iGen] = columns(all[0], ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'], file) as [
    number,
    number,
    number,
  ];
  const rows: [number, number, number][] = [];
  for (let n = 1; n < all.length; n++) {
    const line = all[n];
    if (!line) continue;
    const f = line.split(',');
    const t = azureTime(f[iTime] ?? '');
    const ctx = Number(f[iCtx]);
    const gen = Number(f[iGen]);
    if (!Number.isFinite(t) || !Number.isFinite(ctx) || !Number.isFinite(gen)) {
      throw new TailorError('InvalidInput', `${file}:${n + 1}: cannot read ${JSON.stringify(line)}`);
    }
    rows.push([t, Math.max(0, ctx), Math.max(0, gen)]);
  }
  if (rows.length === 0) throw new TailorError('InvalidInput', `${file}: no requests`);
  rows.sort((a, b) => a[0] - b[0]);
  const t0 = rows[0]![0];
  const arrivals = new Float64Array(rows.length);
  const contextTokens = new Uint32Array(rows.length);
  const generatedTokens = new Uint32Array(rows.length);
  rows.forEach(([t, c, g], i) => {
    arrivals[i] = t - t0;
    contextTokens[i] = c;
    generatedTokens[i] = g;
  });
  const durationSeconds = Math.floor(arrivals[rows.length - 1]!) + 1;
  const tokensPerSecond = new Float64Array(durationSeconds);
  const perSecond = new Float64Array(durationSeconds);
  for (let i = 0; i < rows.length; i++) {
    const s = Math.floor(arrivals[i]!);
    tokensPerSecond[s]! += contextTokens[i]! + generatedTokens[i]!;
    perSecond[s]! += 1;
  }
  return {
    name,
    arrivals,
    contextTokens,
    generatedTokens,
    durationSeconds,
    tokensPerSecond,
    tokensPrefix: prefix(tokensPerSecond),
    requestsPrefix: prefix(perSecond),
  };
}

function prefix(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length + 1);
  for (let i = 0; i < a.length; i++) out[i + 1] = out[i]! + a[i]!;
  return out;
}

export function parseAlibaba(
  text: string,
  metric: AlibabaMetric,
  file: string,
): { order: string[]; byPod: Map<string, PodSeries> } {
  const all = lines(text);
  const [iValue, iTime, iPod] = columns(all[0], ['value', 'timestamp_anon', 'container_ip'], file) as [
    number,
    number,
    number,
  ];
  const raw = new Map<string, { t: number[]; v: number[] }>();
  for (let n = 1; n < all.length; n++) {
    const line = all[n];
    if (!line) continue;
    const f = line.split(',');
    const pod = f[iPod] ?? '';
    // A few published rows lost their pod id; they belong to no series.
    if (pod === '') continue;
    const t = Number(f[iTime]);
    const v = Number(f[iValue]);
    if (!Number.isFinite(t) || !Number.isFinite(v)) {
      throw new TailorError('InvalidInput', `${file}:${n + 1}: cannot read ${JSON.stringify(line)}`);
    }
    let r = raw.get(pod);
    if (!r) raw.set(pod, (r = { t: [], v: [] }));
    r.t.push(t);
    r.v.push(v);
  }
  const byPod = new Map<string, PodSeries>();
  for (const [pod, r] of raw) {
    const idx = r.t.map((_, i) => i);
    if (r.t.some((t, i) => i > 0 && t < r.t[i - 1]!)) idx.sort((a, b) => r.t[a]! - r.t[b]!);
    const times = Float64Array.from(idx, (i) => r.t[i]!);
    const values = Float64Array.from(idx, (i) => r.v[i]!);
    byPod.set(pod, { pod, metric, times, values, stepSeconds: medianStep(times) });
  }
  return { order: [...raw.keys()], byPod };
}

function medianStep(times: Float64Array): number {
  if (times.length < 2) return 60;
  const d = Array.from(times.subarray(1), (t, i) => t - times[i]!).sort((a, b) => a - b);
  return d[d.length >> 1]! || 60;
}
