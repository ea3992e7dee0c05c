// The simulated kubelet's allocation manager for in-place resizes (pkg/kubelet/allocation, 1.37):
// a resize is allocated in one step (PodResizeInProgress, no reason), actuated a tick or more later
// (the condition cleared, or reason Error); one that does not fit waits in the pending list, retried
// in the kubelet's order when a pod leaves, a pod shrinks, a new resize comes, or every 3 minutes.
import type * as k8s from '@kubernetes/client-node';
import { formatBytes, formatCpu, parseQuantity } from '../../core/quantity.ts';
import { orderPending, INITIAL_RETRY_S, RETRY_S, type PendingResize } from './pending-order.ts';
import {
  actuateResize,
  admitResize,
  isIncreasing,
  podRequests,
  samePodLevel,
  samePodResources,
  sameResources,
  DEFAULT_GATES,
  type Capacity,
  type PodLevelResources,
  type PodResources,
  type ResizeGates,
  type ResizePolicy,
  type Resources,
} from './resize.ts';
import {
  clearInProgress,
  clearPending,
  setInProgress,
  setPending,
  type ResizeConditions,
} from './resize-status.ts';

/** A restartable init container (sidecar): resized like a container; simplified: it uses nothing. */
export interface SidecarState {
  name: string;
  image: string;
  allocated: Resources;
  actual: Resources;
  policy: { cpu: ResizePolicy; memory: ResizePolicy };
}

/** What the allocation manager keeps of one pod, beside the containers' own allocated/actual. */
export interface ResizeBook {
  /** The spec's resources: regular containers and sidecars, and pod-level resources. */
  desired: PodResources;
  sidecars: Map<string, SidecarState>;
  /** Pod-level resources allocated and in force (undefined: the pod sets none). */
  podLevelAllocated?: PodLevelResources;
  podLevelActual?: PodLevelResources;
  conditions: ResizeConditions;
  priority: number;
  qos: 'Guaranteed' | 'Burstable' | 'BestEffort';
  /** Init container names in spec order, for initContainerStatuses. */
  initOrder: string[];
  /** The kubelet's status write counter when the last allocation was made. */
  allocatedAtWrite?: number;
  /** The counter value of the newest status write of this pod that the apiserver accepted. */
  written: number;
}

/** The pod as the resize code sees it: what kubelet.ts's PodState holds. */
export interface ResizablePod {
  uid: string;
  node: string;
  generation: number;
  containers: Map<
    string,
    {
      allocated: Resources;
      actual: Resources;
      policy: { cpu: ResizePolicy; memory: ResizePolicy };
      usage: { memoryBytes: number };
    }
  >;
  resizing: ResizeBook;
  dirty: boolean;
}

export function resourcesOf(c: k8s.V1Container): Resources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuLimit = parseQuantity(lim.cpu);
  const memoryLimit = parseQuantity(lim.memory);
  // The API defaults a missing request to the limit; keep that rule for objects built by hand.
  return {
    cpuRequest: parseQuantity(req.cpu) ?? cpuLimit ?? 0,
    memoryRequest: parseQuantity(req.memory) ?? memoryLimit ?? 0,
    ...(cpuLimit !== undefined ? { cpuLimit } : {}),
    ...(memoryLimit !== undefined ? { memoryLimit } : {}),
  };
}

export function policyOf(c: k8s.V1Container): { cpu: ResizePolicy; memory: ResizePolicy } {
  const get = (r: string): ResizePolicy =>
    c.resizePolicy?.find((p) => p.resourceName === r)?.restartPolicy === 'RestartContainer'
      ? 'RestartContainer'
      : 'NotRequired';
  return { cpu: get('cpu'), memory: get('memory') };
}

function sidecarsOf(pod: k8s.V1Pod): k8s.V1Container[] {
  return (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
}

function podLevelOf(pod: k8s.V1Pod): PodLevelResources | undefined {
  const r = pod.spec?.resources;
  if (!r) return undefined;
  const out: PodLevelResources = {};
  const cpuLimit = parseQuantity(r.limits?.cpu);
  const memoryLimit = parseQuantity(r.limits?.memory);
  const cpuRequest = parseQuantity(r.requests?.cpu) ?? cpuLimit;
  const memoryRequest = parseQuantity(r.requests?.memory) ?? memoryLimit;
  if (cpuRequest !== undefined) out.cpuRequest = cpuRequest;
  if (memoryRequest !== undefined) out.memoryRequest = memoryRequest;
  if (cpuLimit !== undefined) out.cpuLimit = cpuLimit;
  if (memoryLimit !== undefined) out.memoryLimit = memoryLimit;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The spec's resizable resources: containers, sidecars, pod-level (allocation_manager.go ResourceInfoForPod). */
export function desiredOf(pod: k8s.V1Pod): PodResources {
  const containers = new Map<string, Resources>();
  for (const c of [...sidecarsOf(pod), ...(pod.spec?.containers ?? [])])
    containers.set(c.name, resourcesOf(c));
  const podLevel = podLevelOf(pod);
  return { containers, ...(podLevel ? { podLevel } : {}) };
}

/** A new pod's book: admitted as it asks (the scheduler placed it), nothing pending. */
export function newBook(pod: k8s.V1Pod): ResizeBook {
  const desired = desiredOf(pod);
  const sidecars = new Map(
    sidecarsOf(pod).map((c): [string, SidecarState] => {
      const r = resourcesOf(c);
      return [c.name, { name: c.name, image: c.image ?? '', allocated: r, actual: r, policy: policyOf(c) }];
    }),
  );
  return {
    desired,
    sidecars,
    ...(desired.podLevel ? { podLevelAllocated: desired.podLevel, podLevelActual: desired.podLevel } : {}),
    conditions: {},
    priority: pod.spec?.priority ?? 0,
    qos: qosOf(pod),
    initOrder: (pod.spec?.initContainers ?? []).map((c) => c.name),
    written: 0,
  };
}

function qosOf(pod: k8s.V1Pod): ResizeBook['qos'] {
  const q = pod.status?.qosClass;
  return q === 'Guaranteed' || q === 'BestEffort' ? q : 'Burstable';
}

export function allocatedOf(pod: ResizablePod): PodResources {
  const containers = new Map<string, Resources>();
  for (const [n, s] of pod.resizing.sidecars) containers.set(n, s.allocated);
  for (const [n, c] of pod.containers) containers.set(n, c.allocated);
  const podLevel = pod.resizing.podLevelAllocated;
  return { containers, ...(podLevel ? { podLevel } : {}) };
}

export function actualOf(pod: ResizablePod): PodResources {
  const containers = new Map<string, Resources>();
  for (const [n, s] of pod.resizing.sidecars) containers.set(n, s.actual);
  for (const [n, c] of pod.containers) containers.set(n, c.actual);
  const podLevel = pod.resizing.podLevelActual;
  return { containers, ...(podLevel ? { podLevel } : {}) };
}

export interface ResizerDeps {
  nodeAllocatable: (node: string) => Capacity;
  /** Restart a container whose resizePolicy says RestartContainer (kubelet.ts's restart). */
  restart: (pod: ResizablePod, container: string) => void;
  gates?: ResizeGates;
}

export class Resizer {
  /** Pods with a resize not yet allocated, in the kubelet's retry order. */
  private pending: string[] = [];
  private retryWanted = false;
  private nextPeriodic: number;

  constructor(
    private readonly deps: ResizerDeps,
    startedAt: number,
  ) {
    this.nextPeriodic = startedAt + INITIAL_RETRY_S;
  }

  /** Pods waiting for an allocation, in retry order (for tests and the metrics). */
  get pendingUids(): readonly string[] {
    return this.pending;
  }

  /**
   * kubelet.go HandlePodUpdates: the pod's spec changed. A resize (desired != allocated) is pushed
   * onto the pending list and every pending resize is retried; one reverted to the allocation
   * clears its PodResizePending condition.
   */
  updated(pod: ResizablePod, spec: k8s.V1Pod, pods: ReadonlyMap<string, ResizablePod>): void {
    const book = pod.resizing;
    book.priority = spec.spec?.priority ?? 0;
    book.qos = qosOf(spec);
    const desired = desiredOf(spec);
    if (samePodResources(desired, book.desired)) return;
    book.desired = desired;
    if (samePodResources(desired, allocatedOf(pod))) {
      if (book.conditions.pending) {
        book.conditions = clearPending(book.conditions);
        pod.dirty = true;
      }
      this.pending = this.pending.filter((u) => u !== pod.uid);
      return;
    }
    if (!this.pending.includes(pod.uid)) this.pending = this.sorted([...this.pending, pod.uid], pods);
    this.retryWanted = true;
  }

  /** A pod left the node (deleted, or its containers stopped): its room may let a pending resize in. */
  removed(uid: string): void {
    this.pending = this.pending.filter((u) => u !== uid);
    this.retryWanted = true;
  }

  /**
   * One tick: the pending resizes retried in order if something asked for it (or the periodic
   * timer is due), then every allocated-but-not-actual resize actuated once its allocation has been
   * reported (so PodResizeInProgress is seen for at least one status write, as it is for about a
   * PLEG relist on a real node).
   */
  step(
    pods: ReadonlyMap<string, ResizablePod>,
    allocatedByNode: Map<string, Capacity>,
    now: number,
    writeSeq: number,
  ): void {
    if (this.retryWanted || now >= this.nextPeriodic) this.retry(pods, allocatedByNode, now, writeSeq);
    for (const pod of pods.values()) this.actuate(pod, now);
  }

  private sorted(uids: string[], pods: ReadonlyMap<string, ResizablePod>): string[] {
    const entries: PendingResize[] = [];
    for (const uid of uids) {
      const pod = pods.get(uid);
      if (!pod) continue;
      const since = pod.resizing.conditions.pending?.since;
      entries.push({
        uid,
        increasing: isIncreasing(pod.resizing.desired, allocatedOf(pod)),
        priority: pod.resizing.priority,
        qos: pod.resizing.qos,
        ...(since !== undefined ? { pendingSince: since } : {}),
      });
    }
    return orderPending(entries).map((e) => e.uid);
  }

  /** allocation_manager.go retryPendingResizes. */
  private retry(
    pods: ReadonlyMap<string, ResizablePod>,
    allocatedByNode: Map<string, Capacity>,
    now: number,
    writeSeq: number,
  ): void {
    this.retryWanted = false;
    this.nextPeriodic = now + RETRY_S;
    const still: string[] = [];
    for (const uid of this.pending) {
      const pod = pods.get(uid);
      if (!pod) continue;
      switch (this.handle(pod, allocatedByNode, now, writeSeq)) {
        case 'Deferred':
          still.push(uid);
          break;
        case 'Infeasible':
        case 'Accepted':
        case 'NoChange':
          break;
      }
    }
    this.pending = still;
  }

  /** allocation_manager.go handlePodResourcesResize. */
  private handle(
    pod: ResizablePod,
    allocatedByNode: Map<string, Capacity>,
    now: number,
    writeSeq: number,
  ): 'NoChange' | 'Accepted' | 'Deferred' | 'Infeasible' {
    const book = pod.resizing;
    const allocated = allocatedOf(pod);
    const mine = podRequests(allocated);
    const onNode = allocatedByNode.get(pod.node) ?? { cpu: 0, memory: 0 };
    const admission = admitResize({
      desired: book.desired,
      allocated,
      nodeAllocatable: this.deps.nodeAllocatable(pod.node),
      othersAllocated: { cpu: onNode.cpu - mine.cpu, memory: onNode.memory - mine.memory },
      gates: this.deps.gates ?? DEFAULT_GATES,
    });
    switch (admission.admission) {
      case 'NoChange':
        if (book.conditions.pending) {
          book.conditions = clearPending(book.conditions);
          pod.dirty = true;
        }
        return 'NoChange';
      case 'Deferred':
      case 'Infeasible': {
        const before = book.conditions.pending;
        book.conditions = setPending(
          book.conditions,
          admission.admission,
          admission.message,
          pod.generation,
          now,
        );
        const after = book.conditions.pending!;
        if (
          before?.reason !== after.reason ||
          before.message !== after.message ||
          before.observedGeneration !== after.observedGeneration
        )
          pod.dirty = true;
        return admission.admission;
      }
      case 'Accepted': {
        for (const [name, want] of book.desired.containers) {
          const c = pod.containers.get(name) ?? book.sidecars.get(name);
          if (c) c.allocated = want;
        }
        book.podLevelAllocated = book.desired.podLevel;
        // Keep the node's sum current so a later pod in this pass sees this allocation.
        const wanted = podRequests(book.desired);
        onNode.cpu += wanted.cpu - mine.cpu;
        onNode.memory += wanted.memory - mine.memory;
        allocatedByNode.set(pod.node, onNode);
        // A new allocation: the pending condition goes, the in-progress one starts over at this generation.
        book.conditions = setInProgress(
          clearInProgress(clearPending(book.conditions)),
          '',
          '',
          pod.generation,
          now,
        );
        book.allocatedAtWrite = writeSeq;
        pod.dirty = true;
        return 'Accepted';
      }
    }
  }

  /** The pod worker's SyncPod: doPodResizeAction when allocated != actual, then the condition. */
  private actuate(pod: ResizablePod, now: number): void {
    const book = pod.resizing;
    if (settled(pod)) {
      if (book.conditions.inProgress) {
        book.conditions = clearInProgress(book.conditions);
        pod.dirty = true;
      }
      return;
    }
    // The allocation is reported first: a status write sent after it has been accepted (so a later tick).
    if (book.allocatedAtWrite !== undefined && book.written <= book.allocatedAtWrite) return;
    const allocated = allocatedOf(pod);
    const actual = actualOf(pod);
    const result = actuateResize({
      allocated,
      actual,
      memoryUsage: new Map([...pod.containers].map(([n, c]) => [n, c.usage.memoryBytes])),
      policy: new Map([
        ...[...book.sidecars].map(([n, s]) => [n, s.policy] as const),
        ...[...pod.containers].map(([n, c]) => [n, c.policy] as const),
      ]),
    });
    switch (result.outcome) {
      case 'Error': {
        const before = book.conditions.inProgress;
        book.conditions = setInProgress(book.conditions, 'Error', result.message, pod.generation, now);
        const after = book.conditions.inProgress!;
        if (before?.reason !== after.reason || before.message !== after.message) pod.dirty = true;
        return;
      }
      case 'Done': {
        const shrank = requestsShrank(actual, allocated);
        for (const c of pod.containers.values()) c.actual = c.allocated;
        for (const s of book.sidecars.values()) s.actual = s.allocated;
        book.podLevelActual = book.podLevelAllocated;
        for (const name of result.restarted) this.deps.restart(pod, name);
        book.conditions = clearInProgress(book.conditions);
        pod.dirty = true;
        // kubelet.go HandlePodReconcile: requests that shrank let pending resizes in (pod_resized).
        if (shrank) this.retryWanted = true;
        return;
      }
    }
  }

  /** A status write of the pod, numbered `seq` when it was sent, was accepted by the apiserver. */
  static reported(pod: ResizablePod, seq: number): void {
    pod.resizing.written = Math.max(pod.resizing.written, seq);
  }
}

/** Allocated == actual everywhere (run for every pod on every tick, so without building maps). */
function settled(pod: ResizablePod): boolean {
  for (const c of pod.containers.values()) if (!sameResources(c.allocated, c.actual)) return false;
  for (const c of pod.resizing.sidecars.values()) if (!sameResources(c.allocated, c.actual)) return false;
  return samePodLevel(pod.resizing.podLevelAllocated, pod.resizing.podLevelActual);
}

/** The pod's allocated requests (run for every pod on every tick, so without building maps). */
export function allocatedRequests(pod: ResizablePod): Capacity {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.containers.values()) {
    cpu += c.allocated.cpuRequest;
    memory += c.allocated.memoryRequest;
  }
  for (const c of pod.resizing.sidecars.values()) {
    cpu += c.allocated.cpuRequest;
    memory += c.allocated.memoryRequest;
  }
  const pl = pod.resizing.podLevelAllocated;
  return { cpu: pl?.cpuRequest ?? cpu, memory: pl?.memoryRequest ?? memory };
}

function requestsShrank(before: PodResources, after: PodResources): boolean {
  const a = podRequests(before);
  const b = podRequests(after);
  return b.cpu < a.cpu - 1e-9 || b.memory < a.memory - 0.5;
}

/** Pod-level `status.resources` / `status.allocatedResources` (PodStatus, 1.37: InPlacePodLevelResourcesVerticalScaling). */
export function podLevelStatus(book: ResizeBook): Record<string, unknown> {
  const actual = book.podLevelActual;
  const allocated = book.podLevelAllocated;
  if (!actual && !allocated) return {};
  const requests = (r?: PodLevelResources) => ({
    ...(r?.cpuRequest !== undefined ? { cpu: formatCpu(r.cpuRequest) } : {}),
    ...(r?.memoryRequest !== undefined ? { memory: formatBytes(r.memoryRequest) } : {}),
  });
  const limits = (r?: PodLevelResources) => ({
    ...(r?.cpuLimit !== undefined ? { cpu: formatCpu(r.cpuLimit) } : {}),
    ...(r?.memoryLimit !== undefined ? { memory: formatBytes(r.memoryLimit) } : {}),
  });
  const l = limits(actual);
  return {
    allocatedResources: requests(allocated),
    resources: { requests: requests(actual), ...(Object.keys(l).length ? { limits: l } : {}) },
  };
}

export { samePodLevel, sameResources };
