// pvc-autoresizer's annotations read as pvc-autoresizer reads them (only on an enabled StorageClass,
// only with a storage limit), bad values refused with the annotation's name and the allowed form;
// the rules' own parsing (resolveRules) refuses a threshold over 100%, a step of 0, a missing maximum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailorError } from '../../src/errors.ts';
import {
  DEFAULT_VOLUME_RULES,
  GiB,
  parseAutoresizerAnnotations,
  parseKnownGrowth,
  resolveRules,
} from '../../src/core/volume/index.ts';

const ENABLED = { 'resize.topolvm.io/enabled': 'true' };
const LIMIT = { 'resize.topolvm.io/storage_limit': '100Gi' };

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TailorError, String(e));
    assert.equal(e.code, 'InvalidInput');
    assert.match(e.message, pattern);
    return true;
  });
}

test('managed only where pvc-autoresizer would manage it: enabled StorageClass and a storage limit', () => {
  assert.equal(parseAutoresizerAnnotations(LIMIT, undefined), undefined);
  assert.equal(parseAutoresizerAnnotations(LIMIT, { 'resize.topolvm.io/enabled': 'false' }), undefined);
  assert.equal(parseAutoresizerAnnotations({ 'resize.topolvm.io/threshold': '20%' }, ENABLED), undefined);
  assert.equal(parseAutoresizerAnnotations({ 'resize.topolvm.io/storage_limit': '0' }, ENABLED), undefined);
  assert.deepEqual(parseAutoresizerAnnotations(LIMIT, ENABLED), { maxBytes: 100 * GiB });
});

test('every annotation read: threshold (% or bytes), inodes threshold (%), increase (% or bytes)', () => {
  assert.deepEqual(
    parseAutoresizerAnnotations(
      {
        ...LIMIT,
        'resize.topolvm.io/threshold': '20Gi',
        'resize.topolvm.io/inodes-threshold': '7.5%',
        'resize.topolvm.io/increase': '25%',
      },
      ENABLED,
    ),
    {
      maxBytes: 100 * GiB,
      threshold: { bytes: 20 * GiB },
      inodesThresholdPercent: 7.5,
      step: { percent: 25 },
    },
  );
  assert.deepEqual(
    parseAutoresizerAnnotations(
      { ...LIMIT, 'resize.topolvm.io/threshold': '15%', 'resize.topolvm.io/increase': '10Gi' },
      ENABLED,
    ),
    { maxBytes: 100 * GiB, threshold: { percent: 15 }, step: { bytes: 10 * GiB } },
  );
  // On top of a policy, field by field.
  const rules = resolveRules({ maxSize: '1Ti', cooldown: '2h' }, parseAutoresizerAnnotations(LIMIT, ENABLED));
  assert.equal(rules.maxBytes, 100 * GiB);
  assert.equal(rules.cooldownSeconds, 7200);
});

test('bad annotations: a TailorError naming the annotation and the allowed form', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { 'resize.topolvm.io/threshold': '150%' },
      /annotation resize\.topolvm\.io\/threshold: "150%".*"N%" of the capacity \(0 < N < 100\)/,
    ],
    [
      { 'resize.topolvm.io/threshold': 'lots' },
      /annotation resize\.topolvm\.io\/threshold: "lots" is not a quantity.*allowed: "N%"/,
    ],
    [{ 'resize.topolvm.io/threshold': '0' }, /annotation resize\.topolvm\.io\/threshold: "0" is 0/],
    [
      { 'resize.topolvm.io/inodes-threshold': '1000' },
      /annotation resize\.topolvm\.io\/inodes-threshold: "1000" is not a percentage \(allowed: "N%"/,
    ],
    [{ 'resize.topolvm.io/inodes-threshold': '101%' }, /inodes-threshold: "101%" is over 100%/],
    [
      { 'resize.topolvm.io/increase': '0%' },
      /annotation resize\.topolvm\.io\/increase: "0%" is not a step.*a step of 0 never grows/,
    ],
    [{ 'resize.topolvm.io/increase': '-5Gi' }, /increase: "-5Gi" is negative/],
  ];
  for (const [annotations, pattern] of cases)
    refused(() => parseAutoresizerAnnotations({ ...LIMIT, ...annotations }, ENABLED), pattern);
  refused(
    () => parseAutoresizerAnnotations({ 'resize.topolvm.io/storage_limit': 'big' }, ENABLED),
    /annotation resize\.topolvm\.io\/storage_limit: "big" is not a quantity.*allowed: a quantity such as "100Gi"/,
  );
});

test('known growth: tailor.dev/expected-growth and its reason', () => {
  assert.equal(parseKnownGrowth(undefined), undefined);
  assert.equal(parseKnownGrowth({ 'tailor.dev/expected-growth': '0' }), undefined);
  assert.deepEqual(
    parseKnownGrowth({
      'tailor.dev/expected-growth': '30Gi',
      'tailor.dev/expected-growth-reason': 'revision 3f2a',
    }),
    { bytes: 30 * GiB, reason: 'revision 3f2a' },
  );
  assert.equal(
    parseKnownGrowth({ 'tailor.dev/expected-growth': '1Gi' })?.reason,
    'tailor.dev/expected-growth: 1Gi',
  );
  refused(
    () => parseKnownGrowth({ 'tailor.dev/expected-growth': 'soon' }),
    /annotation tailor\.dev\/expected-growth: "soon" is not a quantity/,
  );
});

test('resolveRules: defaults, parsed fields, and clear refusals', () => {
  const r = resolveRules({ maxSize: '500Gi' });
  assert.deepEqual({ ...r, maxBytes: undefined }, { ...DEFAULT_VOLUME_RULES, maxBytes: undefined });
  assert.equal(r.maxBytes, 500 * GiB);
  assert.deepEqual(
    resolveRules({
      maxSize: '2Ti',
      threshold: '50Gi',
      inodesThreshold: '10%',
      step: '20%',
      cooldown: '1h30m',
      horizon: '2d',
      mode: 'Recommend',
    }),
    {
      maxBytes: 2 ** 41,
      threshold: { bytes: 50 * GiB },
      inodesThresholdPercent: 10,
      step: { percent: 20 },
      cooldownSeconds: 5400,
      horizonSeconds: 172800,
      mode: 'Recommend',
    },
  );
  refused(() => resolveRules({}), /maxSize: is required/);
  refused(() => resolveRules({ maxSize: '500Gi', threshold: '120%' }), /threshold: "120%"/);
  refused(() => resolveRules({ maxSize: '500Gi', step: '0' }), /step: "0" is 0.*a step of 0 never grows/);
  refused(() => resolveRules({ maxSize: '500Gi', step: '0Gi' }), /step: "0Gi" is 0/);
  refused(
    () => resolveRules({ maxSize: '500Gi', cooldown: 'six hours' }),
    /cooldown: "six hours" is not a duration: write e.g. "90s"/,
  );
  refused(() => resolveRules({ maxSize: '0' }), /maxSize: "0" is 0/);
  refused(
    () => resolveRules({ maxSize: '500Gi', mode: 'Sometimes' as never }),
    /mode: "Sometimes" is not a mode: write Recommend or Auto/,
  );
});
