// Simulated nodes: registers Node objects with capacity, labels and a Ready condition, and keeps
// their Leases in kube-node-lease renewed so the real node lifecycle controller keeps them Ready.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { mergePatch } from '../kube/client.ts';
import { classify, isAlreadyExists } from '../kube/errors.ts';
import { formatBytes, formatCpu } from '../core/quantity.ts';
import { microTime } from '../kube/time.ts';
import { DECLARED_FEATURES } from './kubelet/declared-features.ts';

export interface SimNodeSpec {
  name: string;
  cpu: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  pods: number;
  gpus: number;
  gpuModel?: string;
  gpuMemoryBytes?: number;
  instanceType?: string;
  zone?: string;
  labels?: Record<string, string>;
  taints?: k8s.V1Taint[];
  /** Set on registration. */
  internalIP?: string;
  /** The simulated kubelet's HTTPS port on loopback (its Summary API); then the InternalIP is 127.0.0.1. */
  kubeletPort?: number;
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
    ...(n.gpus > 0 ? { 'nvidia.com/gpu': String(n.gpus) } : {}),
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
    ...(n.gpus > 0 && n.gpuModel
      ? {
          'nvidia.com/gpu.product': n.gpuModel,
          'nvidia.com/gpu.count': String(n.gpus),
          ...(n.gpuMemoryBytes
            ? { 'nvidia.com/gpu.memory': String(Math.round(n.gpuMemoryBytes / 2 ** 20)) }
            : {}),
        }
      : {}),
    ...n.labels,
  };
}

function nodeStatus(n: SimNodeSpec, index: number, now: Date): k8s.V1NodeStatus {
  const capacity = capacityOf(n);
  return {
    capacity,
    allocatable: capacity,
    // Not in client-node's model yet (NodeStatus.declaredFeatures, 1.37); the apiserver keeps it.
    ...({ declaredFeatures: [...DECLARED_FEATURES] } as object),
    addresses: [
      { type: 'InternalIP', address: n.kubeletPort !== undefined ? '127.0.0.1' : simNodeIp(index) },
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
      {
        type: 'MemoryPressure',
        status: 'False',
        reason: 'KubeletHasSufficientMemory',
        message: 'simulated',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
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
      // With a kubelet endpoint the node is reached on loopback, as the operator's stats source does.
      n.internalIP = n.kubeletPort !== undefined ? '127.0.0.1' : simNodeIp(index);
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

  private async renewAll(): Promise<void> {
    for (const name of this.specs.keys())
      await this.renewLease(name, false).catch((e: unknown) =>
        this.log(`lease ${name}: ${classify(e).message}`),
      );
  }

  private async heartbeatAll(): Promise<void> {
    const now = new Date();
    let index = 0;
    for (const n of this.specs.values()) {
      const i = index++;
      await this.clients.core
        .patchNodeStatus(
          { name: n.name, body: { status: { conditions: nodeStatus(n, i, now).conditions } } },
          mergePatch,
        )
        .catch((e: unknown) => this.log(`node ${n.name}: ${classify(e).message}`));
    }
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
