// The operator's HTTP address flag: host:port forms, and a clear error for anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddr } from '../../src/operator/http.ts';

test('parseAddr: host:port, :port, port, IPv6 in brackets; bad input says how', () => {
  assert.deepEqual(parseAddr(':8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseAddr('8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseAddr('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseAddr('[::1]:9090'), { host: '::1', port: 9090 });
  assert.throws(() => parseAddr('localhost'), /is not host:port[\s\S]*--metrics-addr/);
  assert.throws(() => parseAddr(':99999'), /is not host:port/);
});
