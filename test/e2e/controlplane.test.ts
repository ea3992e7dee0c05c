// Proves the control plane is the real thing: controllers, scheduler, resize validation, CRDs, kubectl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { apiError, eventually, registerNode, useCluster } from '../support/cluster.ts';

const cluster = useCluster(import.meta.url);
const container = (name: string, resources: k8s.V1ResourceRequirements): k8s.V1Container => ({
  name,
  image: 'registry.k8s.io/pause:3.10',
  resources,
});

test('a Deployment becomes a ReplicaSet and Pods (kube-controller-manager)', async () => {
  const { apps, core, namespace } = cluster;
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container('web', {})] } },
      },
    },
  });
  const rs = await eventually(async () => {
    const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' });
    assert.equal(list.items.length, 1);
    return list.items[0]!;
  });
  assert.equal(rs.metadata?.ownerReferences?.[0]?.name, 'web');
  const pods = await eventually(async () => {
    const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    assert.equal(list.items.length, 2);
    return list.items;
  });
  for (const pod of pods) assert.equal(pod.metadata?.ownerReferences?.[0]?.name, rs.metadata?.name);
});

test('a Pod is bound to a registered Node (kube-scheduler)', async () => {
  const { core, namespace } = cluster;
  const node = `${namespace}-node`;
  await registerNode(core, node);
  try {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'bound' },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': node },
          containers: [container('c', { requests: { cpu: '100m', memory: '64Mi' } })],
        },
      },
    });
    const pod = await eventually(
      async () => {
        const p = await core.readNamespacedPod({ name: 'bound', namespace });
        assert.equal(p.spec?.nodeName, node);
        return p;
      },
      { timeoutMs: 60_000, what: 'the pod to be scheduled' },
    );
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.equal(scheduled?.status, 'True');
  } finally {
    await core.deleteNode({ name: node }).catch(() => {});
  }
});

test('a pods/resize patch that would change the QoS class is rejected by the apiserver', async () => {
  const { core, namespace } = cluster;
  const guaranteed = { cpu: '500m', memory: '128Mi' };
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'guaranteed' },
      spec: {
        // On a node that stays: the scheduler's cache may still hold the node the test above just
        // deleted, and a resize of a pod bound there is refused (403, node not found).
        nodeSelector: { 'sim.tailor.dev/pool': 'general' },
        containers: [container('c', { requests: guaranteed, limits: guaranteed })],
      },
    },
  });
  const created = await core.readNamespacedPod({ name: 'guaranteed', namespace });
  assert.equal(created.status?.qosClass, 'Guaranteed');
  const patch = { spec: { containers: [{ name: 'c', resources: { requests: { cpu: '250m' } } }] } };
  const err = await core
    .patchNamespacedPodResize(
      { name: 'guaranteed', namespace, body: patch },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    )
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err, 'the resize should have been rejected');
  const { code, message } = apiError(err);
  assert.equal(code, 422);
  assert.match(message, /Pod QOS Class may not change as a result of resizing/);

  // The same subresource accepts a resize that keeps the class, so the rejection above is about QoS.
  const keep = { cpu: '400m', memory: '128Mi' };
  const resized = await core.patchNamespacedPodResize(
    {
      name: 'guaranteed',
      namespace,
      body: { spec: { containers: [{ name: 'c', resources: { requests: keep, limits: keep } }] } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  assert.equal(resized.spec?.containers[0]?.resources?.requests?.cpu, '400m');
});

test('a CRD installs and its resources are served', async () => {
  const { ext, objects, namespace } = cluster;
  const group = `${namespace}.example.tailor.dev`;
  const name = `widgets.${group}`;
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                },
              },
            },
          },
        ],
      },
    },
  });
  try {
    await eventually(async () => {
      const crd = await ext.readCustomResourceDefinition({ name });
      assert.ok(
        crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
        'CRD Established',
      );
    });
    const body = {
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name: 'w', namespace },
      spec: { size: 3 },
    };
    await eventually(() => objects.create(body), { what: 'the Widget to be accepted' });
    const read = await objects.read<typeof body>(body);
    assert.equal(read.spec.size, 3);
    // The schema is enforced: the CRD is served by the real apiserver, not echoed.
    const bad = await objects
      .create({ ...body, metadata: { name: 'bad', namespace }, spec: { size: 0 } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.match(apiError(bad).message, /spec.size/);
  } finally {
    await ext.deleteCustomResourceDefinition({ name }).catch(() => {});
  }
});

test('kubectl works with the written kubeconfig', () => {
  const r = cluster.kubectl('get', 'namespaces', cluster.namespace, '-o', 'jsonpath={.status.phase}');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Active');
  const version = cluster.kubectl('version', '-o', 'json');
  assert.equal(version.status, 0, version.stderr);
  const server = (JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } }).serverVersion;
  assert.match(server.gitVersion, /^v1\.37\./);
});
