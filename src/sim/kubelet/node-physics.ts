// Node physics for the simulated kubelet, once per tick after every container has sampled what it
// wants: the kernel's OOM killer when the pods' cgroup is full, CPU shared by CFS weight (and the
// counters cAdvisor reads), MemoryPressure and the eviction manager's node-pressure evictions.
import type * as k8s from '@kubernetes/client-node';
import { apiTime } from '../../kube/time.ts';
import type { SimNodeSpec } from '../nodes.ts';
import { allocatableOf, reservationsOf } from './allocatable.ts';
import { cfsPeriods, shareCpu, type CgroupVersion, type CpuClaim } from './cpu-share.ts';
import {
  evictionMessage,
  nextPressure,
  oomScoreAdj,
  oomVictims,
  pages,
  qosOf,
  rankForEviction,
  type PressureMemory,
} from './memory-pressure.ts';
import type { ContainerState, PodState, TerminalReason } from './state.ts';
import { counterSeconds } from '../clock.ts';

/** The eviction manager's housekeeping period (kubelet evictionMonitoringPeriod). */
export const EVICTION_MONITORING_SECONDS = 10;
/** evictionPressureTransitionPeriod's default. */
export const DEFAULT_PRESSURE_TRANSITION_SECONDS = 300;

export interface PhysicsDeps {
  nodes: ReadonlyMap<string, SimNodeSpec>;
  /** The kernel killed this container (the kubelet's OOMKilled restart and back-off). */
  oomKill: (pod: PodState, c: ContainerState, now: number) => void;
  /** The eviction manager ends this pod (phase Failed, reason Evicted, an Event). */
  evict: (pod: PodState, message: string, now: number) => void;
  /** The node's MemoryPressure changed. */
  setMemoryPressure?: (node: string, pressure: boolean) => void;
  cgroup?: CgroupVersion;
  /** The simulated clock's speed: counters move on the wall-clock axis (docs/decisions/0023). Default 1. */
  clockSpeed?: number;
}

export class NodePhysics {
  private readonly pressure = new Map<string, PressureMemory>();
  private readonly lastEvictionPass = new Map<string, number>();

  constructor(private readonly deps: PhysicsDeps) {}

  /** Whether the node reports MemoryPressure now (for tests and the admission of BestEffort pods). */
  underPressure(node: string): boolean {
    return this.pressure.get(node)?.pressure ?? false;
  }

  step(pods: Iterable<PodState>, now: number, dt: number): void {
    const byNode = new Map<string, PodState[]>();
    for (const p of pods) {
      if (p.unsupported || p.terminal) continue;
      const list = byNode.get(p.node) ?? [];
      list.push(p);
      byNode.set(p.node, list);
    }
    for (const [name, node] of this.deps.nodes) {
      const running = byNode.get(name) ?? [];
      this.oom(node, running, now);
      this.cpu(node, running, now, dt);
      this.evictions(node, running, now);
    }
  }

  /** The `kubepods` cgroup's memory.max is capacity - reserved: past it the kernel kills the worst. */
  private oom(node: SimNodeSpec, pods: PodState[], now: number): void {
    const limit = allocatableOf(node).podsMemoryLimitBytes;
    // The common case, cheaply: everything fits.
    if (pods.reduce((a, p) => a + podWorkingSet(p), 0) <= limit) return;
    const candidates = pods.flatMap((pod) => {
      const qos = qosOf([...pod.containers.values()].map((c) => c.actual));
      return [...pod.containers.values()].map((c) => ({
        key: { pod, c },
        workingSetBytes: c.usage.memoryBytes,
        oomScoreAdj: oomScoreAdj(qos, c.actual.memoryRequest, node.memoryBytes),
      }));
    });
    for (const { pod, c } of oomVictims(candidates, limit)) this.deps.oomKill(pod, c, now);
  }

  /** Shares the node's cores and advances each container's CPU time and CFS counters. */
  private cpu(node: SimNodeSpec, pods: PodState[], now: number, dt: number): void {
    const containers = pods.flatMap((p) => [...p.containers.values()]);
    const claims = containers.map((c): CpuClaim => ({
      demandCores: c.usage.cpuCores,
      requestCores: c.actual.cpuRequest,
      ...(c.actual.cpuLimit !== undefined ? { limitCores: c.actual.cpuLimit } : {}),
    }));
    const grants = shareCpu(node.cpu, claims, this.deps.cgroup ?? 'v2');
    containers.forEach((c, i) => {
      const g = grants[i]!;
      c.cpuGrantedCores = g.cores;
      // On the wall-clock axis their scrapers stamp them on (docs/decisions/0023), and only for the
      // time the container has run: one started at this tick has used nothing yet.
      const counted = counterSeconds(
        { speed: this.deps.clockSpeed ?? 1 },
        Math.min(dt, Math.max(0, now - c.startedAt)),
      );
      c.cpuSecondsTotal += g.cores * counted;
      const cfs = cfsPeriods(g, c.actual.cpuLimit !== undefined, counted);
      c.cfsPeriodsTotal += cfs.periods;
      c.cfsThrottledPeriodsTotal += cfs.throttled;
    });
  }

  /**
   * The eviction manager: memory.available (capacity - working sets) and allocatableMemory.available
   * (the pods' cgroup limit - their working sets) against the hard threshold; MemoryPressure while
   * either is met (and the transition period after); one pod evicted per monitoring pass.
   */
  private evictions(node: SimNodeSpec, pods: PodState[], now: number): void {
    const r = reservationsOf(node);
    const threshold = r.evictionHardMemoryBytes;
    const workingSet = pages(pods.reduce((a, p) => a + podWorkingSet(p), 0));
    const observations = [
      { available: node.memoryBytes - workingSet },
      { available: allocatableOf(node).podsMemoryLimitBytes - workingSet },
    ];
    // The message names the first threshold met, memory.available before the allocatable one.
    const met = observations.find((o) => o.available < threshold);
    const before = this.pressure.get(node.name) ?? { pressure: false };
    const after = nextPressure(
      before,
      met !== undefined,
      now,
      node.evictionPressureTransitionSeconds ?? DEFAULT_PRESSURE_TRANSITION_SECONDS,
    );
    this.pressure.set(node.name, after);
    if (after.pressure !== before.pressure) this.deps.setMemoryPressure?.(node.name, after.pressure);
    if (!met || pods.length === 0) return;
    const last = this.lastEvictionPass.get(node.name);
    if (last !== undefined && now - last < EVICTION_MONITORING_SECONDS) return;
    this.lastEvictionPass.set(node.name, now);
    const ranked = rankForEviction(
      pods.map((pod) => ({
        key: pod,
        workingSetBytes: podWorkingSet(pod),
        memoryRequestBytes: [...pod.containers.values()].reduce((a, c) => a + c.allocated.memoryRequest, 0),
        priority: pod.priority ?? 0,
      })),
    );
    const victim = ranked[0]!.key;
    const message = evictionMessage(
      threshold,
      Math.max(0, met.available),
      [...victim.containers.values()].map((c) => ({
        name: c.name,
        workingSetBytes: pages(c.usage.memoryBytes),
        memoryRequestBytes: c.allocated.memoryRequest,
      })),
    );
    this.deps.evict(victim, message, now);
  }
}

/** The kubelet ends a pod: its containers stop (no usage) and its volumes are unmounted. */
export function endPod(
  pod: PodState,
  kind: 'Rejected' | 'Evicted',
  reason: TerminalReason,
  message: string,
  now: number,
): void {
  pod.terminal = { kind, reason, message, at: now };
  pod.claims = [];
  for (const c of pod.containers.values()) {
    c.usage = { cpuCores: 0, memoryBytes: 0, gpuMemoryBytes: 0, gpuUtilPercent: 0 };
    c.cpuGrantedCores = 0;
    c.ready = false;
  }
  pod.dirty = true;
}

function podWorkingSet(p: PodState): number {
  let sum = 0;
  for (const c of p.containers.values()) sum += c.usage.memoryBytes;
  return sum;
}

/**
 * The status the kubelet writes for a pod it ended: Failed with its reason and message; an evicted
 * pod also gets the DisruptionTarget condition (TerminationByKubelet) and its containers terminated.
 */
export function terminalStatus(pod: PodState, wall: (simSeconds: number) => Date): k8s.V1PodStatus {
  const t = (s: number) => apiTime(wall(s)) as unknown as Date;
  const term = pod.terminal!;
  if (term.kind === 'Rejected')
    return { phase: 'Failed', reason: term.reason, message: `Pod was rejected: ${term.message}` };
  const cond = (
    type: string,
    status: 'True' | 'False',
    reason: string,
    message?: string,
  ): k8s.V1PodCondition => ({
    type,
    status,
    reason,
    lastTransitionTime: t(term.at),
    ...(message ? { message } : {}),
  });
  return {
    phase: 'Failed',
    reason: 'Evicted',
    message: term.message,
    conditions: [
      ...(pod.scheduledCondition ? [pod.scheduledCondition] : []),
      cond('DisruptionTarget', 'True', 'TerminationByKubelet', term.message),
      cond('Ready', 'False', 'PodFailed'),
      cond('ContainersReady', 'False', 'PodFailed'),
    ],
    containerStatuses: [...pod.containers.values()].map((c) => ({
      name: c.name,
      image: c.image,
      imageID: `sim://${c.image}`,
      containerID: `sim://${pod.uid}/${c.name}/${c.restartCount}`,
      ready: false,
      restartCount: c.restartCount,
      started: false,
      state: {
        terminated: {
          exitCode: 137,
          reason: 'Error',
          startedAt: t(c.startedAt),
          finishedAt: t(term.at),
          containerID: `sim://${pod.uid}/${c.name}/${c.restartCount}`,
        },
      },
    })),
  };
}
