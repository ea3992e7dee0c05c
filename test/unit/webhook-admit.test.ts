// admit: the admission decision as tables. Modes, targetRef vs selector, limit strategies, min/max,
// missing recommendations, the start-up boost skip, and malformed reviews (always allowed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1LimitRange, V1Pod, V1ResourceQuota } from '@kubernetes/client-node';
import { Value } from '@sinclair/typebox/value';
import { SizingPolicySpec, type SizingPolicy } from '../../src/api/index.ts';
import {
  admit,
  BEFORE_ANNOTATION,
  SIZED_ANNOTATION,
  SIZED_BY_ANNOTATION,
  SKIPPED_ANNOTATION,
  STARTUP_BOOST_ANNOTATION,
  type AdmitDecision,
  type AdmitDeps,
  type AdmitResult,
} from '../../src/webhook/admit.ts';
import type { JsonPatchOp } from '../../src/webhook/review.ts';

const NS = 'shop';
const BURSTABLE = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } };
const GUARANTEED = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
const REC = { app: { cpu: '250m', memory: '256Mi' } };

function container(name: string, resources?: V1Container['resources']): V1Container {
  return { name, image: 'example.com/app:1', ...(resources ? { resources } : {}) };
}

type Owner = { kind: string; name: string };

/** A pod as the ReplicaSet controller submits it: owned by web-7d9f (pod-template-hash 7d9f). */
function pod(
  o: {
    containers?: V1Container[];
    owner?: Owner | null;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  } = {},
): V1Pod {
  const owner = o.owner === undefined ? { kind: 'ReplicaSet', name: 'web-7d9f' } : o.owner;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-7d9f-',
      namespace: NS,
      labels: o.labels ?? { app: 'web', 'pod-template-hash': '7d9f' },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'u1', controller: true },
            ],
          }
        : {}),
    },
    spec: { containers: o.containers ?? [container('app', BURSTABLE)] },
  };
}

function review(object: unknown, over: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'req-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: NS,
      object,
      ...over,
    },
  };
}

/**
 * The workload's memory peak the sizing controller publishes beside each recommendation: below
 * every target here, so only the tests about the floor see it act.
 */
const LOW_PEAK = '64Mi';

/** A SizingPolicy as read from the API (defaults filled), with recommendations in its status. */
function policy(
  spec: Record<string, unknown>,
  recs: Record<string, Record<string, string>> | null = REC,
  o: { name?: string; created?: string; peak?: string | null } = {},
): SizingPolicy {
  const peak = o.peak === undefined ? LOW_PEAK : o.peak;
  return {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'SizingPolicy',
    metadata: {
      name: o.name ?? 'web',
      namespace: NS,
      creationTimestamp: new Date(o.created ?? '2026-01-01T00:00:00Z'),
    },
    spec: Value.Default(
      SizingPolicySpec,
      structuredClone({ mode: 'Initial', targetRef: { kind: 'Deployment', name: 'web' }, ...spec }),
    ) as SizingPolicy['spec'],
    ...(recs
      ? {
          status: {
            recommendations: Object.entries(recs).map(([name, target]) => ({
              name,
              target,
              ...(peak !== null ? { peak: { memory: peak } } : {}),
            })),
          },
        }
      : {}),
  };
}

const OWNERS: Record<string, Owner | null> = {
  'ReplicaSet/shop/web-7d9f': { kind: 'Deployment', name: 'web' },
  'ReplicaSet/shop/bare-rs': null,
};

function deps(policies: SizingPolicy[], over: Partial<AdmitDeps> = {}): AdmitDeps {
  return {
    policiesIn: (ns) => policies.filter((p) => p.metadata.namespace === ns),
    ownerOf: (ns, kind, name) => OWNERS[`${kind}/${ns}/${name}`],
    ...over,
  };
}

/** RFC 6902 add/remove over a plain object: enough to read what the patch does to the pod. */
function applyPatch(doc: unknown, ops: readonly JsonPatchOp[]): V1Pod {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const op of ops) {
    const keys = op.path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let at: Record<string, unknown> = out;
    for (const k of keys) {
      assert.ok(at[k] !== undefined, `patch path ${op.path}: ${k} must exist`);
      at = at[k] as Record<string, unknown>;
    }
    if (op.op === 'add') at[last] = op.value;
    else {
      assert.ok(last in at, `remove ${op.path}: must exist`);
      delete at[last];
    }
  }
  return out;
}

function patchOf(r: AdmitResult): JsonPatchOp[] {
  const p = r.review.response.patch;
  return p ? (JSON.parse(Buffer.from(p, 'base64').toString('utf8')) as JsonPatchOp[]) : [];
}

function label(d: AdmitDecision): string {
  switch (d.kind) {
    case 'Sized':
      return 'Sized';
    case 'Skipped':
      return `Skipped:${d.reason}`;
    case 'FailedOpen':
      return 'FailedOpen';
  }
}

/** Runs admit and checks the invariants every answer keeps: allowed, right uid, patch iff Sized. */
async function run(
  p: unknown,
  d: AdmitDeps,
  over: Record<string, unknown> = {},
): Promise<{ result: AdmitResult; after: V1Pod }> {
  const result = await admit(review(p, over), d);
  assert.equal(result.review.apiVersion, 'admission.k8s.io/v1');
  assert.equal(result.review.kind, 'AdmissionReview');
  assert.equal(result.review.response.allowed, true, 'every pod is allowed');
  assert.equal(result.review.response.uid, 'req-1');
  const ops = patchOf(result);
  const dec = result.decision;
  const annotated = dec.kind === 'Skipped' && (dec.reason === 'LimitRange' || dec.reason === 'ResourceQuota');
  assert.equal(
    ops.length > 0,
    dec.kind === 'Sized' || annotated,
    `a patch exactly when Sized, or skipped for the namespace's rules: ${label(dec)}`,
  );
  if (annotated)
    assert.ok(
      ops.every((op) => op.path.startsWith('/metadata/annotations')),
      'a skipped pod only gets the annotation',
    );
  if (ops.length > 0) assert.equal(result.review.response.patchType, 'JSONPatch');
  return { result, after: applyPatch(p, ops) };
}

const resources = (p: V1Pod, i = 0) => p.spec!.containers[i]!.resources;

test('modes: Initial, InPlace and Auto size new pods; Off and Recommend never touch them', async () => {
  const cases: [string, string][] = [
    ['Off', 'Skipped:ModeDoesNotSize'],
    ['Recommend', 'Skipped:ModeDoesNotSize'],
    ['Initial', 'Sized'],
    ['InPlace', 'Sized'],
    ['Auto', 'Sized'],
  ];
  for (const [mode, want] of cases) {
    const { result, after } = await run(pod(), deps([policy({ mode })]));
    assert.equal(label(result.decision), want, `mode ${mode}`);
    if (want === 'Sized') {
      assert.deepEqual(
        resources(after),
        {
          requests: { cpu: '250m', memory: '256Mi' },
          limits: { cpu: '500m', memory: '512Mi' },
        },
        `mode ${mode}`,
      );
    } else {
      assert.deepEqual(after, pod(), `mode ${mode}: pod unchanged`);
    }
  }
});

test('which policy covers the pod: targetRef through the owner chain, or the label selector', async () => {
  const sts = { kind: 'StatefulSet', name: 'db' };
  const cases: [string, V1Pod, SizingPolicy[], string, string?][] = [
    ['targetRef Deployment via ReplicaSet', pod(), [policy({})], 'Sized', 'web'],
    [
      'targetRef another Deployment',
      pod(),
      [policy({ targetRef: { kind: 'Deployment', name: 'api' } })],
      'Skipped:NoPolicy',
    ],
    [
      'targetRef StatefulSet',
      pod({ owner: sts, labels: { app: 'db' } }),
      [policy({ targetRef: sts })],
      'Sized',
      'web',
    ],
    [
      'targetRef DaemonSet',
      pod({ owner: { kind: 'DaemonSet', name: 'agent' } }),
      [policy({ targetRef: { kind: 'DaemonSet', name: 'agent' } })],
      'Sized',
    ],
    [
      'targetRef bare ReplicaSet (no Deployment above it)',
      pod({ owner: { kind: 'ReplicaSet', name: 'bare-rs' } }),
      [policy({ targetRef: { kind: 'ReplicaSet', name: 'bare-rs' } })],
      'Sized',
    ],
    [
      'targetRef ReplicaSet of a Deployment does not cover it',
      pod(),
      [policy({ targetRef: { kind: 'ReplicaSet', name: 'web-7d9f' } })],
      'Skipped:NoPolicy',
    ],
    [
      'selector matchLabels',
      pod(),
      [policy({ targetRef: undefined, selector: { matchLabels: { app: 'web' } } })],
      'Sized',
    ],
    [
      'selector matchLabels, other app',
      pod(),
      [policy({ targetRef: undefined, selector: { matchLabels: { app: 'api' } } })],
      'Skipped:NoPolicy',
    ],
    [
      'selector In',
      pod(),
      [
        policy({
          targetRef: undefined,
          selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] },
        }),
      ],
      'Sized',
    ],
    [
      'selector NotIn',
      pod(),
      [
        policy({
          targetRef: undefined,
          selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] },
        }),
      ],
      'Skipped:NoPolicy',
    ],
    [
      'selector DoesNotExist',
      pod(),
      [
        policy({
          targetRef: undefined,
          selector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
        }),
      ],
      'Sized',
    ],
    [
      'bare pod, selector',
      pod({ owner: null }),
      [policy({ targetRef: undefined, selector: { matchLabels: { app: 'web' } } })],
      'Sized',
    ],
    ['no policy in the namespace', pod(), [], 'Skipped:NoPolicy'],
    [
      'policy in another namespace',
      pod(),
      [{ ...policy({}), metadata: { ...policy({}).metadata, namespace: 'other' } }],
      'Skipped:NoPolicy',
    ],
    [
      'targetRef beats an older selector',
      pod(),
      [
        policy({ targetRef: undefined, selector: { matchLabels: { app: 'web' } }, mode: 'Recommend' }, REC, {
          name: 'by-label',
          created: '2025-01-01T00:00:00Z',
        }),
        policy({}, REC, { name: 'by-ref' }),
      ],
      'Sized',
      'by-ref',
    ],
    [
      'two selectors: the older wins',
      pod(),
      [
        policy({ targetRef: undefined, selector: { matchLabels: { app: 'web' } } }, REC, {
          name: 'young',
          created: '2026-02-01T00:00:00Z',
        }),
        policy({ targetRef: undefined, selector: { matchLabels: { app: 'web' } }, mode: 'Off' }, REC, {
          name: 'old',
          created: '2025-02-01T00:00:00Z',
        }),
      ],
      'Skipped:ModeDoesNotSize',
      'old',
    ],
  ];
  for (const [what, p, policies, want, by] of cases) {
    const { result } = await run(p, deps(policies));
    assert.equal(label(result.decision), want, what);
    const d = result.decision;
    if (by !== undefined && (d.kind === 'Sized' || d.kind === 'Skipped')) assert.equal(d.policy, by, what);
    if (policies.length > 1 && want !== 'Skipped:NoPolicy')
      assert.match(
        (result.review.response.warnings ?? []).join(' '),
        /also cover this pod/,
        `${what}: the overlap is said`,
      );
  }
});

test('owner lookup failing: the Deployment is taken from the pod-template-hash, with a warning', async () => {
  const failing = deps([policy({})], {
    ownerOf: () => Promise.reject(new Error('connection refused')),
  });
  const { result, after } = await run(pod(), failing);
  assert.equal(label(result.decision), 'Sized');
  assert.equal(resources(after)?.requests?.cpu, '250m');
  assert.match(
    result.review.response.warnings?.[0] ?? '',
    /could not read ReplicaSet web-7d9f .*Deployment\/web/,
  );
});

test('limits follow the strategy; requests are the recommendation; the QoS class is kept', async () => {
  const limits = (cpu: Record<string, unknown>, memory: Record<string, unknown>) => ({
    containers: [{ name: '*', limits: { cpu, memory } }],
  });
  const cases: [
    string,
    Record<string, unknown>,
    V1Container['resources'],
    string,
    V1Container['resources']?,
  ][] = [
    [
      'KeepRatio',
      {},
      BURSTABLE,
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    ],
    [
      'Headroom',
      limits({ strategy: 'Headroom', headroomPercent: 50 }, { strategy: 'Headroom', headroomPercent: 25 }),
      BURSTABLE,
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '375m', memory: '320Mi' } },
    ],
    [
      'NoLimit: the CPU limit goes, memory keeps its ratio',
      limits({ strategy: 'NoLimit' }, { strategy: 'KeepRatio' }),
      BURSTABLE,
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    ],
    [
      'NoLimit on a Guaranteed pod: the limit stays equal to the request',
      limits({ strategy: 'NoLimit' }, { strategy: 'KeepRatio' }),
      GUARANTEED,
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
    ],
    [
      'RequestsOnly: limits as written',
      { containers: [{ name: '*', controlledValues: 'RequestsOnly' }] },
      BURSTABLE,
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '2Gi' } },
    ],
    [
      'RequestsOnly on a Guaranteed pod: nothing can move',
      { containers: [{ name: '*', controlledValues: 'RequestsOnly' }] },
      GUARANTEED,
      'Skipped:NothingToChange',
    ],
    [
      'Guaranteed, KeepRatio: requests == limits',
      {},
      GUARANTEED,
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
    ],
    [
      'requests only, no limits',
      {},
      { requests: { cpu: '1', memory: '1Gi' } },
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' } },
    ],
    [
      'other resources are kept as written',
      {},
      {
        requests: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '1Gi' },
        limits: { cpu: '2', memory: '2Gi', 'nvidia.com/gpu': '1' },
      },
      'Sized',
      {
        requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
        limits: { cpu: '500m', memory: '512Mi', 'nvidia.com/gpu': '1' },
      },
    ],
    ['BestEffort: no request is added', {}, undefined, 'Skipped:NothingToChange'],
    [
      'only memory controlled',
      { containers: [{ name: '*', controlledResources: ['memory'] }] },
      BURSTABLE,
      'Sized',
      { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
    ],
    [
      'container mode Off',
      { containers: [{ name: 'app', mode: 'Off' }] },
      BURSTABLE,
      'Skipped:NothingToChange',
    ],
  ];
  for (const [what, spec, res, want, expected] of cases) {
    const p = pod({ containers: [container('app', res)] });
    const { result, after } = await run(p, deps([policy(spec)]));
    assert.equal(label(result.decision), want, what);
    if (expected) assert.deepEqual(resources(after), expected, what);
  }
});

test('minAllowed and maxAllowed bound the recommendation', async () => {
  const cases: [string, Record<string, string>, Record<string, string>, { cpu: string; memory: string }][] = [
    [
      'within bounds',
      { cpu: '100m', memory: '128Mi' },
      { cpu: '1', memory: '1Gi' },
      { cpu: '250m', memory: '256Mi' },
    ],
    ['raised to min', { cpu: '500m', memory: '300Mi' }, {}, { cpu: '500m', memory: '300Mi' }],
    ['cut to max', {}, { cpu: '200m', memory: '128Mi' }, { cpu: '200m', memory: '128Mi' }],
  ];
  for (const [what, minAllowed, maxAllowed, want] of cases) {
    const spec = { containers: [{ name: 'app', minAllowed, maxAllowed }] };
    const { after } = await run(
      pod({ containers: [container('app', { requests: { cpu: '1', memory: '1Gi' } })] }),
      deps([policy(spec)]),
    );
    assert.deepEqual(resources(after)?.requests, want, what);
  }
  // A policy whose min is above its max is not used at all (the CRD rejects it; a stale cache may hold one).
  const bad = policy({ containers: [{ name: 'app', minAllowed: { cpu: '2' }, maxAllowed: { cpu: '1' } }] });
  const { result, after } = await run(pod(), deps([bad]));
  assert.equal(label(result.decision), 'Skipped:BadPolicy');
  assert.deepEqual(after, pod());
  assert.match((result.review.response.warnings ?? []).join(' '), /not valid/);
});

test('new pods are held at the floor running pods are held at: the peak + margin, minAllowed', async () => {
  // The pod asks 1 cpu / 1Gi (limits 2 / 2Gi, KeepRatio); the recommendation says 250m / 256Mi.
  const cases: [string, { peak: string | null; min?: string; max?: string }, Record<string, string>][] = [
    ['a peak below the recommendation changes nothing', { peak: '200Mi' }, { cpu: '250m', memory: '256Mi' }],
    // 400Mi * 1.05 = 420Mi: the recommendation alone (256Mi) would be below what the workload used.
    [
      'a recommendation below the peak is raised to peak + 5%',
      { peak: '400Mi' },
      { cpu: '250m', memory: '420Mi' },
    ],
    // 1.5Gi * 1.05 = 1612.8Mi, rounded up to whole MiB: more than the pod asked for.
    ['a peak above the request raises the pod', { peak: '1536Mi' }, { cpu: '250m', memory: '1613Mi' }],
    ['minAllowed above the peak wins', { peak: '400Mi', min: '600Mi' }, { cpu: '250m', memory: '600Mi' }],
    // maxAllowed caps the floor, but never forces a shrink below the peak: the pod's own 1Gi stays.
    [
      'maxAllowed below the floor: not lowered past the peak',
      { peak: '1Gi', max: '512Mi' },
      { cpu: '250m', memory: '1Gi' },
    ],
    // No peak published (an older status, or written by hand): memory is not lowered on missing data.
    ['no peak known: memory not lowered', { peak: null }, { cpu: '250m', memory: '1Gi' }],
  ];
  for (const [what, o, want] of cases) {
    const spec = {
      containers: [
        {
          name: 'app',
          ...(o.min ? { minAllowed: { memory: o.min } } : {}),
          ...(o.max ? { maxAllowed: { memory: o.max } } : {}),
        },
      ],
    };
    const { after } = await run(pod(), deps([policy(spec, REC, { peak: o.peak })]));
    assert.deepEqual(resources(after)?.requests, want, what);
  }
  // The operator's own margin, when it runs with another one (plan settings), is the webhook's too.
  const { after } = await run(pod(), deps([policy({}, REC, { peak: '400Mi' })], { peakMargin: 0.25 }));
  assert.deepEqual(resources(after)?.requests, { cpu: '250m', memory: '500Mi' }, 'peak 400Mi + 25%');
  assert.deepEqual(resources(after)?.limits, { cpu: '500m', memory: '1000Mi' }, 'limits keep the ratio');
});

test('a container without a recommendation is left as written; the others are sized', async () => {
  const p = pod({
    containers: [
      container('app', BURSTABLE),
      container('sidecar', { requests: { cpu: '100m', memory: '64Mi' } }),
    ],
  });
  const { result, after } = await run(p, deps([policy({})]));
  assert.equal(label(result.decision), 'Sized');
  assert.deepEqual(resources(after, 0)?.requests, { cpu: '250m', memory: '256Mi' });
  assert.deepEqual(resources(after, 1), { requests: { cpu: '100m', memory: '64Mi' } });
  const before = JSON.parse(after.metadata!.annotations![BEFORE_ANNOTATION]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(before), ['app'], 'only the changed container is recorded');

  const cases: [string, Record<string, Record<string, string>> | null, string][] = [
    ['no status at all', null, 'Skipped:NoRecommendation'],
    ['recommendations for other containers only', { other: { cpu: '1' } }, 'Skipped:NoRecommendation'],
    ['a recommendation that is not a quantity', { app: { cpu: 'lots' } }, 'Skipped:NoRecommendation'],
  ];
  for (const [what, recs, want] of cases) {
    const { result: r } = await run(pod(), deps([policy({}, recs)]));
    assert.equal(label(r.decision), want, what);
  }
});

test('the pod says what Tailor set, and what it asked for before', async () => {
  const { after } = await run(pod({ annotations: { team: 'shop' } }), deps([policy({})]));
  const a = after.metadata!.annotations!;
  assert.equal(a.team, 'shop', 'existing annotations are kept');
  assert.equal(a[SIZED_BY_ANNOTATION], 'web');
  assert.equal(
    a[SIZED_ANNOTATION],
    'app: cpu 1 -> 250m (limit 2 -> 500m), memory 1Gi -> 256Mi (limit 2Gi -> 512Mi)',
  );
  assert.deepEqual(JSON.parse(a[BEFORE_ANNOTATION]!), { app: BURSTABLE });
  // Without annotations the map itself is added.
  const { after: bare } = await run(pod(), deps([policy({})]));
  assert.equal(bare.metadata!.annotations![SIZED_BY_ANNOTATION], 'web');
});

test('pods left alone: start-up boost, not a CREATE, already right, report-only', async () => {
  const boosted = pod({ annotations: { [STARTUP_BOOST_ANNOTATION]: '{"cpu":"4"}' } });
  assert.equal(label((await run(boosted, deps([policy({})]))).result.decision), 'Skipped:StartupBoost');
  assert.equal(
    label((await run(pod(), deps([policy({})]), { operation: 'UPDATE' })).result.decision),
    'Skipped:NotPodCreate',
  );
  assert.equal(
    label(
      (await run(pod(), deps([policy({})]), { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }))
        .result.decision,
    ),
    'Skipped:NotPodCreate',
  );
  const right = pod({ containers: [container('app', { requests: { cpu: '250m', memory: '256Mi' } })] });
  assert.equal(label((await run(right, deps([policy({})]))).result.decision), 'Skipped:NothingToChange');
  const podLevel = pod();
  podLevel.spec!.resources = { limits: { cpu: '4', memory: '4Gi' } };
  assert.equal(label((await run(podLevel, deps([policy({})]))).result.decision), 'Skipped:PodLevelResources');
  const reportOnly = await admit(review(pod()), deps([policy({})]), 'ReportOnly');
  assert.equal(reportOnly.decision.kind, 'Sized', 'decided');
  assert.equal(reportOnly.review.response.patch, undefined, 'but not patched');
});

test('malformed or failing: always allowed, with a warning, and the uid when there is one', async () => {
  const cases: [string, unknown, string][] = [
    ['not an object', 'hello', ''],
    ['null', null, ''],
    ['wrong kind', { apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: { uid: 'u9' } }, 'u9'],
    [
      'v1beta1',
      { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'u8' } },
      'u8',
    ],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, ''],
    ['no uid', review(pod(), { uid: undefined }), ''],
    ['no kind', review(pod(), { kind: undefined }), 'req-1'],
    ['object not an object', review('a pod'), 'req-1'],
  ];
  for (const [what, body, uid] of cases) {
    const r = await admit(body, deps([policy({})]));
    assert.equal(r.decision.kind, 'FailedOpen', what);
    assert.equal(r.review.response.allowed, true, what);
    assert.equal(r.review.response.uid, uid, what);
    assert.equal(r.review.response.patch, undefined, what);
    assert.match(
      r.review.response.warnings?.[0] ?? '',
      /tailor: pod admitted unchanged: malformed AdmissionReview/,
      what,
    );
  }
  const throwing = deps([], {
    policiesIn: () => {
      throw new Error('cache exploded');
    },
  });
  const r = await admit(review(pod()), throwing);
  assert.equal(r.decision.kind, 'FailedOpen');
  assert.equal(r.review.response.uid, 'req-1');
  assert.match(r.review.response.warnings?.[0] ?? '', /cache exploded/);
  // A pod spec the sizing cannot read (resources of the wrong shape) also passes unchanged.
  const weird = { ...pod(), spec: { containers: [{ name: 'app', resources: { requests: 'lots' } }] } };
  const w = await admit(review(weird), deps([policy({})]));
  assert.equal(w.review.response.allowed, true);
  assert.notEqual(w.decision.kind, 'Sized');
});

test('a size that breaks a LimitRange is not sent (the apiserver would reject the pod)', async () => {
  const range = (type: string, rule: Record<string, Record<string, string>>): V1LimitRange => ({
    metadata: { name: 'limits', namespace: NS },
    spec: { limits: [{ type, ...rule }] },
  });
  const noCpuLimit = { containers: [{ name: '*', limits: { cpu: { strategy: 'NoLimit' } } }] };
  // The pod gets 250m/256Mi, limits 500m/512Mi (KeepRatio) unless the policy says otherwise.
  const cases: [string, V1LimitRange, Record<string, unknown>, string][] = [
    [
      'Container min cpu above the recommendation',
      range('Container', { min: { cpu: '300m' } }),
      {},
      'Skipped:LimitRange',
    ],
    ['Container min met', range('Container', { min: { cpu: '100m', memory: '64Mi' } }), {}, 'Sized'],
    [
      'Container max below the new limit',
      range('Container', { max: { cpu: '400m' } }),
      {},
      'Skipped:LimitRange',
    ],
    ['Container max met', range('Container', { max: { cpu: '1', memory: '1Gi' } }), {}, 'Sized'],
    [
      'Container max needs a limit: NoLimit would drop it',
      range('Container', { max: { cpu: '4' } }),
      noCpuLimit,
      'Skipped:LimitRange',
    ],
    [
      'maxLimitRequestRatio below the ratio kept',
      range('Container', { maxLimitRequestRatio: { cpu: '1500m' } }),
      {},
      'Skipped:LimitRange',
    ],
    ['maxLimitRequestRatio met', range('Container', { maxLimitRequestRatio: { cpu: '2' } }), {}, 'Sized'],
    ['Pod min memory above the sum', range('Pod', { min: { memory: '300Mi' } }), {}, 'Skipped:LimitRange'],
    [
      'PersistentVolumeClaim rules do not apply',
      range('PersistentVolumeClaim', { min: { storage: '1Gi' } }),
      {},
      'Sized',
    ],
  ];
  for (const [what, lr, spec, want] of cases) {
    const d = deps([policy(spec)], { limitRangesIn: (ns) => (ns === NS ? [lr] : []) });
    const { result, after } = await run(pod(), d);
    assert.equal(label(result.decision), want, what);
    if (want === 'Skipped:LimitRange') {
      assert.deepEqual(after.spec, pod().spec, `${what}: pod as written`);
      assert.match(
        after.metadata?.annotations?.[SKIPPED_ANNOTATION] ?? '',
        /^the recommended size breaks LimitRange limits/,
        what,
      );
      assert.match(result.review.response.warnings?.[0] ?? '', /LimitRange limits/, what);
    }
  }
  // Not listed yet: unknown is not "none", so nothing is sent.
  const { result } = await run(pod(), deps([policy({})], { limitRangesIn: () => undefined }));
  assert.equal(label(result.decision), 'Skipped:LimitRange');
});

test('a raise past a ResourceQuota is not sent: the pod keeps its size and says why', async () => {
  const quota = (hard: Record<string, string>, used: Record<string, string>): V1ResourceQuota => ({
    metadata: { name: 'compute', namespace: NS },
    spec: { hard },
    status: { hard, used },
  });
  // Written 1 cpu / 1Gi (limits 2 / 2Gi); the recommendation raises it to 1500m / 1536Mi.
  const RAISE = { app: { cpu: '1500m', memory: '1536Mi' } };
  const cases: [string, V1ResourceQuota, Record<string, Record<string, string>>, string][] = [
    ['room for the raise', quota({ 'requests.memory': '8Gi' }, { 'requests.memory': '1Gi' }), RAISE, 'Sized'],
    [
      'requests.memory: used + raised > hard',
      quota({ 'requests.memory': '4Gi' }, { 'requests.memory': '3Gi' }),
      RAISE,
      'Skipped:ResourceQuota',
    ],
    [
      'memory (= requests.memory)',
      quota({ memory: '2Gi' }, { memory: '1Gi' }),
      RAISE,
      'Skipped:ResourceQuota',
    ],
    // Limits follow KeepRatio: 3 cores, and 2 are used of 4.
    ['limits.cpu', quota({ 'limits.cpu': '4' }, { 'limits.cpu': '2' }), RAISE, 'Skipped:ResourceQuota'],
    // A shrink never makes a quota rejection more likely: it is sent, even into a full namespace.
    [
      'a shrink into a full namespace',
      quota({ 'requests.memory': '1Gi' }, { 'requests.memory': '1Gi' }),
      REC,
      'Sized',
    ],
  ];
  for (const [what, q, recs, want] of cases) {
    const d = deps([policy({}, recs)], { quotasIn: (ns) => (ns === NS ? [q] : []) });
    const { result, after } = await run(pod(), d);
    assert.equal(label(result.decision), want, what);
    if (want === 'Skipped:ResourceQuota') {
      assert.deepEqual(after.spec, pod().spec, `${what}: pod as written`);
      assert.match(after.metadata?.annotations?.[SKIPPED_ANNOTATION] ?? '', /ResourceQuota compute: /, what);
    }
  }
  // Report-only (the operator's dry run): decided, but no annotation either.
  const d = deps([policy({}, RAISE)], { quotasIn: () => [quota({ memory: '2Gi' }, { memory: '1Gi' })] });
  const dry = await admit(review(pod()), d, 'ReportOnly');
  assert.equal(label(dry.decision), 'Skipped:ResourceQuota');
  assert.equal(dry.review.response.patch, undefined);
  const unknown = await run(pod(), deps([policy({}, RAISE)], { quotasIn: () => undefined }));
  assert.equal(label(unknown.result.decision), 'Skipped:ResourceQuota', 'quotas not listed yet');
});

test('an HPA on CPU utilisation: a new pod keeps its CPU request and limit as written; memory is sized', async () => {
  const hpa = (metrics: unknown[], target = 'web') => ({
    metadata: { name: 'web-hpa', namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      maxReplicas: 5,
      metrics,
    },
  });
  const onCpu = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
  ];
  const cases: [string, unknown[], string, V1Container['resources']][] = [
    [
      'the policy names the Deployment, the HPA scales it on CPU',
      [hpa(onCpu)],
      'Sized',
      { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
    ],
    [
      'an HPA of another Deployment changes nothing',
      [hpa(onCpu, 'api')],
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    ],
    [
      'an AverageValue target does not divide by the request',
      [
        hpa([
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '500m' } },
          },
        ]),
      ],
      'Sized',
      { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    ],
    [
      'CPU and memory both scaled on: nothing to give the pod',
      [
        hpa([
          ...onCpu,
          {
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ]),
      ],
      'Skipped:NoRecommendation',
      BURSTABLE,
    ],
  ];
  for (const [name, hpas, want, res] of cases) {
    const { result, after } = await run(
      pod(),
      deps([policy({ mode: 'Initial' })], { hpasIn: () => hpas as never }),
    );
    assert.equal(label(result.decision), want, name);
    assert.deepEqual(resources(after), res, name);
    if (hpas.length > 0 && name.startsWith('the policy names'))
      assert.ok(
        result.review.response.warnings?.some((w) => /cpu \(HorizontalPodAutoscaler web-hpa\)/.test(w)),
        `${name}: a warning says why`,
      );
  }
  // A selector policy: the HPA still finds the pod's Deployment through its owner chain.
  const { after } = await run(
    pod(),
    deps([policy({ targetRef: undefined, selector: { matchLabels: { app: 'web' } } })], {
      hpasIn: () => [hpa(onCpu)] as never,
    }),
  );
  assert.equal(resources(after)?.requests?.cpu, '1');
  assert.equal(resources(after)?.requests?.memory, '256Mi');
});
