// The vocabulary of the storage tests: claims that fill on the simulator, VolumePolicies, and what
// to expect of them (expanded, untouched, a condition, an Event).
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type VolumePolicy, type VolumePolicySpec } from '../../src/api/index.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { makeClients } from '../../src/kube/client.ts';
import { eventually, expectReady, simPod, type TestCluster } from './cluster.ts';
import { eventsFor } from './operator.ts';

export const Mi = 2 ** 20;
export const Gi = 2 ** 30;
export const SIM_CLASS = 'tailor-sim';
/** The simulator's StorageClass without allowVolumeExpansion. */
export const FIXED_CLASS = 'tailor-sim-fixed';

export interface FillingClaim {
  name: string;
  size: string;
  storageClass?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Written by the pod's profile as soon as it runs (the idle profile's volumeBytes). */
  writtenBytes: number;
  /** A cache growing while the pod runs. */
  cacheBytesPerHour?: number;
}

/** A claim of the simulator, and a pod that mounts it and writes into it as told. */
export async function fillingClaim(cluster: TestCluster, c: FillingClaim): Promise<void> {
  const { core, namespace } = cluster;
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: c.name, labels: { app: c.name, ...c.labels }, annotations: c.annotations ?? {} },
      spec: {
        storageClassName: c.storageClass ?? SIM_CLASS,
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: c.size } },
      },
    },
  });
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: `${c.name}-writer`,
      profile: 'idle',
      params: { startupSeconds: 0, volumeBytes: c.writtenBytes },
      annotations: {
        'sim.tailor.dev/volume': JSON.stringify({ cacheBytesPerHour: c.cacheBytesPerHour ?? 0 }),
      },
      resources: { requests: { cpu: '10m', memory: '32Mi' } },
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: c.name } }],
      mounts: [{ name: 'data', mountPath: '/data' }],
    }),
  });
  await expectReady(core, namespace, `${c.name}-writer`, 120_000);
}

export function createVolumePolicy(
  cluster: TestCluster,
  name: string,
  spec: Partial<VolumePolicySpec> & Record<string, unknown>,
): Promise<unknown> {
  return makeClients(cluster.kc).custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: cluster.namespace,
    plural: 'volumepolicies',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'VolumePolicy', metadata: { name }, spec },
  });
}

export async function readVolumePolicy(cluster: TestCluster, name: string): Promise<VolumePolicy> {
  return (await makeClients(cluster.kc).custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: cluster.namespace,
    plural: 'volumepolicies',
    name,
  })) as VolumePolicy;
}

/** Waits until `check` passes on the policy; returns it. */
export function expectVolumePolicy(
  cluster: TestCluster,
  name: string,
  check: (p: VolumePolicy) => void,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<VolumePolicy> {
  return eventually(
    async () => {
      const p = await readVolumePolicy(cluster, name);
      check(p);
      return p;
    },
    {
      timeoutMs: opts.timeoutMs ?? 240_000,
      intervalMs: 1000,
      what: opts.what ?? `status of VolumePolicy ${name}`,
    },
  );
}

export function volumeCondition(p: VolumePolicy, type: string) {
  return p.status?.conditions?.find((c) => c.type === type);
}

export function volumeOf(p: VolumePolicy, claim: string) {
  return p.status?.volumes?.find((v) => v.claim === claim);
}

export function readClaim(cluster: TestCluster, name: string): Promise<k8s.V1PersistentVolumeClaim> {
  return cluster.core.readNamespacedPersistentVolumeClaim({ name, namespace: cluster.namespace });
}

/** Waits until the claim's file system has at least `atLeast` (status.capacity): the expansion ended. */
export function expectExpanded(
  cluster: TestCluster,
  claim: string,
  atLeast: string,
  opts: { timeoutMs?: number } = {},
): Promise<k8s.V1PersistentVolumeClaim> {
  return eventually(
    async () => {
      const c = await readClaim(cluster, claim);
      const cap = parseQuantity(c.status?.capacity?.storage) ?? 0;
      assert.ok(
        cap >= parseQuantity(atLeast)!,
        `${claim}: capacity ${c.status?.capacity?.storage}, request ${c.spec?.resources?.requests?.storage}, ${c.status?.allocatedResourceStatuses?.storage ?? 'no resize'}`,
      );
      return c;
    },
    { timeoutMs: opts.timeoutMs ?? 240_000, intervalMs: 1000, what: `claim ${claim} expanded to ${atLeast}` },
  );
}

/** The claim still asks for `size`, and no write of Tailor's field manager ever touched it. */
export async function expectUntouched(cluster: TestCluster, claim: string, size: string): Promise<void> {
  const c = await readClaim(cluster, claim);
  assert.equal(c.spec?.resources?.requests?.storage, size, `${claim}: request`);
  const tailor = (c.metadata?.managedFields ?? []).filter((f) => f.manager?.startsWith('tailor'));
  assert.deepEqual(
    tailor.map((f) => `${f.manager} ${f.operation} ${f.subresource ?? ''}`),
    [],
    `${claim}: Tailor wrote to it`,
  );
  assert.equal(c.metadata?.annotations?.['tailor.dev/last-expansion'], undefined);
}

/** Waits for an Event with this reason (and type) about the object; returns them. */
export function expectEvent(
  cluster: TestCluster,
  kind: 'PersistentVolumeClaim' | 'VolumePolicy',
  name: string,
  reason: string,
  type: 'Normal' | 'Warning' = 'Normal',
  timeoutMs = 240_000,
): Promise<k8s.CoreV1Event[]> {
  return eventually(
    async () => {
      const events = await eventsFor(cluster, kind, name, reason);
      assert.ok(
        events.some((e) => e.type === type),
        `no ${type} ${reason} Event on ${kind} ${name}; it has: ${(await eventsFor(cluster, kind, name)).map((e) => e.reason).join(', ')}`,
      );
      return events;
    },
    { timeoutMs, intervalMs: 1000, what: `${type} Event ${reason} on ${kind} ${name}` },
  );
}

export const mergePatchHeader = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
