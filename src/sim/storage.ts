// A simulated CSI driver for one StorageClass (and a second one, "<class>-fixed", without
// allowVolumeExpansion): provisions a PV for each new claim (the real PV controller binds them), and
// expands volumes through the real PVC status fields the way external-resizer and the kubelet do:
// ControllerResizeInProgress -> NodeResizePending -> done. Its failures are the real ones
// (KEP-1790): a quota the simulated cloud enforces (the scenario's storage.volumeQuota, or a claim's
// sim.tailor.dev/volume-quota annotation) ends in ControllerResizeInfeasible with a
// ControllerResizeError condition; a claim annotated sim.tailor.dev/node-resize: Fail ends in
// NodeResizeInfeasible with a NodeResizeError condition. Lowering the request again (Kubernetes 1.34+
// allows it down to just above status.capacity) is recovered as external-resizer does: the failed
// state is cleared and the new, smaller size is tried.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { mergePatch } from '../kube/client.ts';
import { classify, isAlreadyExists } from '../kube/errors.ts';
import { watchResource, type Watched } from '../kube/informer.ts';
import { formatBytes, parseQuantity } from '../core/quantity.ts';

export const SIM_DRIVER = 'sim.csi.tailor.dev';
/** On a claim: the simulated cloud refuses to grow its volume past this quantity. */
export const VOLUME_QUOTA_ANNOTATION = 'sim.tailor.dev/volume-quota';
/** On a claim, "Fail": the node step of every expansion fails (NodeResizeInfeasible). */
export const NODE_RESIZE_ANNOTATION = 'sim.tailor.dev/node-resize';

/** The StorageClass beside the expandable one whose claims can never be expanded. */
export function fixedStorageClass(storageClass: string): string {
  return `${storageClass}-fixed`;
}

export interface StorageOptions {
  storageClass: string;
  /** The simulated cloud refuses to grow any volume past this (bytes); a claim's annotation can set its own. */
  volumeQuotaBytes?: number;
  /** Whether a claim can finish its file-system expansion only while a pod mounts it (as a kubelet). */
  isMounted(namespace: string, claim: string): boolean;
  log: (msg: string) => void;
}

type ResizeStep =
  'ControllerResizeInProgress' | 'NodeResizePending' | 'ControllerResizeInfeasible' | 'NodeResizeInfeasible';

export class SimStorage {
  private claims?: Watched<k8s.V1PersistentVolumeClaim>;
  private busy = new Set<string>();
  private timer?: NodeJS.Timeout;
  /** The StorageClasses this process created (they were not there): a failed start removes them. */
  private readonly createdClasses: string[] = [];
  readonly stats = { provisioned: 0, expanded: 0, failed: 0, recovered: 0 };

  constructor(
    private readonly clients: Clients,
    private readonly opts: StorageOptions,
  ) {}

  async start(): Promise<void> {
    await this.ensureStorageClass();
    const { clients } = this;
    this.claims = watchResource<k8s.V1PersistentVolumeClaim>(
      clients.kc,
      '/api/v1/persistentvolumeclaims',
      () => clients.core.listPersistentVolumeClaimForAllNamespaces(),
      {
        add: (c) => this.reconcile(c),
        update: (c) => this.reconcile(c),
        error: (e) => this.opts.log(`claim watch: ${classify(e).message}; relisting`),
      },
    );
    await this.claims.synced;
    // Node expansion waits for a mount; look again now and then for claims that gained one.
    this.timer = setInterval(() => {
      for (const c of this.claims?.list() ?? []) this.reconcile(c);
    }, 2000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.claims?.stop();
  }

  /** Capacity of a claim as the node sees it (what kubelet_volume_stats_capacity_bytes reports). */
  capacityOf(namespace: string, claim: string): number | undefined {
    return parseQuantity(this.claims?.get(claim, namespace)?.status?.capacity?.storage);
  }

  private async ensureStorageClass(): Promise<void> {
    for (const [name, allowVolumeExpansion] of [
      [this.opts.storageClass, true],
      [fixedStorageClass(this.opts.storageClass), false],
    ] as const) {
      try {
        await this.clients.storage.createStorageClass({
          body: {
            metadata: { name, labels: { 'sim.tailor.dev/storage': 'true' } },
            provisioner: SIM_DRIVER,
            allowVolumeExpansion,
            reclaimPolicy: 'Delete',
            volumeBindingMode: 'Immediate',
          },
        });
        this.createdClasses.push(name);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }

  /** Deletes the StorageClasses this process created (rolling back a failed start). */
  async deleteCreated(): Promise<void> {
    for (const name of this.createdClasses.splice(0))
      await this.clients.storage.deleteStorageClass({ name }).catch(() => {});
  }

  private reconcile(claim: k8s.V1PersistentVolumeClaim): void {
    const cls = claim.spec?.storageClassName;
    if (
      (cls !== this.opts.storageClass && cls !== fixedStorageClass(this.opts.storageClass)) ||
      claim.metadata?.deletionTimestamp
    )
      return;
    const key = `${claim.metadata?.namespace}/${claim.metadata?.name}`;
    if (this.busy.has(key)) return;
    const work = !claim.spec?.volumeName ? this.provision(claim) : this.expand(claim);
    if (!work) return;
    this.busy.add(key);
    work
      .catch((e: unknown) => this.opts.log(`storage ${key}: ${classify(e).message}`))
      .finally(() => this.busy.delete(key));
  }

  private provision(claim: k8s.V1PersistentVolumeClaim): Promise<void> | undefined {
    const size = claim.spec?.resources?.requests?.storage;
    if (!size) return undefined;
    const name = `pvc-${claim.metadata!.uid!}`;
    return this.clients.core
      .createPersistentVolume({
        body: {
          metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': SIM_DRIVER } },
          spec: {
            capacity: { storage: size },
            accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: claim.spec!.storageClassName!,
            volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
            claimRef: {
              apiVersion: 'v1',
              kind: 'PersistentVolumeClaim',
              namespace: claim.metadata!.namespace!,
              name: claim.metadata!.name!,
              uid: claim.metadata!.uid!,
            },
            csi: { driver: SIM_DRIVER, volumeHandle: name, fsType: 'ext4' },
          },
        },
      })
      .then(
        () => {
          this.stats.provisioned++;
        },
        (err: unknown) => {
          if (!isAlreadyExists(err)) throw err;
        },
      );
  }

  /** The quota the simulated cloud enforces on this claim's volume, if any. */
  private quotaOf(claim: k8s.V1PersistentVolumeClaim): number | undefined {
    return (
      parseQuantity(claim.metadata?.annotations?.[VOLUME_QUOTA_ANNOTATION]) ?? this.opts.volumeQuotaBytes
    );
  }

  /** One step of an expansion per call, each a real status write a watcher can see. */
  private expand(claim: k8s.V1PersistentVolumeClaim): Promise<void> | undefined {
    if (claim.status?.phase !== 'Bound') return undefined;
    const want = parseQuantity(claim.spec?.resources?.requests?.storage) ?? 0;
    const have = parseQuantity(claim.status?.capacity?.storage) ?? 0;
    const allocated = parseQuantity(claim.status?.allocatedResources?.storage);
    const step = claim.status?.allocatedResourceStatuses?.storage as ResizeStep | undefined;
    const ns = claim.metadata!.namespace!;
    const name = claim.metadata!.name!;
    const size = claim.spec!.resources!.requests!.storage!;
    const now = new Date();
    const patchStatus = (status: object) =>
      this.clients.core.patchNamespacedPersistentVolumeClaimStatus(
        { name, namespace: ns, body: { status } },
        mergePatch,
      );
    const start = () =>
      patchStatus({
        allocatedResources: { storage: size },
        allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
        conditions: [{ type: 'Resizing', status: 'True', lastTransitionTime: now }],
      }).then(() => undefined);
    const begin = () => {
      const quota = this.quotaOf(claim);
      if (quota !== undefined && want > quota) {
        this.stats.failed++;
        return patchStatus({
          allocatedResources: { storage: size },
          allocatedResourceStatuses: { storage: 'ControllerResizeInfeasible' },
          conditions: [
            {
              type: 'ControllerResizeError',
              status: 'True',
              lastTransitionTime: now,
              message: `resize volume "${claim.spec?.volumeName}" by resizer "${SIM_DRIVER}" failed: rpc error: code = OutOfRange desc = requested size ${size} exceeds the volume quota of ${formatBytes(quota)}`,
            },
          ],
        }).then(() => undefined);
      }
      return start();
    };

    // 0. A failed expansion stays failed until the request is lowered below the size that failed
    //    (KEP-1790); then, as external-resizer does, the failure is cleared and the new size tried
    //    (or, at the volume's size already, the expansion is over).
    if (step === 'ControllerResizeInfeasible' || step === 'NodeResizeInfeasible') {
      if (allocated === undefined || want >= allocated) return undefined;
      this.stats.recovered++;
      this.opts.log(`storage ${ns}/${name}: request lowered to ${size} after ${step}: recovering`);
      if (want <= have)
        return patchStatus({
          allocatedResources: { storage: size },
          allocatedResourceStatuses: null,
          conditions: [],
        }).then(() => undefined);
      return begin();
    }
    if (want <= have) return undefined;
    switch (step) {
      case undefined:
        // 1. The controller side starts: the cloud's quota is checked first, as a real one would.
        return begin();
      case 'ControllerResizeInProgress':
        // 2. The volume grows (PV capacity), then the file system waits for the node.
        return this.clients.core
          .patchPersistentVolume(
            { name: claim.spec!.volumeName!, body: { spec: { capacity: { storage: size } } } },
            mergePatch,
          )
          .then(() =>
            patchStatus({
              allocatedResourceStatuses: { storage: 'NodeResizePending' },
              conditions: [
                {
                  type: 'FileSystemResizePending',
                  status: 'True',
                  lastTransitionTime: now,
                  message:
                    'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
                },
              ],
            }),
          )
          .then(() => undefined);
      case 'NodeResizePending':
        // 3. The kubelet grows the file system where a pod mounts the volume, and reports capacity;
        //    or fails to (NodeResizeInfeasible: the volume grew, its file system did not).
        if (!this.opts.isMounted(ns, name)) return undefined;
        if (claim.metadata?.annotations?.[NODE_RESIZE_ANNOTATION] === 'Fail') {
          this.stats.failed++;
          return patchStatus({
            allocatedResourceStatuses: { storage: 'NodeResizeInfeasible' },
            conditions: [
              {
                type: 'NodeResizeError',
                status: 'True',
                lastTransitionTime: now,
                message: `MountVolume.NodeExpandVolume failed for volume "${claim.spec?.volumeName}": resize2fs: Invalid argument while trying to resize the file system to ${size}`,
              },
            ],
          }).then(() => undefined);
        }
        return patchStatus({
          capacity: { storage: size },
          allocatedResourceStatuses: null,
          conditions: [],
        }).then(() => {
          this.stats.expanded++;
        });
    }
  }
}
