// What a policy leaves alone and says so: the resources an HPA scales on by utilisation
// (frozenByHpas), the Conflict and HPAConflict conditions, their Events said once, and the
// recommendations marked as not applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { frozenByHpas, withoutFrozen } from '../../src/core/resize/hpa.ts';
import {
  conflictConditions,
  conflictEvents,
  markNotApplied,
} from '../../src/controllers/sizing/conflicts.ts';
import type { ContainerRecommendation } from '../../src/api/index.ts';
import { settleRecommendations } from '../../src/controllers/sizing/status.ts';

function hpa(
  metrics: V2MetricSpec[] | undefined,
  target: { kind?: string; name?: string; apiVersion?: string } = {},
  name = 'web',
): V2HorizontalPodAutoscaler {
  return {
    metadata: { name, namespace: 'shop' },
    spec: {
      scaleTargetRef: {
        apiVersion: target.apiVersion ?? 'apps/v1',
        kind: target.kind ?? 'Deployment',
        name: target.name ?? 'web',
      },
      maxReplicas: 5,
      ...(metrics ? { metrics } : {}),
    },
  };
}
const util = (name: string, type = 'Utilization'): V2MetricSpec => ({
  type: 'Resource',
  resource: { name, target: { type, averageUtilization: 70 } },
});
const web = { kind: 'Deployment', name: 'web' };

test('frozenByHpas: Utilization targets on cpu or memory of an HPA naming the workload', () => {
  const by = 'HorizontalPodAutoscaler web';
  const cases: [string, V2HorizontalPodAutoscaler[], { resource: string; container?: string }[]][] = [
    ['no HPA', [], []],
    ['cpu utilisation', [hpa([util('cpu')])], [{ resource: 'cpu' }]],
    ['cpu and memory', [hpa([util('cpu'), util('memory')])], [{ resource: 'cpu' }, { resource: 'memory' }]],
    ['AverageValue reads usage alone', [hpa([util('cpu', 'AverageValue')])], []],
    ['another resource (ephemeral-storage)', [hpa([util('ephemeral-storage')])], []],
    ['no metrics: the HPA default, CPU at 80%', [hpa(undefined)], [{ resource: 'cpu' }]],
    [
      'ContainerResource: that container only',
      [
        hpa([
          {
            type: 'ContainerResource',
            containerResource: { name: 'memory', container: 'app', target: { type: 'Utilization' } },
          },
        ]),
      ],
      [{ resource: 'memory', container: 'app' }],
    ],
    [
      'custom and external metrics do not depend on requests',
      [
        hpa([
          {
            type: 'Pods',
            pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } },
          },
          {
            type: 'External',
            external: { metric: { name: 'queue' }, target: { type: 'Value', value: '5' } },
          },
        ]),
      ],
      [],
    ],
    ['another Deployment', [hpa([util('cpu')], { name: 'api' })], []],
    ['a StatefulSet of the same name', [hpa([util('cpu')], { kind: 'StatefulSet' })], []],
    ['a same-named kind of another API group', [hpa([util('cpu')], { apiVersion: 'example.com/v1' })], []],
  ];
  for (const [name, hpas, want] of cases) {
    assert.deepEqual(
      frozenByHpas(hpas, web),
      want.map((w) => ({ ...w, by })),
      name,
    );
  }
});

test('withoutFrozen: the recommendation a new pod may be given', () => {
  const recs = { app: { cpu: 1, memory: 2 }, side: { cpu: 3, memory: 4 } };
  assert.deepEqual(withoutFrozen(recs, [{ resource: 'cpu', by: 'x' }]), {
    app: { memory: 2 },
    side: { memory: 4 },
  });
  assert.deepEqual(withoutFrozen(recs, [{ resource: 'memory', container: 'side', by: 'x' }]), {
    app: { cpu: 1, memory: 2 },
    side: { cpu: 3 },
  });
  assert.deepEqual(recs.app, { cpu: 1, memory: 2 }, 'the input is not changed');
});

test('conflictConditions: False when nothing overlaps; True naming the winner or the HPA', () => {
  const none = conflictConditions({ lostTo: new Map(), frozen: [] });
  assert.deepEqual(
    none.map((c) => [c.type, c.status, c.reason]),
    [
      ['Conflict', 'False', 'NoOverlap'],
      ['HPAConflict', 'False', 'NoUtilizationScaling'],
    ],
  );
  const [conflict, hpaConflict] = conflictConditions({
    lostTo: new Map([
      ['by-ref', ['web-1', 'web-2']],
      ['another', ['web-9']],
    ]),
    frozen: [
      { resource: 'cpu', by: 'HorizontalPodAutoscaler web' },
      { resource: 'cpu', by: 'HorizontalPodAutoscaler web' },
    ],
  });
  assert.equal(conflict!.status, 'True');
  assert.equal(conflict!.reason, 'OverlappingPolicy');
  assert.match(
    conflict!.message,
    /^pod web-9 controlled by SizingPolicy another; pods web-1, web-2 controlled by SizingPolicy by-ref/,
  );
  assert.match(conflict!.message, /a targetRef beats a selector, then the oldest policy, then the name/);
  assert.equal(hpaConflict!.status, 'True');
  assert.equal(hpaConflict!.reason, 'ScaledOnUtilization');
  assert.match(hpaConflict!.message, /^requests left as they are for cpu \(HorizontalPodAutoscaler web\): /);
  assert.doesNotMatch(hpaConflict!.message, /OOM/, 'the OOM note is about memory only');
});

test('conflictEvents: said once per change, across passes and across a restart (the stored condition)', () => {
  const said = new Map<string, string>();
  const wanted = conflictConditions({ lostTo: new Map([['by-ref', ['web-1']]]), frozen: [] });
  const first = conflictEvents('shop/sel', undefined, wanted, said);
  assert.deepEqual(
    first.map((e) => e.reason),
    ['OverlappingPolicy'],
  );
  assert.deepEqual(
    conflictEvents('shop/sel', undefined, wanted, said),
    [],
    'the next pass, before the status is back',
  );
  const stored = wanted.map((w) => ({ ...w, lastTransitionTime: '2026-01-01T00:00:00Z' }));
  assert.deepEqual(
    conflictEvents('shop/sel', stored, wanted, new Map()),
    [],
    'after a restart: the status says it',
  );
  const moved = conflictConditions({ lostTo: new Map([['other', ['web-1']]]), frozen: [] });
  assert.equal(conflictEvents('shop/sel', stored, moved, said).length, 1, 'a new winner is news');
  const gone = conflictConditions({ lostTo: new Map(), frozen: [] });
  assert.deepEqual(conflictEvents('shop/sel', stored, gone, said), []);
  assert.equal(conflictEvents('shop/sel', undefined, wanted, said).length, 1, 'back again: said again');
});

test('markNotApplied: the frozen resources of each recommendation, and settle keeps the mark current', () => {
  const recs: ContainerRecommendation[] = [
    { name: 'app', target: { cpu: '250m', memory: '256Mi' } },
    { name: 'side', target: { memory: '64Mi' } },
  ];
  const marked = markNotApplied(recs, [{ resource: 'cpu', by: 'HorizontalPodAutoscaler web' }]);
  assert.equal(marked[0]!.notApplied, 'cpu: HorizontalPodAutoscaler web scales on its utilisation');
  assert.equal(marked[1]!.notApplied, undefined, 'no cpu recommendation, nothing to mark');
  // The numbers are within tolerance, so the stored entry is kept, but the mark follows the pass.
  assert.equal(settleRecommendations(marked, recs, 0.02)[0]!.notApplied, undefined, 'the HPA went away');
  assert.equal(
    settleRecommendations(recs, marked, 0.02)[0]!.notApplied,
    marked[0]!.notApplied,
    'an HPA came',
  );
});
