// The simulated kubelet's resize decisions (1.37's allocation manager, status manager and runtime),
// table-tested: admission, actuation, the two conditions, the pending order, and graceful deletion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  actuateResize,
  admitResize,
  type PodLevelResources,
  type PodResources,
  type Resources,
} from '../../src/sim/kubelet/resize.ts';
import { clearInProgress, setInProgress, setPending } from '../../src/sim/kubelet/resize-status.ts';
import { orderPending, type PendingResize } from '../../src/sim/kubelet/pending-order.ts';
import { newBook, Resizer, type ResizablePod } from '../../src/sim/kubelet/resizer.ts';
import { gracePeriodOf, shutdownSecondsOf, terminate } from '../../src/sim/kubelet/termination.ts';

const Mi = 2 ** 20;
const r = (cpu: number, mem: number, cpuLimit?: number, memLimit?: number): Resources => ({
  cpuRequest: cpu,
  memoryRequest: mem * Mi,
  ...(cpuLimit !== undefined ? { cpuLimit } : {}),
  ...(memLimit !== undefined ? { memoryLimit: memLimit * Mi } : {}),
});
const pod = (containers: Record<string, Resources>, podLevel?: PodLevelResources): PodResources => ({
  containers: new Map(Object.entries(containers)),
  ...(podLevel ? { podLevel } : {}),
});
const node = { cpu: 2, memory: 2048 * Mi };
const NOT_REQUIRED = { cpu: 'NotRequired' as const, memory: 'NotRequired' as const };

test("admission: the kubelet's fit check beside the other pods, with its messages; beyond the node is Deferred too", () => {
  const cases: {
    name: string;
    desired: PodResources;
    others: { cpu: number; memory: number };
    want: string;
    message?: string;
  }[] = [
    { name: 'same', desired: pod({ app: r(0.5, 256) }), others: { cpu: 1, memory: 0 }, want: 'NoChange' },
    { name: 'fits', desired: pod({ app: r(1, 256) }), others: { cpu: 1, memory: 0 }, want: 'Accepted' },
    {
      name: 'shrink fits',
      desired: pod({ app: r(0.1, 64) }),
      others: { cpu: 1.9, memory: 1900 * Mi },
      want: 'Accepted',
    },
    {
      name: 'not now',
      desired: pod({ app: r(1.2, 256) }),
      others: { cpu: 1, memory: 0 },
      want: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1200, used: 1000, capacity: 2000",
    },
    {
      name: 'memory not now',
      desired: pod({ app: r(0.5, 1500) }),
      others: { cpu: 0, memory: 1000 * Mi },
      want: 'Deferred',
      message: `Node didn't have enough resource: memory, requested: ${1500 * Mi}, used: ${1000 * Mi}, capacity: ${2048 * Mi}`,
    },
    {
      // allocation_manager_test.go "Request CPU increase beyond node capacity - expect Deferred".
      name: 'beyond the node',
      desired: pod({ app: r(3, 256) }),
      others: { cpu: 0, memory: 0 },
      want: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000",
    },
    {
      name: 'a sidecar counts with the containers',
      desired: pod({ app: r(0.5, 256), proxy: r(1, 64) }),
      others: { cpu: 1, memory: 0 },
      want: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    },
    {
      name: 'pod-level requests win over the containers',
      desired: pod({ app: r(0.5, 256) }, { cpuRequest: 1.5 }),
      others: { cpu: 1, memory: 0 },
      want: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    },
  ];
  for (const c of cases) {
    const got = admitResize({
      desired: c.desired,
      allocated: pod(
        Object.fromEntries(
          [...c.desired.containers.keys()].map((n) => [n, n === 'app' ? r(0.5, 256) : r(0.1, 64)]),
        ),
      ),
      nodeAllocatable: node,
      othersAllocated: c.others,
    });
    assert.equal(got.admission, c.want, c.name);
    if (c.message) assert.equal(got.message, c.message, c.name);
  }
});

test('admission: a pod-level resize is Infeasible only when the kubelet has InPlacePodLevelResourcesVerticalScaling off', () => {
  const input = {
    desired: pod({ app: r(0.5, 256) }, { cpuRequest: 1 }),
    allocated: pod({ app: r(0.5, 256) }, { cpuRequest: 0.5 }),
    nodeAllocatable: node,
    othersAllocated: { cpu: 0, memory: 0 },
  };
  assert.equal(admitResize(input).admission, 'Accepted');
  assert.deepEqual(admitResize({ ...input, gates: { podLevelResources: false } }), {
    admission: 'Infeasible',
    message: 'InPlacePodLevelResourcesVerticalScaling is disabled',
  });
});

test("actuation: all or nothing; a memory limit lowered to at or below usage fails with the runtime's text", () => {
  const usage = new Map([['app', 200 * Mi]]);
  const cases: {
    name: string;
    allocated: PodResources;
    actual: PodResources;
    policy?: 'RestartContainer';
    want: { outcome: string; message: string; restarted: string[] };
  }[] = [
    {
      // The pod cgroup's limit is the sum of the containers' limits, so it is checked too.
      name: 'below usage',
      allocated: pod({ app: r(0.5, 100, 1, 150) }),
      actual: pod({ app: r(0.5, 256, 1, 512) }),
      want: {
        outcome: 'Error',
        message: `cannot decrease memory limits: [attempting to set pod memory limit (${150 * Mi}) below current usage (${200 * Mi}), attempting to set container "app" memory limit (${150 * Mi}) below current usage (${200 * Mi})]`,
        restarted: [],
      },
    },
    {
      name: 'RestartContainer restarts instead of checking',
      allocated: pod({ app: r(0.5, 100, 1, 150) }),
      actual: pod({ app: r(0.5, 256, 1, 512) }),
      policy: 'RestartContainer',
      want: { outcome: 'Done', message: '', restarted: ['app'] },
    },
    {
      name: 'a raise is never checked',
      allocated: pod({ app: r(0.5, 256, 1, 1024) }),
      actual: pod({ app: r(0.5, 256, 1, 512) }),
      want: { outcome: 'Done', message: '', restarted: [] },
    },
    {
      name: 'cpu only',
      allocated: pod({ app: r(1, 256, 2, 150) }),
      actual: pod({ app: r(0.5, 256, 1, 150) }),
      want: { outcome: 'Done', message: '', restarted: [] },
    },
    {
      name: 'pod-level limit below usage',
      allocated: pod({ app: r(0.5, 100) }, { memoryLimit: 150 * Mi }),
      actual: pod({ app: r(0.5, 100) }, { memoryLimit: 512 * Mi }),
      want: {
        outcome: 'Error',
        message: `cannot decrease memory limits: attempting to set pod memory limit (${150 * Mi}) below current usage (${200 * Mi})`,
        restarted: [],
      },
    },
  ];
  for (const c of cases) {
    const got = actuateResize({
      allocated: c.allocated,
      actual: c.actual,
      memoryUsage: usage,
      policy: new Map([['app', c.policy ? { cpu: 'NotRequired', memory: c.policy } : NOT_REQUIRED]]),
    });
    assert.deepEqual(got, c.want, c.name);
  }
});

test('conditions: lastTransitionTime moves with the reason, not the message; InProgress keeps its generation', () => {
  let c = setPending({}, 'Deferred', 'cpu short', 2, 100);
  c = setPending(c, 'Deferred', 'memory short', 3, 160);
  assert.deepEqual(c.pending, {
    reason: 'Deferred',
    message: 'memory short',
    observedGeneration: 3,
    since: 100,
  });
  c = setPending(c, 'Infeasible', 'never', 3, 200);
  assert.equal(c.pending?.since, 200);

  let p = setInProgress({}, '', '', 4, 300);
  p = setInProgress(p, 'Error', 'below usage', 5, 310);
  assert.deepEqual(p.inProgress, {
    reason: 'Error',
    message: 'below usage',
    observedGeneration: 4,
    since: 310,
  });
  p = setInProgress(p, 'Error', 'below usage, now more', 6, 320);
  assert.equal(p.inProgress?.since, 310, 'same reason: same lastTransitionTime');
  // A new allocation clears the condition first, so the generation moves.
  p = setInProgress(clearInProgress(p), '', '', 7, 330);
  assert.deepEqual(p.inProgress, { reason: '', message: '', observedGeneration: 7, since: 330 });
});

test('pending order: non-increasing first, then PriorityClass, then Guaranteed, then the longest waiting', () => {
  const e = (uid: string, o: Partial<PendingResize>): PendingResize => ({
    uid,
    increasing: true,
    priority: 0,
    qos: 'Burstable',
    ...o,
  });
  const cases: { name: string; input: PendingResize[]; want: string[] }[] = [
    {
      name: 'a shrink before a higher priority',
      input: [e('grow-high', { priority: 1000 }), e('shrink', { increasing: false })],
      want: ['shrink', 'grow-high'],
    },
    {
      name: 'priority',
      input: [e('low', { priority: 1 }), e('high', { priority: 100 })],
      want: ['high', 'low'],
    },
    {
      name: 'Guaranteed before Burstable at equal priority',
      input: [e('burstable', { pendingSince: 1 }), e('guaranteed', { qos: 'Guaranteed', pendingSince: 9 })],
      want: ['guaranteed', 'burstable'],
    },
    {
      name: 'longest pending first; never pending last',
      input: [e('new', {}), e('late', { pendingSince: 50 }), e('early', { pendingSince: 10 })],
      want: ['early', 'late', 'new'],
    },
    {
      name: 'all keys at once',
      input: [
        e('a', { pendingSince: 1 }),
        e('b', { priority: 5, pendingSince: 3 }),
        e('c', { increasing: false, pendingSince: 9 }),
        e('d', { priority: 5, qos: 'Guaranteed', pendingSince: 8 }),
      ],
      want: ['c', 'd', 'b', 'a'],
    },
  ];
  for (const c of cases)
    assert.deepEqual(
      orderPending(c.input).map((x) => x.uid),
      c.want,
      c.name,
    );
});

/** A pod as the kubelet keeps it, for the allocation manager alone (no API). */
function resizable(uid: string, spec: k8s.V1Pod, usageMi = 0): ResizablePod {
  const book = newBook(spec);
  const containers = new Map(
    (spec.spec?.containers ?? []).map((c) => {
      const res = book.desired.containers.get(c.name)!;
      return [
        c.name,
        { allocated: res, actual: res, policy: NOT_REQUIRED, usage: { memoryBytes: usageMi * Mi } },
      ] as const;
    }),
  );
  return { uid, node: 'n', generation: 1, containers, resizing: book, dirty: false };
}
const spec = (cpu: string, o: { priority?: number; sidecar?: string; podCpu?: string } = {}): k8s.V1Pod => ({
  spec: {
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
    ...(o.podCpu ? { resources: { requests: { cpu: o.podCpu } } } : {}),
    ...(o.sidecar
      ? {
          initContainers: [
            {
              name: 'proxy',
              restartPolicy: 'Always',
              resources: { requests: { cpu: o.sidecar, memory: '64Mi' } },
            },
          ],
        }
      : {}),
    containers: [{ name: 'app', resources: { requests: { cpu, memory: '64Mi' } } }],
  },
  status: { qosClass: 'Burstable' },
});
function world(nodeCpu = 2) {
  const pods = new Map<string, ResizablePod>();
  const restarts: string[] = [];
  const resizer = new Resizer(
    { nodeAllocatable: () => ({ cpu: nodeCpu, memory: 4096 * Mi }), restart: (_p, n) => restarts.push(n) },
    0,
  );
  let seq = 0;
  const sums = () => {
    const s = { cpu: 0, memory: 0 };
    for (const p of pods.values())
      for (const c of [...p.containers.values(), ...p.resizing.sidecars.values()]) {
        s.cpu += c.allocated.cpuRequest;
        s.memory += c.allocated.memoryRequest;
      }
    return new Map([['n', s]]);
  };
  return {
    pods,
    resizer,
    restarts,
    add: (p: ResizablePod) => pods.set(p.uid, p),
    step: (now: number) => resizer.step(pods, sums(), now, seq),
    /** The kubelet's status write of every dirty pod, accepted. */
    write: () => {
      for (const p of pods.values()) Resizer.reported(p, ++seq);
    },
  };
}

test('a resize is allocated in one step (InProgress, no reason) and actuated only after that was reported', () => {
  const w = world();
  const p = resizable('p', spec('500m'));
  w.add(p);
  p.generation = 2;
  w.resizer.updated(p, spec('1'), w.pods);
  w.step(10);
  assert.equal(p.containers.get('app')!.allocated.cpuRequest, 1);
  assert.equal(p.containers.get('app')!.actual.cpuRequest, 0.5, 'not actuated in the same step');
  assert.deepEqual(p.resizing.conditions, {
    inProgress: { reason: '', message: '', observedGeneration: 2, since: 10 },
  });
  w.step(11);
  assert.equal(p.containers.get('app')!.actual.cpuRequest, 0.5, 'not before a status write carried it');
  w.write();
  w.step(12);
  assert.equal(p.containers.get('app')!.actual.cpuRequest, 1);
  assert.deepEqual(p.resizing.conditions, {});
});

test('sidecars and pod-level resources are allocated and actuated like containers', () => {
  const w = world(4);
  const p = resizable('p', spec('500m', { sidecar: '100m', podCpu: '1' }));
  w.add(p);
  w.resizer.updated(p, spec('500m', { sidecar: '300m', podCpu: '2' }), w.pods);
  w.step(1);
  w.write();
  w.step(2);
  assert.equal(p.resizing.sidecars.get('proxy')!.actual.cpuRequest, 0.3);
  assert.equal(p.resizing.podLevelActual?.cpuRequest, 2);
  assert.deepEqual(p.resizing.conditions, {});
});

test('deferred resizes are retried in order when a pod leaves, and a shrink goes first', () => {
  const w = world(2);
  const hog = resizable('hog', spec('1600m'));
  const low = resizable('low', spec('100m', { priority: 1 }));
  const high = resizable('high', spec('100m', { priority: 100 }));
  for (const p of [hog, low, high]) w.add(p);
  w.resizer.updated(low, spec('400m', { priority: 1 }), w.pods);
  w.resizer.updated(high, spec('400m', { priority: 100 }), w.pods);
  w.step(1);
  assert.equal(low.resizing.conditions.pending?.reason, 'Deferred');
  assert.equal(high.resizing.conditions.pending?.reason, 'Deferred');
  assert.deepEqual(w.resizer.pendingUids, ['high', 'low']);
  // The hog shrinks: its resize is non-increasing, so it is tried first and lets the high one in.
  w.resizer.updated(hog, spec('1300m'), w.pods);
  assert.deepEqual(w.resizer.pendingUids, ['hog', 'high', 'low']);
  w.step(2);
  assert.equal(hog.containers.get('app')!.allocated.cpuRequest, 1.3);
  assert.equal(high.containers.get('app')!.allocated.cpuRequest, 0.4);
  assert.equal(low.resizing.conditions.pending?.reason, 'Deferred');
  assert.equal(low.resizing.conditions.pending?.since, 1, 'the Deferred clock keeps running');
  // Nothing retries until a pod leaves (or the periodic retry, 30 s after start then every 3 minutes).
  w.pods.delete('hog');
  w.resizer.removed('hog');
  w.step(3);
  assert.equal(low.containers.get('app')!.allocated.cpuRequest, 0.4);
  assert.deepEqual(w.resizer.pendingUids, []);
});

test('the periodic retry lets a resize in once room freed without any event', () => {
  const w = world(2);
  const a = resizable('a', spec('1500m'));
  const b = resizable('b', spec('100m'));
  w.add(a);
  w.add(b);
  w.resizer.updated(b, spec('800m'), w.pods);
  w.step(1);
  assert.equal(b.resizing.conditions.pending?.reason, 'Deferred');
  a.containers.get('app')!.allocated = { cpuRequest: 0.5, memoryRequest: 64 * Mi };
  w.step(20);
  assert.equal(
    b.resizing.conditions.pending?.reason,
    'Deferred',
    'not before the first periodic retry at 30 s',
  );
  w.step(31);
  assert.equal(b.containers.get('app')!.allocated.cpuRequest, 0.8);
});

test('graceful deletion: the app exits on SIGTERM after its shutdown time, or is killed at the grace period', () => {
  assert.deepEqual(terminate(100, 5, 1), { since: 100, stopAt: 101, how: 'Exited' });
  assert.deepEqual(terminate(100, 5, Infinity), { since: 100, stopAt: 105, how: 'Killed' });
  assert.deepEqual(terminate(100, 0, 1), { since: 100, stopAt: 100, how: 'Killed' });
  const deleted: k8s.V1Pod = {
    metadata: { deletionGracePeriodSeconds: 7, annotations: { 'sim.tailor.dev/shutdown-seconds': 'never' } },
    spec: { terminationGracePeriodSeconds: 30, containers: [] },
  };
  assert.equal(gracePeriodOf(deleted), 7);
  assert.equal(gracePeriodOf({ spec: { containers: [] } }), 30);
  assert.equal(shutdownSecondsOf(deleted), Infinity);
  assert.equal(
    shutdownSecondsOf({ metadata: { annotations: { 'sim.tailor.dev/shutdown-seconds': '2.5' } } }),
    2.5,
  );
  assert.equal(
    shutdownSecondsOf({ metadata: { annotations: { 'sim.tailor.dev/shutdown-seconds': 'soon' } } }),
    1,
  );
});
