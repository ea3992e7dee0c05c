// The VolumePolicy schema offline (the same rules the apiserver runs as CEL; the e2e suite checks
// the apiserver's side): defaults, and one clear message per way of being wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VolumePolicySchema, problems, readPercentOrQuantity, validate } from '../../src/api/index.ts';

const policy = (spec: unknown) => ({
  apiVersion: 'tailor.dev/v1alpha1',
  kind: 'VolumePolicy',
  metadata: { name: 'cache', namespace: 'team-a' },
  spec,
});
const db = { kind: 'StatefulSet', name: 'db' };

test('a minimal VolumePolicy gets every default, as the apiserver would store it', () => {
  const p = validate(VolumePolicySchema, policy({ targetRef: db, maxSize: '100Gi' }), 'policy');
  assert.deepEqual(p.spec, {
    targetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' },
    mode: 'Auto',
    threshold: '10%',
    inodesThreshold: '5%',
    step: '10%',
    maxSize: '100Gi',
    cooldown: '6h',
  });
});

const cases: { name: string; spec: Record<string, unknown>; want: [string, RegExp][] }[] = [
  {
    name: 'a valid selector policy',
    spec: { selector: { matchLabels: { app: 'x' } }, maxSize: '1Ti' },
    want: [],
  },
  {
    name: 'threshold over 100%',
    spec: { targetRef: db, maxSize: '10Gi', threshold: '150%' },
    want: [
      ['spec.threshold', /threshold 150% is out of range: a percentage must be above 0% and at most 99%/],
    ],
  },
  {
    name: 'threshold as bytes of free space',
    spec: { targetRef: db, maxSize: '10Gi', threshold: '2Gi' },
    want: [],
  },
  {
    name: 'threshold that is neither',
    spec: { targetRef: db, maxSize: '10Gi', threshold: 'lots' },
    want: [['spec.threshold', /threshold must be a percentage such as "10%" or a quantity such as 20Gi/]],
  },
  {
    name: 'a step of 0',
    spec: { targetRef: db, maxSize: '10Gi', step: '0' },
    want: [['spec.step', /step 0 must be above 0/]],
  },
  {
    name: 'a step of 0%',
    spec: { targetRef: db, maxSize: '10Gi', step: '0%' },
    want: [['spec.step', /step 0% is out of range/]],
  },
  {
    name: 'maxSize not a quantity',
    spec: { targetRef: db, maxSize: 'big' },
    want: [['spec.maxSize', /must be a Kubernetes quantity/]],
  },
  {
    name: 'maxSize of 0',
    spec: { targetRef: db, maxSize: '0' },
    want: [['spec.maxSize', /maxSize must be above 0/]],
  },
  { name: 'maxSize missing', spec: { targetRef: db }, want: [['spec.maxSize', /required/i]] },
  {
    name: 'both targetRef and selector',
    spec: { targetRef: db, selector: { matchLabels: { app: 'x' } }, maxSize: '10Gi' },
    want: [['spec', /set exactly one of targetRef \(a workload\) or selector \(claims by label\)/]],
  },
  { name: 'neither', spec: { maxSize: '10Gi' }, want: [['spec', /set exactly one of targetRef/]] },
  {
    name: 'a DaemonSet (its pods mount no claims of their own)',
    spec: { targetRef: { kind: 'DaemonSet', name: 'x' }, maxSize: '10Gi' },
    want: [['spec.targetRef.kind', /must be one of/]],
  },
  {
    name: 'inodes threshold of 100%',
    spec: { targetRef: db, maxSize: '10Gi', inodesThreshold: '100%' },
    want: [['spec.inodesThreshold', /above 0% and at most 99%/]],
  },
  {
    name: 'a cooldown under a minute',
    spec: { targetRef: db, maxSize: '10Gi', cooldown: '10s' },
    want: [['spec.cooldown', /between 1m and 30d/]],
  },
  {
    name: 'mode Off does not exist (delete the policy)',
    spec: { targetRef: db, maxSize: '10Gi', mode: 'Off' },
    want: [['spec.mode', /must be one of/]],
  },
];

for (const c of cases) {
  test(`VolumePolicy: ${c.name}`, () => {
    const got = problems(VolumePolicySchema, policy(c.spec));
    assert.deepEqual(
      got.map((p) => p.path).sort(),
      c.want.map(([p]) => p).sort(),
      JSON.stringify(got, null, 1),
    );
    for (const [path, message] of c.want)
      assert.match(got.find((p) => p.path === path)?.message ?? '', message, path);
  });
}

test('readPercentOrQuantity', () => {
  assert.deepEqual(readPercentOrQuantity('10%'), { percent: 10 });
  assert.deepEqual(readPercentOrQuantity('12.5%'), { percent: 12.5 });
  assert.deepEqual(readPercentOrQuantity('2Gi'), { bytes: 2 * 2 ** 30 });
  assert.equal(readPercentOrQuantity('ten'), undefined);
});
