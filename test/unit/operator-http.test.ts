// The operator's HTTP address flag: host:port forms, and a clear error for anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddr, type Readiness } from '../../src/operator/http.ts';

test('parseAddr: host:port, :port, port, IPv6 in brackets; bad input says how', () => {
  assert.deepEqual(parseAddr(':8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseAddr('8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseAddr('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseAddr('[::1]:9090'), { host: '::1', port: 9090 });
  assert.throws(() => parseAddr('localhost'), /is not host:port[\s\S]*--metrics-addr/);
  assert.throws(() => parseAddr(':99999'), /is not host:port/);
});

test('/readyz: 503 while starting and while a watch is down, 200 once every watch is synced again', async () => {
  const { Registry } = await import('prom-client');
  const { serveOperatorHttp } = await import('../../src/operator/http.ts');
  let state: Readiness = { kind: 'Starting' };
  const http = await serveOperatorHttp('127.0.0.1:0', new Registry(), () => state);
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
    return { status: res.status, body: await res.text() };
  };
  try {
    assert.deepEqual(await readyz(), { status: 503, body: 'starting\n' });
    state = { kind: 'Ready' };
    assert.deepEqual(await readyz(), { status: 200, body: 'ok\n' });
    state = { kind: 'WatchesDown', watches: ['pods', 'models/nodes'] };
    const down = await readyz();
    assert.equal(down.status, 503);
    assert.match(down.body, /watches not synced .*: pods, models\/nodes/);
    state = { kind: 'Ready' };
    assert.equal((await readyz()).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status, 200, 'alive throughout');
  } finally {
    await http.close();
  }
});
