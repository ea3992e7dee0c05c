// The kubelet's side of an in-place resize (KEP-1287, "Design Details" > "Kubelet and API Server
// Interaction" and "Resize Status"), as pure decisions over desired, allocated and actual resources.

/** One container's resources in plain numbers: cores and bytes; a missing limit is unlimited. */
export interface Resources {
  cpuRequest: number;
  memoryRequest: number;
  cpuLimit?: number;
  memoryLimit?: number;
}

export interface Capacity {
  cpu: number;
  memory: number;
}

/**
 * Admission of a resize on the node (KEP-1287 "Scheduler and API Server Interaction" / kubelet
 * `canResizePod`): all or nothing for the pod.
 * - Infeasible: the pod's new requests exceed what the node can ever allocate; never retried.
 * - Deferred: they fit the node but not beside the other pods' allocations now; retried later.
 */
export type ResizeAdmission = 'NoChange' | 'Accepted' | 'Deferred' | 'Infeasible';

export interface AdmissionInput {
  desired: ReadonlyMap<string, Resources>;
  allocated: ReadonlyMap<string, Resources>;
  nodeAllocatable: Capacity;
  /** Sum of the requests allocated to every OTHER pod on the node. */
  othersAllocated: Capacity;
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

export function podRequests(resources: ReadonlyMap<string, Resources>): Capacity {
  let cpu = 0;
  let memory = 0;
  for (const r of resources.values()) {
    cpu += r.cpuRequest;
    memory += r.memoryRequest;
  }
  return { cpu, memory };
}

export function admitResize(input: AdmissionInput): { admission: ResizeAdmission; message: string } {
  const changed = [...input.desired].some(([name, want]) => !sameResources(want, input.allocated.get(name)));
  if (!changed) return { admission: 'NoChange', message: '' };
  const want = podRequests(input.desired);
  const had = podRequests(input.allocated);
  // A resize that asks for no more of anything frees room: it is always admitted.
  if (want.cpu <= had.cpu && want.memory <= had.memory) return { admission: 'Accepted', message: '' };
  const { nodeAllocatable: node, othersAllocated: others } = input;
  const over = (what: 'cpu' | 'memory', need: number, have: number) =>
    need > have + 1e-9 ? `${what}, requested: ${fmt(what, need)}, capacity: ${fmt(what, have)}` : undefined;

  const infeasible = over('cpu', want.cpu, node.cpu) ?? over('memory', want.memory, node.memory);
  if (infeasible)
    return { admission: 'Infeasible', message: `Node didn't have enough capacity: ${infeasible}` };
  const deferred =
    over('cpu', want.cpu, node.cpu - others.cpu) ?? over('memory', want.memory, node.memory - others.memory);
  if (deferred) return { admission: 'Deferred', message: `Node didn't have enough resource: ${deferred}` };
  return { admission: 'Accepted', message: '' };
}

/**
 * Actuation of an accepted resize (KEP-1287 "Container resource limit update ordering" and the
 * memory-limit check added for GA): a memory limit below the container's current usage is not
 * applied; the resize stays in progress with reason Error until usage drops or the spec changes.
 * Containers whose resizePolicy says RestartContainer for a changed resource are restarted.
 */
export type ResizePolicy = 'NotRequired' | 'RestartContainer';

export interface ActuationInput {
  allocated: ReadonlyMap<string, Resources>;
  actual: ReadonlyMap<string, Resources>;
  memoryUsage: ReadonlyMap<string, number>;
  policy: ReadonlyMap<string, { cpu: ResizePolicy; memory: ResizePolicy }>;
}

export type ActuationOutcome = 'Done' | 'Error';

export interface Actuation {
  outcome: ActuationOutcome;
  message: string;
  /** Containers that get the allocation now (all of them when Done). */
  applied: string[];
  /** Containers restarted because their resizePolicy asked for it. */
  restarted: string[];
}

export function actuateResize(input: ActuationInput): Actuation {
  const applied: string[] = [];
  const restarted: string[] = [];
  const errors: string[] = [];
  for (const [name, target] of input.allocated) {
    const current = input.actual.get(name);
    if (sameResources(target, current)) continue;
    const policy = input.policy.get(name) ?? { cpu: 'NotRequired', memory: 'NotRequired' };
    const memoryChanged =
      target.memoryLimit !== current?.memoryLimit || target.memoryRequest !== current?.memoryRequest;
    const cpuChanged = target.cpuLimit !== current?.cpuLimit || target.cpuRequest !== current?.cpuRequest;
    const restart =
      (memoryChanged && policy.memory === 'RestartContainer') ||
      (cpuChanged && policy.cpu === 'RestartContainer');
    const usage = input.memoryUsage.get(name) ?? 0;
    // A restart frees the memory, so the usage check only guards live (NotRequired) changes.
    if (!restart && target.memoryLimit !== undefined && usage > target.memoryLimit) {
      errors.push(
        `container ${name}: attempting to set pod memory limit (${target.memoryLimit}) below current usage (${Math.round(usage)})`,
      );
      continue;
    }
    applied.push(name);
    if (restart) restarted.push(name);
  }
  return errors.length
    ? { outcome: 'Error', message: errors.join('; '), applied, restarted }
    : { outcome: 'Done', message: '', applied, restarted };
}

function fmt(what: 'cpu' | 'memory', v: number): string {
  return what === 'cpu' ? `${Math.round(v * 1000)}m` : `${Math.round(v)}`;
}
