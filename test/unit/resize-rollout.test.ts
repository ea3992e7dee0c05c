// planRollout: how many pods of a workload change at once, which wait, and when an eviction may go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundByNodes,
  budgetOf,
  evictionGate,
  planRollout,
  type EvictionGateInput,
  type NodeRoom,
  type RolloutCandidate,
} from '../../src/core/resize/rollout.ts';
import type { ResizeDecision, ResizePlan } from '../../src/core/resize/plan.ts';
import type { PodView, ResizeState } from '../../src/core/resize/types.ts';
import { pod } from './resize-fixtures.ts';

type Kind = 'InPlace' | 'Urgent' | 'Evict' | 'NoChange' | 'Skip';

function decision(kind: Kind): ResizeDecision {
  switch (kind) {
    case 'InPlace':
    case 'Urgent':
      return {
        kind: 'InPlace',
        patch: { spec: { containers: [] } },
        urgent: kind === 'Urgent',
        restarts: [],
        message: '',
      };
    case 'Evict':
      return { kind: 'Evict', cause: 'Infeasible', message: '' };
    case 'NoChange':
      return { kind: 'NoChange', message: '' };
    case 'Skip':
      return { kind: 'Skip', reason: 'ResizeInProgress', message: '' };
  }
}

function cand(name: string, kind: Kind, o: Partial<PodView> & { priority?: number } = {}): RolloutCandidate {
  const { priority, ...view } = o;
  const plan: ResizePlan = {
    namespace: 'ns',
    pod: name,
    decision: decision(kind),
    containers: [],
    summary: '',
    priority: kind === 'Urgent' ? Number.POSITIVE_INFINITY : (priority ?? 0.5),
    notes: [],
  };
  return { pod: pod([], { name, ...view }), plan };
}

const resizing: ResizeState = { kind: 'InProgress', since: 0, message: '' };
const deferred: ResizeState = { kind: 'Deferred', since: 0, message: '' };
const infeasible: ResizeState = { kind: 'Infeasible', since: 0, message: '' };

function actions(r: ReturnType<typeof planRollout>): string[] {
  return r.actions.map(
    (a) => `${a.pod}:${a.action.kind === 'Hold' ? `Hold/${a.action.reason}` : a.action.kind}`,
  );
}

test('budgetOf: a number, or a percentage of the pods rounded up, never below one', () => {
  const cases: [number | string, number, number][] = [
    [1, 10, 1],
    [3, 10, 3],
    [0, 10, 1],
    ['25%', 10, 3],
    ['25%', 4, 1],
    ['25%', 1, 1],
    ['100%', 7, 7],
    ['10%', 0, 1],
    ['lots', 10, 1],
  ];
  for (const [max, total, want] of cases)
    assert.equal(budgetOf(max, total), want, `${String(max)} of ${total}`);
});

test('rollout table', () => {
  const cases: [string, RolloutCandidate[], number | string, number | undefined, string[]][] = [
    [
      'budget 2 of 4 pods: the two largest changes go first',
      [
        cand('a', 'InPlace', { priority: 0.1 }),
        cand('b', 'InPlace', { priority: 0.9 }),
        cand('c', 'InPlace', { priority: 0.5 }),
        cand('d', 'NoChange'),
      ],
      2,
      undefined,
      ['a:Hold/Budget', 'b:Resize', 'c:Resize', 'd:Nothing'],
    ],
    [
      'pods already resizing count against the budget',
      [cand('a', 'Skip', { resize: resizing }), cand('b', 'InPlace'), cand('c', 'InPlace')],
      2,
      undefined,
      ['a:Nothing', 'b:Resize', 'c:Hold/Budget'],
    ],
    [
      'a Deferred resize is in flight too; an Infeasible one is not',
      [
        cand('a', 'Skip', { resize: deferred }),
        cand('b', 'Skip', { resize: infeasible }),
        cand('c', 'InPlace'),
      ],
      1,
      undefined,
      ['a:Nothing', 'b:Nothing', 'c:Hold/Budget'],
    ],
    [
      'not Ready pods wait',
      [cand('a', 'InPlace', { ready: false }), cand('b', 'InPlace')],
      '100%',
      undefined,
      ['a:Hold/NotReady', 'b:Resize'],
    ],
    [
      'an OOM raise goes now: not Ready, budget spent, and first',
      [
        cand('a', 'Skip', { resize: resizing }),
        cand('b', 'InPlace', { priority: 5 }),
        cand('c', 'Urgent', { ready: false }),
      ],
      1,
      undefined,
      ['a:Nothing', 'b:Hold/Budget', 'c:Resize'],
    ],
    [
      'a new plan replacing its own unfinished resize takes no extra slot',
      [
        cand('a', 'InPlace', { resize: { kind: 'InProgressError', since: 0, message: '' } }),
        cand('b', 'InPlace'),
      ],
      2,
      undefined,
      ['a:Resize', 'b:Resize'],
    ],
    [
      'a pod patched but not yet seen by the kubelet (observedGeneration behind) is in flight',
      [cand('a', 'NoChange', { generation: 3, observedGeneration: 2 }), cand('b', 'InPlace')],
      1,
      undefined,
      ['a:Nothing', 'b:Hold/Budget'],
    ],
    [
      'one eviction when the PDB allows one',
      [cand('a', 'Evict'), cand('b', 'Evict')],
      '100%',
      1,
      ['a:Evict', 'b:Hold/OneEvictionAtATime'],
    ],
    [
      'no eviction when the PDB allows none',
      [cand('a', 'Evict'), cand('b', 'NoChange')],
      '100%',
      0,
      ['a:Hold/PdbBlocks', 'b:Nothing'],
    ],
    ['no PDB: one eviction', [cand('a', 'Evict')], 1, undefined, ['a:Evict']],
    [
      'no eviction while another pod is going away',
      [cand('a', 'Evict'), cand('b', 'NoChange', { terminating: true })],
      '100%',
      3,
      ['a:Hold/EvictionInFlight', 'b:Nothing'],
    ],
    [
      'evictions share the budget with resizes',
      [cand('a', 'InPlace'), cand('b', 'Evict')],
      1,
      5,
      ['a:Resize', 'b:Hold/Budget'],
    ],
    [
      'an eviction of a pod that is not Ready may go (it costs no availability)',
      [cand('a', 'Evict', { ready: false })],
      1,
      1,
      ['a:Evict'],
    ],
  ];
  for (const [name, candidates, max, pdb, want] of cases) {
    const r = planRollout({
      candidates,
      maxPodsAtOnce: max,
      ...(pdb !== undefined ? { disruptionsAllowed: pdb } : {}),
    });
    assert.deepEqual(actions(r), want, name);
  }
});

test('never more than the budget in flight, over many random workloads', () => {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 500; i++) {
    const n = 1 + Math.floor(rand() * 20);
    const candidates = Array.from({ length: n }, (_, k) => {
      const kinds: Kind[] = ['InPlace', 'InPlace', 'NoChange', 'Evict', 'Skip'];
      const kind = kinds[Math.floor(rand() * kinds.length)]!;
      return cand(`p${k}`, kind, {
        ready: rand() > 0.2,
        resize: rand() > 0.8 ? resizing : { kind: 'None' },
        priority: rand(),
      });
    });
    const max = rand() > 0.5 ? 1 + Math.floor(rand() * 5) : `${1 + Math.floor(rand() * 100)}%`;
    const pdb = rand() > 0.5 ? Math.floor(rand() * 3) : undefined;
    const r = planRollout({
      candidates,
      maxPodsAtOnce: max,
      ...(pdb !== undefined ? { disruptionsAllowed: pdb } : {}),
    });
    // A pod already in flight that gets a new patch replaces its own resize: it adds nothing in flight.
    const busy = new Set(candidates.filter((c) => c.pod.resize.kind !== 'None').map((c) => c.pod.name));
    const started = r.actions.filter(
      (a) => (a.action.kind === 'Resize' || a.action.kind === 'Evict') && !busy.has(a.pod),
    ).length;
    assert.ok(
      r.inFlight + started <= Math.max(r.budget, r.inFlight),
      `case ${i}: ${r.inFlight} in flight + ${started} started within ${r.budget}`,
    );
    assert.ok(
      r.actions.filter((a) => a.action.kind === 'Evict').length <= 1,
      `case ${i}: one eviction at most`,
    );
    if (pdb === 0) assert.ok(!r.actions.some((a) => a.action.kind === 'Evict'), `case ${i}: PDB respected`);
    for (const a of r.actions) {
      const c = candidates.find((x) => x.pod.name === a.pod)!;
      if (a.action.kind === 'Resize')
        assert.ok(c.pod.ready || busy.has(a.pod), `case ${i}: ${a.pod} resized only when Ready`);
    }
  }
});

test('evictionGate: no webhook holds every eviction; then cooldown, then the hourly cap (0: never)', () => {
  const now = 100_000;
  const base: EvictionGateInput = {
    now,
    evictions: [],
    cooldownSeconds: 300,
    maxPerHour: 1,
    replacement: 'Webhook',
  };
  const cases: [string, Partial<EvictionGateInput>, string][] = [
    ['nothing yet', {}, 'Allowed'],
    ['no webhook, nothing yet', { replacement: 'NoWebhook' }, 'NoAdmissionWebhook'],
    ['no webhook wins over the cap', { replacement: 'NoWebhook', maxPerHour: 0 }, 'NoAdmissionWebhook'],
    ['inside the cooldown', { evictions: [now - 100] }, 'Cooldown'],
    ['past the cooldown, one in the hour, cap 1', { evictions: [now - 600] }, 'HourlyCap'],
    ['past the cooldown, one in the hour, cap 2', { evictions: [now - 600], maxPerHour: 2 }, 'Allowed'],
    ['two in the hour, cap 2', { evictions: [now - 3000, now - 600], maxPerHour: 2 }, 'HourlyCap'],
    ['older than an hour', { evictions: [now - 3700] }, 'Allowed'],
    ['cap 0', { maxPerHour: 0 }, 'HourlyCap'],
    ['cooldown longer than an hour', { evictions: [now - 4000], cooldownSeconds: 7200 }, 'Cooldown'],
  ];
  for (const [what, o, want] of cases) {
    const g = evictionGate({ ...base, ...o });
    assert.equal(g.kind, want, what);
    if (g.kind !== 'Allowed') assert.ok(g.message.length > 0, `${what}: says why`);
  }
  const held = evictionGate({ ...base, replacement: 'NoWebhook' });
  assert.match(held.kind === 'NoAdmissionWebhook' ? held.message : '', /--webhook/, 'says how to fix it');
});

test('boundByNodes: an eviction for a size no node can allocate becomes Infeasible; one that fits stays', () => {
  const Gi = 2 ** 30;
  const evict = (cpu: number, memory: number): ResizePlan => ({
    ...cand('p', 'Evict').plan,
    containers: [
      {
        name: 'a',
        before: { requests: { cpu: 0.1, memory: Gi }, limits: {} },
        after: { requests: { cpu: cpu / 2, memory: memory / 2 }, limits: {} },
        triggered: true,
        urgent: false,
        restarts: false,
        change: 1,
        sized: ['cpu', 'memory'],
        notes: [],
      },
      {
        name: 'b',
        before: { requests: { cpu: 0.1, memory: Gi }, limits: {} },
        after: { requests: { cpu: cpu / 2, memory: memory / 2 }, limits: {} },
        triggered: true,
        urgent: false,
        restarts: false,
        change: 1,
        sized: ['cpu', 'memory'],
        notes: [],
      },
    ],
  });
  const nodes = [
    { name: 'small', cpu: 2, memory: 4 * Gi },
    { name: 'big', cpu: 8, memory: 16 * Gi },
  ];
  const cases: [string, number, number, NodeRoom[], string][] = [
    ['fits the big node', 6, 8 * Gi, nodes, 'Evict'],
    ['fits exactly', 8, 16 * Gi, nodes, 'Evict'],
    ['more CPU than any node', 9, Gi, nodes, 'Infeasible'],
    ['more memory than any node', 1, 17 * Gi, nodes, 'Infeasible'],
    [
      'cpu fits one, memory the other: no single node',
      7,
      16 * Gi,
      [nodes[0]!, { name: 'cpu', cpu: 8, memory: 8 * Gi }],
      'Infeasible',
    ],
    ['no nodes known: left to the caller', 100, 100 * Gi, [], 'Evict'],
  ];
  for (const [what, cpu, mem, ns, want] of cases) {
    const out = boundByNodes(evict(cpu, mem), ns);
    assert.equal(out.decision.kind, want, what);
    if (out.decision.kind === 'Infeasible')
      assert.match(out.decision.message, /largest: /, `${what}: names the node`);
  }
  const noop = cand('q', 'InPlace').plan;
  assert.equal(boundByNodes(noop, nodes), noop, 'a resize is not its business');
});
