// The demo operator's identity: deploy/rbac/operator.yaml applied as shipped (ServiceAccount,
// least-privilege roles, bindings), and a kubeconfig carrying a token of that ServiceAccount, so
// the demo runs the operator with the rights an installed one has, not the admin's.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { TailorError } from '../errors.ts';
import { loadKubeConfig, type Clients } from '../kube/client.ts';
import { packageRoot } from '../devcluster/paths.ts';
import { applyObjects } from './manifests.ts';

export interface DemoIdentity {
  readonly kc: k8s.KubeConfig;
  /** system:serviceaccount:NAMESPACE:NAME */
  readonly user: string;
  readonly kubeconfigPath: string;
}

export function rbacFile(): string {
  return join(packageRoot(), 'deploy', 'rbac', 'operator.yaml');
}

/** How long the demo's token lives: longer than any demo runs; a TokenRequest maximum is not hit. */
const TOKEN_SECONDS = 24 * 3600;

export async function operatorIdentity(
  admin: Clients,
  adminKc: k8s.KubeConfig,
  kubeconfigPath: string,
): Promise<DemoIdentity> {
  const objects = k8s.loadAllYaml(readFileSync(rbacFile(), 'utf8')) as k8s.KubernetesObject[];
  const sa = objects.find((o) => o.kind === 'ServiceAccount');
  const name = sa?.metadata?.name;
  const namespace = sa?.metadata?.namespace;
  if (!name || !namespace)
    throw new TailorError('Internal', `${rbacFile()} names no ServiceAccount with a namespace`);
  // Namespaces first: the ServiceAccount and the Roles live in one.
  await applyObjects(admin, [
    ...objects.filter((o) => o.kind === 'Namespace'),
    ...objects.filter((o) => o.kind !== 'Namespace'),
  ]);
  const user = `system:serviceaccount:${namespace}:${name}`;
  // Bindings take a moment to reach the apiserver's RBAC cache: wait until the first rule holds.
  const authz = adminKc.makeApiClient(k8s.AuthorizationV1Api);
  await until(async () => {
    const r = await authz.createSubjectAccessReview({
      body: {
        spec: { user, resourceAttributes: { verb: 'patch', resource: 'pods', subresource: 'resize' } },
      },
    });
    return r.status?.allowed === true;
  }, `RBAC to grant ${user} pods/resize`);
  const token = await admin.core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } },
  });
  const cluster = adminKc.getCurrentCluster();
  if (!cluster || !token.status?.token)
    throw new TailorError('Internal', `no cluster in the admin kubeconfig, or no token for ${user}`);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'tailor-demo' }],
    users: [{ name: user, token: token.status.token }],
    contexts: [{ name: 'operator', cluster: 'tailor-demo', user }],
    currentContext: 'operator',
  });
  // Written beside the admin's and read through Tailor's loader: its request observers (API
  // metrics, RBAC refusals) hook in there.
  writeFileSync(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
  return { kc: loadKubeConfig(kubeconfigPath), user, kubeconfigPath };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // the apiserver settling: try again
    }
    if (Date.now() > deadline)
      throw new TailorError('Timeout', `${what} did not happen within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
