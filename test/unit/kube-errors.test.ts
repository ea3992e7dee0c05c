import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../src/kube/errors.ts';

test('API errors are classified by HTTP status and reason; a timeout is Unavailable, not a status', () => {
  const cases: [unknown, string][] = [
    [{ code: 404, body: '{"message":"pods \\"x\\" not found","reason":"NotFound"}' }, 'NotFound'],
    [{ code: 409, body: { reason: 'AlreadyExists', message: 'exists' } }, 'AlreadyExists'],
    [{ code: 409, body: { reason: 'Conflict', message: 'modified' } }, 'Conflict'],
    [{ code: 422, body: { message: 'invalid' } }, 'Invalid'],
    [{ code: 403, body: { message: 'forbidden' } }, 'Forbidden'],
    [{ code: 429 }, 'TooManyRequests'],
    [{ code: 503 }, 'Unavailable'],
    [new DOMException('The operation timed out.', 'TimeoutError'), 'Unavailable'],
    [new Error('connect ECONNREFUSED 127.0.0.1:6443'), 'Unavailable'],
  ];
  for (const [err, kind] of cases) assert.equal(classify(err).kind, kind, JSON.stringify(err));
  assert.equal(
    classify({ code: 404, body: '{"message":"pods \\"x\\" not found"}' }).message,
    'pods "x" not found',
  );
});
