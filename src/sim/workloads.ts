// Creates a scenario's workloads (namespaces, Deployments or StatefulSets, model-cache volumes)
// pinned to their node pool, so `tailor sim --scenario` brings up a whole fleet in one command.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { isAlreadyExists } from '../kube/errors.ts';
import { POOL_LABEL, workloadPodAnnotations, type Scenario, type Workload } from './scenario.ts';
import { VOLUME_ANNOTATION } from './volumes/writes.ts';

const DOWNLOAD_IMAGE = 'registry.k8s.io/pause:3.10';

/** Runs `fn` over `items` with at most `limit` in flight: creating 1,500 workloads one by one is slow. */
async function inBatches<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

export function podTemplate(s: Scenario, w: Workload): k8s.V1PodTemplateSpec {
  const pool = s.nodePools.find((p) => p.name === w.pool);
  return {
    metadata: {
      labels: { app: w.name, ...w.labels },
      annotations: {
        ...workloadPodAnnotations(w),
        ...(w.volume?.writes
          ? { [`${VOLUME_ANNOTATION}.${w.volume.name}`]: JSON.stringify(w.volume.writes) }
          : {}),
      },
    },
    spec: {
      terminationGracePeriodSeconds: 5,
      ...(w.pool ? { nodeSelector: { [POOL_LABEL]: w.pool } } : {}),
      ...(pool?.taints.length
        ? {
            tolerations: pool.taints.map((t) => ({
              key: t.key,
              operator: 'Equal',
              value: t.value ?? '',
              effect: t.effect,
            })),
          }
        : {}),
      // A download into the volume runs in an init container: the pod is not Ready before it is done.
      ...(w.volume?.writes?.downloadBytes
        ? {
            initContainers: [
              {
                name: 'download',
                image: DOWNLOAD_IMAGE,
                volumeMounts: [{ name: w.volume.name, mountPath: w.volume.mountPath }],
              },
            ],
          }
        : {}),
      containers: w.containers.map((c) => ({
        name: c.name,
        image: c.image,
        // Only the resources written are keys (MIG resources make the type an index signature).
        resources: {
          requests: { ...c.requests } as Record<string, string>,
          limits: { ...c.limits } as Record<string, string>,
        },
        resizePolicy: Object.entries(c.resizePolicy).map(([resourceName, restartPolicy]) => ({
          resourceName,
          restartPolicy,
        })),
        ...(w.volume ? { volumeMounts: [{ name: w.volume.name, mountPath: w.volume.mountPath }] } : {}),
      })),
      ...(w.volume && w.kind === 'Deployment'
        ? {
            volumes: [
              { name: w.volume.name, persistentVolumeClaim: { claimName: `${w.name}-${w.volume.name}` } },
            ],
          }
        : {}),
    },
  };
}

export async function applyWorkloads(
  clients: Clients,
  s: Scenario,
  progress: (line: string) => void,
): Promise<void> {
  const namespaces = [...new Set(s.workloads.map((w) => w.namespace))];
  await inBatches(namespaces, 16, (name) =>
    ignoreExists(
      clients.core.createNamespace({
        body: { metadata: { name, labels: { 'sim.tailor.dev/scenario': s.name } } },
      }),
    ),
  );
  progress(`${namespaces.length} namespaces`);
  let done = 0;
  await inBatches(s.workloads, 16, async (w) => {
    const selector = { matchLabels: { app: w.name } };
    const claim = (name: string): k8s.V1PersistentVolumeClaim => ({
      metadata: { name },
      spec: {
        storageClassName: s.storage.storageClass,
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: String(w.volume!.sizeBytes) } },
      },
    });
    if (w.kind === 'Deployment') {
      if (w.volume) {
        await ignoreExists(
          clients.core.createNamespacedPersistentVolumeClaim({
            namespace: w.namespace,
            body: claim(`${w.name}-${w.volume.name}`),
          }),
        );
      }
      await ignoreExists(
        clients.apps.createNamespacedDeployment({
          namespace: w.namespace,
          body: {
            metadata: { name: w.name, labels: w.labels },
            spec: { replicas: w.replicas, selector, template: podTemplate(s, w) },
          },
        }),
      );
    } else {
      await ignoreExists(
        clients.apps.createNamespacedStatefulSet({
          namespace: w.namespace,
          body: {
            metadata: { name: w.name, labels: w.labels },
            spec: {
              replicas: w.replicas,
              serviceName: w.name,
              selector,
              template: podTemplate(s, w),
              ...(w.volume ? { volumeClaimTemplates: [claim(w.volume.name)] } : {}),
            },
          },
        }),
      );
    }
    done++;
    if (done % 100 === 0) progress(`${done}/${s.workloads.length} workloads`);
  });
  progress(`${s.workloads.length} workloads created`);
}
