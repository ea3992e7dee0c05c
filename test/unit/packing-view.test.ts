// Objects read for the packing what-if: a pod's requests as the scheduler sums them (init
// containers, sidecars, overhead, the kubelet's allocated requests) and with recommendations
// applied; what a pod is (DaemonSet, local storage, no controller); a node's pool; a PDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { packNode, packPdb, packPod, poolOf } from '../../src/core/packing/index.ts';
import { admission } from '../../src/core/packing/rules.ts';
import { node, pod } from '../support/packing.ts';

const Mi = 2 ** 20;
const owner = (kind: string) => [{ apiVersion: 'apps/v1', kind, name: 'x', uid: 'u', controller: true }];

test('requests: the sum of containers and sidecars against each init container, plus overhead, one pods slot', () => {
  const p: V1Pod = {
    metadata: { name: 'web-0', namespace: 'shop', ownerReferences: owner('ReplicaSet') },
    spec: {
      nodeName: 'n-1',
      overhead: { cpu: '100m' },
      initContainers: [
        { name: 'migrate', resources: { requests: { cpu: '3', memory: '64Mi' } } },
        { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '200m', memory: '32Mi' } } },
      ],
      containers: [
        { name: 'app', resources: { requests: { cpu: '1', memory: '512Mi' } } },
        { name: 'log', resources: { limits: { cpu: '100m', memory: '64Mi' } } },
      ],
    },
    status: {
      containerStatuses: [
        { name: 'app', resources: { requests: { cpu: '800m', memory: '512Mi' } } } as never,
      ],
    },
  };
  const v = packPod(p, [{ container: 'app', cpu: 0.25, memory: 256 * Mi }]);
  // Containers now: app 800m (allocated after a resize) + log 100m + proxy 200m = 1.1; the
  // migrate init container alone is 3 cores: max 3, plus 100m overhead.
  assert.ok(Math.abs(v.requests.cpu! - 3.1) < 1e-9, `cpu ${v.requests.cpu}`);
  assert.equal(v.requests.memory, (512 + 64 + 32) * Mi);
  assert.equal(v.requests.pods, 1);
  // Recommended: app 250m; the init container still dominates cpu, memory follows the recommendation.
  assert.ok(Math.abs(v.recommended.cpu! - 3.1) < 1e-9);
  assert.equal(v.recommended.memory, (256 + 64 + 32) * Mi);
  assert.equal(v.kind, 'Movable');
  assert.equal(v.node, 'n-1');
});

test('what a pod is: DaemonSet, local storage (emptyDir on disk, hostPath), no controller, movable', () => {
  const kind = (metadata: V1Pod['metadata'], volumes?: NonNullable<V1Pod['spec']>['volumes']) =>
    packPod({
      metadata: { name: 'p', namespace: 'n', ...metadata },
      spec: { containers: [], ...(volumes ? { volumes } : {}) },
    }).kind;
  assert.equal(kind({ ownerReferences: owner('DaemonSet') }), 'DaemonSet');
  assert.equal(
    kind({ ownerReferences: owner('ReplicaSet') }, [{ name: 'scratch', emptyDir: {} }]),
    'LocalStorage',
  );
  assert.equal(
    kind({ ownerReferences: owner('StatefulSet') }, [{ name: 'h', hostPath: { path: '/x' } }]),
    'LocalStorage',
  );
  assert.equal(
    kind({ ownerReferences: owner('ReplicaSet') }, [{ name: 'shm', emptyDir: { medium: 'Memory' } }]),
    'Movable',
  );
  assert.equal(kind({}), 'NoController');
});

test('rules read from the pod: DoNotSchedule spread only, anti-affinity and node affinity terms', () => {
  const v = packPod({
    metadata: { name: 'p', namespace: 'n', ownerReferences: owner('ReplicaSet'), labels: { app: 'p' } },
    spec: {
      containers: [],
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'p' } },
        },
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
      ],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }],
          },
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'p' } } },
          ],
        },
      },
    },
  });
  assert.deepEqual(
    v.spread?.map((s) => s.topologyKey),
    ['kubernetes.io/hostname'],
  );
  assert.equal(v.antiAffinity?.length, 1);
  assert.equal(admission(node('big', { labels: { cores: '8' } }), v), 'Admits');
  assert.equal(admission(node('small', { labels: { cores: '4' } }), v), 'NoMatchingNode');
  assert.equal(admission(node('none'), v), 'NoMatchingNode');
});

test('tolerations: Exists with no key tolerates all, Equal needs the value, PreferNoSchedule never blocks', () => {
  const tainted = (value: string, effect = 'NoSchedule') =>
    node('g', { taints: [{ key: 'gpu', value, effect }] });
  const all = { ...pod('a'), tolerations: [{ operator: 'Exists' }] };
  const equal = { ...pod('b'), tolerations: [{ key: 'gpu', operator: 'Equal', value: 'yes' }] };
  assert.equal(admission(tainted('x'), all), 'Admits');
  assert.equal(admission(tainted('yes'), equal), 'Admits');
  assert.equal(admission(tainted('no'), equal), 'TaintNotTolerated');
  assert.equal(admission(tainted('no', 'PreferNoSchedule'), pod('c')), 'Admits');
  assert.equal(admission(tainted('no', 'NoExecute'), pod('c')), 'TaintNotTolerated');
});

test('a node: its pool by the managed pool labels, allocatable for packing, capacity for the price', () => {
  assert.equal(
    poolOf({ 'karpenter.sh/nodepool': 'spot', 'node.kubernetes.io/instance-type': 'm6i.large' }),
    'spot',
  );
  assert.equal(poolOf({ 'cloud.google.com/gke-nodepool': 'pool-1' }), 'pool-1');
  assert.equal(poolOf({ 'sim.tailor.dev/pool': 'gpu-l4' }), 'gpu-l4');
  assert.equal(poolOf({ 'node.kubernetes.io/instance-type': 'm6i.large' }), 'm6i.large');
  assert.equal(poolOf({}), 'default');
  const n = packNode({
    metadata: { name: 'g-1', labels: { 'eks.amazonaws.com/nodegroup': 'gpu' } },
    spec: { taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }], unschedulable: true },
    status: {
      capacity: { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '1', 'nvidia.com/mig-1g.10gb': '7' },
      allocatable: { cpu: '7910m', memory: '30Gi', 'nvidia.com/gpu': '1', pods: '110' },
    },
  });
  assert.equal(n.pool, 'gpu');
  assert.equal(n.allocatable.cpu, 7.91);
  assert.equal(n.facts.cpuCores, 8);
  assert.deepEqual(n.facts.migDevices, { 'nvidia.com/mig-1g.10gb': 7 });
  assert.equal(n.unschedulable, true);
  assert.equal(
    packPdb({
      metadata: { name: 'db', namespace: 'a' },
      spec: { selector: { matchLabels: { app: 'db' } } },
      status: { disruptionsAllowed: 1 } as never,
    }).disruptionsAllowed,
    1,
  );
});
