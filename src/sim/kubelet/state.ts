// What the simulated kubelet knows of each pod it runs: resources desired / allocated / actual,
// container lifecycles, the last usage sample and cumulative counters for the metrics endpoints.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { UsageProfile, UsageSample } from '../usage/types.ts';
import type { Resources, ResizePolicy } from './resize.ts';
import type { ResizeBook } from './resizer.ts';
import type { Termination } from './termination.ts';
import type { PodVolume } from '../volumes/store.ts';
import type { ContainerHealth } from './health.ts';
import type { ServerMetrics } from '../runtimes/metrics-endpoint.ts';

/** How an instance of a container ended. */
export interface ContainerExit {
  reason: string;
  exitCode: number;
  startedAt: number;
  finishedAt: number;
  message?: string;
}

export interface ContainerState {
  name: string;
  image: string;
  /** The inference server the container runs, told from its image and command line, for its /metrics. */
  server?: ServerMetrics;
  profile: UsageProfile;
  /** The same profile for a container (re)started at the given time: an LLM loads its weights again. */
  /** A new process: its profile again, at the CPU it is guaranteed now. */
  remake: (startedAt: number, cpuCores?: number) => UsageProfile;
  /** Simulated epoch seconds of the current run's start. */
  startedAt: number;
  restartCount: number;
  ready: boolean;
  allocated: Resources;
  actual: Resources;
  gpus: number;
  /** The NVIDIA resource the GPUs count under (default nvidia.com/gpu; a MIG device's otherwise). */
  gpuResource?: string;
  /** Device IDs the device plugin gave this container (see ../gpus.ts): GPU UUIDs or MIG device UUIDs. */
  devices?: readonly string[];
  policy: { cpu: ResizePolicy; memory: ResizePolicy };
  /** The last exit of an instance (while the container is down, the one that put it down). */
  lastTermination?: ContainerExit;
  /** The exit before the last: the status's lastState while the container shows the last one as its state. */
  priorTermination?: ContainerExit;
  /** The container's probes and how its server answers them while loading (see ./probes.ts). */
  health?: ContainerHealth;
  /** Crashes since the container last ran 10 minutes clean (the kubelet's back-off counter). */
  consecutiveCrashes: number;
  /**
   * While set, the container is down (it exited) and starts again at the first tick after its exit
   * and at or after this simulated time: the exit time itself after a first crash, the back-off's
   * end after the next ones.
   */
  backOffUntil?: number;
  /** Down past its exit's own tick: the status shows it waiting in CrashLoopBackOff. */
  waiting?: boolean;
  usage: UsageSample;
  /** Cores the container got this tick (its demand, held by its quota or the node's other containers). */
  cpuGrantedCores?: number;
  /**
   * Cumulative counters of the running instance's cgroup, as cAdvisor keeps them (0 at each start),
   * on the wall-clock axis (docs/decisions/0023).
   */
  cpuSecondsTotal: number;
  cfsPeriodsTotal: number;
  cfsThrottledPeriodsTotal: number;
  /** CPU seconds of the container's earlier instances: the pod's cgroup, which outlives them, keeps them. */
  priorCpuSeconds?: number;
  /**
   * OOM kills of this container over all its instances: the simulator's ground truth (benchmarks
   * count kills with it). Not cAdvisor's counter, which is per cgroup (see metrics/exporters/cadvisor.ts).
   */
  oomEventsTotal: number;
}

/**
 * The runtime's ID of one instance of a container (a new one per restart), as the pod status shows
 * it (`sim://<id>`, like `containerd://<id>`) and cAdvisor names its cgroup (the `id` label): 64 hex
 * digits, stable for a pod UID, container name and restart count.
 */
export function containerIdOf(podUid: string, container: string, restartCount: number): string {
  return createHash('sha256').update(`${podUid}/${container}/${restartCount}`).digest('hex');
}

/** A new instance of the container starts: a new cgroup, whose counters start at zero. */
export function startInstance(c: ContainerState): void {
  c.priorCpuSeconds = (c.priorCpuSeconds ?? 0) + c.cpuSecondsTotal;
  c.cpuSecondsTotal = 0;
  c.cfsPeriodsTotal = 0;
  c.cfsThrottledPeriodsTotal = 0;
}

export type TerminalReason = 'Evicted' | 'OutOfcpu' | 'OutOfmemory' | 'OutOfpods';

export interface PodState {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  phase: 'Pending' | 'Running';
  startTime: number;
  podIP: string;
  hostIP: string;
  generation: number;
  observedGeneration: number;
  containers: Map<string, ContainerState>;
  /** Resize bookkeeping: desired resources, sidecars, pod-level resources, conditions (./resizer.ts). */
  resizing: ResizeBook;
  /** Set once the pod is deleted: its containers got SIGTERM (./termination.ts). */
  termination?: Termination;
  /** spec.priority (from its PriorityClass): the kubelet evicts lower priorities first. */
  priority?: number;
  /** The kubelet ended the pod: rejected at admission or evicted (see ./node-physics.ts). */
  terminal?: { kind: 'Rejected' | 'Evicted'; reason: TerminalReason; message: string; at: number };
  /** Why the simulator cannot run this pod (left Pending, said in an Event). */
  unsupported?: string;
  /** PVC names mounted by the pod. */
  claims: string[];
  /** The pod's persistent volumes and what it writes to them (see ../volumes/store.ts). */
  volumes?: PodVolume[];
  /** Profile bytes already written to the volumes, per claim/container. */
  profileWritten?: Map<string, number>;
  /** The init containers: they run (downloads into the volumes) before the app containers start. */
  init?: { containers: { name: string; image: string }[]; startedAt: number; doneAt?: number };
  /** Whether the API needs to hear of a change. */
  dirty: boolean;
  scheduledCondition?: k8s.V1PodCondition;
}

export { resourcesOf, policyOf } from './resizer.ts';
