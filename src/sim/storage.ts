// A simulated CSI driver for one StorageClass: provisions a PV for each new claim (the real
// PV controller binds them), and expands volumes through the real PVC status fields the way
// external-resizer and the kubelet do: ControllerResizeInProgress -> NodeResizePending -> done.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { mergePatch } from '../kube/client.ts';
import { classify, isAlreadyExists } from '../kube/errors.ts';
import { watchResource, type Watched } from '../kube/informer.ts';
import { parseQuantity } from '../core/quantity.ts';

export const SIM_DRIVER = 'sim.csi.tailor.dev';

export interface StorageOptions {
  storageClass: string;
  /** Whether a claim can finish its file-system expansion only while a pod mounts it (as a kubelet). */
  isMounted(namespace: string, claim: string): boolean;
  log: (msg: string) => void;
}

type ResizeStep = 'ControllerResizeInProgress' | 'NodeResizePending';

export class SimStorage {
  private claims?: Watched<k8s.V1PersistentVolumeClaim>;
  private busy = new Set<string>();
  private timer?: NodeJS.Timeout;
  /** This process created the StorageClass (it was not there): a failed start removes it. */
  private createdClass = false;
  readonly stats = { provisioned: 0, expanded: 0 };

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

  /** The PersistentVolume bound to a claim: a claim deleted and made again gets a new, empty one. */
  volumeOf(namespace: string, claim: string): string | undefined {
    return this.claims?.get(claim, namespace)?.spec?.volumeName;
  }

  private async ensureStorageClass(): Promise<void> {
    try {
      await this.clients.storage.createStorageClass({
        body: {
          metadata: { name: this.opts.storageClass, labels: { 'sim.tailor.dev/storage': 'true' } },
          provisioner: SIM_DRIVER,
          allowVolumeExpansion: true,
          reclaimPolicy: 'Delete',
          volumeBindingMode: 'Immediate',
        },
      });
      this.createdClass = true;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** Deletes the StorageClass if this process created it (rolling back a failed start). */
  async deleteCreated(): Promise<void> {
    if (this.createdClass)
      await this.clients.storage.deleteStorageClass({ name: this.opts.storageClass }).catch(() => {});
    this.createdClass = false;
  }

  private reconcile(claim: k8s.V1PersistentVolumeClaim): void {
    if (claim.spec?.storageClassName !== this.opts.storageClass || claim.metadata?.deletionTimestamp) return;
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
            storageClassName: this.opts.storageClass,
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

  /** One step of an expansion per call, each a real status write a watcher can see. */
  private expand(claim: k8s.V1PersistentVolumeClaim): Promise<void> | undefined {
    if (claim.status?.phase !== 'Bound') return undefined;
    const want = parseQuantity(claim.spec?.resources?.requests?.storage) ?? 0;
    const have = parseQuantity(claim.status?.capacity?.storage) ?? 0;
    if (want <= have) return undefined;
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
    switch (step) {
      case undefined:
        // 1. The controller side starts: record the allocation being worked on.
        return patchStatus({
          allocatedResources: { storage: size },
          allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
          conditions: [{ type: 'Resizing', status: 'True', lastTransitionTime: now }],
        }).then(() => undefined);
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
        // 3. The kubelet grows the file system where a pod mounts the volume, and reports capacity.
        if (!this.opts.isMounted(ns, name)) return undefined;
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
