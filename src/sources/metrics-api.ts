// Usage from the metrics.k8s.io/v1beta1 API (metrics-server, or the simulator behind a real
// APIService): PodMetrics lists parsed into typed per-container samples, and a poller that keeps
// only samples it has not seen (metrics-server answers the same scrape until its next one).
import type * as k8s from '@kubernetes/client-node';
import { TailorError } from '../errors.ts';
import { classify } from '../kube/errors.ts';
import { parseQuantity } from '../core/quantity.ts';
import type { Scope } from './scope.ts';

export interface ContainerSample {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Seconds since the epoch: when the metrics pipeline measured it, not when it was read. */
  readonly t: number;
  readonly cpuCores: number;
  readonly memoryBytes: number;
}

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';

interface PodMetrics {
  metadata?: { name?: string; namespace?: string };
  timestamp?: string;
  containers?: { name?: string; usage?: { cpu?: string; memory?: string } }[];
}

/** Samples from a PodMetricsList body; malformed entries are skipped, not guessed. */
export function parsePodMetricsList(body: unknown, fallbackTime: number): ContainerSample[] {
  const items = (body as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items)) return [];
  const out: ContainerSample[] = [];
  for (const item of items as PodMetrics[]) {
    const namespace = item.metadata?.namespace;
    const pod = item.metadata?.name;
    if (!namespace || !pod) continue;
    const parsed = item.timestamp ? Date.parse(item.timestamp) / 1000 : NaN;
    const t = Number.isFinite(parsed) ? parsed : fallbackTime;
    for (const c of item.containers ?? []) {
      const cpuCores = parseQuantity(c.usage?.cpu);
      const memoryBytes = parseQuantity(c.usage?.memory);
      if (!c.name || cpuCores === undefined || memoryBytes === undefined) continue;
      out.push({ namespace, pod, container: c.name, t, cpuCores, memoryBytes });
    }
  }
  return out;
}

/** One read of PodMetrics for the scope (one request per namespace, or one for all). */
export async function readPodMetrics(
  custom: k8s.CustomObjectsApi,
  scope: Scope,
  now: () => number = () => Date.now() / 1000,
): Promise<ContainerSample[]> {
  try {
    switch (scope.kind) {
      case 'AllNamespaces':
        return parsePodMetricsList(
          await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'pods' }),
          now(),
        );
      case 'Namespaces': {
        const lists = await Promise.all(
          scope.namespaces.map((namespace) =>
            custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'pods' }),
          ),
        );
        return lists.flatMap((l) => parsePodMetricsList(l, now()));
      }
    }
  } catch (err) {
    throw metricsApiError(err);
  }
}

/** The API missing or down is a setup problem with a known fix; say it. */
export function metricsApiError(err: unknown): TailorError {
  const f = classify(err);
  switch (f.kind) {
    case 'NotFound':
    case 'Unavailable':
      return new TailorError(
        'Prerequisite',
        `the ${GROUP}/${VERSION} API is not available (HTTP ${f.status}: ${f.message})`,
        {
          cause: err,
          hint:
            'install metrics-server (kubectl get apiservice v1beta1.metrics.k8s.io should say Available=True), ' +
            'or use --prometheus URL to read usage from Prometheus',
        },
      );
    case 'Forbidden':
      return new TailorError('KubernetesApi', `not allowed to list pods.${GROUP}: ${f.message}`, {
        cause: err,
        hint: `grant "list" on "pods" in API group "${GROUP}" to this user or service account`,
      });
    case 'Conflict':
    case 'AlreadyExists':
    case 'Invalid':
    case 'TooManyRequests':
    case 'Other':
      return new TailorError(
        'KubernetesApi',
        `reading ${GROUP} PodMetrics: ${f.kind} (HTTP ${f.status}): ${f.message}`,
        {
          cause: err,
        },
      );
  }
}

/**
 * Polls PodMetrics and returns only new measurements: one per (pod, container, timestamp). The
 * memory of last timestamps is dropped for pods that stop appearing, so churn does not grow it.
 */
export class MetricsPoller {
  private last = new Map<string, number>();

  constructor(
    private readonly custom: k8s.CustomObjectsApi,
    private readonly scope: Scope,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  async poll(): Promise<ContainerSample[]> {
    const samples = await readPodMetrics(this.custom, this.scope, this.now);
    const next = new Map<string, number>();
    const fresh: ContainerSample[] = [];
    for (const s of samples) {
      const key = `${s.namespace}/${s.pod}/${s.container}`;
      const seen = this.last.get(key);
      next.set(key, Math.max(seen ?? -Infinity, s.t));
      if (seen === undefined || s.t > seen) fresh.push(s);
    }
    this.last = next;
    return fresh;
  }
}

export interface SampleForOptions {
  readonly durationMs: number;
  readonly intervalMs: number;
  readonly onSamples: (samples: ContainerSample[]) => void;
  readonly signal?: AbortSignal;
}

/** Polls at once, then every interval until the duration has passed (one last poll at the end). */
export async function sampleFor(poller: MetricsPoller, o: SampleForOptions): Promise<number> {
  const deadline = Date.now() + o.durationMs;
  let count = 0;
  for (;;) {
    const batch = await poller.poll();
    count += batch.length;
    o.onSamples(batch);
    const left = deadline - Date.now();
    if (left <= 0 || o.signal?.aborted) return count;
    await new Promise((r) => setTimeout(r, Math.min(o.intervalMs, left)));
  }
}
