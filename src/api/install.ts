// Installs or updates Tailor's CRDs on a cluster and waits until the apiserver serves them. Safe to
// run from several processes at once (test files, an operator starting twice): the last one wins.
import * as k8s from '@kubernetes/client-node';
import { TailorError } from '../errors.ts';
import { classify, toTailorError } from '../kube/errors.ts';
import { toCrd } from './crd.ts';
import type { CustomResourceDefinition } from './crd.ts';
import { ModelDeploymentKind } from './modeldeployment.ts';
import { SizingPolicyKind } from './sizingpolicy.ts';
import { SizingCheckpointKind } from './sizingcheckpoint.ts';
import { VolumePolicyKind } from './volumepolicy.ts';
import { TenantBudgetKind } from './tenantbudget.ts';

export function tailorCrds(): CustomResourceDefinition[] {
  return [
    toCrd(SizingPolicyKind),
    toCrd(ModelDeploymentKind),
    toCrd(SizingCheckpointKind),
    toCrd(VolumePolicyKind),
    toCrd(TenantBudgetKind),
  ];
}

export interface InstallOptions {
  crds?: CustomResourceDefinition[];
  timeoutMs?: number;
}

export async function installCrds(ext: k8s.ApiextensionsV1Api, opts: InstallOptions = {}): Promise<void> {
  const crds = opts.crds ?? tailorCrds();
  for (const crd of crds) await createOrReplace(ext, crd);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (const crd of crds) await established(ext, crd.metadata.name, deadline);
}

/**
 * The typed client drops keys it does not know by their TypeScript names (x-kubernetes-validations
 * is `xKubernetesValidations` there), so the wire-format CRD goes through client-node's own loader.
 */
function typed(crd: CustomResourceDefinition): k8s.V1CustomResourceDefinition {
  return k8s.loadYaml<k8s.V1CustomResourceDefinition>(JSON.stringify(crd));
}

async function createOrReplace(ext: k8s.ApiextensionsV1Api, crd: CustomResourceDefinition): Promise<void> {
  const name = crd.metadata.name;
  for (let attempt = 0; ; attempt++) {
    try {
      await ext.createCustomResourceDefinition({ body: typed(crd) });
      return;
    } catch (err) {
      if (classify(err).kind !== 'AlreadyExists') throw toTailorError(`creating CRD ${name}`, err);
    }
    try {
      const existing = await ext.readCustomResourceDefinition({ name });
      const body = typed(crd);
      body.metadata = { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion };
      await ext.replaceCustomResourceDefinition({ name, body });
      return;
    } catch (err) {
      const kind = classify(err).kind;
      // Someone else replaced or deleted it between our read and write: read again.
      if ((kind === 'Conflict' || kind === 'NotFound') && attempt < 5) continue;
      throw toTailorError(`replacing CRD ${name}`, err);
    }
  }
}

async function established(ext: k8s.ApiextensionsV1Api, name: string, deadline: number): Promise<void> {
  let last = 'not read yet';
  while (Date.now() < deadline) {
    const crd = await ext.readCustomResourceDefinition({ name });
    const conditions = crd.status?.conditions ?? [];
    const names = conditions.find((c) => c.type === 'NamesAccepted');
    if (names?.status === 'False') {
      throw new TailorError(
        'KubernetesApi',
        `CRD ${name}: names not accepted: ${names.message ?? names.reason ?? ''}`,
      );
    }
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    last = conditions.map((c) => `${c.type}=${c.status}`).join(', ') || 'no conditions';
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TailorError('Timeout', `CRD ${name} not Established in time (${last})`);
}
