// What metrics-server keeps between scrapes and serves as metrics.k8s.io: the last two points of
// each node and container, usage as the rate between them, stamped with the kubelet's reading time
// (sigs.k8s.io/metrics-server v0.8.0 pkg/storage/{pod,node,types}.go, pkg/scraper/client/resource/
// decode.go). The built-in fallback server follows it so both servers show the same semantics.
import type { ResourceReading } from './resource-metrics.ts';

/** A point as metrics-server stores it: times in wall-clock milliseconds. */
export interface StoredPoint {
  readonly startTimeMs: number;
  readonly timestampMs: number;
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
}

export interface Usage {
  /** Cores, over the window. */
  readonly cpuCores: number;
  readonly memoryBytes: number;
  /** The later point's timestamp (ms) and the window between the two points (ms). */
  readonly timestampMs: number;
  readonly windowMs: number;
}

/** Under this age a new container's start is no usable first point (storage/pod.go). */
const FRESH_CONTAINER_MIN_MS = 10_000;

type PodKey = string;
const podKey = (namespace: string, name: string): PodKey => `${namespace}/${name}`;

/** Rate between two points, or why there is none (resourceUsage in storage/types.go). */
function usageBetween(
  last: StoredPoint,
  prev: StoredPoint,
): Usage | 'StartTimeDecreased' | 'CounterDecreased' {
  if (last.startTimeMs < prev.startTimeMs) return 'StartTimeDecreased';
  if (last.cpuSeconds < prev.cpuSeconds) return 'CounterDecreased';
  const windowMs = last.timestampMs - prev.timestampMs;
  return {
    cpuCores: windowMs > 0 ? (last.cpuSeconds - prev.cpuSeconds) / (windowMs / 1000) : 0,
    memoryBytes: last.memoryBytes,
    timestampMs: last.timestampMs,
    windowMs,
  };
}

export class MetricsStore {
  private lastNodes = new Map<string, StoredPoint>();
  private prevNodes = new Map<string, StoredPoint>();
  private lastPods = new Map<PodKey, Map<string, StoredPoint>>();
  private prevPods = new Map<PodKey, Map<string, StoredPoint>>();

  constructor(private readonly resolutionMs: number) {}

  /** Ready once some node or pod has two points (storage.Ready). */
  ready(): boolean {
    return this.prevNodes.size > 0 || this.prevPods.size > 0;
  }

  /**
   * One scrape of every node. A node whose counter or working set reads 0 is dropped, and so is a
   * pod one of whose containers does (decode.go), as metrics-server does with incomplete points.
   */
  store(readings: ReadonlyMap<string, ResourceReading>): void {
    const lastNodes = new Map<string, StoredPoint>();
    const prevNodes = new Map<string, StoredPoint>();
    const lastPods = new Map<PodKey, Map<string, StoredPoint>>();
    const prevPods = new Map<PodKey, Map<string, StoredPoint>>();
    for (const [node, r] of readings) {
      if (r.node.cpuSeconds > 0 && r.node.memoryBytes > 0) {
        const point: StoredPoint = { ...r.node, startTimeMs: 0 };
        lastNodes.set(node, point);
        const last = this.lastNodes.get(node);
        const prev = this.prevNodes.get(node);
        if (last && point.timestampMs > last.timestampMs) prevNodes.set(node, last);
        else if (prev && prev.timestampMs < point.timestampMs) prevNodes.set(node, prev);
      }
      for (const p of r.pods) {
        if (p.containers.some((c) => c.cpuSeconds <= 0 || c.memoryBytes <= 0)) continue;
        const key = podKey(p.namespace, p.name);
        const newLast = new Map<string, StoredPoint>();
        const newPrev = new Map<string, StoredPoint>();
        for (const c of p.containers) {
          const point: StoredPoint = {
            startTimeMs: c.startTimeSeconds * 1000,
            timestampMs: c.timestampMs,
            cpuSeconds: c.cpuSeconds,
            memoryBytes: c.memoryBytes,
          };
          newLast.set(c.name, point);
          const age = point.timestampMs - point.startTimeMs;
          if (age > 0 && age < this.resolutionMs && age >= FRESH_CONTAINER_MIN_MS) {
            // A container started within the last resolution: its start is the first point (0 CPU).
            newPrev.set(c.name, { ...point, timestampMs: point.startTimeMs, cpuSeconds: 0 });
            continue;
          }
          const last = this.lastPods.get(key)?.get(c.name);
          // A restart since the stored point (start after it) keeps no earlier point.
          if (!last || !(point.startTimeMs < last.timestampMs)) continue;
          if (point.timestampMs > last.timestampMs) newPrev.set(c.name, last);
          else {
            const prev = this.prevPods.get(key)?.get(c.name);
            if (prev && prev.timestampMs < point.timestampMs) newPrev.set(c.name, prev);
          }
        }
        if (newPrev.size) prevPods.set(key, newPrev);
        lastPods.set(key, newLast);
      }
    }
    this.lastNodes = lastNodes;
    this.prevNodes = prevNodes;
    this.lastPods = lastPods;
    this.prevPods = prevPods;
  }

  node(name: string): Usage | undefined {
    const last = this.lastNodes.get(name);
    const prev = this.prevNodes.get(name);
    if (!last || !prev) return undefined;
    const u = usageBetween(last, prev);
    return typeof u === 'string' ? undefined : u;
  }

  /**
   * A pod's containers' usage, stamped with the earliest container's point; undefined until each
   * of its containers has two points (a new pod waits two scrapes; storage/pod.go GetMetrics).
   */
  pod(
    namespace: string,
    name: string,
  ): { timestampMs: number; windowMs: number; containers: { name: string; usage: Usage }[] } | undefined {
    const key = podKey(namespace, name);
    const last = this.lastPods.get(key);
    const prev = this.prevPods.get(key);
    if (!last || !prev) return undefined;
    const containers: { name: string; usage: Usage }[] = [];
    let earliest: Usage | undefined;
    for (const [c, point] of last) {
      const before = prev.get(c);
      if (!before) return undefined;
      const u = usageBetween(point, before);
      if (typeof u === 'string') continue;
      containers.push({ name: c, usage: u });
      if (!earliest || earliest.timestampMs > u.timestampMs) earliest = u;
    }
    return {
      timestampMs: earliest?.timestampMs ?? 0,
      windowMs: earliest?.windowMs ?? 0,
      containers,
    };
  }
}
