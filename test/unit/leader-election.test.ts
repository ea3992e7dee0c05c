// Leader election: the pure rule of one attempt (client-go's tryAcquireOrRenew), the records it
// writes, and two electors racing on one in-memory Lease with optimistic concurrency (409 on a stale
// resourceVersion): exactly one leads, a killed leader's Lease is taken after it expires, a leader
// that cannot renew gives up within the renew deadline, and a released Lease is taken at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Clients } from '../../src/kube/client.ts';
import {
  LeaderElector,
  decide,
  electionConfig,
  nextRecord,
  releasedRecord,
  renewalLost,
  type LeaseRecord,
  type ObservedLease,
} from '../../src/operator/leader-election.ts';
import { parseBool } from '../../src/cli/commands/leader-election-flags.ts';

const held = (holder: string, observedAt: number, duration = 15): ObservedLease => ({
  record: { holderIdentity: holder, leaseDurationSeconds: duration, leaseTransitions: 3 },
  resourceVersion: '7',
  observedAt,
});

test('decide: create when absent, renew when mine, wait while another holds it, take it when free or expired', () => {
  assert.deepEqual(decide(undefined, 100, 'a'), { kind: 'Create' });
  assert.deepEqual(decide(held('a', 90), 100, 'a'), { kind: 'Renew' });
  // Judged from when this candidate saw the record change, on its own clock: 90 + 15 = 105.
  assert.deepEqual(decide(held('b', 90), 104.9, 'a'), { kind: 'Wait', holder: 'b', expiresAt: 105 });
  assert.deepEqual(decide(held('b', 90), 105, 'a'), { kind: 'Acquire', from: 'b' });
  // Released (no holder): taken at once, whatever the duration.
  assert.deepEqual(decide(held('', 100), 100, 'a'), { kind: 'Acquire', from: '' });
});

test('records: an acquisition counts a transition, a renewal keeps acquireTime, a release frees the Lease for 1 s', () => {
  const prev: LeaseRecord = {
    holderIdentity: 'b',
    leaseDurationSeconds: 15,
    acquireTime: '2026-01-01T00:00:00.000000Z',
    renewTime: '2026-01-01T00:00:10.000000Z',
    leaseTransitions: 3,
  };
  const t = Date.parse('2026-01-01T00:01:00Z') / 1000;
  assert.deepEqual(nextRecord({ kind: 'Acquire', from: 'b' }, prev, 'a', t, 15), {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-01-01T00:01:00.000000Z',
    renewTime: '2026-01-01T00:01:00.000000Z',
    leaseTransitions: 4,
  });
  const mine = { ...prev, holderIdentity: 'a' };
  assert.deepEqual(nextRecord({ kind: 'Renew' }, mine, 'a', t, 15), {
    ...mine,
    renewTime: '2026-01-01T00:01:00.000000Z',
  });
  assert.equal(nextRecord({ kind: 'Create' }, undefined, 'a', t, 15).leaseTransitions, 0);
  assert.deepEqual(releasedRecord(mine, t), {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: '2026-01-01T00:01:00.000000Z',
    renewTime: '2026-01-01T00:01:00.000000Z',
    leaseTransitions: 3,
  });
});

test('renewalLost: at the renew deadline since the last renewal, not before', () => {
  assert.equal(renewalLost(100, 109.9, 10), false);
  assert.equal(renewalLost(100, 110, 10), true);
});

test("electionConfig: client-go's defaults; durations that could leave two leaders are refused", () => {
  const c = electionConfig({ identity: 'x' });
  assert.deepEqual(c, {
    namespace: 'tailor-system',
    name: 'tailor-operator',
    identity: 'x',
    leaseDurationSeconds: 15,
    renewDeadlineSeconds: 10,
    retryPeriodSeconds: 2,
  });
  assert.match(electionConfig({}).identity, /_[0-9a-f-]{36}$/);
  assert.throws(
    () => electionConfig({ leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }),
    /lease duration must exceed the renew deadline/,
  );
  assert.throws(() => electionConfig({ renewDeadlineSeconds: 2 }), /1.2 x the retry period/);
});

test('--leader-elect=false: true, false, or a clear error', () => {
  const p = parseBool('--leader-elect');
  assert.equal(p('true'), true);
  assert.equal(p('FALSE'), false);
  assert.throws(() => p('no'), /--leader-elect=no: expected true or false/);
});

/** One Lease in memory, with the apiserver's optimistic concurrency; `down` fails every call of one caller. */
class FakeLeases {
  lease: { resourceVersion: string; spec: LeaseRecord } | undefined;
  private version = 0;
  readonly down = new Set<string>();

  clientsFor(who: string): Clients {
    const err = (code: number, reason: string) =>
      Object.assign(new Error(reason), { code, body: { reason, message: reason } });
    const check = () => {
      if (this.down.has(who)) throw err(503, 'ServiceUnavailable');
    };
    const write = (body: { metadata: { resourceVersion?: string }; spec: LeaseRecord }, create: boolean) => {
      check();
      if (create && this.lease) throw err(409, 'AlreadyExists');
      if (!create && this.lease?.resourceVersion !== body.metadata.resourceVersion)
        throw err(409, 'Conflict');
      this.lease = { resourceVersion: String(++this.version), spec: { ...body.spec } };
      return { metadata: { resourceVersion: this.lease.resourceVersion } };
    };
    return {
      coordination: {
        readNamespacedLease: async () => {
          await Promise.resolve();
          check();
          if (!this.lease) throw err(404, 'NotFound');
          return { metadata: { resourceVersion: this.lease.resourceVersion }, spec: { ...this.lease.spec } };
        },
      },
      objects: {
        create: (b: never) => Promise.resolve().then(() => write(b, true)),
        replace: (b: never) => Promise.resolve().then(() => write(b, false)),
      },
    } as unknown as Clients;
  }
}

// Short, with room for a busy test machine's timer delays between the deadline (1 s) and the lease (1.5 s).
const fast = { leaseDurationSeconds: 1.5, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.1 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function elector(store: FakeLeases, id: string, registry?: Registry) {
  const events: string[] = [];
  const e = new LeaderElector(
    store.clientsFor(id),
    electionConfig({ ...fast, namespace: 'ns', name: 'op', identity: id }),
    {
      log: pino({ level: 'silent' }),
      onStartedLeading: () => events.push('started'),
      onLostLeadership: () => events.push('lost'),
      ...(registry ? { registry } : {}),
    },
  );
  return { e, events };
}

async function until(what: string, check: () => boolean, ms = 6000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

test("two electors: exactly one leads; the other takes over after a killed leader's Lease expires", async () => {
  const store = new FakeLeases();
  const registry = new Registry();
  const a = elector(store, 'a', registry);
  const b = elector(store, 'b');
  a.e.start();
  b.e.start();
  await until('a leader', () => a.e.isLeader || b.e.isLeader);
  await sleep(300);
  assert.equal(Number(a.e.isLeader) + Number(b.e.isLeader), 1, 'exactly one leader');
  const [leader, other] = a.e.isLeader ? [a, b] : [b, a];
  assert.equal(store.lease?.spec.holderIdentity, leader === a ? 'a' : 'b');
  assert.match(
    await registry.metrics(),
    new RegExp(`tailor_leader_is_leader\\{lease="ns/op",identity="a"\\} ${a.e.isLeader ? 1 : 0}`),
  );
  // kill -9: the leader stops renewing and gives nothing back.
  await leader.e.stop();
  const killedAt = Date.now();
  await until('the other to take over', () => other.e.isLeader);
  const took = (Date.now() - killedAt) / 1000;
  assert.ok(
    took >= fast.leaseDurationSeconds - fast.retryPeriodSeconds,
    `not before the lease expired (${took}s)`,
  );
  assert.equal(store.lease?.spec.leaseTransitions, 1, 'one transition');
  assert.deepEqual(other.events, ['started']);
  assert.deepEqual(leader.events, ['started'], 'a stopped leader is not told it lost');
  await other.e.release();
});

test('a leader that cannot renew gives up within the renew deadline, before its Lease can expire', async () => {
  const store = new FakeLeases();
  const a = elector(store, 'a');
  a.e.start();
  await until('a leads', () => a.e.isLeader);
  store.down.add('a');
  const cutAt = Date.now();
  await until('a lost', () => a.events.includes('lost'));
  const after = (Date.now() - cutAt) / 1000;
  assert.ok(
    after < fast.leaseDurationSeconds,
    `gave up after ${after}s, before the lease (${fast.leaseDurationSeconds}s) ran out`,
  );
  assert.equal(a.e.isLeader, false);
  assert.deepEqual(a.events, ['started', 'lost']);
});

test('a released Lease is taken at the next retry, not after the lease duration', async () => {
  const store = new FakeLeases();
  const a = elector(store, 'a');
  a.e.start();
  await until('a leads', () => a.e.isLeader);
  const b = elector(store, 'b');
  b.e.start();
  await sleep(200);
  assert.equal(b.e.isLeader, false, 'b waits while a renews');
  const releasedAt = Date.now();
  await a.e.release();
  assert.equal(store.lease?.spec.holderIdentity, '');
  await until('b leads', () => b.e.isLeader);
  assert.ok((Date.now() - releasedAt) / 1000 < fast.leaseDurationSeconds, 'before the lease duration');
  assert.deepEqual(a.events, ['started'], 'a release is not a loss');
  await b.e.release();
});
