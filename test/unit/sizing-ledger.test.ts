// The sizing pass's savings records: the baseline (webhook annotation, then template, then first
// seen), what the kubelet holds after a resize, GPUs, OOM kills and resizes counted once, and a
// restart that resumes from the checkpoint's encoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { sizingLedgers, type LedgerPass } from '../../src/controllers/sizing/ledger.ts';
import { PodChanges } from '../../src/controllers/sizing/pod-changes.ts';
import type { CoveredPod } from '../../src/controllers/sizing/recommendations.ts';
import type { SeriesView } from '../../src/controllers/sizing/usage.ts';
import type { SeriesKey } from '../../src/sources/history.ts';

const GiB = 2 ** 30;
const T0 = 1_800_000_000;
const workload = { namespace: 'shop', kind: 'Deployment' as const, name: 'web' };

function pod(uid: string, requests: Record<string, string>, extra: Partial<k8s.V1Pod> = {}): k8s.V1Pod {
  return {
    metadata: { name: `web-${uid}`, namespace: 'shop', uid, ...extra.metadata },
    spec: { containers: [{ name: 'app', image: 'x', resources: { requests, limits: { ...requests } } }] },
    status: extra.status ?? {},
  };
}

const view = (key: SeriesKey): SeriesView => ({
  key,
  recommendation: {
    cpu: { target: 0.25, lowerBound: 0.2, upperBound: 1 },
    memory: { target: GiB / 2, lowerBound: 0, upperBound: GiB },
  },
  memoryPeak: 0.6 * GiB,
  samples: 10,
  ageSeconds: 600,
  ooms: 0,
});

function pass(now: number, covered: CoveredPod[], template?: k8s.V1PodTemplateSpec): LedgerPass {
  return {
    now,
    covered,
    template,
    seriesOf: view,
    recommendationsReady: true,
    latestOf: () => new Map([['app', { t: now, cpuCores: 0.1, memoryBytes: GiB / 4 }]]),
    freshSeconds: 45,
  };
}

test('sizing ledger: baseline from the webhook annotation, else the template, else the pod as first seen', () => {
  const changes = new PodChanges();
  const l = sizingLedgers(changes);
  const annotated = pod(
    'a',
    { cpu: '500m', memory: '1Gi' },
    {
      metadata: {
        annotations: { 'tailor.dev/resources-before': JSON.stringify({ app: { requests: { cpu: '2' } } }) },
      },
    },
  );
  const plain = pod('b', { cpu: '500m', memory: '1Gi' });
  const covered = [
    { pod: annotated, workload },
    { pod: plain, workload },
  ];
  l.record('shop/web', pass(T0, covered));
  l.record('shop/web', pass(T0 + 60, covered));
  const b = l.get('shop/web').containers[0]!.buckets.at(-1)!;
  assert.equal(b.podSeconds, 120);
  // Pod a: 2 cores before (annotation); pod b: 500m, as first seen (no template: a selector policy).
  assert.equal(b.baseline.cpu, 60 * 2 + 60 * 0.5);
  assert.equal(b.baseline.memory, 120 * GiB, 'memory not in the annotation: the pod’s own');
  assert.equal(b.requested.cpu, 120 * 0.5);
  assert.equal(b.used.cpu, 120 * 0.1);
  assert.equal(b.recommended.cpu, 120 * 0.25);
  assert.equal(b.recommended.memory, 120 * 0.6 * GiB, 'memory recommended is raised to the peak');

  // With a template, it is the baseline for pods without the annotation.
  const t = sizingLedgers(changes);
  const template = {
    spec: { containers: [{ name: 'app', image: 'x', resources: { requests: { cpu: '1', memory: '2Gi' } } }] },
  };
  t.record('shop/web', pass(T0, [{ pod: plain, workload }], template));
  t.record('shop/web', pass(T0 + 60, [{ pod: plain, workload }], template));
  const tb = t.get('shop/web').containers[0]!.buckets.at(-1)!;
  assert.equal(tb.baseline.cpu, 60);
  assert.equal(tb.baseline.memory, 60 * 2 * GiB);
});

test('sizing ledger: the kubelet’s resources after a resize, GPUs, OOM kills and resizes counted once', () => {
  const changes = new PodChanges();
  const l = sizingLedgers(changes);
  const resized = pod(
    'c',
    { cpu: '2', memory: '1Gi', 'nvidia.com/mig-3g.40gb': '1' },
    {
      status: {
        containerStatuses: [
          {
            name: 'app',
            image: 'x',
            imageID: '',
            ready: true,
            restartCount: 1,
            resources: { requests: { cpu: '500m', memory: '1Gi' } },
            lastState: {
              terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date((T0 + 30) * 1000) },
            },
          },
        ],
      },
    },
  );
  const covered = [{ pod: resized, workload }];
  l.record('shop/web', pass(T0, covered));
  changes.recordChange('c', T0 + 10);
  l.record('shop/web', pass(T0 + 60, covered));
  l.record('shop/web', pass(T0 + 120, covered));
  const buckets = l.get('shop/web').containers[0]!.buckets;
  const sum = (f: (b: (typeof buckets)[number]) => number) => buckets.reduce((n, b) => n + f(b), 0);
  assert.equal(
    sum((b) => b.oomKills),
    1,
    'the OOM kill once',
  );
  assert.equal(
    sum((b) => b.resizes),
    1,
    'the resize once',
  );
  assert.equal(
    sum((b) => b.requested.cpu),
    120 * 0.5,
    'what the kubelet holds, not the spec',
  );
  assert.ok(Math.abs(sum((b) => b.requested.gpu) - (120 * 3) / 7) < 1e-9, 'a 3g MIG slice is 3/7 of a GPU');
  assert.equal(
    sum((b) => b.used.gpu),
    sum((b) => b.requested.gpu),
    'a GPU held is a GPU used',
  );
});

test('sizing ledger: a restart resumes from the checkpoint encoding, without a second count', () => {
  const changes = new PodChanges();
  const before = sizingLedgers(changes);
  const covered = [{ pod: pod('d', { cpu: '1', memory: '1Gi' }), workload }];
  before.record('shop/web', pass(T0, covered));
  before.record('shop/web', pass(T0 + 60, covered));
  const encoded = before.encode('shop/web', 200_000)!;
  const after = sizingLedgers(changes);
  after.restore('shop/web', encoded.data);
  after.record('shop/web', pass(T0 + 120, covered));
  const b = after.get('shop/web').containers[0]!.buckets;
  assert.equal(
    b.reduce((n, x) => n + x.podSeconds, 0),
    120,
    'the restored clock: the third sample adds 60 s, not a fresh start',
  );
  // A restore after the process has its own records does not replace them.
  after.restore('shop/web', undefined);
  assert.equal(after.get('shop/web').containers.length, 1);
});

test('sizing ledger: each record keeps the labels its pods share, for `tailor report -l` after they are gone', () => {
  const l = sizingLedgers(new PodChanges());
  const a = pod('a', { cpu: '500m' }, { metadata: { labels: { app: 'web', 'pod-template-hash': 'x1' } } });
  const b = pod('b', { cpu: '500m' }, { metadata: { labels: { app: 'web', 'pod-template-hash': 'y2' } } });
  l.record(
    'shop/web',
    pass(T0, [
      { pod: a, workload },
      { pod: b, workload },
    ]),
  );
  assert.deepEqual(l.get('shop/web').containers[0]!.labels, { app: 'web' });
  // The pods gone: the record keeps the last labels it knew.
  l.record('shop/web', pass(T0 + 60, []));
  assert.deepEqual(l.get('shop/web').containers[0]!.labels, { app: 'web' });
});
