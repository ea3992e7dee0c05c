// The kubelet's resource metrics (GET /metrics/resource, what metrics-server scrapes): one reading
// of a node, its pods and their *running* containers, and its text as the kubelet writes it
// (kubernetes pkg/kubelet/metrics/collectors/resource_metrics.go, component-base's exposition).
import type { Clock } from '../clock.ts';
import type { ContainerState, PodState } from '../kubelet/state.ts';
import { cpuUsed, type UsageView } from './view.ts';

/**
 * What a node's own processes (kubelet, runtime, system daemons) use: a real node never reads 0,
 * and metrics-server drops a node whose CPU counter or working set is 0 (decode.go).
 */
export const NODE_SYSTEM_USAGE = { cpuCores: 0.05, memoryBytes: 384 * 2 ** 20 } as const;

/** One sample: a counter in core-seconds, a gauge in bytes, stamped in wall-clock milliseconds. */
export interface ResourcePoint {
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
  readonly timestampMs: number;
}

export interface ContainerReading extends ResourcePoint {
  readonly name: string;
  /** Wall-clock seconds since the epoch of the current run's start. */
  readonly startTimeSeconds: number;
}

export interface PodReading extends ResourcePoint {
  readonly namespace: string;
  readonly name: string;
  readonly containers: readonly ContainerReading[];
}

export interface ResourceReading {
  readonly node: ResourcePoint;
  readonly pods: readonly PodReading[];
}

/**
 * Whether the container runtime has a running container to measure: the kubelet's stats come from
 * the runtime's live containers (cgroups), so a pod still Pending or a container waiting in
 * CrashLoopBackOff has none, and is missing from the endpoint rather than reading 0.
 */
export function isRunning(p: PodState, c: ContainerState): boolean {
  return p.phase === 'Running' && c.backOffUntil === undefined;
}

/**
 * The node's cumulative CPU counter (the root cgroup's, monotonic since boot): integrated from
 * each reading's usage, so pods leaving the node never make it go down (metrics-server refuses a
 * counter that decreases).
 */
export class NodeCpuCounters {
  private readonly counters = new Map<string, { at: number; coreSeconds: number }>();

  /** Advances `node`'s counter to simulated time `now` at `cores`, returning simulated core-seconds. */
  advance(node: string, now: number, cores: number): number {
    const c = this.counters.get(node);
    if (!c) {
      // Booted a moment before the first reading: the counter is never 0.
      const first = { at: now, coreSeconds: cores };
      this.counters.set(node, first);
      return first.coreSeconds;
    }
    if (now > c.at) {
      c.coreSeconds += cores * (now - c.at);
      c.at = now;
    }
    return c.coreSeconds;
  }
}

/**
 * Each container run's CPU counter from 0 at its start, as the runtime's cgroup counts it (a
 * restart is a new container): the simulator keeps one counter across restarts, so a restarted
 * run's base is taken at first sight, extrapolated back to its start at its current rate.
 */
export class ContainerRunCounters {
  private readonly bases = new Map<string, number>();

  since(key: string, restartCount: number, total: number, coresNow: number, runSeconds: number): number {
    if (restartCount === 0) return total;
    let base = this.bases.get(key);
    if (base === undefined) {
      base = Math.max(0, total - coresNow * Math.max(0, runSeconds));
      if (this.bases.size > 100_000) this.bases.clear();
      this.bases.set(key, base);
    }
    return Math.max(0, total - base);
  }
}

/**
 * One reading of `node`, as the kubelet's summary provider takes it: stamped with the time its
 * figures were taken, not the request's (a rate over a stamp off by a tick is off by a few %). Counters are divided by the
 * clock's speed and stamped in wall time: the rate a reader computes (Δcounter / Δtimestamp) is
 * then the simulated cores whatever the speed, and the stamps compare with the reader's own clock.
 */
export function readResources(
  view: UsageView,
  node: string,
  clock: Clock,
  nodeCpu: NodeCpuCounters,
  runs: ContainerRunCounters,
  /** Simulated time the counters were taken at (the kubelet's last tick); stamps must match it. */
  takenAt: number = view.now(),
): ResourceReading {
  const now = takenAt;
  // The text carries whole milliseconds: the counters are moved to that instant (at the current
  // rate), so a steady container's rate between two readings is exact, not off by a rounding.
  const stampMs = Math.round(clock.wall(now).getTime());
  const shiftSim = ((stampMs - clock.wall(now).getTime()) / 1000) * clock.speed;
  const wallSeconds = (t: number) => clock.wall(t).getTime() / 1000;
  let nodeCores = NODE_SYSTEM_USAGE.cpuCores;
  let nodeMemory = NODE_SYSTEM_USAGE.memoryBytes;
  const pods: PodReading[] = [];
  for (const p of view.pods()) {
    if (p.node !== node) continue;
    const containers: ContainerReading[] = [];
    for (const c of p.containers.values()) {
      if (!isRunning(p, c)) continue;
      nodeCores += cpuUsed(c);
      nodeMemory += c.usage.memoryBytes;
      containers.push({
        name: c.name,
        startTimeSeconds: wallSeconds(c.startedAt),
        cpuSeconds:
          Math.max(
            0,
            runs.since(
              `${p.uid}/${c.name}/${c.startedAt}`,
              c.restartCount,
              // The kubelet's counter is on the wall-clock axis (docs/decisions/0023): back to simulated seconds here.
              c.cpuSecondsTotal * clock.speed,
              cpuUsed(c),
              now - c.startedAt,
            ) +
              cpuUsed(c) * shiftSim,
          ) / clock.speed,
        memoryBytes: Math.round(c.usage.memoryBytes),
        timestampMs: stampMs,
      });
    }
    if (!containers.length) continue;
    pods.push({
      namespace: p.namespace,
      name: p.name,
      containers,
      cpuSeconds: containers.reduce((s, c) => s + c.cpuSeconds, 0),
      memoryBytes: containers.reduce((s, c) => s + c.memoryBytes, 0),
      timestampMs: stampMs,
    });
  }
  return {
    node: {
      cpuSeconds: Math.max(0, nodeCpu.advance(node, now, nodeCores) + nodeCores * shiftSim) / clock.speed,
      memoryBytes: Math.round(nodeMemory),
      timestampMs: stampMs,
    },
    pods,
  };
}

type Family = {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: { labels: Record<string, string>; value: number; timestampMs?: number }[];
};

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * The text the kubelet serves: families sorted by name, HELP prefixed with the stability level,
 * labels sorted by name, series sorted by labels, each sample with its reading's timestamp (ms).
 * Swap series are absent (no swap on simulated nodes); `scrape_error`, deprecated in 1.29, is
 * hidden by component-base from 1.30 on (metrics/desc.go), so only `resource_scrape_error` shows.
 */
export function resourceMetricsText(r: ResourceReading): string {
  const containerLabels = (p: PodReading, c: ContainerReading) => ({
    container: c.name,
    namespace: p.namespace,
    pod: p.name,
  });
  const podLabels = (p: PodReading) => ({ namespace: p.namespace, pod: p.name });
  const families: Family[] = [
    {
      name: 'container_cpu_usage_seconds_total',
      help: '[STABLE] Cumulative cpu time consumed by the container in core-seconds',
      type: 'counter',
      samples: r.pods.flatMap((p) =>
        p.containers.map((c) => ({
          labels: containerLabels(p, c),
          value: c.cpuSeconds,
          timestampMs: c.timestampMs,
        })),
      ),
    },
    {
      name: 'container_memory_working_set_bytes',
      help: '[STABLE] Current working set of the container in bytes',
      type: 'gauge',
      samples: r.pods.flatMap((p) =>
        p.containers.map((c) => ({
          labels: containerLabels(p, c),
          value: c.memoryBytes,
          timestampMs: c.timestampMs,
        })),
      ),
    },
    {
      // A plain gauge without a timestamp, as collectContainerStartTime writes it.
      name: 'container_start_time_seconds',
      help: '[STABLE] Start time of the container since unix epoch in seconds',
      type: 'gauge',
      samples: r.pods.flatMap((p) =>
        p.containers.map((c) => ({ labels: containerLabels(p, c), value: c.startTimeSeconds })),
      ),
    },
    {
      name: 'node_cpu_usage_seconds_total',
      help: '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
      type: 'counter',
      samples: [{ labels: {}, value: r.node.cpuSeconds, timestampMs: r.node.timestampMs }],
    },
    {
      name: 'node_memory_working_set_bytes',
      help: '[STABLE] Current working set of the node in bytes',
      type: 'gauge',
      samples: [{ labels: {}, value: r.node.memoryBytes, timestampMs: r.node.timestampMs }],
    },
    {
      name: 'pod_cpu_usage_seconds_total',
      help: '[STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      type: 'counter',
      samples: r.pods.map((p) => ({ labels: podLabels(p), value: p.cpuSeconds, timestampMs: p.timestampMs })),
    },
    {
      name: 'pod_memory_working_set_bytes',
      help: '[STABLE] Current working set of the pod in bytes',
      type: 'gauge',
      samples: r.pods.map((p) => ({
        labels: podLabels(p),
        value: p.memoryBytes,
        timestampMs: p.timestampMs,
      })),
    },
    {
      name: 'resource_scrape_error',
      help: '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      type: 'gauge',
      samples: [{ labels: {}, value: 0 }],
    },
  ];
  const out: string[] = [];
  for (const f of families) {
    // The registry leaves out a family with no series (a node without running containers).
    if (!f.samples.length) continue;
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    const lines = f.samples.map((s) => {
      const names = Object.keys(s.labels).sort();
      const labels = names.length ? `{${names.map((k) => `${k}="${escape(s.labels[k]!)}"`).join(',')}}` : '';
      return {
        key: names.map((k) => s.labels[k]).join('\u0000'),
        line: `${f.name}${labels} ${formatValue(s.value)}${s.timestampMs !== undefined ? ` ${Math.round(s.timestampMs)}` : ''}`,
      };
    });
    lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    out.push(...lines.map((l) => l.line));
  }
  return out.join('\n') + '\n';
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64), as the Prometheus client writes values (1e+06, 2.5e-05). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  if (v === 0) return '0';
  const [mantissa, e] = v.toExponential().split('e');
  const exp = Number(e);
  // Shortest 'g' switches to %e below 1e-4 and from 1e+06 on (precision 6 for the decision).
  if (exp < -4 || exp >= 6)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(v);
}
