// Applies the demo's YAML (the RBAC file, SizingPolicies, ModelDeployments) by server-side apply as
// the admin, the way `kubectl apply --server-side` would: a second demo run on the same cluster
// finds its objects already there and changes nothing.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { TailorError } from '../errors.ts';
import { classify } from '../kube/errors.ts';
import type { Clients } from '../kube/client.ts';

const FIELD_MANAGER = 'tailor-demo';

export function readManifests(path: string): k8s.KubernetesObject[] {
  return (k8s.loadAllYaml(readFileSync(path, 'utf8')) as (k8s.KubernetesObject | null)[]).filter(
    (o): o is k8s.KubernetesObject => o !== null && o !== undefined,
  );
}

export async function applyObjects(c: Clients, objects: readonly k8s.KubernetesObject[]): Promise<void> {
  for (const obj of objects) {
    try {
      await c.objects.patch(
        obj,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      const what = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
      throw new TailorError('KubernetesApi', `applying ${what}: ${classify(err).message}`, { cause: err });
    }
  }
}

/** Creates the namespaces the objects live in (ModelDeployments' tenants need theirs first). */
export async function ensureNamespaces(c: Clients, objects: readonly k8s.KubernetesObject[]): Promise<void> {
  const names = [...new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n))];
  await applyObjects(
    c,
    names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  );
}
