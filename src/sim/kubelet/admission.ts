// The kubelet's own admission of a pod bound to its node: the scheduler's resource fit, run again
// on the node against allocatable and the pods the kubelet already runs. A pod bound by nodeName
// (never seen by the scheduler) that does not fit is rejected here.
//
// Follows pkg/kubelet/lifecycle/predicate.go (Admit: InsufficientResourceError -> OutOfcpu /
// OutOfmemory / OutOfpods, its Error() text) and pkg/kubelet/kubelet.go rejectPod (phase Failed,
// the reason, message "Pod was rejected: " + the predicate's message, and a Warning Event).
import type { SimNodeSpec } from '../nodes.ts';
import { allocatableOf } from './allocatable.ts';
import { qosOf } from './memory-pressure.ts';
import { podRequests, type Capacity, type PodResources } from './resize.ts';

export type PodAdmission =
  { outcome: 'Admitted' } | { outcome: 'OutOfcpu' | 'OutOfmemory' | 'OutOfpods'; message: string };

export interface AdmissionRequest {
  /** The new pod's requests (cores, bytes). */
  requests: Capacity;
  /** What the pods already admitted to the node request, and how many they are. */
  used: Capacity & { pods: number };
  /** The node's allocatable. */
  allocatable: Capacity & { pods: number };
}

/** The first resource that does not fit, in the scheduler's order (pods, cpu, memory). */
export function admitPod(r: AdmissionRequest): PodAdmission {
  const insufficient = (name: string, requested: number, used: number, capacity: number) =>
    `Node didn't have enough resource: ${name}, requested: ${requested}, used: ${used}, capacity: ${capacity}`;
  if (r.used.pods + 1 > r.allocatable.pods)
    return { outcome: 'OutOfpods', message: insufficient('pods', 1, r.used.pods, r.allocatable.pods) };
  // CPU in millicores, memory in bytes, as the scheduler's Resource keeps them.
  const milli = (cores: number) => Math.round(cores * 1000);
  const cpu = { want: milli(r.requests.cpu), used: milli(r.used.cpu), cap: milli(r.allocatable.cpu) };
  if (cpu.want > 0 && cpu.want > cpu.cap - cpu.used)
    return { outcome: 'OutOfcpu', message: insufficient('cpu', cpu.want, cpu.used, cpu.cap) };
  const mem = {
    want: Math.round(r.requests.memory),
    used: Math.round(r.used.memory),
    cap: Math.round(r.allocatable.memory),
  };
  if (mem.want > 0 && mem.want > mem.cap - mem.used)
    return { outcome: 'OutOfmemory', message: insufficient('memory', mem.want, mem.used, mem.cap) };
  return { outcome: 'Admitted' };
}

/** The kubelet's verdict on a new pod: its resources fit, or the eviction manager refuses it (Evicted). */
export type KubeletAdmission = PodAdmission | { outcome: 'Evicted'; message: string };

/**
 * A pod newly bound to `node`: under MemoryPressure a BestEffort pod is refused as the eviction
 * manager's Admit does (eviction_manager.go, "The node had condition: [MemoryPressure]. "); else its
 * requests against the node's allocatable less what the pods already admitted request.
 */
export function kubeletAdmit(input: {
  desired: PodResources;
  node: SimNodeSpec;
  used: Capacity & { pods: number };
  memoryPressure: boolean;
}): KubeletAdmission {
  if (input.memoryPressure && qosOf([...input.desired.containers.values()]) === 'BestEffort')
    return { outcome: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' };
  const a = allocatableOf(input.node);
  return admitPod({
    requests: podRequests(input.desired),
    used: input.used,
    allocatable: { cpu: a.cpu, memory: a.memoryBytes, pods: input.node.pods },
  });
}
