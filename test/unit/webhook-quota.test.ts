// quotaViolations as a table: which keys count, scopes and scope selectors, init containers and
// sidecars, pod overhead, a limit dropped under a limits.* quota, and what is never Tailor's doing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1ResourceQuota, V1ResourceQuotaSpec } from '@kubernetes/client-node';
import type { ResourceSpec } from '../../src/core/resize/index.ts';
import { quotaViolations } from '../../src/webhook/quota.ts';

const Mi = 2 ** 20;

function quota(
  hard: Record<string, string>,
  used: Record<string, string>,
  spec: V1ResourceQuotaSpec = {},
): V1ResourceQuota {
  return { metadata: { name: 'q', namespace: 'shop' }, spec: { ...spec, hard }, status: { hard, used } };
}

/** A pod of one container "app" asking 1 cpu / 1Gi, limits 2 / 2Gi. */
function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'shop' },
    spec: {
      containers: [
        {
          name: 'app',
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        },
      ],
      ...spec,
    },
  };
}

const sized = (requests: ResourceSpec['requests'], limits: ResourceSpec['limits']) => [
  { name: 'app', spec: { requests, limits } },
];
/** Memory raised to 1.5Gi (limit 3Gi); cpu as written. */
const RAISED = sized({ cpu: 1, memory: 1536 * Mi }, { cpu: 2, memory: 3072 * Mi });
/** Memory lowered to 512Mi. */
const LOWERED = sized({ cpu: 1, memory: 512 * Mi }, { cpu: 2, memory: 1024 * Mi });

test('quotaViolations: a raise that takes the namespace past hard, and only that', () => {
  const cases: [string, V1Pod, ReturnType<typeof sized>, V1ResourceQuota, RegExp | null][] = [
    ['fits', pod(), RAISED, quota({ 'requests.memory': '4Gi' }, { 'requests.memory': '2Gi' }), null],
    [
      'requests.memory over',
      pod(),
      RAISED,
      quota({ 'requests.memory': '4Gi' }, { 'requests.memory': '3Gi' }),
      /requests\.memory 3Gi used \+ 1536Mi for this pod \(as written 1Gi\) is above hard 4Gi/,
    ],
    ['exactly hard is allowed', pod(), RAISED, quota({ memory: '4Gi' }, { memory: '2560Mi' }), null],
    [
      'limits.memory over',
      pod(),
      RAISED,
      quota({ 'limits.memory': '4Gi' }, { 'limits.memory': '2Gi' }),
      /limits\.memory/,
    ],
    [
      "cpu unchanged: its quota is not Tailor's",
      pod(),
      RAISED,
      quota({ 'requests.cpu': '1' }, { 'requests.cpu': '1' }),
      null,
    ],
    ['a shrink is never reported', pod(), LOWERED, quota({ memory: '1Gi' }, { memory: '4Gi' }), null],
    [
      'no status yet: spec.hard, nothing used',
      pod(),
      RAISED,
      { metadata: { name: 'q' }, spec: { hard: { memory: '1Gi' } } },
      /memory 0Mi used/,
    ],
    [
      'a dropped cpu limit under limits.cpu',
      pod(),
      sized({ cpu: 1, memory: Mi * 1024 }, { memory: 2048 * Mi }),
      quota({ 'limits.cpu': '100' }, {}),
      /limits\.cpu is tracked, so every container needs a limit; it would be removed from app/,
    ],
    [
      'pod overhead counts',
      pod({ overhead: { memory: '1Gi' } }),
      RAISED,
      quota({ memory: '3Gi' }, { memory: '1Gi' }),
      /2560Mi for this pod/,
    ],
    [
      'a bigger init container: the raise does not change what the pod counts',
      pod({ initContainers: [{ name: 'init', resources: { requests: { memory: '2Gi' } } }] }),
      RAISED,
      quota({ memory: '3Gi' }, { memory: '1Gi' }),
      null,
    ],
    [
      'a sidecar adds to the app containers',
      pod({
        initContainers: [
          { name: 'proxy', restartPolicy: 'Always', resources: { requests: { memory: '1Gi' } } },
        ],
      }),
      RAISED,
      quota({ memory: '3Gi' }, { memory: '1Gi' }),
      /2560Mi for this pod \(as written 2Gi\)/,
    ],
  ];
  for (const [what, p, after, q, want] of cases) {
    const got = quotaViolations(p, after, [q]);
    if (want === null) assert.deepEqual(got, [], what);
    else {
      assert.equal(got.length, 1, `${what}: ${got.join('; ')}`);
      assert.match(got[0]!, want, what);
    }
  }
});

test('quotaViolations: a scoped quota counts only the pods in its scope', () => {
  const over = (spec: V1ResourceQuotaSpec) => quota({ memory: '1Gi' }, { memory: '1Gi' }, spec);
  const cases: [string, V1Pod, V1ResourceQuotaSpec, boolean][] = [
    ['NotBestEffort: this pod', pod(), { scopes: ['NotBestEffort'] }, true],
    ['BestEffort: not this pod', pod(), { scopes: ['BestEffort'] }, false],
    ['Terminating: no activeDeadlineSeconds', pod(), { scopes: ['Terminating'] }, false],
    [
      'Terminating: with activeDeadlineSeconds',
      pod({ activeDeadlineSeconds: 60 }),
      { scopes: ['Terminating'] },
      true,
    ],
    ['NotTerminating', pod(), { scopes: ['NotTerminating'] }, true],
    [
      'PriorityClass In: another class',
      pod({ priorityClassName: 'low' }),
      {
        scopeSelector: {
          matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }],
        },
      },
      false,
    ],
    [
      'PriorityClass In: this class',
      pod({ priorityClassName: 'high' }),
      {
        scopeSelector: {
          matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }],
        },
      },
      true,
    ],
    [
      'PriorityClass Exists: none set',
      pod(),
      { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'Exists' }] } },
      false,
    ],
    ['an unknown scope counts (safe side)', pod(), { scopes: ['SomethingNew'] }, true],
  ];
  for (const [what, p, spec, counts] of cases)
    assert.equal(quotaViolations(p, RAISED, [over(spec)]).length > 0, counts, what);
});
