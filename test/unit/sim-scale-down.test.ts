// The simulator's scale-down decision (src/sim/consolidation): which node of a pool is drained and
// when, why the others stay, and the scenario's `scaleDown:` field with its refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideScaleDown,
  podsToEvict,
  scaleDownPools,
  SCALE_DOWN_DEFAULTS,
} from '../../src/sim/consolidation/index.ts';
import type { ScaleDown, ScaleDownState } from '../../src/sim/consolidation/index.ts';
import { parseScenario } from '../../src/sim/scenario.ts';
import { TailorError } from '../../src/errors.ts';
import type { PackingInput } from '../../src/core/packing/types.ts';
import { daemonSet, nodes, pod } from '../support/packing.ts';

const rule = (o: Partial<ScaleDown> = {}): ScaleDown => ({
  ...SCALE_DOWN_DEFAULTS,
  enabled: true,
  unneededSeconds: 60,
  ...o,
});
const fresh = (o: Partial<ScaleDownState> = {}): ScaleDownState => ({
  unneededSince: new Map(),
  backOffUntil: new Map(),
  draining: new Set(),
  ...o,
});

/** Three 4-core nodes, each with one 1-core pod: two of them would empty. */
function underused(): PackingInput {
  const general = nodes('n', 3, { pool: 'general', cpu: 4 });
  return {
    nodes: general,
    pods: [
      ...daemonSet('agent', general),
      pod('shop/web-0', { on: 'n-1' }),
      pod('shop/web-1', { on: 'n-2' }),
      pod('shop/web-2', { on: 'n-3' }),
    ],
    pdbs: [],
  };
}

function decided(d: ReturnType<typeof decideScaleDown>) {
  assert.equal(d.kind, 'Decided', d.kind === 'Unschedulable' ? d.detail : '');
  return d;
}

test('a node whose pods fit elsewhere is unneeded first, and drained once unneeded for long enough, one per pool', () => {
  const pools = new Map([['general', rule({ unneededSeconds: 60 })]]);
  const first = decided(decideScaleDown(underused(), pools, fresh(), 1000));
  assert.deepEqual(first.chosen, []);
  const unneeded = first.calls.filter((c) => c.standing === 'Unneeded').map((c) => c.node);
  assert.equal(unneeded.length, 2, JSON.stringify(first.calls));
  assert.equal(first.calls.filter((c) => c.standing === 'Needed').length, 1);
  assert.deepEqual([...first.unneededSince.values()], [1000, 1000]);

  const early = decided(
    decideScaleDown(underused(), pools, fresh({ unneededSince: first.unneededSince }), 1059),
  );
  assert.deepEqual(early.chosen, []);
  assert.match(early.calls.find((c) => c.standing === 'Unneeded')!.detail, /unneeded for 59s of 60s/);

  const due = decided(
    decideScaleDown(underused(), pools, fresh({ unneededSince: first.unneededSince }), 1060),
  );
  assert.equal(due.chosen.length, 1);
  assert.ok(unneeded.includes(due.chosen[0]!.node));
  assert.match(due.chosen[0]!.detail, /its pods fit elsewhere \(shop\/web-\d to n-\d\)/);
  assert.equal(due.calls.filter((c) => c.standing === 'PoolBusy').length, 1, 'the other waits its turn');
});

test('while a node drains, the pool waits; the min size and a failed drain keep nodes', () => {
  const since = new Map([
    ['n-2', 0],
    ['n-3', 0],
  ]);
  const busy = decided(
    decideScaleDown(
      underused(),
      new Map([['general', rule()]]),
      fresh({ unneededSince: since, draining: new Set(['n-2']) }),
      500,
    ),
  );
  assert.deepEqual(busy.chosen, []);
  assert.equal(busy.calls.find((c) => c.node === 'n-2')!.standing, 'Draining');
  assert.equal(busy.calls.find((c) => c.node === 'n-3')!.standing, 'PoolBusy');

  const atMin = decided(
    decideScaleDown(
      underused(),
      new Map([['general', rule({ minNodes: 3 })]]),
      fresh({ unneededSince: since }),
      500,
    ),
  );
  assert.deepEqual(atMin.chosen, []);
  assert.match(
    atMin.calls.find((c) => c.standing === 'MinSize')!.detail,
    /the pool has 3 nodes, its min size is 3/,
  );

  const backing = decided(
    decideScaleDown(
      underused(),
      new Map([['general', rule()]]),
      fresh({ unneededSince: since, backOffUntil: new Map([['n-2', 800]]) }),
      500,
    ),
  );
  assert.equal(backing.calls.find((c) => c.node === 'n-2')!.standing, 'BackingOff');
  assert.deepEqual(
    backing.chosen.map((c) => c.node),
    ['n-3'],
  );
});

test('a pod with local storage holds its node unless the pool evicts it; pools without scale-down are left alone', () => {
  const input = underused();
  const withLocal: PackingInput = {
    ...input,
    pods: input.pods.map((p) => (p.kind !== 'DaemonSet' ? { ...p, kind: 'LocalStorage' as const } : p)),
  };
  const skip = decided(decideScaleDown(withLocal, new Map([['general', rule()]]), fresh(), 0));
  assert.equal(skip.calls.filter((c) => c.standing === 'Pinned').length, 3, JSON.stringify(skip.calls));
  const evict = decided(
    decideScaleDown(withLocal, new Map([['general', rule({ localStorage: 'Evict' })]]), fresh(), 0),
  );
  assert.equal(evict.calls.filter((c) => c.standing === 'Unneeded').length, 2);
  const off = decided(decideScaleDown(input, new Map([['general', rule({ enabled: false })]]), fresh(), 0));
  assert.deepEqual(off.calls, []);
});

test('a node whose pods fit nowhere else stays; a pod short of room stops the scale-down, one too large for any node does not', () => {
  const general = nodes('n', 2, { pool: 'general', cpu: 4 });
  const full = decided(
    decideScaleDown(
      {
        nodes: general,
        pods: [pod('a/x-0', { on: 'n-1', cpu: 3 }), pod('a/y-0', { on: 'n-2', cpu: 3 })],
        pdbs: [],
      },
      new Map([['general', rule()]]),
      fresh(),
      0,
    ),
  );
  assert.deepEqual(
    full.calls.map((c) => c.standing),
    ['Needed', 'Needed'],
  );
  // A pending pod that fits beside the others only if no node leaves stops the scale-down.
  const short = decideScaleDown(
    {
      nodes: general,
      pods: [
        pod('a/x-0', { on: 'n-1', cpu: 3 }),
        pod('a/y-0', { on: 'n-2', cpu: 3 }),
        pod('a/z-0', { cpu: 3 }),
      ],
      pdbs: [],
    },
    new Map([['general', rule()]]),
    fresh(),
    0,
  );
  assert.equal(short.kind, 'Unschedulable');
  assert.match(short.kind === 'Unschedulable' ? short.detail : '', /a\/z-0: NoRoom/);
  // One larger than any node is no reason to keep a node: the others are judged without it.
  const hopeless = decided(
    decideScaleDown(
      {
        nodes: general,
        pods: [pod('a/x-0', { on: 'n-1' }), pod('a/y-0', { on: 'n-2' }), pod('a/big-0', { cpu: 9 })],
        pdbs: [],
      },
      new Map([['general', rule()]]),
      fresh(),
      0,
    ),
  );
  assert.deepEqual(hopeless.calls.map((c) => c.standing).sort(), ['Needed', 'Unneeded']);
});

test('a drain evicts all but DaemonSet and mirror pods, and waits for the terminating ones', () => {
  const general = nodes('n', 1, { pool: 'general' });
  const [agent] = daemonSet('agent', general);
  const { evict, waiting } = podsToEvict([
    { pod: agent!, terminating: false, mirror: false },
    { pod: pod('kube-system/etcd', { on: 'n-1', kind: 'NoController' }), terminating: false, mirror: true },
    { pod: pod('a/web-0', { on: 'n-1' }), terminating: false, mirror: false },
    { pod: pod('a/web-1', { on: 'n-1' }), terminating: true, mirror: false },
  ]);
  assert.deepEqual(
    evict.map((p) => p.pod.name),
    ['web-0'],
  );
  assert.equal(waiting, 1);
});

const scenario = (scaleDown: string) => `nodePools:
  - name: cpu
    count: 3
    cpu: 8
    memory: 32Gi
    scaleDown:
${scaleDown}
`;

function refusal(text: string): string {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (err) {
    assert.ok(err instanceof TailorError, String(err));
    return err.message;
  }
  assert.fail('the scenario was accepted');
}

test("a pool's scaleDown field: defaults as cluster-autoscaler's, durations, and refusals naming the field", () => {
  const s = parseScenario(scenario('      unneededSeconds: 30s\n      minNodes: 1'), 'ok.yaml');
  assert.deepEqual(s.nodePools[0]!.scaleDown, {
    ...SCALE_DOWN_DEFAULTS,
    enabled: true,
    unneededSeconds: 30,
    minNodes: 1,
  });
  assert.deepEqual([...scaleDownPools(s.nodePools).keys()], ['cpu']);
  const off = parseScenario(scenario('      enabled: false'), 'ok.yaml');
  assert.equal(scaleDownPools(off.nodePools).size, 0);
  assert.equal(
    parseScenario(scenario('      {}').replace('scaleDown:\n      {}', 'labels: {}'), 'ok.yaml').nodePools[0]!
      .scaleDown,
    undefined,
  );

  assert.match(
    refusal(scenario('      minNodes: 4')),
    /nodePools\[0\]\.scaleDown\.minNodes: 4 is more than the pool's count of 3/,
  );
  assert.match(
    refusal(scenario('      minNodes: -1')),
    /nodePools\[0\]\.scaleDown\.minNodes: expected an integer >= 0/,
  );
  assert.match(
    refusal(scenario('      unneededSeconds: soon')),
    /nodePools\[0\]\.scaleDown\.unneededSeconds: expected a duration/,
  );
  assert.match(
    refusal(scenario('      localStorage: Delete')),
    /nodePools\[0\]\.scaleDown\.localStorage: "Delete" is not a local storage rule; allowed: Skip, Evict/,
  );
  assert.match(
    refusal(scenario('      minSize: 1')),
    /nodePools\[0\]\.scaleDown: "minSize" is not a scaleDown field; allowed: enabled, unneededSeconds, minNodes/,
  );
});
