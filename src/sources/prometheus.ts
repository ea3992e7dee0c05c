// Usage history from Prometheus (cAdvisor names, as the kubelet exports them): per-minute memory
// peaks, CPU rates and OOM kills over a window, read in time chunks with range queries, the way
// VPA's and KRR's Prometheus modes read weeks of history at start-up.
import { TailorError } from '../errors.ts';
import type { Scope } from './scope.ts';

export interface PodUsagePoint {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Middle of the step the values summarise, seconds since the epoch. */
  readonly t: number;
  readonly cpuCores: number | undefined;
  readonly memoryBytes: number | undefined;
}

export interface PodOom {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly t: number;
  readonly usageBytes: number;
}

/** Where OOM kills were read from: cAdvisor's counter, else restarts whose last reason was OOMKilled. */
export type OomSource = 'ContainerOomEvents' | 'RestartsWithReason' | 'None';

export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  /** [seconds since the epoch, value], oldest first; NaN and infinities dropped. */
  readonly values: readonly (readonly [number, number])[];
}

export interface PrometheusClientOptions {
  /** e.g. http://prometheus-server.monitoring:9090 (a path prefix such as /prometheus is kept). */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Prometheus refuses range queries of more points per series than this. */
const MAX_POINTS = 11_000;

export class PrometheusClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: PrometheusClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (cause) {
      throw new TailorError('InvalidInput', `"${options.baseUrl}" is not a Prometheus URL`, {
        cause,
        hint: 'give the base URL, e.g. --prometheus http://prometheus-server.monitoring:9090',
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TailorError('InvalidInput', `"${options.baseUrl}" is not an http(s) URL`, {
        hint: 'give the base URL, e.g. --prometheus http://localhost:9090',
      });
    }
    this.base = url.toString().replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async queryRange(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]> {
    if ((end - start) / stepSeconds + 1 > MAX_POINTS) {
      throw new TailorError(
        'Internal',
        `range query of ${(end - start) / stepSeconds + 1} points per series; chunk it`,
      );
    }
    const data = await this.call('query_range', {
      query,
      start: String(start),
      end: String(end),
      step: `${stepSeconds}s`,
    });
    return matrix(data, query);
  }

  /** Label sets of the series matching `match` between start and end (an index lookup, no samples). */
  async series(match: string, start: number, end: number): Promise<Record<string, string>[]> {
    const data = await this.call('series', { 'match[]': match, start: String(start), end: String(end) });
    return Array.isArray(data) ? (data as Record<string, string>[]) : [];
  }

  private async call(endpoint: string, params: Record<string, string>): Promise<unknown> {
    const url = `${this.base}/api/v1/${endpoint}`;
    let res: Response;
    try {
      // POST, so long selectors never hit a URL length limit.
      res = await this.fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.options.headers },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new TailorError(
        'Prerequisite',
        `cannot reach Prometheus at ${this.base}: ${describeCause(cause)}`,
        {
          cause,
          hint: 'check the --prometheus URL (the server, not a Grafana or Alertmanager one), or leave it out to sample metrics.k8s.io',
        },
      );
    }
    const text = await res.text();
    let body: { status?: string; data?: unknown; error?: string; errorType?: string } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: a proxy page, or not Prometheus at all
    }
    if (!res.ok || body.status !== 'success') {
      const why = body.error
        ? `${body.errorType ?? 'error'}: ${body.error}`
        : `HTTP ${res.status}: ${text.slice(0, 200)}`;
      throw new TailorError('Prerequisite', `Prometheus at ${this.base} answered ${endpoint} with ${why}`, {
        hint:
          res.status === 404
            ? 'the URL must be the Prometheus server root (it serves /api/v1/query_range)'
            : 'too many samples? read a shorter --window or fewer namespaces',
      });
    }
    return body.data;
  }
}

function matrix(data: unknown, query: string): RangeSeries[] {
  const d = data as {
    resultType?: string;
    result?: { metric?: Record<string, string>; values?: [number, string][] }[];
  };
  if (d?.resultType !== 'matrix' || !Array.isArray(d.result)) {
    throw new TailorError(
      'Internal',
      `Prometheus returned ${d?.resultType ?? 'nothing'} for a range query: ${query}`,
    );
  }
  return d.result.map((r) => ({
    metric: r.metric ?? {},
    values: (r.values ?? [])
      .map(([t, v]) => [Number(t), Number(v)] as const)
      .filter(([, v]) => Number.isFinite(v)),
  }));
}

function describeCause(cause: unknown): string {
  const c = cause as { message?: string; cause?: { code?: string; message?: string } };
  return c.cause?.code ?? c.cause?.message ?? c.message ?? String(cause);
}

const BY = 'namespace, pod, container';

/** The series selector for a scope: app containers only (cAdvisor also exports the pod's cgroup and pause). */
export function selector(scope: Scope, extra = ''): string {
  const ns =
    scope.kind === 'AllNamespaces'
      ? 'namespace!=""'
      : `namespace=~"${scope.namespaces.map((n) => n.replace(/[\\"]/g, '\\$&').replace(/[.*+?^${}()|[\]]/g, '\\\\$&')).join('|')}"`;
  return `{${ns},pod!="",container!="",container!="POD"${extra ? `,${extra}` : ''}}`;
}

export interface HistoryQueries {
  readonly memory: string;
  readonly cpu: string;
  readonly memoryLimit: string;
  readonly oomEvents: string;
  readonly oomRestarts: string;
}

/**
 * The queries, per step: the memory peak and the CPU rate of each container. `max by` rather than
 * `sum by`: a container scraped by two jobs (or exported with extra labels) counts once.
 */
export function historyQueries(scope: Scope, stepSeconds: number, rateWindowSeconds: number): HistoryQueries {
  const sel = selector(scope);
  // The OOM window spans two steps so a kill between two evaluation windows is not lost; runs of
  // positive steps are then merged into one event.
  const oomWindow = `${2 * stepSeconds}s`;
  return {
    memory: `max by (${BY}) (max_over_time(container_memory_working_set_bytes${sel}[${stepSeconds}s]))`,
    // rate() divides by the whole window, so a window the series only partly covers (a container's
    // first minute, Prometheus's own first minute) reads low; keep only steps whose series already
    // existed a window earlier, so a shrink is never recommended on such a reading.
    cpu:
      `max by (${BY}) (rate(container_cpu_usage_seconds_total${sel}[${rateWindowSeconds}s])) ` +
      `and on (${BY}) max by (${BY}) (container_cpu_usage_seconds_total${sel} offset ${rateWindowSeconds}s)`,
    memoryLimit: `max by (${BY}) (max_over_time(container_spec_memory_limit_bytes${sel}[${oomWindow}]))`,
    oomEvents: `max by (${BY}) (increase(container_oom_events_total${sel}[${oomWindow}])) > 0`,
    oomRestarts:
      `max by (${BY}) (increase(kube_pod_container_status_restarts_total${sel}[${oomWindow}])) > 0 ` +
      `and on (${BY}) max by (${BY}) (kube_pod_container_status_last_terminated_reason${selector(scope, 'reason="OOMKilled"')}) == 1`,
  };
}

export interface PrometheusHistoryOptions {
  readonly scope: Scope;
  /** Seconds since the epoch. */
  readonly start: number;
  readonly end: number;
  /** One point per container per step (60: one-minute peaks, what the history store keeps). */
  readonly stepSeconds?: number;
  /** The CPU rate's window; at least two scrapes must fall in it (1m for scrapes every 30 s or less). */
  readonly rateWindowSeconds?: number;
  /** Each range query covers at most this much, so a large cluster's answer stays small. */
  readonly chunkSeconds?: number;
  /** Gets each chunk's points (and OOM kills) so the caller aggregates them as they come. */
  readonly onChunk: (points: PodUsagePoint[], ooms: PodOom[]) => void;
}

export interface PrometheusHistoryResult {
  readonly points: number;
  readonly containers: number;
  readonly ooms: number;
  readonly oomSource: OomSource;
}

export async function readPrometheusHistory(
  client: PrometheusClient,
  o: PrometheusHistoryOptions,
): Promise<PrometheusHistoryResult> {
  const step = o.stepSeconds ?? 60;
  const q = historyQueries(o.scope, step, o.rateWindowSeconds ?? Math.max(60, step));
  const chunk = Math.max(
    step,
    Math.floor(Math.min(o.chunkSeconds ?? 6 * 3600, (MAX_POINTS - 1) * step) / step) * step,
  );
  // Steps end at `end` itself, so the freshest minute is read (not cut at the last whole minute).
  const end = o.end;
  const start = end - Math.floor((end - o.start) / step) * step;
  const oomSource = await findOomSource(client, o.scope, start, end);
  const containers = new Set<string>();
  let points = 0;
  let ooms = 0;
  for (let from = start; from <= end; from += chunk + step) {
    const to = Math.min(end, from + chunk);
    const [memory, cpu] = await Promise.all([
      client.queryRange(q.memory, from, to, step),
      client.queryRange(q.cpu, from, to, step),
    ]);
    const merged = mergePoints(memory, cpu, step);
    for (const p of merged) containers.add(`${p.namespace}/${p.pod}/${p.container}`);
    let found: PodOom[] = [];
    if (oomSource !== 'None') {
      const events = await client.queryRange(
        oomSource === 'ContainerOomEvents' ? q.oomEvents : q.oomRestarts,
        from,
        to,
        step,
      );
      if (events.length > 0)
        found = oomEvents(events, await client.queryRange(q.memoryLimit, from, to, step), memory, step);
    }
    points += merged.length;
    ooms += found.length;
    o.onChunk(merged, found);
  }
  return { points, containers: containers.size, ooms, oomSource };
}

async function findOomSource(
  client: PrometheusClient,
  scope: Scope,
  start: number,
  end: number,
): Promise<OomSource> {
  if ((await client.series(`container_oom_events_total${selector(scope)}`, start, end)).length > 0)
    return 'ContainerOomEvents';
  const reasons = await client.series(
    `kube_pod_container_status_last_terminated_reason${selector(scope)}`,
    start,
    end,
  );
  return reasons.length > 0 ? 'RestartsWithReason' : 'None';
}

function containerOf(
  metric: Readonly<Record<string, string>>,
): { namespace: string; pod: string; container: string } | undefined {
  const { namespace, pod, container } = metric;
  return namespace && pod && container ? { namespace, pod, container } : undefined;
}

/** Memory and CPU series joined per container and step. */
export function mergePoints(
  memory: readonly RangeSeries[],
  cpu: readonly RangeSeries[],
  stepSeconds: number,
): PodUsagePoint[] {
  const byKey = new Map<
    string,
    { namespace: string; pod: string; container: string; t: number; cpu?: number; mem?: number }
  >();
  const put = (series: readonly RangeSeries[], field: 'cpu' | 'mem') => {
    for (const s of series) {
      const c = containerOf(s.metric);
      if (!c) continue;
      for (const [t, v] of s.values) {
        const key = `${c.namespace}/${c.pod}/${c.container}/${t}`;
        let p = byKey.get(key);
        if (!p) byKey.set(key, (p = { ...c, t }));
        p[field] = v;
      }
    }
  };
  put(memory, 'mem');
  put(cpu, 'cpu');
  // A value at evaluation time T summarises (T - step, T]: stamp it inside that interval.
  return [...byKey.values()].map((p) => ({
    namespace: p.namespace,
    pod: p.pod,
    container: p.container,
    t: p.t - stepSeconds / 2,
    cpuCores: p.cpu,
    memoryBytes: p.mem,
  }));
}

/**
 * One OOM kill per run of consecutive positive steps (the window spans two steps, so one kill shows
 * twice). Usage at the kill: the higher of the memory limit and the peak seen around it.
 */
export function oomEvents(
  events: readonly RangeSeries[],
  limits: readonly RangeSeries[],
  memory: readonly RangeSeries[],
  stepSeconds: number,
): PodOom[] {
  const index = (series: readonly RangeSeries[]) => {
    const m = new Map<string, Map<number, number>>();
    for (const s of series) {
      const c = containerOf(s.metric);
      if (c) m.set(`${c.namespace}/${c.pod}/${c.container}`, new Map(s.values.map(([t, v]) => [t, v])));
    }
    return m;
  };
  const limitOf = index(limits);
  const memOf = index(memory);
  const out: PodOom[] = [];
  for (const s of events) {
    const c = containerOf(s.metric);
    if (!c) continue;
    const key = `${c.namespace}/${c.pod}/${c.container}`;
    let runEnd = -Infinity;
    for (const [t, v] of s.values) {
      if (!(v > 0)) continue;
      const continues = t - runEnd <= stepSeconds;
      runEnd = t;
      if (continues) continue;
      let usage = 0;
      for (const dt of [-stepSeconds, 0, stepSeconds]) {
        usage = Math.max(usage, limitOf.get(key)?.get(t + dt) ?? 0, memOf.get(key)?.get(t + dt) ?? 0);
      }
      // The step before was not positive, so the kill fell in (t - step, t]. Without a limit or a
      // memory reading there is no usage to size from: skip rather than guess.
      if (usage > 0) out.push({ ...c, t: t - stepSeconds / 2, usageBytes: usage });
    }
  }
  return out;
}
