// The chart installed by a real `helm` (built from its Go module: src/devcluster/helm.ts) into the
// real control plane, as the README says: every object with the fields that matter, a value of the
// wrong type refused by name, then the operator (in-process: no image runs here) authenticated as
// the CHART's ServiceAccount sizes a workload, and `helm uninstall` leaves only the CRDs.
// The release has its own name and namespace: other files use deploy/rbac's tailor-system names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ensureHelm } from '../../src/devcluster/helm.ts';
import { packageRoot } from '../../src/devcluster/paths.ts';
import { loadKubeConfig } from '../../src/kube/client.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import {
  Mi,
  createPolicy,
  expectResized,
  overProvisioned,
  podOf,
  startTestOperator,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const RELEASE = 'tailor-e2e';
// The release's namespace: the test's own plus a suffix, created by `helm install --create-namespace`.
const releaseNs = `${cluster.namespace}-rel`;
const CHART = join(packageRoot(), 'deploy/helm/tailor');
// Names the chart gives (fullname "tailor-e2e": the release name holds the chart name).
const SA = `${RELEASE}-operator`;
const selector = `app.kubernetes.io/instance=${RELEASE}`;

let helmPath = '';
let helmHome = '';

function helm(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(helmPath, [...args, '--kubeconfig', cluster.kubeconfigPath], {
    encoding: 'utf8',
    // Helm's own caches and config in a folder of the test's, not the user's ~/.config/helm.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  helmPath = (await ensureHelm()).path;
  helmHome = mkdtempSync(join(tmpdir(), 'tailor-helm-'));
});

after(async () => {
  // Whatever a failed test left: the release, then its namespace.
  helm('uninstall', RELEASE, '-n', releaseNs, '--ignore-not-found');
  await cluster.core.deleteNamespace({ name: releaseNs }).catch(() => {});
  rmSync(helmHome, { recursive: true, force: true });
});

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
}

/** deploy/rbac/operator.yaml's rules, by role name without its "tailor-operator" prefix. */
function shippedRules(): Map<string, Rule[]> {
  const docs = parseAllDocuments(readFileSync(join(packageRoot(), 'deploy/rbac/operator.yaml'), 'utf8'));
  const roles = docs
    .map((d) => d.toJSON() as { kind: string; metadata: { name: string }; rules?: Rule[] })
    .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  return new Map(roles.map((r) => [r.metadata.name.replace(/^tailor-operator/, ''), r.rules ?? []]));
}

/** Rules as JSON without the fields the apiserver leaves out when empty. */
const plain = (rules: k8s.V1PolicyRule[] | undefined) => JSON.parse(JSON.stringify(rules ?? [])) as Rule[];

test('a value of the wrong type fails helm install, naming the value; nothing is installed', () => {
  const r = helm(
    'install',
    RELEASE,
    CHART,
    '-n',
    releaseNs,
    '--create-namespace',
    '--set',
    'replicaCount=two',
  );
  assert.notEqual(r.status, 0, `helm install refuses replicaCount=two:\n${r.stdout}`);
  assert.match(r.stderr, /\/replicaCount': got string, want integer/, r.stderr);
  assert.notEqual(helm('status', RELEASE, '-n', releaseNs).status, 0, 'no release was made');
});

test('helm install puts every object in place: RBAC as deploy/rbac, SA, hardened Deployment, PDB, Services', async () => {
  const r = helm('install', RELEASE, CHART, '-n', releaseNs, '--create-namespace');
  assert.equal(r.status, 0, `helm install:\n${r.stdout}\n${r.stderr}`);

  const { core, apps, kc } = cluster;
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const policy = kc.makeApiClient(k8s.PolicyV1Api);

  await core.readNamespacedServiceAccount({ name: SA, namespace: releaseNs });
  // Least privilege: the same rules as deploy/rbac/operator.yaml, role for role.
  const shipped = shippedRules();
  for (const [suffix, rules] of shipped) {
    const name = `${SA}${suffix}`;
    const live =
      suffix === '' || suffix === '-cluster'
        ? await rbac.readClusterRole({ name })
        : await rbac.readNamespacedRole({ name, namespace: releaseNs });
    assert.deepEqual(
      plain(live.rules),
      rules,
      `${name} grants the rules of deploy/rbac tailor-operator${suffix}`,
    );
  }
  for (const suffix of ['', '-cluster']) {
    const b = await rbac.readClusterRoleBinding({ name: `${SA}${suffix}` });
    assert.deepEqual(JSON.parse(JSON.stringify(b.subjects)), [
      { kind: 'ServiceAccount', name: SA, namespace: releaseNs },
    ]);
    assert.equal(b.roleRef.name, `${SA}${suffix}`);
  }
  for (const suffix of ['-webhook', '-notifications', '-prices', '-leader-election']) {
    const b = await rbac.readNamespacedRoleBinding({ name: `${SA}${suffix}`, namespace: releaseNs });
    assert.deepEqual(JSON.parse(JSON.stringify(b.subjects)), [
      { kind: 'ServiceAccount', name: SA, namespace: releaseNs },
    ]);
  }

  const d = await apps.readNamespacedDeployment({ name: RELEASE, namespace: releaseNs });
  const pod = d.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.equal(d.spec!.replicas, 2, 'two replicas: one leads (Lease), both serve the webhook');
  assert.equal(pod.serviceAccountName, SA);
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
  assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'resource requests');
  assert.ok(c.resources?.limits?.memory, 'a memory limit');
  const history = c.volumeMounts?.find((m) => m.mountPath === '/var/lib/tailor');
  assert.ok(pod.volumes?.find((v) => v.name === history?.name)?.emptyDir, 'the history store on an emptyDir');
  assert.ok(c.args?.includes('--history=/var/lib/tailor/history.db'), `args ${c.args?.join(' ')}`);
  assert.ok(c.args?.includes(`--webhook-service=${releaseNs}/${RELEASE}:443`), `args ${c.args?.join(' ')}`);
  assert.ok(c.args?.includes(`--webhook-tls-secret=${releaseNs}/tailor-webhook-tls`));

  const pdb = await policy.readNamespacedPodDisruptionBudget({ name: RELEASE, namespace: releaseNs });
  assert.equal(pdb.spec?.maxUnavailable, 1);
  assert.deepEqual(pdb.spec?.selector?.matchLabels, d.spec!.selector.matchLabels);

  const svc = await core.readNamespacedService({ name: RELEASE, namespace: releaseNs });
  const ports = Object.fromEntries(
    (svc.spec?.ports ?? []).map((p): [string, unknown[]] => [p.name ?? '', [p.port, p.targetPort]]),
  );
  assert.deepEqual(ports, { http: [8080, 'http'], webhook: [443, 'webhook'] });
  assert.equal(
    c.ports?.find((p) => p.name === 'webhook')?.containerPort,
    9443,
    'the Service maps 443 to the webhook port',
  );

  // The apiserver admits the hardened pod and the scheduler binds it to a (simulated) node.
  await eventually(
    async () => {
      const pods = await core.listNamespacedPod({ namespace: releaseNs, labelSelector: selector });
      assert.equal(pods.items.length, 2, `${pods.items.length} operator pods (replicaCount 2)`);
      for (const p of pods.items) assert.ok(p.spec?.nodeName, `${p.metadata?.name} scheduled on a node`);
    },
    { timeoutMs: 60_000, what: "the chart's pod scheduled" },
  );
});

test("the operator, running as the chart's ServiceAccount, sizes a workload in place", async () => {
  // A token for the chart's ServiceAccount (TokenRequest), as a kubelet would mount it in the pod.
  const token = await cluster.core.createNamespacedServiceAccountToken({
    name: SA,
    namespace: releaseNs,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const user = `system:serviceaccount:${releaseNs}:${SA}`;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster.kc.getCurrentCluster()!, name: 'tailor' }],
    users: [{ name: user, token: token.status!.token }],
    contexts: [{ name: 'chart', cluster: 'tailor', user }],
    currentContext: 'chart',
  });
  const dir = mkdtempSync(join(tmpdir(), 'tailor-helm-sa-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, kc.exportConfig(), { mode: 0o600 });
  // Tailor's loader, so every RBAC refusal is recorded and fails the test when the operator stops.
  // As the chart's Deployment runs it: the prices ConfigMap in the release namespace (its Role is there).
  const op = await startTestOperator(cluster, {
    kc: loadKubeConfig(path),
    models: false,
    pricesConfigMap: { namespace: releaseNs, name: 'tailor-prices' },
  });
  try {
    await cluster.apps.createNamespacedDeployment({
      namespace: cluster.namespace,
      body: overProvisioned('web'),
    });
    const before = await podOf(cluster, 'web');
    await createPolicy(cluster, 'web', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    });
    const q = (v: string | undefined) => parseQuantity(v) ?? NaN;
    const after = await expectResized(cluster, before.metadata!.name!, (r) => {
      assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} below 100m`);
      assert.ok(q(r.requests?.memory) < 200 * Mi, `memory request ${r.requests?.memory} below 200Mi`);
    });
    assert.equal(after.metadata!.uid, before.metadata!.uid, 'resized in place, the same pod');
  } finally {
    await op.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helm uninstall leaves no Tailor object of the release but the CRDs', async () => {
  const r = helm('uninstall', RELEASE, '-n', releaseNs, '--wait');
  assert.equal(r.status, 0, `helm uninstall:\n${r.stdout}\n${r.stderr}`);
  const { core, apps, kc } = cluster;
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const policy = kc.makeApiClient(k8s.PolicyV1Api);
  await eventually(
    async () => {
      const left = [
        ...(await rbac.listClusterRole({ labelSelector: selector })).items.map(
          (o) => `ClusterRole ${o.metadata?.name}`,
        ),
        ...(await rbac.listClusterRoleBinding({ labelSelector: selector })).items.map(
          (o) => `ClusterRoleBinding ${o.metadata?.name}`,
        ),
        ...(await rbac.listNamespacedRole({ namespace: releaseNs })).items.map(
          (o) => `Role ${o.metadata?.name}`,
        ),
        ...(await rbac.listNamespacedRoleBinding({ namespace: releaseNs })).items.map(
          (o) => `RoleBinding ${o.metadata?.name}`,
        ),
        ...(await core.listNamespacedServiceAccount({ namespace: releaseNs })).items
          .filter((o) => o.metadata?.name !== 'default')
          .map((o) => `ServiceAccount ${o.metadata?.name}`),
        ...(await apps.listNamespacedDeployment({ namespace: releaseNs })).items.map(
          (o) => `Deployment ${o.metadata?.name}`,
        ),
        ...(await core.listNamespacedService({ namespace: releaseNs })).items.map(
          (o) => `Service ${o.metadata?.name}`,
        ),
        ...(await policy.listNamespacedPodDisruptionBudget({ namespace: releaseNs })).items.map(
          (o) => `PodDisruptionBudget ${o.metadata?.name}`,
        ),
        ...(await core.listNamespacedPod({ namespace: releaseNs })).items.map(
          (o) => `Pod ${o.metadata?.name}`,
        ),
      ];
      assert.deepEqual(left, [], 'objects left by the release');
    },
    { timeoutMs: 90_000, what: 'every object of the release gone' },
  );
  // Helm never deletes crds/: SizingPolicies survive an uninstall (README: delete the CRDs by hand).
  for (const name of [
    'sizingpolicies.tailor.dev',
    'sizingcheckpoints.tailor.dev',
    'modeldeployments.tailor.dev',
  ])
    await cluster.ext.readCustomResourceDefinition({ name });
});

test('the plain manifests (kubectl apply -f deploy/manifests/tailor.yaml) pass a server-side dry run', () => {
  // The same objects the chart makes, as the apiserver validates them; nothing is stored.
  const r = cluster.kubectl(
    'apply',
    '--dry-run=server',
    '-f',
    join(packageRoot(), 'deploy/manifests/tailor.yaml'),
  );
  assert.equal(r.status, 0, `kubectl apply --dry-run=server:\n${r.stdout}\n${r.stderr}`);
  for (const kind of [
    'namespace/tailor-system',
    'serviceaccount/tailor-operator',
    'clusterrole.rbac.authorization.k8s.io/tailor-operator-cluster',
    'deployment.apps/tailor',
    'service/tailor',
    'poddisruptionbudget.policy/tailor',
  ])
    assert.match(
      r.stdout,
      new RegExp(`^${kind.replace(/\./g, '\\.')} .*\\(server dry run\\)$`, 'm'),
      r.stdout,
    );
});

test('the optional objects (NetworkPolicy, notifications and prices ConfigMaps) pass a server-side dry run', () => {
  // Rendered into the test's own namespace (the release's is gone by now); nothing is stored.
  const r = helm(
    'template',
    RELEASE,
    CHART,
    '-n',
    cluster.namespace,
    '--set',
    'networkPolicy.enabled=true',
    '--set',
    'prices.overrides.cpuCoreHour=0.03',
    '--set-json',
    'notifications.config={"receivers":[{"name":"ops","webhook":{"url":{"secret":"tailor-notifications","key":"ops"}}}]}',
  );
  assert.equal(r.status, 0, r.stderr);
  const file = join(helmHome, 'optional.yaml');
  writeFileSync(file, r.stdout);
  const ok = cluster.kubectl('apply', '--dry-run=server', '-f', file);
  assert.equal(ok.status, 0, `kubectl apply --dry-run=server:\n${ok.stdout}\n${ok.stderr}`);
  for (const kind of [
    `networkpolicy.networking.k8s.io/${RELEASE}`,
    'configmap/tailor-notifications',
    'configmap/tailor-prices',
  ])
    assert.match(
      ok.stdout,
      new RegExp(`^${kind.replace(/\./g, '\\.')} .*\\(server dry run\\)$`, 'm'),
      ok.stdout,
    );
});
