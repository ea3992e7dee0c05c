// The kubelet's side of an in-place resize (KEP-1287) as pure decisions over desired, allocated and
// actual resources, following Kubernetes 1.37: pkg/kubelet/allocation (admission of the allocation),
// pkg/kubelet/lifecycle/predicate.go (the fit check and its message), pkg/kubelet/kuberuntime
// (actuation and the memory-limit-below-usage check).

/** One container's resources in plain numbers: cores and bytes; a missing limit is unlimited. */
export interface Resources {
  cpuRequest: number;
  memoryRequest: number;
  cpuLimit?: number;
  memoryLimit?: number;
}

/** Pod-level resources (`spec.resources`, PodLevelResources): each value is optional on its own. */
export interface PodLevelResources {
  cpuRequest?: number;
  memoryRequest?: number;
  cpuLimit?: number;
  memoryLimit?: number;
}

/** What a pod asks for, has been allocated, or runs with: every resizable container, and pod-level resources. */
export interface PodResources {
  /** Regular containers and restartable init containers (sidecars), by name (unique in a pod). */
  containers: ReadonlyMap<string, Resources>;
  podLevel?: PodLevelResources;
}

export interface Capacity {
  cpu: number;
  memory: number;
}

/** The kubelet's feature gates that decide what a resize may change (1.37 defaults: all on). */
export interface ResizeGates {
  /** InPlacePodLevelResourcesVerticalScaling: beta, on by default since 1.36 (pkg/features/kube_features.go). */
  podLevelResources: boolean;
}
export const DEFAULT_GATES: ResizeGates = { podLevelResources: true };

/**
 * Admission of a resize on the node (allocation_manager.go handlePodResourcesResize -> canAdmitPod):
 * all or nothing for the pod.
 * - Infeasible: a resize handler refuses it for good (allocation/handlers.go, e.g. a pod-level resize
 *   with InPlacePodLevelResourcesVerticalScaling off); never retried.
 * - Deferred: the fit check fails (OutOfcpu / OutOfmemory); since 1.34 that is Deferred even when
 *   the pod alone exceeds the node (status_manager.go SetPodResizePendingCondition turns every other
 *   reason into Deferred; allocation_manager_test.go "beyond node capacity - expect Deferred").
 */
export type ResizeAdmission = 'NoChange' | 'Accepted' | 'Deferred' | 'Infeasible';

export interface AdmissionInput {
  desired: PodResources;
  allocated: PodResources;
  nodeAllocatable: Capacity;
  /** Sum of the requests allocated to every OTHER pod on the node. */
  othersAllocated: Capacity;
  gates?: ResizeGates;
}

export function sameResources(a: Resources | undefined, b: Resources | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.cpuRequest === b.cpuRequest &&
    a.memoryRequest === b.memoryRequest &&
    a.cpuLimit === b.cpuLimit &&
    a.memoryLimit === b.memoryLimit
  );
}

export function samePodLevel(a: PodLevelResources | undefined, b: PodLevelResources | undefined): boolean {
  return (
    a?.cpuRequest === b?.cpuRequest &&
    a?.memoryRequest === b?.memoryRequest &&
    a?.cpuLimit === b?.cpuLimit &&
    a?.memoryLimit === b?.memoryLimit
  );
}

export function samePodResources(a: PodResources, b: PodResources): boolean {
  if (!samePodLevel(a.podLevel, b.podLevel)) return false;
  if (a.containers.size !== b.containers.size) return false;
  return [...a.containers].every(([name, r]) => sameResources(r, b.containers.get(name)));
}

/**
 * The pod's requests as the scheduler and kubelet count them (component-helpers resource.PodRequests):
 * pod-level requests win per resource; otherwise the containers' and sidecars' requests summed.
 * Simplified: ordinary init containers (run before the others, one at a time) are not counted.
 */
export function podRequests(p: PodResources): Capacity {
  let cpu = 0;
  let memory = 0;
  for (const r of p.containers.values()) {
    cpu += r.cpuRequest;
    memory += r.memoryRequest;
  }
  return { cpu: p.podLevel?.cpuRequest ?? cpu, memory: p.podLevel?.memoryRequest ?? memory };
}

/** allocation_manager.go isResizeIncreasingRequests: does the resize raise the pod's cpu or memory request? */
export function isIncreasing(desired: PodResources, allocated: PodResources): boolean {
  const want = podRequests(desired);
  const had = podRequests(allocated);
  return want.cpu > had.cpu + 1e-9 || want.memory > had.memory + 0.5;
}

export function admitResize(input: AdmissionInput): { admission: ResizeAdmission; message: string } {
  if (samePodResources(input.desired, input.allocated)) return { admission: 'NoChange', message: '' };
  const gates = input.gates ?? DEFAULT_GATES;
  // allocation/handlers.go podResizesAdmitHandler and features_linux.go: the refusals come first.
  if (!samePodLevel(input.desired.podLevel, input.allocated.podLevel) && !gates.podLevelResources)
    return { admission: 'Infeasible', message: 'InPlacePodLevelResourcesVerticalScaling is disabled' };
  // lifecycle/predicate.go: the scheduler's fit check against the node with the OTHER pods only, so
  // the pod's whole request must fit beside them, a decrease as much as an increase; cpu before memory.
  const want = podRequests(input.desired);
  const { nodeAllocatable: node, othersAllocated: used } = input;
  const milli = (v: number) => Math.round(v * 1000);
  const bytes = (v: number) => Math.round(v);
  if (milli(want.cpu) > 0 && milli(want.cpu) > milli(node.cpu) - milli(used.cpu))
    return {
      admission: 'Deferred',
      message: insufficient('cpu', milli(want.cpu), milli(used.cpu), milli(node.cpu)),
    };
  if (bytes(want.memory) > 0 && bytes(want.memory) > bytes(node.memory) - bytes(used.memory))
    return {
      admission: 'Deferred',
      message: insufficient('memory', bytes(want.memory), bytes(used.memory), bytes(node.memory)),
    };
  return { admission: 'Accepted', message: '' };
}

/** lifecycle/predicate.go InsufficientResourceError.Error(): milli-cores for cpu, bytes for memory. */
function insufficient(resource: string, requested: number, used: number, capacity: number): string {
  return `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`;
}

/**
 * Actuation of an allocated resize (kuberuntime_manager.go doPodResizeAction): all or nothing for the
 * pod. Before anything is changed, validateMemoryResizeAction refuses a memory limit that is added or
 * lowered to at or below current usage, for the pod cgroup and for each container updated in place;
 * the resize then stays in progress with reason Error, and is tried again on every sync. A container
 * whose resizePolicy says RestartContainer for a changed resource is restarted instead of updated.
 */
export type ResizePolicy = 'NotRequired' | 'RestartContainer';

export interface ActuationInput {
  allocated: PodResources;
  actual: PodResources;
  /** Each container's current memory usage (bytes). */
  memoryUsage: ReadonlyMap<string, number>;
  policy: ReadonlyMap<string, { cpu: ResizePolicy; memory: ResizePolicy }>;
}

export type ActuationOutcome = 'Done' | 'Error';

export interface Actuation {
  outcome: ActuationOutcome;
  message: string;
  /** Containers restarted because their resizePolicy asked for it (none on Error). */
  restarted: string[];
}

export function actuateResize(input: ActuationInput): Actuation {
  const restarted: string[] = [];
  const lowered = new Map<string, number>();
  let memoryUpdated = false;
  for (const [name, target] of input.allocated.containers) {
    const current = input.actual.containers.get(name);
    if (sameResources(target, current)) continue;
    const policy = input.policy.get(name) ?? { cpu: 'NotRequired', memory: 'NotRequired' };
    const memoryChanged =
      target.memoryLimit !== current?.memoryLimit || target.memoryRequest !== current?.memoryRequest;
    const cpuChanged = target.cpuLimit !== current?.cpuLimit || target.cpuRequest !== current?.cpuRequest;
    // kuberuntime_manager.go computePodResizeAction: a RestartContainer policy for any changed
    // resource restarts the container; it is not updated in place and so not checked.
    if (
      (memoryChanged && policy.memory === 'RestartContainer') ||
      (cpuChanged && policy.cpu === 'RestartContainer')
    ) {
      restarted.push(name);
      continue;
    }
    if (!memoryChanged) continue;
    memoryUpdated = true;
    const limit = target.memoryLimit;
    if (limit !== undefined && (current?.memoryLimit === undefined || limit < current.memoryLimit))
      lowered.set(name, limit);
  }
  const podLevelChanged = !samePodLevel(input.allocated.podLevel, input.actual.podLevel);
  if (!memoryUpdated && !podLevelChanged) return { outcome: 'Done', message: '', restarted };

  const podUsage = [...input.memoryUsage.values()].reduce((a, b) => a + b, 0);
  const errors: string[] = [];
  const desiredPod = podMemoryLimit(input.allocated);
  const currentPod = podMemoryLimit(input.actual);
  if (
    desiredPod !== undefined &&
    (currentPod === undefined || desiredPod < currentPod) &&
    podUsage >= desiredPod
  )
    errors.push(
      `attempting to set pod memory limit (${Math.round(desiredPod)}) below current usage (${Math.round(podUsage)})`,
    );
  for (const [name, limit] of lowered) {
    // The kubelet prints the POD's usage in the container's message (kuberuntime_manager.go
    // validateMemoryResizeAction, as of 1.37); the comparison itself is the container's own.
    if ((input.memoryUsage.get(name) ?? 0) >= limit)
      errors.push(
        `attempting to set container "${name}" memory limit (${Math.round(limit)}) below current usage (${Math.round(podUsage)})`,
      );
  }
  if (errors.length === 0) return { outcome: 'Done', message: '', restarted };
  // utilerrors.NewAggregate: one error alone, several in brackets.
  const aggregate = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  return { outcome: 'Error', message: `cannot decrease memory limits: ${aggregate}`, restarted: [] };
}

/**
 * The pod cgroup's memory limit (pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod): the pod-level
 * limit if set, else the sum of the containers' limits when every container declares one, else none.
 */
export function podMemoryLimit(p: PodResources): number | undefined {
  if (p.podLevel?.memoryLimit !== undefined) return p.podLevel.memoryLimit;
  let sum = 0;
  for (const r of p.containers.values()) {
    if (r.memoryLimit === undefined) return undefined;
    sum += r.memoryLimit;
  }
  return p.containers.size > 0 ? sum : undefined;
}
