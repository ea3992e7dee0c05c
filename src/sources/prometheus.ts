// Usage history from Prometheus (cAdvisor names, as the kubelet exports them; kube-state-metrics'
// for OOM kills): per-minute memory peaks, CPU rates and OOM kills over a window, read in time
// chunks with range queries, the way VPA's and KRR's Prometheus modes read weeks of history at
// start-up. Queries name no job: each setup names its jobs its own way.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
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

/**
 * Where OOM kills were read from. kube-state-metrics' restarts whose last terminated reason is
 * OOMKilled are the signal a real cluster gives: cAdvisor's container_oom_events_total counts per
 * cgroup, and the cgroup of a container whose main process was killed is gone (with its count)
 * before a scrape sees it, so it reads about 0 (google/cadvisor manager/manager.go
 * watchForNewOoms). The counter still catches what the restarts cannot (a child process killed
 * while the container lives on), so it is added when present; alone, it is the fallback.
 */
export type OomSource =
  'RestartsWithReason' | 'RestartsWithReasonAndOomEvents' | 'ContainerOomEvents' | 'None';

export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  /** [seconds since the epoch, value], oldest first; NaN and infinities dropped. */
  readonly values: readonly (readonly [number, number])[];
}

export interface PrometheusClientOptions {
  /** e.g. http://prometheus-server.monitoring:9090 (a path prefix such as /prometheus is kept). */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  /** Per request, the answer's body included. Default 60 s. */
  readonly timeoutMs?: number;
  /** An answer larger than this is aborted mid-read (a failure, never a crash). Default 32 MiB. */
  readonly maxResponseBytes?: number;
  /** Sent as `Authorization: Bearer <contents>`, read at each request (projected tokens rotate). */
  readonly bearerTokenFile?: string;
  /** A file holding `user:password`, sent as HTTP basic auth; read at each request like the token. */
  readonly basicAuthFile?: string;
  /** PEM bundle the server's certificate must chain to (https), instead of the system's roots. */
  readonly caFile?: string;
  /** Aborts every request in flight (the operator stopping). */
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
  /** POST (default: no URL length limit) or GET (the apiserver's service proxy: `get` on services/proxy). */
  readonly method?: 'GET' | 'POST';
}

/** Prometheus refuses range queries of more points per series than this. */
const MAX_POINTS = 11_000;

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 2 ** 20;

/**
 * Why a request to Prometheus failed, in a closed form that holds nothing the server wrote except
 * its status code and a Prometheus errorType word: what a status condition may say.
 */
export type PrometheusFailure =
  | { readonly kind: 'Unreachable'; readonly code: string }
  | { readonly kind: 'Timeout'; readonly afterMs: number }
  | { readonly kind: 'HttpStatus'; readonly status: number }
  | { readonly kind: 'TooLarge'; readonly limitBytes: number }
  | { readonly kind: 'NotPrometheus' }
  | { readonly kind: 'QueryFailed'; readonly errorType: string }
  | {
      readonly kind: 'Credentials';
      readonly file: string;
      readonly code: string;
      /** Which credential the file holds; left out, the bearer token. */
      readonly credential?: 'basic auth';
    }
  | { readonly kind: 'Aborted' };

/** The failure in a few words, e.g. "HTTP 502", "timeout after 10s". Never any response text. */
export function describeFailure(f: PrometheusFailure): string {
  switch (f.kind) {
    case 'Unreachable':
      return `cannot connect (${f.code})`;
    case 'Timeout':
      return `timeout after ${seconds(f.afterMs)}`;
    case 'HttpStatus':
      return f.status === 401 || f.status === 403
        ? `refused the credentials (HTTP ${f.status})`
        : `HTTP ${f.status}`;
    case 'TooLarge':
      return `answer larger than ${humanSize(f.limitBytes)}, read aborted`;
    case 'NotPrometheus':
      return 'the answer is not the Prometheus HTTP API (JSON with status "success")';
    case 'QueryFailed':
      return `query failed (${f.errorType})`;
    case 'Credentials':
      if (f.code === 'NoColon') return `the basic auth file ${f.file} holds no "user:password"`;
      return `cannot read the ${f.credential ?? 'bearer token'} file ${f.file} (${f.code})`;
    case 'Aborted':
      return 'aborted';
  }
}

const failures = new WeakMap<object, PrometheusFailure>();

/** The structured reason of an error the client threw; undefined for any other error. */
export function failureOf(err: unknown): PrometheusFailure | undefined {
  return typeof err === 'object' && err !== null ? failures.get(err) : undefined;
}

function fail(
  base: string,
  endpoint: string,
  f: PrometheusFailure,
  options: { cause?: unknown; detail?: string; hint?: string } = {},
): TailorError {
  const what = ((): string => {
    switch (f.kind) {
      case 'Unreachable':
        return `cannot reach Prometheus at ${base}: ${f.code}`;
      case 'Credentials':
        return `Prometheus at ${base}: ${describeFailure(f)}`;
      case 'Timeout':
        return `Prometheus at ${base} did not answer ${endpoint}: ${describeFailure(f)}`;
      case 'Aborted':
        return `Prometheus at ${base}: ${endpoint} aborted`;
      case 'HttpStatus':
        // 401 and 403: the credentials (or their absence) are the problem, not the server.
        if (f.status === 401 || f.status === 403)
          return `Prometheus at ${base} refused the credentials (HTTP ${f.status}): check the bearer token or basic auth it was given, and that the account may query`;
        return `Prometheus at ${base} answered ${endpoint} with ${describeFailure(f)}`;
      case 'TooLarge':
      case 'NotPrometheus':
      case 'QueryFailed':
        return `Prometheus at ${base} answered ${endpoint} with ${describeFailure(f)}`;
    }
  })();
  const err = new TailorError(
    f.kind === 'Timeout' ? 'Timeout' : 'Prerequisite',
    options.detail ? `${what}: ${options.detail}` : what,
    { cause: options.cause, ...(options.hint ? { hint: options.hint } : {}) },
  );
  failures.set(err, f);
  return err;
}

export class PrometheusClient {
  private readonly base: string;
  private readonly shown: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

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
    // In messages and logs: without any user:password the URL carries.
    url.username = '';
    url.password = '';
    this.shown = url.toString().replace(/\/+$/, '');
    this.fetchFn =
      options.fetch ?? (options.caFile ? fetchTrusting(readFileSync(options.caFile, 'utf8')) : fetch);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
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
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = this.options.signal ? AbortSignal.any([timeout, this.options.signal]) : timeout;
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      ...this.options.headers,
    };
    const tokenFile = this.options.bearerTokenFile;
    if (tokenFile) {
      try {
        headers.authorization = `Bearer ${(await readFile(tokenFile, 'utf8')).trim()}`;
      } catch (cause) {
        throw fail(
          this.shown,
          endpoint,
          { kind: 'Credentials', file: tokenFile, code: codeOf(cause) },
          { cause },
        );
      }
    }
    const basicFile = this.options.basicAuthFile;
    if (basicFile) {
      let text: string;
      try {
        text = (await readFile(basicFile, 'utf8')).trim();
      } catch (cause) {
        throw fail(
          this.shown,
          endpoint,
          { kind: 'Credentials', file: basicFile, code: codeOf(cause), credential: 'basic auth' },
          { cause },
        );
      }
      if (!text.includes(':'))
        throw fail(this.shown, endpoint, {
          kind: 'Credentials',
          file: basicFile,
          code: 'NoColon',
          credential: 'basic auth',
        });
      headers.authorization = `Basic ${Buffer.from(text).toString('base64')}`;
    }
    const transport = (cause: unknown): TailorError =>
      fail(
        this.shown,
        endpoint,
        timeout.aborted
          ? { kind: 'Timeout', afterMs: this.timeoutMs }
          : this.options.signal?.aborted
            ? { kind: 'Aborted' }
            : { kind: 'Unreachable', code: codeOf(cause) },
        {
          cause,
          hint: 'check the --prometheus URL (the server, not a Grafana or Alertmanager one), or leave it out to sample metrics.k8s.io',
        },
      );
    let res: Response;
    let text: string | undefined;
    try {
      // POST, so long selectors never hit a URL length limit (GET through the apiserver's service
      // proxy, where POST needs `create` on services/proxy). Redirects are not followed: the
      // configured server answers, or the read fails with its status.
      const query = new URLSearchParams(params).toString();
      res =
        this.options.method === 'GET'
          ? await this.fetchFn(`${url}?${query}`, { method: 'GET', headers, signal, redirect: 'manual' })
          : await this.fetchFn(url, { method: 'POST', headers, body: query, signal, redirect: 'manual' });
      text = await readCapped(res, this.maxBytes);
    } catch (cause) {
      throw transport(cause);
    }
    if (text === undefined) {
      throw fail(
        this.shown,
        endpoint,
        { kind: 'TooLarge', limitBytes: this.maxBytes },
        { hint: 'read a shorter --window or fewer namespaces, or raise the size limit' },
      );
    }
    let body: { status?: unknown; data?: unknown; error?: unknown; errorType?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: a proxy page, or not Prometheus at all
    }
    if (res.ok && body.status === 'success') return body.data;
    if (body.status === 'error' && typeof body.errorType === 'string') {
      // Prometheus's errorType is a word (bad_data, execution, timeout...); its `error` text goes to
      // the CLI's message and the operator's log, never into a status.
      const errorType = /^[a-z_]{1,32}$/.test(body.errorType) ? body.errorType : 'unknown';
      throw fail(
        this.shown,
        endpoint,
        { kind: 'QueryFailed', errorType },
        {
          ...(typeof body.error === 'string' ? { detail: body.error.slice(0, 300) } : {}),
          hint: 'too many samples? read a shorter --window or fewer namespaces',
        },
      );
    }
    throw fail(
      this.shown,
      endpoint,
      res.ok ? { kind: 'NotPrometheus' } : { kind: 'HttpStatus', status: res.status },
      res.status === 401 || res.status === 403
        ? {}
        : {
            hint:
              res.status === 404 || res.ok
                ? 'the URL must be the Prometheus server root (it serves /api/v1/query_range)'
                : 'is the Prometheus server healthy?',
          },
    );
  }
}

/** The body as text, or undefined once it passes `max` bytes (the read is cancelled there). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!res.body) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * fetch over node:https trusting only `ca` (Node's fetch takes no CA without undici's Agent). Just
 * what the client uses: one request, its status, headers and a streamed body, abortable.
 */
function fetchTrusting(ca: string): typeof fetch {
  return agentFetch(new https.Agent({ ca, keepAlive: true }));
}

/**
 * fetch over node:http(s) with this agent (its TLS settings: CA, client certificate) and these
 * headers on every request, over the caller's (e.g. the kubeconfig's credentials, for the
 * apiserver's service proxy). Just what PrometheusClient uses.
 */
export function agentFetch(
  agent: http.Agent | undefined,
  headers: Readonly<Record<string, string>> = {},
): typeof fetch {
  const f = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const secure = url.protocol === 'https:';
      const req = (secure ? https : http).request(
        url,
        {
          method: init?.method ?? 'GET',
          headers: { ...(init?.headers as Record<string, string> | undefined), ...headers },
          ...(agent !== undefined && secure === agent instanceof https.Agent ? { agent } : {}),
          ...(init?.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 502;
          const body =
            status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status, headers: out }));
        },
      );
      req.on('error', reject);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    });
  return f;
}

/** A system error code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET...), never a message a server wrote. */
function codeOf(cause: unknown): string {
  const c = cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = c?.cause?.code ?? c?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'network error';
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

function humanSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
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

const BY = 'namespace, pod, container';

/** The series selector for a scope: app containers only (cAdvisor also exports the pod's cgroup and pause). */
export function selector(scope: Scope, extra = ''): string {
  return `{${namespaceMatcher(scope)},pod!="",container!="",container!="POD"${extra ? `,${extra}` : ''}}`;
}

/** The namespace label matcher for a scope, each name escaped (a regex of literal names). */
export function namespaceMatcher(scope: Scope): string {
  return scope.kind === 'AllNamespaces'
    ? 'namespace!=""'
    : `namespace=~"${scope.namespaces.map((n) => n.replace(/[\\"]/g, '\\$&').replace(/[.*+?^${}()|[\]]/g, '\\\\$&')).join('|')}"`;
}

export interface HistoryQueries {
  readonly memory: string;
  readonly cpu: string;
  readonly memoryLimit: string;
  /** cAdvisor's per-cgroup counter rising. */
  readonly oomEvents: string;
  /** kube-state-metrics: the restart counter rising while the last terminated reason is OOMKilled. */
  readonly oomRestarts: string;
  /** Either of the two (a step where both fire counts once). */
  readonly oomEither: string;
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
  const oomEvents = `max by (${BY}) (increase(container_oom_events_total${sel}[${oomWindow}])) > 0`;
  // The reason is read at the same step: KSM exports only the last termination's reason (value 1).
  const oomRestarts =
    `max by (${BY}) (increase(kube_pod_container_status_restarts_total${sel}[${oomWindow}])) > 0 ` +
    `and on (${BY}) max by (${BY}) (kube_pod_container_status_last_terminated_reason${selector(scope, 'reason="OOMKilled"')}) == 1`;
  return {
    memory: `max by (${BY}) (max_over_time(container_memory_working_set_bytes${sel}[${stepSeconds}s]))`,
    // rate() divides by the whole window, so a window the series only partly covers (a container's
    // first minute, Prometheus's own first minute) reads low; keep only steps whose series already
    // existed a window earlier, so a shrink is never recommended on such a reading.
    cpu:
      `max by (${BY}) (rate(container_cpu_usage_seconds_total${sel}[${rateWindowSeconds}s])) ` +
      `and on (${BY}) max by (${BY}) (container_cpu_usage_seconds_total${sel} offset ${rateWindowSeconds}s)`,
    // cAdvisor's limit is the one in force; a container killed before any scrape has no cAdvisor
    // series at all, so kube-state-metrics' limit from the spec stands in for it.
    memoryLimit:
      `max by (${BY}) (max_over_time(container_spec_memory_limit_bytes${sel}[${oomWindow}])) or ` +
      `max by (${BY}) (max_over_time(kube_pod_container_resource_limits${selector(scope, 'resource="memory"')}[${oomWindow}]))`,
    oomEvents,
    oomRestarts,
    oomEither: `(${oomRestarts}) or (${oomEvents})`,
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
      queryRangeSplitting(client, q.memory, from, to, step),
      queryRangeSplitting(client, q.cpu, from, to, step),
    ]);
    const merged = mergePoints(memory, cpu, step);
    for (const p of merged) containers.add(`${p.namespace}/${p.pod}/${p.container}`);
    let found: PodOom[] = [];
    if (oomSource !== 'None') {
      const events = await queryRangeSplitting(client, oomQuery(q, oomSource), from, to, step);
      if (events.length > 0)
        found = oomEvents(
          events,
          await queryRangeSplitting(client, q.memoryLimit, from, to, step),
          memory,
          step,
        );
    }
    points += merged.length;
    ooms += found.length;
    o.onChunk(merged, found);
  }
  return { points, containers: containers.size, ooms, oomSource };
}

/**
 * A range query whose answer passes the client's size cap is asked again in two halves of the time
 * range (down to a single step), so the cap bounds each answer, not the size of the cluster.
 */
export async function queryRangeSplitting(
  client: PrometheusClient,
  query: string,
  from: number,
  to: number,
  step: number,
): Promise<RangeSeries[]> {
  try {
    return await client.queryRange(query, from, to, step);
  } catch (err) {
    if (failureOf(err)?.kind !== 'TooLarge' || to - from < step) throw err;
    // Points sit at from, from + step, ... to: split on that grid.
    const mid = from + Math.floor((to - from) / step / 2) * step;
    const first = await queryRangeSplitting(client, query, from, mid, step);
    const second = await queryRangeSplitting(client, query, mid + step, to, step);
    return concatSeries(first, second);
  }
}

/** The series of two consecutive time ranges, joined per label set (values stay oldest first). */
function concatSeries(a: readonly RangeSeries[], b: readonly RangeSeries[]): RangeSeries[] {
  const key = (m: Readonly<Record<string, string>>) =>
    JSON.stringify(Object.entries(m).sort(([x], [y]) => x.localeCompare(y)));
  const out = new Map<
    string,
    { metric: Readonly<Record<string, string>>; values: (readonly [number, number])[] }
  >();
  for (const s of [...a, ...b]) {
    const k = key(s.metric);
    const e = out.get(k);
    if (e) e.values.push(...s.values);
    else out.set(k, { metric: s.metric, values: [...s.values] });
  }
  return [...out.values()];
}

function oomQuery(q: HistoryQueries, source: Exclude<OomSource, 'None'>): string {
  switch (source) {
    case 'RestartsWithReason':
      return q.oomRestarts;
    case 'RestartsWithReasonAndOomEvents':
      return q.oomEither;
    case 'ContainerOomEvents':
      return q.oomEvents;
  }
}

/**
 * Which OOM signals Prometheus holds for the scope. kube-state-metrics is known by its restart
 * counter (a series per container, killed or not; the reason series exists only after a termination).
 */
export async function findOomSource(
  client: PrometheusClient,
  scope: Scope,
  start: number,
  end: number,
): Promise<OomSource> {
  // One after the other: a Prometheus that is down fails the read at its first request.
  const restarts = await client.series(
    `kube_pod_container_status_restarts_total${selector(scope)}`,
    start,
    end,
  );
  const events = await client.series(`container_oom_events_total${selector(scope)}`, start, end);
  if (restarts.length > 0) return events.length > 0 ? 'RestartsWithReasonAndOomEvents' : 'RestartsWithReason';
  return events.length > 0 ? 'ContainerOomEvents' : 'None';
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
