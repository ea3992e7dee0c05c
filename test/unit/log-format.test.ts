// The terminal's log lines: one line per record, `HH:MM:SS LEVEL component: msg key=value`, and an
// API error as its one-line Status message, never client-node's dump of headers and body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { formatRecord } from '../../src/core/log/format.ts';
import { errorLine } from '../../src/kube/errors.ts';
import { logFormatFlag, resolveFormat } from '../../src/logging/logger.ts';
import { TailorError } from '../../src/errors.ts';

const at = Date.UTC(2026, 11, 2, 10, 4, 5);

test('a record: time, level, component, message, then the other fields as key=value', () => {
  assert.equal(
    formatRecord({
      level: 40,
      time: at,
      pid: 1,
      hostname: 'h',
      name: 'tailor-operator',
      component: 'usage',
      msg: 'metrics.k8s.io poll failed',
      err: 'the server is currently unable to handle the request (HTTP 503)',
      retryInMs: 500,
      policy: 'team-a/web',
      ok: true,
      namespaces: ['a', 'b'],
    }),
    '10:04:05 WARN  usage: metrics.k8s.io poll failed err="the server is currently unable to handle the request (HTTP 503)" retryInMs=500 policy=team-a/web ok=true namespaces=["a","b"]\n',
  );
  assert.equal(
    formatRecord({ level: 30, time: at, name: 'tailor-operator', msg: 'started' }),
    '10:04:05 INFO  tailor-operator: started\n',
  );
  assert.equal(formatRecord({ level: 30, time: at, msg: 'no name' }), '10:04:05 INFO  no name\n');
  assert.equal(
    formatRecord({ level: 50, time: at, controller: 'sizing', msg: 'x' }),
    '10:04:05 ERROR sizing: x\n',
  );
});

test('never more than one line, whatever a message or a field holds', () => {
  const line = formatRecord({
    level: 60,
    time: at,
    msg: 'uncaught exception: exiting',
    err: { message: 'boom\nsecond line', stack: 'Error: boom\n    at x (y.ts:1:1)' },
    note: 'a\nb',
  });
  assert.equal(line.split('\n').length, 2, line);
  assert.match(line, /^10:04:05 FATAL uncaught exception: exiting err="boom\\nsecond line" note="a\\nb"\n$/);
  assert.equal(formatRecord({ level: 30, time: at, msg: 'one\ntwo' }), '10:04:05 INFO  one | two\n');
});

test('errorLine: an ApiException is its Status message and code, no headers, no body dump', () => {
  const status = {
    kind: 'Status',
    status: 'Failure',
    message: 'pods is forbidden: User "system:serviceaccount:t:t" cannot list resource "pods"',
    reason: 'Forbidden',
    code: 403,
  };
  const err = new ApiException(403, 'Unknown API Status Code!', JSON.stringify(status), {
    'audit-id': 'abc',
    'content-type': 'application/json',
  });
  assert.match(err.message, /Headers:/, 'client-node dumps the headers');
  const line = errorLine(err);
  assert.equal(
    line,
    'pods is forbidden: User "system:serviceaccount:t:t" cannot list resource "pods" (HTTP 403 Forbidden)',
  );
  // A body that is not a Status (a proxy's HTML page): client-node's own Message line only.
  const html = new ApiException(502, 'Bad Gateway', '<html>\n<body>bad gateway</body></html>', {
    server: 'x',
  });
  assert.equal(errorLine(html), 'Bad Gateway (HTTP 502)');
});

test('errorLine: other errors on one line, with the cause fetch hides', () => {
  const refused = new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
  });
  assert.equal(errorLine(refused), 'fetch failed (ECONNREFUSED)');
  assert.equal(
    errorLine(new TailorError('InvalidInput', 'bad thing', { hint: 'do this' })),
    'bad thing; hint: do this',
  );
  assert.equal(errorLine('plain'), 'plain');
  assert.ok(errorLine(new Error('x'.repeat(2000))).length <= 500);
});

test('--log-format: auto is text on a terminal and JSON lines otherwise; anything else is refused', () => {
  assert.equal(resolveFormat('auto', true), 'text');
  assert.equal(resolveFormat('auto', false), 'json');
  assert.equal(resolveFormat('auto', undefined), 'json');
  assert.equal(resolveFormat('json', true), 'json');
  assert.equal(resolveFormat('text', false), 'text');
  assert.throws(() => logFormatFlag('pretty'), /--log-format pretty: expected auto, text, json/);
});
