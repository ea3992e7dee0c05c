// Which pods a SizingPolicy covers (targetRef through the owner chain, or a label selector), which are
// in a start-up boost, and the OOM kills a pod update shows once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import {
  controllingPolicy,
  inStartupBoost,
  isLive,
  policyCovers,
  selectorMatches,
  targetLabel,
  type RankedPolicy,
  type Selector,
} from '../../src/controllers/sizing/matching.ts';
import { OomTracker, oomKills } from '../../src/controllers/sizing/oom.ts';
import type { WorkloadRef } from '../../src/sources/workloads.ts';

const labels = { app: 'web', tier: 'front' };

test('selectorMatches: matchLabels and every expression operator', () => {
  const cases: [string, Selector, boolean][] = [
    ['matchLabels all present', { matchLabels: { app: 'web' } }, true],
    ['matchLabels one differs', { matchLabels: { app: 'web', tier: 'back' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, true],
    ['In, value absent', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In, key absent', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, true],
    [
      'NotIn, key absent matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    [
      'NotIn, value present',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] },
      false,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['Exists, absent', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist, present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions together',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
      true,
    ],
  ];
  for (const [name, sel, want] of cases) assert.equal(selectorMatches(sel, labels), want, name);
});

function pod(
  o: {
    ns?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    phase?: string;
  } = {},
): V1Pod {
  return {
    metadata: {
      name: 'web-abc',
      namespace: o.ns ?? 'shop',
      labels: o.labels ?? labels,
      annotations: o.annotations ?? {},
    },
    status: { phase: o.phase ?? 'Running' },
  };
}
const web: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'web' };

test('policyCovers: targetRef names the workload, a selector the labels, only in the policy namespace', () => {
  const byRef = (kind: 'Deployment' | 'StatefulSet', name: string) => ({
    namespace: 'shop',
    spec: { targetRef: { apiVersion: 'apps/v1' as const, kind, name } },
  });
  assert.equal(policyCovers(byRef('Deployment', 'web'), pod(), web), true);
  assert.equal(policyCovers(byRef('Deployment', 'api'), pod(), web), false, 'another Deployment');
  assert.equal(policyCovers(byRef('StatefulSet', 'web'), pod(), web), false, 'same name, another kind');
  assert.equal(
    policyCovers(byRef('Deployment', 'web'), pod(), {
      namespace: 'shop',
      kind: 'ReplicaSet',
      name: 'web-abc',
    }),
    false,
    'a bare ReplicaSet is not the Deployment',
  );
  assert.equal(policyCovers(byRef('Deployment', 'web'), pod({ ns: 'other' }), web), false, 'other namespace');
  const bySel = { namespace: 'shop', spec: { selector: { matchLabels: { app: 'web' } } } };
  assert.equal(policyCovers(bySel, pod(), web), true);
  assert.equal(policyCovers(bySel, pod({ labels: { app: 'api' } }), web), false);
});

test('targetLabel: what status.target says', () => {
  assert.equal(
    targetLabel({ targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } }),
    'Deployment/web',
  );
  assert.equal(
    targetLabel({
      selector: {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      },
    }),
    'pods app=web,tier in (a,b),!canary',
  );
});

test('inStartupBoost: the boost annotation without its done mark; isLive: not finished, not deleting', () => {
  assert.equal(inStartupBoost(pod()), false);
  assert.equal(inStartupBoost(pod({ annotations: { 'tailor.dev/startup-boost': '{}' } })), true);
  assert.equal(
    inStartupBoost(
      pod({ annotations: { 'tailor.dev/startup-boost': '{}', 'tailor.dev/startup-boost-done': 'true' } }),
    ),
    false,
  );
  assert.equal(isLive(pod()), true);
  assert.equal(isLive(pod({ phase: 'Succeeded' })), false);
  assert.equal(isLive({ ...pod(), metadata: { ...pod().metadata, deletionTimestamp: new Date() } }), false);
});

function oomPod(restartCount: number, finishedAt: string | undefined, reason = 'OOMKilled'): V1Pod {
  return {
    metadata: { name: 'leaky', namespace: 'shop', uid: 'u1' },
    spec: {
      containers: [
        { name: 'app', resources: { requests: { memory: '128Mi' }, limits: { memory: '160Mi' } } },
      ],
    },
    status: {
      containerStatuses: [
        {
          name: 'app',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount,
          resources: { limits: { memory: '150Mi' } },
          ...(finishedAt
            ? { lastState: { terminated: { reason, exitCode: 137, finishedAt: new Date(finishedAt) } } }
            : {}),
        },
      ],
    },
  };
}

test('OOM kills: read from lastState, the limit in force as usage, each kill reported once', () => {
  assert.deepEqual(oomKills(oomPod(0, undefined)), []);
  assert.deepEqual(oomKills(oomPod(1, '2026-01-01T00:00:00Z', 'Error')), [], 'not an OOM');
  const [k] = oomKills(oomPod(1, '2026-01-01T00:00:00Z'));
  assert.equal(k?.container, 'app');
  assert.equal(k?.t, Date.parse('2026-01-01T00:00:00Z') / 1000);
  assert.equal(k?.usageBytes, 150 * 2 ** 20, 'the limit the runtime reports, before the spec');

  const tracker = new OomTracker();
  assert.equal(tracker.fresh(oomPod(1, '2026-01-01T00:00:00Z')).length, 1, 'first sight');
  assert.equal(tracker.fresh(oomPod(1, '2026-01-01T00:00:00Z')).length, 0, 'the same kill again');
  assert.equal(tracker.fresh(oomPod(2, '2026-01-01T00:00:10Z')).length, 1, 'a new kill');
  tracker.forget('u1');
  assert.equal(tracker.fresh(oomPod(2, '2026-01-01T00:00:10Z')).length, 1, 'forgotten with the pod');
});

test('OOM kills: one kill the kubelet shows twice (terminated, then as the last state after the restart) counts once', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const killed = { reason: 'OOMKilled', exitCode: 137, finishedAt: at, containerID: 'containerd://a1' };
  const earlier = { ...killed, finishedAt: new Date('2025-12-31T23:50:00Z'), containerID: 'containerd://a0' };
  const withStatus = (restartCount: number, state: object, lastState: object): V1Pod => {
    const p = oomPod(restartCount, undefined);
    Object.assign(p.status!.containerStatuses![0]!, { state, lastState });
    return p;
  };
  // The exit first: the state is the kill, the last state the kill before it.
  const down = withStatus(1, { terminated: killed }, { terminated: earlier });
  const [k] = oomKills(down);
  assert.equal(k?.t, at.getTime() / 1000, 'the state (the newer exit), not the last state');
  assert.equal(k?.instance, 'containerd://a1');
  // Then running again, restart count one higher, the kill as its last state.
  const up = withStatus(2, { running: { startedAt: at } }, { terminated: killed });
  const tracker = new OomTracker();
  assert.equal(tracker.fresh(down).length, 1, 'seen while down');
  assert.equal(tracker.fresh(up).length, 0, 'the same kill after the restart');
  const next = withStatus(
    2,
    {
      terminated: { ...killed, finishedAt: new Date('2026-01-01T00:05:00Z'), containerID: 'containerd://a2' },
    },
    { terminated: killed },
  );
  assert.equal(tracker.fresh(next).length, 1, 'the next kill');
});

test('controllingPolicy: one rule picks the policy of a pod several cover (targetRef, then oldest, then name)', () => {
  const t0 = '2026-01-01T00:00:00Z';
  const t1 = '2026-01-02T00:00:00Z';
  const ref = (name: string, created = t0, target = 'web'): RankedPolicy => ({
    metadata: { name, namespace: 'shop', creationTimestamp: new Date(created) },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target } },
  });
  const sel = (name: string, created = t0, app = 'web'): RankedPolicy => ({
    // As the watch cache may hold it: the timestamp as a string.
    metadata: { name, namespace: 'shop', creationTimestamp: created },
    spec: { selector: { matchLabels: { app } } },
  });
  const cases: [string, RankedPolicy[], string | undefined, string[]][] = [
    ['none', [], undefined, []],
    ['one selector', [sel('a')], 'a', []],
    ['a targetRef beats an older selector', [sel('old', t0), ref('new', t1)], 'new', ['old']],
    ['two targetRefs: the oldest', [ref('b', t1), ref('a2', t0)], 'a2', ['b']],
    ['two selectors: the oldest', [sel('young', t1), sel('older', t0)], 'older', ['young']],
    ['same time: the name, byte order', [sel('b'), sel('B'), sel('a')], 'B', ['a', 'b']],
    ['no readable time sorts last', [sel('x', 'not a time'), sel('y', t1)], 'y', ['x']],
    ['a targetRef to another Deployment does not cover', [ref('api', t0, 'api'), sel('s', t1)], 's', []],
    ['a selector that does not match does not cover', [sel('other', t0, 'api'), ref('r', t1)], 'r', []],
    [
      'a policy being deleted controls nothing',
      [{ ...ref('gone'), metadata: { ...ref('gone').metadata, deletionTimestamp: new Date(t1) } }, sel('s')],
      's',
      [],
    ],
    [
      'a policy of another namespace covers nothing',
      [{ ...ref('elsewhere'), metadata: { ...ref('elsewhere').metadata, namespace: 'other' } }],
      undefined,
      [],
    ],
  ];
  for (const [name, policies, winner, others] of cases) {
    // Whatever order the cache lists them in, the same answer.
    for (const order of [policies, [...policies].reverse()]) {
      const c = controllingPolicy(pod(), web, order);
      if (winner === undefined) {
        assert.equal(c.kind, 'NotCovered', name);
        continue;
      }
      assert.equal(c.kind, 'Controlled', name);
      if (c.kind !== 'Controlled') continue;
      assert.equal(c.policy.metadata.name, winner, name);
      assert.deepEqual(
        c.others.map((p) => p.metadata.name),
        others,
        `${name}: the others, strongest first`,
      );
    }
  }
  // Without the workload looked up (the webhook skips it when no policy has a targetRef), a
  // targetRef covers nothing and the selector decides.
  const c = controllingPolicy(pod(), undefined, [ref('r'), sel('s', t1)]);
  assert.equal(c.kind === 'Controlled' && c.policy.metadata.name, 's');
  assert.equal(c.kind === 'Controlled' && c.by, 'Selector');
});
