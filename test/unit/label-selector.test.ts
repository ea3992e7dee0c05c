// kubectl's -l text read into a LabelSelector, matched with the same code as a policy's selector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabelSelector, selectorMatches } from '../../src/kube/selector.ts';

const matches = (text: string, labels: Record<string, string>) =>
  selectorMatches(parseLabelSelector(text), labels);

test('every kubectl requirement form', () => {
  assert.deepEqual(
    parseLabelSelector('app=web, tier!=cache,env in (prod, qa),zone notin (a),gpu,!canary,x==y'),
    {
      matchExpressions: [
        { key: 'app', operator: 'In', values: ['web'] },
        { key: 'tier', operator: 'NotIn', values: ['cache'] },
        { key: 'env', operator: 'In', values: ['prod', 'qa'] },
        { key: 'zone', operator: 'NotIn', values: ['a'] },
        { key: 'gpu', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'x', operator: 'In', values: ['y'] },
      ],
    },
  );
  assert.deepEqual(parseLabelSelector('app.kubernetes.io/name=tailor').matchExpressions, [
    { key: 'app.kubernetes.io/name', operator: 'In', values: ['tailor'] },
  ]);
});

test('matching follows Kubernetes: != and notin hold for a missing label; a=1,a=2 matches nothing', () => {
  assert.ok(matches('app=web', { app: 'web', x: '1' }));
  assert.ok(!matches('app=web', { app: 'api' }));
  assert.ok(matches('tier!=cache', {}));
  assert.ok(matches('env notin (prod)', { env: 'qa' }));
  assert.ok(!matches('env in (prod,qa)', {}));
  assert.ok(matches('!canary,gpu', { gpu: '' }));
  assert.ok(!matches('a=1,a=2', { a: '1' }));
  assert.ok(matches('app=', { app: '' }), 'an empty value is a value');
});

test('text kubectl would refuse is refused, naming the flag and the part', () => {
  const refuses = (text: string, why: RegExp) =>
    assert.throws(
      () => parseLabelSelector(text, '--selector'),
      (e: Error) => {
        assert.match(e.message, new RegExp(`^--selector "${text.replace(/[()]/g, '\\$&')}": `));
        assert.match(e.message, why);
        return true;
      },
    );
  refuses('', /an empty requirement/);
  refuses('a=b,', /an empty requirement/);
  refuses('env in (a', /a "\(" without its "\)"/);
  refuses('env in a)', /a "\)" without its "\("/);
  refuses('-app=x', /"-app" is not a label key/);
  refuses('app=has space', /cannot read "app=has space"/);
  refuses('app=-x', /"-x" is not a label value/);
  refuses(`app=${'v'.repeat(64)}`, /is not a label value/);
  refuses('a > 3', /cannot read/);
});
