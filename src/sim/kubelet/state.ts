// What the simulated kubelet knows of each pod it runs: resources desired / allocated / actual,
// container lifecycles, the last usage sample and cumulative counters for the metrics endpoints.
import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '../../core/quantity.ts';
import type { UsageProfile, UsageSample } from '../usage/types.ts';
import type { Resources, ResizePolicy } from './resize.ts';
import type { ResizeBook } from './resizer.ts';
import type { Termination } from './termination.ts';
import type { PodVolume } from '../volumes/store.ts';

export interface ContainerState {
  name: string;
  image: string;
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
  policy: { cpu: ResizePolicy; memory: ResizePolicy };
  lastTermination?: { reason: string; exitCode: number; startedAt: number; finishedAt: number };
  /** Crashes since the container last ran 10 minutes clean (the kubelet's back-off counter). */
  consecutiveCrashes: number;
  /** While set, the container waits in CrashLoopBackOff until this simulated time. */
  backOffUntil?: number;
  usage: UsageSample;
  /** Cumulative counters, as cAdvisor keeps them. */
  cpuSecondsTotal: number;
  cfsPeriodsTotal: number;
  cfsThrottledPeriodsTotal: number;
  oomEventsTotal: number;
}

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

export function gpusOf(c: k8s.V1Container): number {
  return (
    parseQuantity(c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu']) ?? 0
  );
}
