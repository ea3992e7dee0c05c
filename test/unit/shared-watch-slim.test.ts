// What the operator's caches keep of an object: everything a controller reads (names, resources,
// resizePolicy, who resized the pod and when, what the packing what-if schedules by), nothing it
// does not (field sets, env, probes, volumes that are not node-local...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { slim, slimPodSpec } from '../../src/kube/shared-watch.ts';
import { lastResizeTime } from '../../src/core/resize/index.ts';
import { podKindOf } from '../../src/core/packing/view.ts';

const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'p-1', uid: 'u', controller: true };

test('slim keeps who wrote a pod and when, drops the field sets; slimPodSpec keeps sizing and scheduling fields only', () => {
  const t = new Date('2026-11-28T10:00:00Z');
  const pod: k8s.V1Pod = {
    metadata: {
      name: 'p',
      namespace: 'n',
      managedFields: [
        {
          manager: 'tailor',
          operation: 'Update',
          subresource: 'resize',
          time: t,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': {} },
        },
      ],
    },
    spec: {
      volumes: [
        { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'shm', emptyDir: { medium: 'Memory' } },
        { name: 'host', hostPath: { path: '/var/lib/models', type: 'Directory' } },
      ],
      tolerations: [{ key: 'k', operator: 'Exists' }],
      containers: [
        {
          name: 'app',
          image: 'example.com/app:1',
          env: [{ name: 'A', value: 'b' }],
          volumeMounts: [{ name: 'token', mountPath: '/t' }],
          readinessProbe: { httpGet: { path: '/', port: 8080 } },
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } },
          resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }],
        },
      ],
    },
  };
  slimPodSpec(pod.spec);
  slim(pod);
  const c = pod.spec!.containers[0]!;
  assert.deepEqual(Object.keys(c).sort(), ['image', 'name', 'resizePolicy', 'resources']);
  assert.deepEqual(
    pod.spec!.volumes,
    [
      { name: 'scratch', emptyDir: {} },
      { name: 'host', hostPath: { path: '' } },
    ],
    'only the node-local volumes, by name and kind (what keeps a pod on its node)',
  );
  assert.equal(podKindOf({ ...pod, metadata: { ...pod.metadata, ownerReferences: [rs] } }), 'LocalStorage');
  assert.deepEqual(pod.spec!.tolerations, [{ key: 'k', operator: 'Exists' }]);
  assert.equal(pod.metadata!.managedFields![0]!.fieldsV1, undefined);
  assert.equal(lastResizeTime(pod), t.getTime() / 1000, 'the cooldown still reads the last resize');
});

test('slimPodSpec: a pod without node-local volumes keeps none, and stays movable to the what-if', () => {
  const pod: k8s.V1Pod = {
    metadata: { name: 'p', namespace: 'n', ownerReferences: [rs] },
    spec: {
      volumes: [
        { name: 'shm', emptyDir: { medium: 'Memory' } },
        { name: 'cfg', configMap: { name: 'c' } },
      ],
      containers: [{ name: 'app' }],
    },
  };
  slimPodSpec(pod.spec);
  assert.equal(pod.spec!.volumes, undefined);
  assert.equal(podKindOf(pod), 'Movable');
});
