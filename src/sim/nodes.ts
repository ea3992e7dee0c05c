// Simulated nodes: registers Node objects with capacity, labels and a Ready condition, and keeps
// their Leases in kube-node-lease renewed so the real node lifecycle controller keeps them Ready.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { mergePatch } from '../kube/client.ts';
import { classify, isAlreadyExists } from '../kube/errors.ts';
import { formatBytes, formatCpu } from '../core/quantity.ts';
import { microTime } from '../kube/time.ts';
import { gpuCapacity, gpuLabels } from './gpus.ts';
import { allocatableOf } from './kubelet/allocatable.ts';
import { DECLARED_FEATURES } from './kubelet/declared-features.ts';

export interface SimNodeSpec {
  name: string;
  /** Capacity: the machine's cores and memory. */
  cpu: number;
  memoryBytes: number;
  /** Held back from pods (kubelet --kube-reserved); default: a managed cluster's scale, see kubelet/allocatable.ts. */
  kubeReserved?: { cpu: number; memoryBytes: number };
  /** Held back for the OS (kubelet --system-reserved); default none. */
  systemReserved?: { cpu: number; memoryBytes: number };
  /** evictionHard memory.available; default 100Mi. */
  evictionHardMemoryBytes?: number;
  /** evictionPressureTransitionPeriod: how long MemoryPressure stays after relief; default 300 s. */
  evictionPressureTransitionSeconds?: number;
  ephemeralStorageBytes: number;
  pods: number;
  gpus: number;
  gpuModel?: string;
  gpuMemoryBytes?: number;
  /** MIG devices per GPU index (mixed strategy), e.g. [['3g.40gb', '2g.20gb', '1g.10gb']]; see ./gpus.ts. */
  migLayout?: string[][];
  instanceType?: string;
  zone?: string;
  labels?: Record<string, string>;
  taints?: k8s.V1Taint[];
  /** Set on registration. */
  internalIP?: string;
  /** The simulated kubelet's HTTPS port (its Summary API and resource metrics). */
  kubeletPort?: number;
  /** The loopback address the simulated kubelet listens on; then it is the InternalIP (default 127.0.0.1). */
  kubeletAddress?: string;
}

export const LEASE_SECONDS = 40;
const RENEW_MS = 10_000;
/** A full status (Ready condition heartbeat) at this period, as the kubelet's nodeStatusReportFrequency. */
const STATUS_MS = 60_000;

export function capacityOf(n: SimNodeSpec): Record<string, string> {
  return {
    cpu: formatCpu(n.cpu),
    memory: formatBytes(n.memoryBytes),
    'ephemeral-storage': formatBytes(n.ephemeralStorageBytes),
    pods: String(n.pods),
    ...gpuCapacity(n),
  };
}

export function labelsOf(n: SimNodeSpec): Record<string, string> {
  return {
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'sim.tailor.dev/node': 'true',
    ...(n.instanceType ? { 'node.kubernetes.io/instance-type': n.instanceType } : {}),
    ...(n.zone ? { 'topology.kubernetes.io/zone': n.zone } : {}),
    ...gpuLabels(n),
    ...n.labels,
  };
}

/** Capacity less kube-reserved, system-reserved and the hard eviction threshold, as the kubelet publishes it. */
export function allocatableResourcesOf(n: SimNodeSpec): Record<string, string> {
  const a = allocatableOf(n);
  return { ...capacityOf(n), cpu: formatCpu(a.cpu), memory: formatBytes(a.memoryBytes) };
}

/** The kubelet's MemoryPressure condition (pkg/kubelet/nodestatus/setters.go MemoryPressureCondition). */
export interface PressureState {
  memory: boolean;
  /** When MemoryPressure last changed. */
  since: Date;
}

function memoryPressureCondition(p: PressureState | undefined, now: Date): k8s.V1NodeCondition {
  return p?.memory
    ? {
        type: 'MemoryPressure',
        status: 'True',
        reason: 'KubeletHasInsufficientMemory',
        message: 'kubelet has insufficient memory available',
        lastHeartbeatTime: now,
        lastTransitionTime: p.since,
      }
    : {
        type: 'MemoryPressure',
        status: 'False',
        reason: 'KubeletHasSufficientMemory',
        message: 'kubelet has sufficient memory available',
        lastHeartbeatTime: now,
        lastTransitionTime: p?.since ?? now,
      };
}

function nodeStatus(n: SimNodeSpec, index: number, now: Date, pressure?: PressureState): k8s.V1NodeStatus {
  return {
    capacity: capacityOf(n),
    allocatable: allocatableResourcesOf(n),
    // Not in client-node's model yet (NodeStatus.declaredFeatures, 1.37); the apiserver keeps it.
    ...({ declaredFeatures: [...DECLARED_FEATURES] } as object),
    addresses: [
      { type: 'InternalIP', address: n.internalIP ?? simNodeIp(index) },
      { type: 'Hostname', address: n.name },
    ],
    ...(n.kubeletPort !== undefined ? { daemonEndpoints: { kubeletEndpoint: { Port: n.kubeletPort } } } : {}),
    nodeInfo: {
      architecture: 'amd64',
      bootID: '',
      containerRuntimeVersion: 'sim://1.0',
      kernelVersion: 'sim',
      kubeProxyVersion: '',
      kubeletVersion: 'v1.37.2-sim',
      machineID: n.name,
      operatingSystem: 'linux',
      osImage: 'Tailor simulated node',
      systemUUID: n.name,
    },
    conditions: [
      memoryPressureCondition(pressure, now),
      {
        type: 'DiskPressure',
        status: 'False',
        reason: 'KubeletHasNoDiskPressure',
        message: 'simulated',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
      {
        type: 'PIDPressure',
        status: 'False',
        reason: 'KubeletHasSufficientPID',
        message: 'simulated',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'simulated kubelet is posting ready status',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
  };
}

export function simNodeIp(index: number): string {
  return `10.${64 + Math.floor(index / 250)}.${index % 250}.1`;
}

export class NodeFleet {
  private timers: NodeJS.Timeout[] = [];
  readonly specs = new Map<string, SimNodeSpec>();
  /** The MemoryPressure each node's kubelet reports, written on change and with every heartbeat. */
  private readonly pressure = new Map<string, PressureState>();
  /** Nodes and Leases this process created (not found already there): what a failed start removes. */
  private readonly created = { nodes: new Set<string>(), leases: new Set<string>() };

  constructor(
    private readonly clients: Clients,
    private readonly log: (msg: string) => void,
  ) {}

  async register(nodes: SimNodeSpec[]): Promise<void> {
    const now = new Date();
    let i = this.specs.size;
    for (const n of nodes) {
      const index = i++;
      // With a kubelet endpoint the node is reached on its loopback address, as metrics-server and
      // the operator's stats source reach a kubelet (InternalIP + daemonEndpoints port).
      n.internalIP = n.kubeletPort !== undefined ? (n.kubeletAddress ?? '127.0.0.1') : simNodeIp(index);
      this.specs.set(n.name, n);
      try {
        await this.clients.core.createNode({
          body: { metadata: { name: n.name, labels: labelsOf(n) }, spec: { taints: n.taints ?? [] } },
        });
        this.created.nodes.add(n.name);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      await this.clients.core.patchNodeStatus(
        { name: n.name, body: { status: nodeStatus(n, index, now) } },
        mergePatch,
      );
      await this.renewLease(n.name, true);
    }
  }

  start(): void {
    this.timers.push(setInterval(() => void this.renewAll(), RENEW_MS));
    this.timers.push(setInterval(() => void this.heartbeatAll(), STATUS_MS));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Deletes the nodes and their Leases (onlyCreated: those this process created). */
  async deleteAll(onlyCreated = false): Promise<void> {
    for (const name of this.specs.keys()) {
      if (!onlyCreated || this.created.nodes.has(name))
        await this.clients.core.deleteNode({ name }).catch(() => {});
      if (!onlyCreated || this.created.leases.has(name))
        await this.clients.coordination
          .deleteNamespacedLease({ name, namespace: 'kube-node-lease' })
          .catch(() => {});
    }
  }

  /** A node the scale-down removed (its Node object already deleted): its Lease goes and its heartbeats stop. */
  async remove(name: string): Promise<void> {
    this.specs.delete(name);
    this.pressure.delete(name);
    await this.clients.coordination
      .deleteNamespacedLease({ name, namespace: 'kube-node-lease' })
      .catch((e: unknown) => this.log(`lease ${name}: ${classify(e).message}`));
  }

  private async renewAll(): Promise<void> {
    for (const name of this.specs.keys())
      await this.renewLease(name, false).catch((e: unknown) =>
        this.log(`lease ${name}: ${classify(e).message}`),
      );
  }

  private async heartbeatAll(): Promise<void> {
    let index = 0;
    for (const n of this.specs.values()) await this.heartbeat(n, index++);
  }

  private async heartbeat(n: SimNodeSpec, index: number): Promise<void> {
    const now = new Date();
    await this.clients.core
      .patchNodeStatus(
        {
          name: n.name,
          body: { status: { conditions: nodeStatus(n, index, now, this.pressure.get(n.name)).conditions } },
        },
        mergePatch,
      )
      .catch((e: unknown) => this.log(`node ${n.name}: ${classify(e).message}`));
  }

  /**
   * The kubelet's eviction manager says the node is (no longer) under memory pressure: the status
   * is written at once, as the kubelet does on a condition change; the node lifecycle controller
   * then adds or removes the node.kubernetes.io/memory-pressure taint.
   */
  setMemoryPressure(name: string, memory: boolean): void {
    if ((this.pressure.get(name)?.memory ?? false) === memory) return;
    this.pressure.set(name, { memory, since: new Date() });
    const index = [...this.specs.keys()].indexOf(name);
    const n = this.specs.get(name);
    if (n) void this.heartbeat(n, index);
  }

  private async renewLease(name: string, create: boolean): Promise<void> {
    const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime() };
    if (create) {
      try {
        await this.clients.objects.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: 'kube-node-lease' },
          spec,
        } as k8s.KubernetesObject);
        this.created.leases.add(name);
        return;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    await this.clients.coordination.patchNamespacedLease(
      { name, namespace: 'kube-node-lease', body: { spec } },
      mergePatch,
    );
  }
}
