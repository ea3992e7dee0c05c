// The actuator's inputs and outputs at its edges: a V1Pod read into a PodView, the QoS class, the
// recommendations file, and the kubectl form of a patch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { lastResizeTime, podView, resizeState } from '../../src/core/resize/pod-view.ts';
import { qosOf } from '../../src/core/resize/qos.ts';
import { parseRecommendations, toContainerRecommendation } from '../../src/core/resize/recommendations.ts';
import { kubectlCommand } from '../../src/core/resize/patch.ts';
import { TailorError } from '../../src/errors.ts';
import { Gi, Mi } from './resize-fixtures.ts';

const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'shop', generation: 3, deletionTimestamp: undefined },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'x',
        resources: {
          requests: { cpu: '250m', memory: '512Mi' },
          limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' },
        },
        resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }],
      },
      { name: 'sidecar', image: 'y', resources: { limits: { cpu: '100m', memory: '64Mi' } } },
    ],
  },
  status: {
    phase: 'Running',
    qosClass: 'Burstable',
    observedGeneration: 2,
    conditions: [
      { type: 'Ready', status: 'True' },
      {
        type: 'PodResizePending',
        status: 'True',
        reason: 'Deferred',
        message: 'no room',
        lastTransitionTime: new Date(1_700_000_000_000),
      },
    ],
    containerStatuses: [
      {
        name: 'app',
        image: 'x',
        imageID: '',
        ready: true,
        restartCount: 2,
        lastState: {
          terminated: {
            reason: 'OOMKilled',
            exitCode: 137,
            finishedAt: '2023-11-14T22:13:20Z' as unknown as Date,
          },
        },
        allocatedResources: { cpu: '250m', memory: '512Mi' },
        resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      },
    ],
  },
};

test('podView reads quantities, policies, conditions and the last termination', () => {
  const v = podView(pod);
  assert.equal(v.namespace, 'shop');
  assert.equal(v.generation, 3);
  assert.equal(v.observedGeneration, 2);
  assert.equal(v.qosClass, 'Burstable');
  assert.equal(v.ready, true);
  assert.equal(v.terminating, false);
  assert.deepEqual(v.resize, { kind: 'Deferred', since: 1_700_000_000, message: 'no room' });
  const [app, sidecar] = v.containers;
  assert.deepEqual(app!.spec, {
    requests: { cpu: 0.25, memory: 512 * Mi },
    limits: { cpu: 1, memory: 1 * Gi },
  });
  assert.deepEqual(app!.resizePolicy, { cpu: 'NotRequired', memory: 'RestartContainer' });
  assert.deepEqual(app!.lastTermination, { reason: 'OOMKilled', finishedAt: 1_700_000_000 });
  assert.equal(app!.restartCount, 2);
  // A limit without a request: the request is the limit, as the apiserver defaults it.
  assert.deepEqual(sidecar!.spec.requests, { cpu: 0.1, memory: 64 * Mi });
  assert.equal(sidecar!.actual, undefined);
  assert.equal(
    podView({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date() } }).terminating,
    true,
  );
});

test('resizeState: the kubelet conditions as one state', () => {
  const cases: [string, { type: string; status: string; reason?: string }[], string][] = [
    ['none', [], 'None'],
    ['pending deferred', [{ type: 'PodResizePending', status: 'True', reason: 'Deferred' }], 'Deferred'],
    [
      'pending infeasible',
      [{ type: 'PodResizePending', status: 'True', reason: 'Infeasible' }],
      'Infeasible',
    ],
    [
      'pending with an unknown reason waits',
      [{ type: 'PodResizePending', status: 'True', reason: 'Whatever' }],
      'Deferred',
    ],
    ['in progress', [{ type: 'PodResizeInProgress', status: 'True' }], 'InProgress'],
    [
      'in progress with error',
      [{ type: 'PodResizeInProgress', status: 'True', reason: 'Error' }],
      'InProgressError',
    ],
    ['a False condition is no condition', [{ type: 'PodResizeInProgress', status: 'False' }], 'None'],
    [
      'pending wins over in progress',
      [
        { type: 'PodResizeInProgress', status: 'True' },
        { type: 'PodResizePending', status: 'True', reason: 'Infeasible' },
      ],
      'Infeasible',
    ],
  ];
  for (const [name, conds, want] of cases) assert.equal(resizeState(conds).kind, want, name);
});

test('qosOf follows the apiserver', () => {
  const cases: [string, Parameters<typeof qosOf>[0], string][] = [
    ['nothing set', [{ requests: {}, limits: {} }], 'BestEffort'],
    ['zero is unset', [{ requests: { cpu: 0 }, limits: {} }], 'BestEffort'],
    ['requests only', [{ requests: { cpu: 1 }, limits: {} }], 'Burstable'],
    ['equal both', [{ requests: { cpu: 1, memory: Gi }, limits: { cpu: 1, memory: Gi } }], 'Guaranteed'],
    [
      'limits only (requests default to them)',
      [{ requests: {}, limits: { cpu: 1, memory: Gi } }],
      'Guaranteed',
    ],
    ['cpu limit only', [{ requests: { cpu: 1, memory: Gi }, limits: { cpu: 1 } }], 'Burstable'],
    [
      'one container short',
      [
        { requests: { cpu: 1, memory: Gi }, limits: { cpu: 1, memory: Gi } },
        { requests: {}, limits: {} },
      ],
      'Burstable',
    ],
    [
      'sub-millicore difference is equal',
      [{ requests: { cpu: 0.1, memory: Gi }, limits: { cpu: 0.1000001, memory: Gi } }],
      'Guaranteed',
    ],
  ];
  for (const [name, cs, want] of cases) assert.equal(qosOf(cs), want, name);
});

test('the recommendations file: read, turned into numbers, and bad entries all named', () => {
  const good = [
    {
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'web' },
      container: 'app',
      recommendation: {
        target: { cpu: '250m', memory: '256Mi' },
        lowerBound: { cpu: 0.2, memory: '200Mi' },
        upperBound: { cpu: '1' },
      },
    },
  ];
  const [r] = parseRecommendations(good, 'recs.json');
  assert.deepEqual(toContainerRecommendation(r!.recommendation), {
    cpu: { target: 0.25, lowerBound: 0.2, upperBound: 1 },
    memory: { target: 256 * Mi, lowerBound: 200 * Mi, upperBound: Number.POSITIVE_INFINITY },
  });
  assert.throws(() => parseRecommendations({ items: [] }, 'recs.json'), /expected a JSON array/);
  try {
    parseRecommendations(
      [
        {
          namespace: '',
          workload: { kind: 'Deployment' },
          container: 'app',
          recommendation: { target: { cpu: 'fast' } },
        },
      ],
      'recs.json',
    );
    assert.fail('bad entries accepted');
  } catch (err) {
    assert.ok(err instanceof TailorError);
    assert.equal(err.code, 'InvalidInput');
    assert.match(err.message, /\[0\]\.namespace/);
    assert.match(err.message, /\[0\]\.workload\.name/);
    assert.match(err.message, /\[0\]\.recommendation\.target\.cpu: "fast" is not a quantity/);
  }
});

test('kubectlCommand prints the patch as one runnable command', () => {
  const patch = { spec: { containers: [{ name: 'app', resources: { requests: { cpu: '250m' } } }] } };
  assert.equal(
    kubectlCommand('shop', 'web-1', patch),
    `kubectl patch pod web-1 -n shop --subresource resize --type strategic -p '{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"250m"}}}]}}'`,
  );
});

test('the report `tailor recommend -o json` prints is read as records too; resources without data are left out', () => {
  const report = {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'RecommendationReport',
    items: [
      {
        namespace: 'shop',
        workload: { kind: 'Deployment', name: 'web' },
        container: 'app',
        cpu: {
          status: 'Ok',
          recommendation: { target: 0.058, lowerBound: 0.05, upperBound: null, quantity: '58m' },
        },
        memory: {
          status: 'Ok',
          recommendation: { target: 115 * Mi, lowerBound: 100 * Mi, upperBound: 200 * Mi, quantity: '115Mi' },
        },
      },
      {
        namespace: 'shop',
        workload: { kind: 'Deployment', name: 'web' },
        container: 'sidecar',
        cpu: { status: 'NoData', recommendation: null },
        memory: { status: 'NoData', recommendation: null },
      },
    ],
  };
  const records = parseRecommendations(report, 'report.json');
  assert.equal(records.length, 1);
  assert.deepEqual(toContainerRecommendation(records[0]!.recommendation), {
    cpu: { target: 0.058, lowerBound: 0.05, upperBound: Number.POSITIVE_INFINITY },
    memory: { target: 115 * Mi, lowerBound: 100 * Mi, upperBound: 200 * Mi },
  });
});

test('lastResizeTime: the newest managedFields entry written through pods/resize', () => {
  const at = (iso: string) => new Date(iso);
  const p: V1Pod = {
    metadata: {
      managedFields: [
        { manager: 'kubectl', operation: 'Update', time: at('2024-01-01T00:00:00Z') },
        { manager: 'tailor', operation: 'Update', subresource: 'resize', time: at('2024-01-02T00:00:00Z') },
        { manager: 'other', operation: 'Update', subresource: 'resize', time: at('2024-01-01T12:00:00Z') },
        { manager: 'kubelet', operation: 'Update', subresource: 'status', time: at('2024-01-03T00:00:00Z') },
      ],
    },
  };
  assert.equal(lastResizeTime(p), Date.parse('2024-01-02T00:00:00Z') / 1000);
  assert.equal(lastResizeTime({ metadata: {} }), undefined);
});
