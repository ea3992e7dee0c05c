// outcome.ts: the apiserver's answers (as measured on 1.37) and the kubelet's conditions, classified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOfPatchError, outcomeOfPod, type ResizeOutcome } from '../../src/core/resize/outcome.ts';
import type { ResizeState } from '../../src/core/resize/types.ts';

/** The shape client-node 1.x throws: ApiException with code and the Status body (a JSON string). */
function apiException(code: number, status: object | string) {
  return Object.assign(new Error(`HTTP-Code: ${code}`), {
    code,
    body: typeof status === 'string' ? status : JSON.stringify(status),
  });
}

function label(o: ResizeOutcome): string {
  switch (o.kind) {
    case 'Rejected':
      return `Rejected:${o.reason}`;
    case 'Error':
      return `Error:${o.retryable ? 'retry' : 'final'}`;
    case 'Applied':
    case 'InProgress':
    case 'Deferred':
    case 'Infeasible':
      return o.kind;
  }
}

const NODE_CAPACITY = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message:
    'pods "x" is forbidden: node didn\'t have enough allocatable resources: cpu, requested: 64000, allocatable: 2000',
  reason: 'Forbidden',
  details: {
    name: 'x',
    kind: 'pods',
    causes: [{ reason: 'NodeCapacity', message: "node didn't have enough allocatable resources" }],
  },
  code: 403,
};

test('patch answers', () => {
  const cases: [string, unknown, string][] = [
    ['403 NodeCapacity (1.37 admission) is Infeasible', apiException(403, NODE_CAPACITY), 'Infeasible'],
    [
      '403 with the message but no causes is Infeasible too',
      apiException(403, { ...NODE_CAPACITY, details: {} }),
      'Infeasible',
    ],
    [
      'the body already parsed is read the same',
      Object.assign(new Error('x'), { code: 403, body: NODE_CAPACITY }),
      'Infeasible',
    ],
    [
      '403 RBAC is Rejected',
      apiException(403, {
        message: 'pods "x" is forbidden: User "u" cannot patch resource "pods/resize"',
        reason: 'Forbidden',
      }),
      'Rejected:Forbidden',
    ],
    ['401 is Rejected', apiException(401, { message: 'Unauthorized' }), 'Rejected:Forbidden'],
    [
      '422 QoS change',
      apiException(422, {
        message:
          'Pod "x" is invalid: spec: Invalid value: "Guaranteed": Pod QOS Class may not change as a result of resizing',
        reason: 'Invalid',
      }),
      'Rejected:QosClassChange',
    ],
    [
      '422 other',
      apiException(422, {
        message:
          'Pod "x" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit',
        reason: 'Invalid',
      }),
      'Rejected:Invalid',
    ],
    ['400 bad patch', apiException(400, { message: 'json: cannot unmarshal' }), 'Rejected:Invalid'],
    [
      '404 pod gone',
      apiException(404, { message: 'pods "x" not found', reason: 'NotFound' }),
      'Rejected:NotFound',
    ],
    [
      '409 conflict: retry',
      apiException(409, { message: 'the object has been modified', reason: 'Conflict' }),
      'Error:retry',
    ],
    ['429: retry', apiException(429, { message: 'too many requests' }), 'Error:retry'],
    ['503: retry', apiException(503, '<html>bad gateway</html>'), 'Error:retry'],
    [
      'connection refused: retry',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }),
      'Error:retry',
    ],
    [
      'a timeout: retry',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      'Error:retry',
    ],
    ['418: final', apiException(418, { message: 'teapot' }), 'Error:final'],
  ];
  for (const [name, err, want] of cases) assert.equal(label(outcomeOfPatchError(err)), want, name);
  assert.match(
    outcomeOfPatchError(apiException(403, NODE_CAPACITY)).message,
    /requested: 64000, allocatable: 2000/,
  );
});

test('pod conditions after an accepted patch', () => {
  const s = (r: ResizeState) => r;
  const cases: [string, ResizeState, number | undefined, number | undefined, string][] = [
    ['PodResizePending Deferred', s({ kind: 'Deferred', since: 0, message: 'no room' }), 2, 2, 'Deferred'],
    [
      'PodResizePending Infeasible',
      s({ kind: 'Infeasible', since: 0, message: 'too big' }),
      2,
      2,
      'Infeasible',
    ],
    ['PodResizeInProgress', s({ kind: 'InProgress', since: 0, message: '' }), 2, 2, 'InProgress'],
    [
      'PodResizeInProgress Error (limit below usage)',
      s({ kind: 'InProgressError', since: 0, message: 'below current usage' }),
      2,
      2,
      'Error:retry',
    ],
    ['no condition, generation observed', s({ kind: 'None' }), 2, 2, 'Applied'],
    ['no condition yet, generation not observed', s({ kind: 'None' }), 1, 2, 'InProgress'],
    ['no condition, no generation to wait for', s({ kind: 'None' }), undefined, undefined, 'Applied'],
  ];
  for (const [name, resize, observed, generation, want] of cases) {
    const got = outcomeOfPod(
      { resize, ...(observed !== undefined ? { observedGeneration: observed } : {}) },
      generation,
    );
    assert.equal(label(got), want, name);
  }
});

test('Applied only once the kubelet reports the resources the spec asks for', () => {
  const spec = { requests: { cpu: 0.3, memory: 64 * 2 ** 20 }, limits: { memory: 128 * 2 ** 20 } };
  const container = (actualCpu: number | undefined) => ({
    name: 'app',
    spec,
    ...(actualCpu !== undefined
      ? { actual: { requests: { ...spec.requests, cpu: actualCpu }, limits: spec.limits } }
      : {}),
  });
  const cases: [string, number | undefined, string][] = [
    ['the old resources still in force', 0.2, 'InProgress'],
    ['the new resources in force', 0.3, 'Applied'],
    ['nothing reported (a kubelet before 1.33)', undefined, 'Applied'],
  ];
  for (const [name, actualCpu, want] of cases) {
    const got = outcomeOfPod(
      { resize: { kind: 'None' }, observedGeneration: 2, containers: [container(actualCpu)] },
      2,
    );
    assert.equal(label(got), want, name);
  }
});
