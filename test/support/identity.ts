// The operator's own identity for end-to-end tests: the ServiceAccount, ClusterRoles and bindings of
// deploy/rbac/operator.yaml applied as they are (by the admin, idempotently: test files run at the
// same time), a token from the TokenRequest API, and a kubeconfig with it. Every RBAC refusal the
// operator meets is recorded, and a test fails on any: a rule missing from the file shows up.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { classify } from '../../src/kube/errors.ts';
import { loadKubeConfig, observeRbacDenials, type RbacDenial } from '../../src/kube/client.ts';
import { clients as adminClients, eventually } from './cluster.ts';

const RBAC_FILE = new URL('../../deploy/rbac/operator.yaml', import.meta.url);
const FIELD_MANAGER = 'tailor-test-rbac';

export interface OperatorIdentity {
  /** A kubeconfig (Tailor's loader, so requests and refusals are observed) with the ServiceAccount's token. */
  readonly kc: k8s.KubeConfig;
  readonly kubeconfigPath: string;
  /** system:serviceaccount:NS:NAME */
  readonly user: string;
}

function shippedObjects(): k8s.KubernetesObject[] {
  return k8s.loadAllYaml(readFileSync(RBAC_FILE, 'utf8')) as k8s.KubernetesObject[];
}

/** Server-side apply as the admin, retried: another test file may be creating the same object right now. */
async function apply(objects: k8s.KubernetesObjectApi, obj: k8s.KubernetesObject): Promise<void> {
  await eventually(
    async () => {
      try {
        await objects.patch(
          obj,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          k8s.PatchStrategy.ServerSideApply,
        );
      } catch (err) {
        const kind = classify(err).kind;
        if (kind === 'Conflict' || kind === 'AlreadyExists' || kind === 'Unavailable') throw err;
        throw new Error(`applying ${obj.kind} ${obj.metadata?.name}: ${classify(err).message}`, {
          cause: err,
        });
      }
    },
    { timeoutMs: 30_000, what: `${obj.kind} ${obj.metadata?.name} applied` },
  );
}

/** Waits until the apiserver's RBAC cache grants `user` this request (bindings take a moment to apply). */
async function waitAllowed(user: string, attrs: k8s.V1ResourceAttributes): Promise<void> {
  const authz = adminClients().kc.makeApiClient(k8s.AuthorizationV1Api);
  await eventually(
    async () => {
      const r = await authz.createSubjectAccessReview({
        body: { spec: { user, resourceAttributes: attrs } },
      });
      assert.ok(
        r.status?.allowed,
        `${user} may ${attrs.verb} ${attrs.resource}: ${r.status?.reason ?? 'no'}`,
      );
    },
    { timeoutMs: 30_000, what: `RBAC to grant ${attrs.verb} ${attrs.group ?? ''}/${attrs.resource}` },
  );
}

let identity: Promise<OperatorIdentity> | undefined;

/** The operator's identity, set up once per test process from deploy/rbac/operator.yaml. */
export function operatorIdentity(): Promise<OperatorIdentity> {
  return (identity ??= setUp());
}

async function setUp(): Promise<OperatorIdentity> {
  const admin = adminClients();
  const shipped = shippedObjects();
  const sa = shipped.find((o) => o.kind === 'ServiceAccount');
  assert.ok(sa?.metadata?.name && sa.metadata.namespace, 'deploy/rbac/operator.yaml names a ServiceAccount');
  const { name, namespace } = sa.metadata as { name: string; namespace: string };
  const user = `system:serviceaccount:${namespace}:${name}`;
  // Namespaces first, then everything else, in the file's order.
  for (const o of [
    ...shipped.filter((x) => x.kind === 'Namespace'),
    ...shipped.filter((x) => x.kind !== 'Namespace'),
  ])
    await apply(admin.objects, o);
  // Each ClusterRole's first rule, as a probe that its binding is in force.
  for (const role of shipped.filter((o) => o.kind === 'ClusterRole') as k8s.V1ClusterRole[]) {
    const rule = role.rules?.[0];
    if (!rule) continue;
    await waitAllowed(user, {
      verb: rule.verbs[0],
      group: rule.apiGroups?.[0] ?? '',
      resource: rule.resources?.[0],
      ...(rule.resourceNames?.[0] ? { name: rule.resourceNames[0] } : {}),
    });
  }
  const token = await eventually(
    () =>
      admin.core.createNamespacedServiceAccountToken({
        name,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 6 * 3600 } },
      }),
    { what: `a token for ${user}` },
  );
  const cluster = admin.kc.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'tailor' }],
    users: [{ name: user, token: token.status!.token }],
    contexts: [{ name: 'operator', cluster: 'tailor', user }],
    currentContext: 'operator',
  });
  const dir = mkdtempSync(join(tmpdir(), 'tailor-operator-identity-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
  return { kc: loadKubeConfig(kubeconfigPath), kubeconfigPath, user };
}

/**
 * `tailor operator -n NS --webhook` (and `tailor webhook --name N`) registers a configuration of its
 * own name, which the shipped role cannot list in advance: what the file's comment says to do, done
 * for one name: a ClusterRole with the shipped rule for named configurations, on this name only.
 */
export async function allowWebhookConfiguration(name: string): Promise<void> {
  const { user } = await operatorIdentity();
  const shipped = shippedObjects().filter((o) => o.kind === 'ClusterRole') as k8s.V1ClusterRole[];
  const rule = shipped
    .flatMap((r) => r.rules ?? [])
    .find((r) => r.resources?.includes('mutatingwebhookconfigurations') && r.resourceNames?.length);
  assert.ok(rule, 'deploy/rbac/operator.yaml has a rule for Tailor-named webhook configurations');
  const saName = user.split(':')[3]!;
  const saNamespace = user.split(':')[2]!;
  const roleName = `tailor-test-webhook-${name}`;
  const admin = adminClients();
  await apply(admin.objects, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: roleName, labels: { 'tailor.dev/test': 'rbac' } },
    rules: [{ ...rule, resourceNames: [name] }],
  } as k8s.V1ClusterRole);
  await apply(admin.objects, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: roleName, labels: { 'tailor.dev/test': 'rbac' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: saName, namespace: saNamespace }],
  } as k8s.V1ClusterRoleBinding);
  await waitAllowed(user, {
    verb: rule.verbs[0],
    group: 'admissionregistration.k8s.io',
    resource: 'mutatingwebhookconfigurations',
    name,
  });
}

/**
 * Binds the shipped Role `name` (deploy/rbac/operator.yaml, its rules as shipped) to the operator's
 * ServiceAccount in `namespace`, where a test keeps what the operator would keep in tailor-system.
 */
async function bindShippedRole(name: string, namespace: string): Promise<string> {
  const { user } = await operatorIdentity();
  const shipped = shippedObjects().find(
    (o): o is k8s.V1Role => o.kind === 'Role' && o.metadata?.name === name,
  );
  assert.ok(shipped?.rules?.length, `deploy/rbac/operator.yaml has the Role ${name}`);
  const admin = adminClients();
  await apply(admin.objects, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace, labels: { 'tailor.dev/test': 'rbac' } },
    rules: shipped.rules,
  } as k8s.V1Role);
  await apply(admin.objects, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: { 'tailor.dev/test': 'rbac' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: user.split(':')[3]!, namespace: user.split(':')[2]! }],
  } as k8s.V1RoleBinding);
  return user;
}

/**
 * A webhook whose certificate Secret and replica Leases live in `namespace` (`--webhook-tls-secret
 * NS/NAME`, as the tests do to keep files apart) needs the shipped webhook Role bound there, as the
 * file's comment says: the Role's rules as shipped (same Secret name), in that namespace.
 */
export async function allowWebhookHome(namespace: string): Promise<void> {
  const user = await bindShippedRole('tailor-operator-webhook', namespace);
  await waitAllowed(user, { verb: 'create', group: '', resource: 'secrets', namespace });
}

/**
 * Leader election with its Lease in `namespace` (`--leader-election-namespace NS`, as the tests do to
 * keep files apart) needs the shipped leader-election Role bound there, as the file's comment says.
 */
export async function allowLeaderElection(namespace: string): Promise<void> {
  const user = await bindShippedRole('tailor-operator-leader-election', namespace);
  await waitAllowed(user, {
    verb: 'update',
    group: 'coordination.k8s.io',
    resource: 'leases',
    namespace,
    name: 'tailor-operator',
  });
}

/** Records every request RBAC refuses through `kc`; `check()` fails naming each missing rule. */
export function recordRbacDenials(kc: k8s.KubeConfig): { check(): void; stop(): void } {
  const seen: RbacDenial[] = [];
  const stop = observeRbacDenials(kc, (d) => seen.push(d));
  assert.ok(stop, 'the kubeconfig comes from loadKubeConfig (refusals are observed)');
  return {
    stop,
    check: () =>
      assert.deepEqual(
        [...new Set(seen.map((d) => `${d.verb} ${d.resource}`))],
        [],
        `RBAC refused the operator; add the rule to deploy/rbac/operator.yaml:\n${seen.map((d) => d.message).join('\n')}`,
      ),
  };
}

/**
 * Notifications read their ConfigMap and Secrets in the operator's namespace (`tailor-system`); a
 * test keeps its own in its namespace instead (`--notifications-configmap NS/NAME`), so the shipped
 * Role tailor-operator-notifications is bound there, as its comment says: its rules as shipped.
 */
export async function allowNotificationsHome(namespace: string): Promise<void> {
  const user = await bindShippedRole('tailor-operator-notifications', namespace);
  for (const resource of ['configmaps', 'secrets'])
    await waitAllowed(user, { verb: 'get', group: '', resource, namespace, name: 'tailor-notifications' });
}
