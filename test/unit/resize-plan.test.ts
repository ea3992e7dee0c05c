// planResize: the decision table, and the rules every resize must keep (QoS, memory floor, bounds,
// rounding, untouched resources, OOM bumps), each proven by cases that fail if the rule breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planResize,
  type PlanInput,
  type ResizeDecision,
  type ResizePlan,
} from '../../src/core/resize/plan.ts';
import { qosOf } from '../../src/core/resize/qos.ts';
import { podView } from '../../src/core/resize/pod-view.ts';
import type { ContainerView, ResizeState } from '../../src/core/resize/types.ts';
import { Gi, Mi, NOW, bounds, container, input, pod, policy, rec } from './resize-fixtures.ts';

/** 1 core / 1Gi requested, limits 2x: Burstable, over-provisioned 4x against the recommendation. */
const burstable = () => container({ req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 2, memory: 2 * Gi } });
const guaranteed = () => container({ req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 1, memory: 1 * Gi } });
const quarter = { app: rec(0.25, 256 * Mi) };
const used200 = { app: { memoryPeak: 200 * Mi } };

function plan(o: Partial<PlanInput> = {}): ResizePlan {
  return planResize(input({ pod: pod([burstable()]), recommendations: quarter, usage: used200, ...o }));
}

function kindOf(d: ResizeDecision): string {
  switch (d.kind) {
    case 'Skip':
      return `Skip:${d.reason}`;
    case 'Evict':
    case 'Infeasible':
      return `${d.kind}:${d.cause}`;
    case 'InPlace':
    case 'NoChange':
    case 'Deferred':
      return d.kind;
  }
}

const pending = (kind: 'Deferred' | 'Infeasible', since = NOW - 60): ResizeState => ({
  kind,
  since,
  message: 'no room',
});
/** The 4x pod after the recommendation was written into its spec: a resize of it is already asked for. */
const resized = () =>
  container({ req: { cpu: 0.25, memory: 256 * Mi }, lim: { cpu: 0.5, memory: 512 * Mi } });
const samePatch = {
  spec: {
    containers: [
      {
        name: 'app',
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
      },
    ],
  },
};

test('the decision table: each state of pod, policy and history gives one decision', () => {
  const cases: [string, Partial<PlanInput>, string][] = [
    ['over-provisioned 4x: resized in place', {}, 'InPlace'],
    [
      'the status QoS class disagrees with the containers (init containers count): not touched',
      { pod: pod([burstable()], { qosClass: 'Guaranteed' }) },
      'Skip:WouldChangeQos',
    ],
    ['the status QoS class agrees', { pod: pod([burstable()], { qosClass: 'Burstable' }) }, 'InPlace'],
    [
      'an OOM kill with no recommendation still raises memory',
      {
        pod: pod([container({ req: { cpu: 1, memory: 1 * Gi }, lim: { memory: 1 * Gi }, oomAt: NOW - 5 })]),
        recommendations: {},
      },
      'InPlace',
    ],
    [
      'in bounds and under the threshold',
      {
        recommendations: { app: { cpu: bounds(0.95, 0.5, 2), memory: bounds(1000 * Mi, 512 * Mi, 2 * Gi) } },
      },
      'NoChange',
    ],
    [
      'in bounds but 20% off the target, threshold 10%',
      { recommendations: { app: { cpu: bounds(0.8, 0.5, 2) } } },
      'InPlace',
    ],
    [
      'in bounds and 20% off, threshold 25%',
      {
        recommendations: { app: { cpu: bounds(0.8, 0.5, 2) } },
        policy: policy({ update: { minChangePercent: 25 } }),
      },
      'NoChange',
    ],
    [
      'above the upper bound by less than the threshold: waits (a wobbling target must not flap)',
      { recommendations: { app: { cpu: bounds(0.92, 0.5, 0.95) } } },
      'NoChange',
    ],
    [
      'over maxAllowed by less than the threshold: cut to it all the same',
      {
        recommendations: { app: { cpu: bounds(1, 0.5, 2) } },
        policy: policy({ containers: [{ name: '*', maxAllowed: { cpu: '950m' } }] }),
      },
      'InPlace',
    ],
    [
      'below the lower bound by a hair: acts although under the threshold',
      { recommendations: { app: { cpu: bounds(1.05, 1.01, 2) } } },
      'InPlace',
    ],
    ['mode Off', { policy: policy({ mode: 'Off' }) }, 'Skip:Mode'],
    ['mode Recommend', { policy: policy({ mode: 'Recommend' }) }, 'Skip:Mode'],
    ['mode Initial', { policy: policy({ mode: 'Initial' }) }, 'Skip:Mode'],
    ['mode Auto acts in place first', { policy: policy({ mode: 'Auto' }) }, 'InPlace'],
    ['changed 60s ago, cooldown 5m', { lastChange: NOW - 60 }, 'Skip:Cooldown'],
    ['changed 6 minutes ago, cooldown 5m', { lastChange: NOW - 360 }, 'InPlace'],
    ['4 changes in the last hour, at most 4', { changesLastHour: 4 }, 'Skip:RateLimited'],
    ['no recommendation', { recommendations: {} }, 'Skip:MissingData'],
    [
      'a recommendation of NaN is no recommendation',
      { recommendations: { app: { cpu: bounds(Number.NaN) } } },
      'Skip:MissingData',
    ],
    [
      'a recommendation with lower above upper is not trusted',
      { recommendations: { app: { cpu: bounds(0.25, 0.5, 0.3) } } },
      'Skip:MissingData',
    ],
    [
      'a recommendation for another container only',
      { recommendations: { sidecar: rec(0.1, 64 * Mi) } },
      'Skip:MissingData',
    ],
    [
      'container mode Off',
      { policy: policy({ containers: [{ name: '*', mode: 'Off' }] }) },
      'Skip:NotControlled',
    ],
    ['being deleted', { pod: pod([burstable()], { terminating: true }) }, 'Skip:NotRunning'],
    ['still Pending', { pod: pod([burstable()], { phase: 'Pending' }) }, 'Skip:NotRunning'],
    ['BestEffort', { pod: pod([container({ req: {}, lim: {} })]) }, 'Skip:WouldChangeQos'],
    [
      'a resize in progress',
      { pod: pod([burstable()], { resize: { kind: 'InProgress', since: NOW, message: '' } }) },
      'Skip:ResizeInProgress',
    ],
    [
      'kubelet error, same plan',
      { pod: pod([resized()], { resize: { kind: 'InProgressError', since: NOW, message: 'below usage' } }) },
      'Skip:ResizeInProgress',
    ],
    [
      'kubelet error, a different plan supersedes it',
      {
        pod: pod([burstable()], { resize: { kind: 'InProgressError', since: NOW, message: 'below usage' } }),
      },
      'InPlace',
    ],
    ['Deferred for 60s: wait', { pod: pod([resized()], { resize: pending('Deferred') }) }, 'Deferred'],
    [
      'Deferred with no time known: wait',
      { pod: pod([resized()], { resize: { kind: 'Deferred', since: undefined, message: '' } }) },
      'Deferred',
    ],
    [
      'Deferred for 700s in InPlace: reported',
      { pod: pod([resized()], { resize: pending('Deferred', NOW - 700) }) },
      'Infeasible:DeferredTooLong',
    ],
    [
      'Deferred for 700s in Auto: evicted',
      { pod: pod([resized()], { resize: pending('Deferred', NOW - 700) }), policy: policy({ mode: 'Auto' }) },
      'Evict:DeferredTooLong',
    ],
    [
      'Deferred, max wait raised to 1000s',
      {
        pod: pod([resized()], { resize: pending('Deferred', NOW - 700) }),
        settings: { maxDeferredSeconds: 1000 },
      },
      'Deferred',
    ],
    [
      'Deferred, but the recommendation moved: a new patch',
      { pod: pod([burstable()], { resize: pending('Deferred') }) },
      'InPlace',
    ],
    [
      'Infeasible pending in InPlace: reported',
      { pod: pod([resized()], { resize: pending('Infeasible') }) },
      'Infeasible:Infeasible',
    ],
    [
      'Infeasible pending in Auto: evicted',
      { pod: pod([resized()], { resize: pending('Infeasible') }), policy: policy({ mode: 'Auto' }) },
      'Evict:Infeasible',
    ],
    [
      'the same patch got 403 NodeCapacity, InPlace',
      { lastAttempt: { outcome: 'Infeasible', patch: samePatch, message: 'node capacity' } },
      'Infeasible:Infeasible',
    ],
    [
      'the same patch got 403 NodeCapacity, Auto',
      {
        lastAttempt: { outcome: 'Infeasible', patch: samePatch, message: 'node capacity' },
        policy: policy({ mode: 'Auto' }),
      },
      'Evict:Infeasible',
    ],
    [
      'the same patch was rejected (422)',
      { lastAttempt: { outcome: 'Rejected', patch: samePatch, message: 'qos' } },
      'Skip:Rejected',
    ],
    [
      'a different patch was rejected before',
      { lastAttempt: { outcome: 'Rejected', patch: { spec: { containers: [] } }, message: 'qos' } },
      'InPlace',
    ],
    [
      'minAllowed above maxAllowed',
      { policy: policy({ containers: [{ name: '*', minAllowed: { cpu: '2' }, maxAllowed: { cpu: '1' } }] }) },
      'Skip:BadPolicy',
    ],
    [
      'Headroom without a percentage',
      { policy: policy({ containers: [{ name: '*', limits: { cpu: { strategy: 'Headroom' } } }] }) },
      'Skip:BadPolicy',
    ],
    [
      'an unreadable quantity',
      { policy: policy({ containers: [{ name: '*', maxAllowed: { memory: 'lots' } }] }) },
      'Skip:BadPolicy',
    ],
    ['an unreadable cooldown', { policy: policy({ update: { cooldown: 'soon' } }) }, 'Skip:BadPolicy'],
    ['an OOM bump factor below 1', { policy: policy({ oom: { bumpFactor: 0.5 } }) }, 'Skip:BadPolicy'],
  ];
  for (const [name, over, want] of cases) assert.equal(kindOf(plan(over).decision), want, name);
});

test('a bad policy never changes anything, and says what is wrong', () => {
  const p = plan({
    policy: policy({
      containers: [{ name: '*', minAllowed: { memory: '2Gi' }, maxAllowed: { memory: '1Gi' } }],
    }),
  });
  assert.equal(p.decision.kind, 'Skip');
  assert.match(p.decision.message, /minAllowed\.memory \(2Gi\) is above maxAllowed\.memory \(1Gi\)/);
  for (const c of p.containers) assert.deepEqual(c.after, c.before, `${c.name} unchanged`);
});

test('the exact patch: every changed container of the pod in one strategic-merge body', () => {
  const p = plan({
    pod: pod([
      burstable(),
      container({ name: 'sidecar', req: { cpu: 0.5, memory: 512 * Mi }, lim: { memory: 512 * Mi } }),
      container({ name: 'logger', req: { cpu: 0.1, memory: 64 * Mi } }),
    ]),
    recommendations: { ...quarter, sidecar: rec(0.1, 100 * Mi) },
    usage: { ...used200, sidecar: { memoryPeak: 90 * Mi } },
  });
  assert.equal(p.decision.kind, 'InPlace');
  if (p.decision.kind !== 'InPlace') return;
  assert.deepEqual(p.decision.patch, {
    spec: {
      containers: [
        {
          name: 'app',
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        },
        {
          name: 'sidecar',
          resources: { requests: { cpu: '100m', memory: '100Mi' }, limits: { memory: '100Mi' } },
        },
      ],
    },
  });
  assert.equal(
    p.summary,
    'app: cpu 1 -> 250m (limit 2 -> 500m), memory 1Gi -> 256Mi (limit 2Gi -> 512Mi); sidecar: cpu 500m -> 100m, memory 512Mi -> 100Mi (limit 512Mi -> 100Mi)',
  );
  assert.deepEqual(p.decision.restarts, []);
  assert.equal(p.decision.urgent, false);
});

test('QoS: Guaranteed stays requests == limits whatever the limit strategy', () => {
  for (const limits of [
    {},
    {
      cpu: { strategy: 'Headroom', headroomPercent: 50 },
      memory: { strategy: 'Headroom', headroomPercent: 50 },
    },
    { cpu: { strategy: 'NoLimit' } },
  ]) {
    const p = plan({ pod: pod([guaranteed()]), policy: policy({ containers: [{ name: '*', limits }] }) });
    assert.equal(p.decision.kind, 'InPlace', JSON.stringify(limits));
    const a = p.containers[0]!.after;
    assert.equal(a.requests.cpu, 0.25);
    assert.equal(a.limits.cpu, a.requests.cpu, `cpu ${JSON.stringify(limits)}`);
    assert.equal(a.limits.memory, a.requests.memory, `memory ${JSON.stringify(limits)}`);
    assert.equal(qosOf([a]), 'Guaranteed');
  }
});

test('QoS: Guaranteed with RequestsOnly cannot move, and says why', () => {
  const p = plan({
    pod: pod([guaranteed()]),
    policy: policy({ containers: [{ name: '*', controlledValues: 'RequestsOnly' }] }),
  });
  assert.equal(kindOf(p.decision), 'Skip:WouldChangeQos');
  assert.ok(p.notes.some((n) => n.code === 'GuaranteedNeedsLimits'));
});

test('QoS: BestEffort is never given requests, and containers without a request get none', () => {
  const best = plan({ pod: pod([container({ req: {}, lim: {} })]) });
  assert.equal(kindOf(best.decision), 'Skip:WouldChangeQos');
  assert.deepEqual(best.containers[0]!.after.requests, {});
  // Burstable pod, one container with nothing set: it stays with nothing.
  const mixed = plan({
    pod: pod([burstable(), container({ name: 'bare', req: {}, lim: {} })]),
    recommendations: { ...quarter, bare: rec(0.1, 64 * Mi) },
  });
  assert.equal(mixed.decision.kind, 'InPlace');
  assert.deepEqual(mixed.containers[1]!.after, { requests: {}, limits: {} });
  if (mixed.decision.kind === 'InPlace')
    assert.deepEqual(
      mixed.decision.patch.spec.containers.map((c) => c.name),
      ['app'],
    );
});

test('QoS: Burstable never becomes Guaranteed by accident', () => {
  // cpu request == limit already; memory Headroom 0 would make memory equal too: Guaranteed.
  const c = container({ req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 1, memory: 2 * Gi } });
  const p = plan({
    pod: pod([c]),
    policy: policy({
      containers: [{ name: '*', limits: { memory: { strategy: 'Headroom', headroomPercent: 0 } } }],
    }),
  });
  assert.equal(kindOf(p.decision), 'Skip:WouldChangeQos');
  assert.match(p.decision.message, /Guaranteed instead of Burstable/);
  // RequestsOnly raising requests into unchanged limits: both capped at the limit would be Guaranteed.
  const small = container({ req: { cpu: 0.1, memory: 100 * Mi }, lim: { cpu: 0.2, memory: 200 * Mi } });
  const q = plan({
    pod: pod([small]),
    recommendations: { app: rec(1, 1 * Gi) },
    usage: { app: { memoryPeak: 150 * Mi } },
    policy: policy({ containers: [{ name: '*', controlledValues: 'RequestsOnly' }] }),
  });
  assert.equal(kindOf(q.decision), 'Skip:WouldChangeQos');
  assert.ok(q.notes.some((n) => n.code === 'CappedAtLimit'));
});

test('QoS is kept on many random pods and recommendations', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let inPlace = 0;
  for (let i = 0; i < 2000; i++) {
    const containers: ContainerView[] = [];
    const n = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < n; k++) {
      const cpu = pick([undefined, 0.1, 0.5, 2]);
      const mem = pick([undefined, 64 * Mi, 512 * Mi, 2 * Gi]);
      const ratio = pick([undefined, 1, 1.5, 3]);
      const req = { ...(cpu ? { cpu } : {}), ...(mem ? { memory: mem } : {}) };
      const lim = ratio
        ? { ...(cpu ? { cpu: cpu * ratio } : {}), ...(mem ? { memory: mem * ratio } : {}) }
        : {};
      containers.push(container({ name: `c${k}`, req, lim }));
    }
    const recs = Object.fromEntries(
      containers.map((c) => [c.name, rec(pick([0.01, 0.3, 4]), pick([16 * Mi, 300 * Mi, 3 * Gi]))]),
    );
    const usage = Object.fromEntries(
      containers.map((c) => [c.name, { memoryPeak: pick([10 * Mi, 200 * Mi, 1 * Gi]) }]),
    );
    const limits = pick([
      {},
      {
        cpu: { strategy: 'Headroom', headroomPercent: 0 },
        memory: { strategy: 'Headroom', headroomPercent: 0 },
      },
      { cpu: { strategy: 'NoLimit' } },
    ]);
    const controlledValues = pick(['RequestsOnly', 'RequestsAndLimits']);
    const pol = policy({
      containers: [
        { name: '*', controlledValues, ...(controlledValues === 'RequestsAndLimits' ? { limits } : {}) },
      ],
    });
    const p = planResize(input({ pod: pod(containers), recommendations: recs, usage, policy: pol }));
    const before = qosOf(containers.map((c) => c.spec));
    if (before === 'BestEffort')
      assert.notEqual(p.decision.kind, 'InPlace', `case ${i}: BestEffort untouched`);
    if (p.decision.kind !== 'InPlace') continue;
    inPlace++;
    assert.equal(qosOf(p.containers.map((c) => c.after)), before, `case ${i}: QoS kept`);
    for (const c of p.containers) {
      for (const r of ['cpu', 'memory'] as const) {
        const req = c.after.requests[r];
        const lim = c.after.limits[r];
        if (req !== undefined && lim !== undefined)
          assert.ok(req <= lim + 1e-9, `case ${i} ${c.name} ${r}: request ${req} <= limit ${lim}`);
        assert.equal(
          c.before.requests[r] === undefined,
          req === undefined,
          `case ${i} ${c.name} ${r}: no request added or removed`,
        );
        assert.equal(
          c.before.limits[r] === undefined,
          lim === undefined,
          `case ${i} ${c.name} ${r}: no limit added or removed`,
        );
      }
      const floor = usage[c.name]!.memoryPeak * 1.05;
      const m = c.after.requests.memory;
      if (m !== undefined && m !== c.before.requests.memory)
        assert.ok(
          m >= Math.min(floor, c.before.requests.memory!),
          `case ${i} ${c.name}: memory ${m} not below peak`,
        );
    }
  }
  assert.ok(inPlace > 300, `${inPlace} of 2000 random cases resized: the property was exercised`);
});

test('memory is never set below the observed peak plus a margin', () => {
  const cases: [string, Partial<PlanInput>, number, number | undefined][] = [
    // [name, input, memory request after, memory limit after]
    [
      'target under the peak: held at peak x 1.05, rounded up to MiB',
      { usage: { app: { memoryPeak: 300 * Mi } } },
      315 * Mi,
      630 * Mi,
    ],
    [
      'usage now above the recorded peak counts too',
      { usage: { app: { memoryPeak: 100 * Mi, memoryNow: 400 * Mi } } },
      420 * Mi,
      840 * Mi,
    ],
    [
      'peak above maxAllowed: lowered only to the peak, not to max',
      {
        usage: { app: { memoryPeak: 600 * Mi } },
        policy: policy({ containers: [{ name: '*', maxAllowed: { memory: '300Mi' } }] }),
      },
      630 * Mi,
      1260 * Mi,
    ],
    [
      'a different margin',
      { usage: { app: { memoryPeak: 300 * Mi } }, settings: { peakMargin: 0.2 } },
      360 * Mi,
      720 * Mi,
    ],
    ['target above the peak: the target', { usage: { app: { memoryPeak: 100 * Mi } } }, 256 * Mi, 512 * Mi],
  ];
  for (const [name, over, req, lim] of cases) {
    const p = plan(over);
    assert.equal(p.decision.kind, 'InPlace', name);
    assert.equal(p.containers[0]!.after.requests.memory, req, `${name}: request`);
    assert.equal(p.containers[0]!.after.limits.memory, lim, `${name}: limit`);
    assert.ok(
      p.notes.some((n) => n.code === 'HeldAtPeak') === req > 256 * Mi,
      `${name}: HeldAtPeak said when it held`,
    );
  }
});

test('memory is not lowered at all when its usage is unknown; CPU still is', () => {
  const p = plan({ usage: {} });
  assert.equal(p.decision.kind, 'InPlace');
  const a = p.containers[0]!.after;
  assert.equal(a.requests.memory, 1 * Gi);
  assert.equal(a.limits.memory, 2 * Gi);
  assert.equal(a.requests.cpu, 0.25);
  assert.ok(p.notes.some((n) => n.code === 'NoUsage'));
  // And when memory is the only thing recommended, nothing happens.
  assert.equal(
    plan({ usage: {}, recommendations: { app: rec(undefined, 256 * Mi) } }).decision.kind,
    'NoChange',
  );
});

test('minAllowed and maxAllowed clamp the target, and say so', () => {
  const cases: [string, Record<string, unknown>, number, number, string[]][] = [
    ['min raises cpu', { minAllowed: { cpu: '500m' } }, 0.5, 256 * Mi, ['ClampedToMin']],
    ['min raises memory', { minAllowed: { memory: '384Mi' } }, 0.25, 384 * Mi, ['ClampedToMin']],
    ['max cuts cpu', { maxAllowed: { cpu: '100m' } }, 0.1, 256 * Mi, ['ClampedToMax']],
    [
      'max cuts memory, peak permitting',
      { maxAllowed: { memory: '220Mi' } },
      0.25,
      220 * Mi,
      ['ClampedToMax'],
    ],
    ['inside both: untouched', { minAllowed: { cpu: '100m' }, maxAllowed: { cpu: '2' } }, 0.25, 256 * Mi, []],
  ];
  for (const [name, c, cpu, mem, codes] of cases) {
    const p = plan({ policy: policy({ containers: [{ name: '*', ...c }] }) });
    assert.equal(p.containers[0]!.after.requests.cpu, cpu, `${name}: cpu`);
    assert.equal(p.containers[0]!.after.requests.memory, mem, `${name}: memory`);
    const said = p.notes.filter((n) => n.code.startsWith('Clamped')).map((n) => n.code);
    assert.deepEqual(said, codes, `${name}: notes`);
  }
});

test('values round up to millicores and MiB, and a second plan over the result does not flap', () => {
  const p = plan({ recommendations: { app: rec(0.12345, 300.3 * Mi) } });
  assert.equal(p.decision.kind, 'InPlace');
  if (p.decision.kind !== 'InPlace') return;
  assert.deepEqual(p.decision.patch.spec.containers[0]!.resources, {
    requests: { cpu: '124m', memory: '301Mi' },
    limits: { cpu: '248m', memory: '602Mi' },
  });
  // The pod as it is after the resize, planned again with the same (or slightly moved) recommendation.
  const after = p.containers[0]!.after;
  const next = container({ req: after.requests, lim: after.limits });
  for (const drift of [1, 1.03, 0.97]) {
    const again = plan({
      pod: pod([next]),
      recommendations: { app: rec(0.12345 * drift, 300.3 * Mi * drift) },
    });
    assert.equal(again.decision.kind, 'NoChange', `drift x${drift}`);
  }
});

test('limit strategies: KeepRatio, Headroom, NoLimit, RequestsOnly; no limit stays no limit', () => {
  const cases: [string, Record<string, unknown>, { cpu?: number; memory?: number }][] = [
    ['KeepRatio keeps 2x', {}, { cpu: 0.5, memory: 512 * Mi }],
    [
      'Headroom 20%',
      {
        limits: {
          cpu: { strategy: 'Headroom', headroomPercent: 20 },
          memory: { strategy: 'Headroom', headroomPercent: 20 },
        },
      },
      { cpu: 0.3, memory: 308 * Mi },
    ],
    [
      'NoLimit keeps the running CPU limit',
      { limits: { cpu: { strategy: 'NoLimit' } } },
      { cpu: 2, memory: 512 * Mi },
    ],
    ['RequestsOnly keeps both limits', { controlledValues: 'RequestsOnly' }, { cpu: 2, memory: 2 * Gi }],
  ];
  for (const [name, c, limits] of cases) {
    const p = plan({ policy: policy({ containers: [{ name: '*', ...c }] }) });
    assert.equal(p.decision.kind, 'InPlace', name);
    assert.deepEqual(p.containers[0]!.after.limits, limits, name);
    assert.equal(p.containers[0]!.after.requests.cpu, 0.25, `${name}: request`);
  }
  const noLimits = plan({ pod: pod([container({ req: { cpu: 1, memory: 1 * Gi } })]) });
  assert.equal(noLimits.decision.kind, 'InPlace');
  assert.deepEqual(noLimits.containers[0]!.after.limits, {});
  if (noLimits.decision.kind === 'InPlace')
    assert.equal(noLimits.decision.patch.spec.containers[0]!.resources.limits, undefined);
});

test('controlledResources: a resource not controlled is left as it is', () => {
  const p = plan({ policy: policy({ containers: [{ name: '*', controlledResources: ['cpu'] }] }) });
  assert.equal(p.decision.kind, 'InPlace');
  if (p.decision.kind !== 'InPlace') return;
  assert.deepEqual(p.decision.patch.spec.containers[0]!.resources, {
    requests: { cpu: '250m' },
    limits: { cpu: '500m' },
  });
});

test('resources Tailor does not size (ephemeral-storage, nvidia.com/gpu) never reach the patch', () => {
  const view = podView({
    metadata: { name: 'gpu-0', namespace: 'ns', generation: 1 },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'x',
          resources: {
            requests: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '10Gi', 'nvidia.com/gpu': '1' },
            limits: { cpu: '2', memory: '2Gi', 'ephemeral-storage': '20Gi', 'nvidia.com/gpu': '1' },
          },
        },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const p = planResize(input({ pod: view, recommendations: quarter, usage: used200 }));
  assert.equal(p.decision.kind, 'InPlace');
  if (p.decision.kind !== 'InPlace') return;
  const body = JSON.stringify(p.decision.patch);
  assert.doesNotMatch(body, /ephemeral-storage|nvidia/);
  assert.deepEqual(Object.keys(p.decision.patch.spec.containers[0]!.resources.requests ?? {}).sort(), [
    'cpu',
    'memory',
  ]);
});

test('an OOM kill since the last change raises memory at once, past cooldown and rate limits, raises only', () => {
  // Limit 2Gi hit: bump = max(2Gi + 100Mi, 2Gi x 1.2) = 2457.6Mi -> 2458Mi request, ratio 2 for the limit.
  const oomed = () =>
    container({ req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 2, memory: 2 * Gi }, oomAt: NOW - 30 });
  const cases: [string, Partial<PlanInput>, number | undefined][] = [
    ['no cooldown', {}, 2458 * Mi],
    ['inside the cooldown', { lastChange: NOW - 60 }, 2458 * Mi],
    ['over the rate limit', { changesLastHour: 10, lastChange: NOW - 3000 }, 2458 * Mi],
    ['tunable: factor 1.5', { policy: policy({ oom: { bumpFactor: 1.5, minBumpMemory: '100Mi' } }) }, 3 * Gi],
    [
      'tunable: at least +1Gi',
      { policy: policy({ oom: { bumpFactor: 1.2, minBumpMemory: '1Gi' } }) },
      3 * Gi,
    ],
    [
      'capped by maxAllowed (OOM bumps included)',
      { policy: policy({ containers: [{ name: '*', maxAllowed: { memory: '2Gi' } }] }) },
      2 * Gi,
    ],
  ];
  for (const [name, over, memory] of cases) {
    const p = plan({ pod: pod([oomed()]), ...over });
    assert.equal(p.decision.kind, 'InPlace', name);
    if (p.decision.kind !== 'InPlace') continue;
    assert.equal(p.decision.urgent, true, `${name}: urgent`);
    assert.equal(p.priority, Number.POSITIVE_INFINITY, `${name}: first in a rollout`);
    assert.equal(p.containers[0]!.after.requests.memory, memory, `${name}: memory`);
    assert.ok(p.containers[0]!.after.limits.memory! >= memory!, `${name}: the limit follows`);
  }
  // Inside a cooldown the bump goes alone: the CPU shrink waits.
  const cooling = plan({ pod: pod([oomed()]), lastChange: NOW - 60 });
  if (cooling.decision.kind === 'InPlace') {
    assert.deepEqual(cooling.decision.patch.spec.containers[0]!.resources, {
      requests: { memory: '2458Mi' },
      limits: { memory: '4916Mi' },
    });
    assert.ok(cooling.notes.some((n) => n.code === 'RaiseOnly'));
  }
  // Outside it the whole plan goes, OOM bump included.
  const free = plan({ pod: pod([oomed()]) });
  if (free.decision.kind === 'InPlace')
    assert.equal(free.decision.patch.spec.containers[0]!.resources.requests?.cpu, '250m');
});

test('an OOM bump applies even under the change threshold', () => {
  // Guaranteed at 1Gi, killed at 1Gi: bump to 1229Mi (+20%), threshold 50%.
  const c = container({ req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 1, memory: 1 * Gi }, oomAt: NOW - 5 });
  const p = plan({
    pod: pod([c]),
    recommendations: { app: { memory: bounds(1 * Gi, 512 * Mi, 2 * Gi) } },
    policy: policy({ update: { minChangePercent: 50 } }),
  });
  assert.equal(p.decision.kind, 'InPlace');
  assert.equal(p.containers[0]!.after.requests.memory, 1229 * Mi);
  assert.equal(p.containers[0]!.after.limits.memory, 1229 * Mi, 'Guaranteed stays Guaranteed');
});

test('an OOM kill before the last change, or with no time after a change, raises nothing', () => {
  const cases: [string, number | 'unknown', number | undefined, string][] = [
    ['killed before the last change', NOW - 600, NOW - 300, 'NoChange'],
    ['no time, after a change: not trusted', 'unknown', NOW - 300, 'NoChange'],
    ['no time, never changed: trusted', 'unknown', undefined, 'InPlace'],
    ['killed after the last change, inside the cooldown', NOW - 10, NOW - 20, 'InPlace'],
  ];
  for (const [name, oomAt, lastChange, want] of cases) {
    const c = container({ req: { cpu: 0.25, memory: 256 * Mi }, lim: { cpu: 0.5, memory: 512 * Mi }, oomAt });
    const p = plan({ pod: pod([c]), ...(lastChange !== undefined ? { lastChange } : {}) });
    assert.equal(p.decision.kind, want, name);
  }
});

test('an OOM bump that cannot raise anything inside a cooldown stays a Skip', () => {
  const c = container({ req: { cpu: 1, memory: 2 * Gi }, lim: { cpu: 2, memory: 2 * Gi }, oomAt: NOW - 5 });
  const p = plan({
    pod: pod([c]),
    lastChange: NOW - 10,
    policy: policy({ containers: [{ name: '*', maxAllowed: { memory: '2Gi' } }] }),
  });
  assert.equal(kindOf(p.decision), 'Skip:Cooldown');
});

test('resizePolicy RestartContainer: still in place (a container restart beats an eviction), and said', () => {
  for (const mode of ['InPlace', 'Auto']) {
    const p = plan({
      pod: pod([
        container({
          req: { cpu: 1, memory: 1 * Gi },
          lim: { cpu: 2, memory: 2 * Gi },
          restart: { memory: 'RestartContainer' },
        }),
      ]),
      policy: policy({ mode }),
    });
    assert.equal(p.decision.kind, 'InPlace', mode);
    if (p.decision.kind === 'InPlace') {
      assert.deepEqual(p.decision.restarts, ['app']);
      assert.match(p.decision.message, /restarts app/);
    }
  }
  // RestartContainer on a resource that does not change restarts nothing.
  const cpuOnly = plan({
    pod: pod([
      container({
        req: { cpu: 1, memory: 1 * Gi },
        lim: { cpu: 2, memory: 2 * Gi },
        restart: { memory: 'RestartContainer' },
      }),
    ]),
    recommendations: { app: rec(0.25) },
  });
  if (cpuOnly.decision.kind === 'InPlace') assert.deepEqual(cpuOnly.decision.restarts, []);
  else assert.fail(`expected InPlace, got ${cpuOnly.decision.kind}`);
});

test('a shrink hold: raises (OOM, under-provisioned) still go out, nothing is lowered', () => {
  const reasons = ['StaleUsage', 'ShortHistory', 'HistoryUnavailable'] as const;
  const oomed = () =>
    container({ req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 2, memory: 2 * Gi }, oomAt: NOW - 30 });
  // Under-provisioned CPU (4x), over-provisioned memory (4x): the raise goes alone.
  const mixed = { app: { cpu: bounds(4, 3.2, 6), memory: bounds(256 * Mi) } };
  for (const reason of reasons) {
    const shrink = { kind: 'Held', reason, message: `held for ${reason}` } as const;
    const cases: [string, Partial<PlanInput>, string, { cpu?: number; memory?: number }][] = [
      ['over-provisioned 4x: nothing is sent', { shrink }, 'Skip:ShrinkHeld', {}],
      [
        'an OOM kill raises memory; the CPU shrink waits',
        { shrink, pod: pod([oomed()]) },
        'InPlace',
        { memory: 2458 * Mi },
      ],
      [
        'under-provisioned CPU is raised; memory is not lowered',
        { shrink, recommendations: mixed },
        'InPlace',
        { cpu: 4 },
      ],
      [
        'Auto: still no shrink and no eviction',
        { shrink, policy: policy({ mode: 'Auto' }) },
        'Skip:ShrinkHeld',
        {},
      ],
      [
        'a cooldown still applies to a raise that is not urgent',
        { shrink, recommendations: mixed, lastChange: NOW - 60 },
        'Skip:Cooldown',
        {},
      ],
      [
        'in bounds: nothing to hold',
        { shrink, recommendations: { app: { cpu: bounds(0.95, 0.5, 2) } } },
        'NoChange',
        {},
      ],
      [
        'mode Recommend says its mode, not the hold',
        { shrink, policy: policy({ mode: 'Recommend' }) },
        'Skip:Mode',
        {},
      ],
    ];
    for (const [name, over, want, raised] of cases) {
      const p = plan(over);
      assert.equal(kindOf(p.decision), want, `${reason}: ${name}`);
      if (p.decision.kind === 'Skip' && p.decision.reason === 'ShrinkHeld')
        assert.equal(p.decision.message, `held for ${reason}`, `${reason}: ${name}: the gate's message`);
      if (p.decision.kind !== 'InPlace') continue;
      const r = p.decision.patch.spec.containers[0]!.resources;
      // The patch raises what it names and names nothing it would lower.
      assert.deepEqual(
        Object.keys(r.requests ?? {}).sort(),
        Object.keys(raised).sort(),
        `${reason}: ${name}`,
      );
      const [after] = p.containers;
      for (const res of ['cpu', 'memory'] as const) {
        assert.ok(
          after!.after.requests[res]! >= after!.before.requests[res]!,
          `${reason}: ${name}: ${res} request`,
        );
        assert.ok(
          after!.after.limits[res]! >= after!.before.limits[res]!,
          `${reason}: ${name}: ${res} limit`,
        );
        if (raised[res] !== undefined)
          assert.equal(after!.after.requests[res], raised[res], `${reason}: ${name}: ${res}`);
      }
      assert.ok(p.notes.some((n) => n.code === 'RaiseOnly' && n.message.includes(`held for ${reason}`)));
    }
  }
  // A held plan still shows what would happen once the gate opens (status counts it as not up to date).
  const held = plan({ shrink: { kind: 'Held', reason: 'StaleUsage', message: 'stale' } });
  assert.equal(held.containers[0]!.triggered, true);
  assert.equal(held.containers[0]!.after.requests.cpu, 0.25);
  // And the same pod with the gate open shrinks.
  assert.equal(kindOf(plan({ shrink: { kind: 'Allowed' } }).decision), 'InPlace');
});

test('a shrink hold never lowers anything, on many random pods and recommendations', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 500; i++) {
    const req = { cpu: 0.1 + rand() * 4, memory: (64 + Math.floor(rand() * 4096)) * Mi };
    const lim = rand() < 0.5 ? { cpu: req.cpu * 2, memory: req.memory * 2 } : {};
    const oomAt = rand() < 0.3 ? NOW - 10 : undefined;
    const c = container({ req, lim, ...(oomAt !== undefined ? { oomAt } : {}) });
    const recs = { app: rec(0.05 + rand() * 8, (32 + Math.floor(rand() * 8192)) * Mi) };
    const p = planResize(
      input({
        pod: pod([c]),
        recommendations: recs,
        usage: { app: { memoryPeak: rand() * req.memory } },
        shrink: { kind: 'Held', reason: 'ShortHistory', message: 'short' },
      }),
    );
    if (p.decision.kind !== 'InPlace') continue;
    const after = p.containers[0]!.after;
    for (const r of ['cpu', 'memory'] as const) {
      assert.ok(after.requests[r]! >= req[r] - 1e-9, `case ${i}: ${r} request lowered`);
      const limit = c.spec.limits[r];
      if (limit !== undefined) assert.ok(after.limits[r]! >= limit - 1e-9, `case ${i}: ${r} limit lowered`);
    }
  }
});

test('a resource an HPA scales on by utilisation keeps its request (and limit); the others still move', () => {
  const byHpa = 'HorizontalPodAutoscaler web';
  const two = () =>
    pod([
      burstable(),
      container({ name: 'side', req: { cpu: 1, memory: 1 * Gi }, lim: { cpu: 2, memory: 2 * Gi } }),
    ]);
  const recs = { app: rec(0.25, 256 * Mi), side: rec(0.25, 256 * Mi) };
  const usage = { app: { memoryPeak: 200 * Mi }, side: { memoryPeak: 200 * Mi } };
  type Want = Record<string, { cpu: number; memory: number; cpuLimit: number; memoryLimit: number }>;
  const untouched = { cpu: 1, memory: 1 * Gi, cpuLimit: 2, memoryLimit: 2 * Gi };
  const shrunk = { cpu: 0.25, memory: 256 * Mi, cpuLimit: 0.5, memoryLimit: 512 * Mi };
  const cases: [string, PlanInput['frozen'], string, Want][] = [
    ['nothing frozen', [], 'InPlace', { app: shrunk, side: shrunk }],
    [
      'cpu frozen (Resource metric): no container changes cpu, memory still comes down',
      [{ resource: 'cpu', by: byHpa }],
      'InPlace',
      {
        app: { ...shrunk, cpu: 1, cpuLimit: 2 },
        side: { ...shrunk, cpu: 1, cpuLimit: 2 },
      },
    ],
    [
      'cpu of one container frozen (ContainerResource metric): the other container moves',
      [{ resource: 'cpu', container: 'app', by: byHpa }],
      'InPlace',
      { app: { ...shrunk, cpu: 1, cpuLimit: 2 }, side: shrunk },
    ],
    [
      'cpu and memory frozen: nothing moves, and the skip says who scales on them',
      [
        { resource: 'cpu', by: byHpa },
        { resource: 'memory', by: byHpa },
      ],
      'Skip:ScaledByHpa',
      { app: untouched, side: untouched },
    ],
    [
      'a ContainerResource metric for a container the pod does not have freezes nothing',
      [{ resource: 'cpu', container: 'other', by: byHpa }],
      'InPlace',
      { app: shrunk, side: shrunk },
    ],
  ];
  for (const [name, frozen, want, sizes] of cases) {
    const p = planResize(input({ pod: two(), recommendations: recs, usage, frozen }));
    assert.equal(kindOf(p.decision), want, name);
    for (const [c, w] of Object.entries(sizes)) {
      const after = p.containers.find((x) => x.name === c)!.after;
      assert.equal(after.requests.cpu, w.cpu, `${name}: ${c} cpu request`);
      assert.equal(after.requests.memory, w.memory, `${name}: ${c} memory request`);
      assert.equal(after.limits.cpu, w.cpuLimit, `${name}: ${c} cpu limit`);
      assert.equal(after.limits.memory, w.memoryLimit, `${name}: ${c} memory limit`);
    }
    if (p.decision.kind === 'InPlace' && frozen?.some((f) => f.resource === 'cpu' && !f.container)) {
      assert.doesNotMatch(JSON.stringify(p.decision.patch), /cpu/, `${name}: no cpu in the patch`);
    }
    if (p.decision.kind === 'Skip')
      assert.match(p.decision.message, /HorizontalPodAutoscaler web scales on cpu/);
  }
  // A raise is held too: the HPA, not Tailor, answers more load on a resource it scales on.
  const starved = planResize(
    input({
      pod: pod([burstable()]),
      recommendations: { app: rec(4, 1 * Gi) },
      usage: used200,
      frozen: [{ resource: 'cpu', by: byHpa }],
    }),
  );
  assert.equal(kindOf(starved.decision), 'NoChange');
  assert.equal(starved.containers[0]!.after.requests.cpu, 1, 'cpu not raised to 4');
  assert.ok(starved.notes.some((n) => n.code === 'ScaledByHpa' && n.resource === 'cpu'));
});

test('memory frozen by an HPA: an OOM kill raises the limit alone; Guaranteed or RequestsOnly cannot, and say so', () => {
  const frozen = [{ resource: 'memory' as const, by: 'HorizontalPodAutoscaler web' }];
  // Both frozen, so no missing CPU recommendation hides why the OOM kill goes unanswered.
  const both = [...frozen, { resource: 'cpu' as const, by: 'HorizontalPodAutoscaler web' }];
  // Limit 2Gi hit: bump = max(2Gi + 100Mi, 2Gi x 1.2) = 2458Mi, as the limit; the request stays 1Gi.
  const oomed = container({
    req: { cpu: 1, memory: 1 * Gi },
    lim: { cpu: 2, memory: 2 * Gi },
    oomAt: NOW - 30,
  });
  const p = planResize(input({ pod: pod([oomed]), recommendations: {}, usage: used200, frozen }));
  assert.equal(p.decision.kind, 'InPlace');
  if (p.decision.kind === 'InPlace') {
    assert.equal(p.decision.urgent, true);
    assert.deepEqual(p.decision.patch.spec.containers[0]!.resources, { limits: { memory: '2458Mi' } });
  }
  assert.equal(p.containers[0]!.after.requests.memory, 1 * Gi, 'the request the HPA reads stays');

  const guaranteedOom = container({
    req: { cpu: 1, memory: 1 * Gi },
    lim: { cpu: 1, memory: 1 * Gi },
    oomAt: NOW - 30,
  });
  const g = planResize(
    input({ pod: pod([guaranteedOom]), recommendations: {}, usage: used200, frozen: both }),
  );
  assert.equal(kindOf(g.decision), 'Skip:ScaledByHpa');
  assert.match(g.decision.message, /cannot be answered by a limit alone/);

  const r = planResize(
    input({
      pod: pod([oomed]),
      recommendations: {},
      usage: used200,
      frozen: both,
      policy: policy({ containers: [{ name: '*', controlledValues: 'RequestsOnly' }] }),
    }),
  );
  assert.equal(kindOf(r.decision), 'Skip:ScaledByHpa');
});

test('a target wobbling between two values just over the threshold apart raises the pod once, and no more', () => {
  const at = (cpu: number) =>
    container({ req: { cpu, memory: 1 * Gi }, lim: { cpu: 2 * cpu, memory: 2 * Gi } });
  // 1.118 -> 1.233 is 10.3% up: past the 10% threshold, raised.
  const up = plan({
    pod: pod([at(1.118)]),
    recommendations: { app: { cpu: bounds(1.233, 0, 1.233 * 1.1) } },
  });
  assert.equal(kindOf(up.decision), 'InPlace');
  // Back at 1.118: 9.3% down, above the upper bound (1.118 x 1.1 = 1.23) but under the threshold.
  const down = plan({
    pod: pod([at(1.233)]),
    recommendations: { app: { cpu: bounds(1.118, 0, 1.118 * 1.1) } },
  });
  assert.equal(kindOf(down.decision), 'NoChange');
  // A real fall (to 1.0, 19% down) still goes out.
  const fall = plan({ pod: pod([at(1.233)]), recommendations: { app: { cpu: bounds(1, 0, 1.1) } } });
  assert.equal(kindOf(fall.decision), 'InPlace');
});
