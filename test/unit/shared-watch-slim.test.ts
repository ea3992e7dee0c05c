// What the operator's caches keep of an object: everything a controller reads (names, resources,
// resizePolicy, who resized the pod and when), nothing it does not (field sets, env, volumes...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { slim, slimPodSpec } from '../../src/kube/shared-watch.ts';
import { lastResizeTime } from '../../src/core/resize/index.ts';

test('slim keeps who wrote a pod and when, drops the field sets; slimPodSpec keeps sizing fields only', () => {
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
      volumes: [{ name: 'token', emptyDir: {} }],
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
  assert.equal(pod.spec!.volumes, undefined);
  assert.equal(pod.spec!.tolerations, undefined);
  assert.equal(pod.metadata!.managedFields![0]!.fieldsV1, undefined);
  assert.equal(lastResizeTime(pod), t.getTime() / 1000, 'the cooldown still reads the last resize');
});
