// KEP-1287 decisions of the simulated kubelet, table-tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actuateResize, admitResize, type Resources } from '../../src/sim/kubelet/resize.ts';

const Mi = 2 ** 20;
const r = (cpu: number, mem: number, cpuLimit?: number, memLimit?: number): Resources => ({
  cpuRequest: cpu,
  memoryRequest: mem * Mi,
  ...(cpuLimit !== undefined ? { cpuLimit } : {}),
  ...(memLimit !== undefined ? { memoryLimit: memLimit * Mi } : {}),
});
const node = { cpu: 2, memory: 2048 * Mi };

test('admission: no change, accepted, deferred beside others, infeasible beyond the node', () => {
  const cases: { name: string; desired: Resources; others: { cpu: number; memory: number }; want: string }[] =
    [
      { name: 'same', desired: r(0.5, 256), others: { cpu: 1, memory: 0 }, want: 'NoChange' },
      { name: 'fits', desired: r(1, 256), others: { cpu: 1, memory: 0 }, want: 'Accepted' },
      {
        name: 'shrink always fits',
        desired: r(0.1, 64),
        others: { cpu: 1.9, memory: 2000 * Mi },
        want: 'Accepted',
      },
      { name: 'not now', desired: r(1.2, 256), others: { cpu: 1, memory: 0 }, want: 'Deferred' },
      {
        name: 'memory not now',
        desired: r(0.5, 1500),
        others: { cpu: 0, memory: 1000 * Mi },
        want: 'Deferred',
      },
      { name: 'never', desired: r(3, 256), others: { cpu: 0, memory: 0 }, want: 'Infeasible' },
    ];
  for (const c of cases) {
    const got = admitResize({
      desired: new Map([['app', c.desired]]),
      allocated: new Map([['app', r(0.5, 256)]]),
      nodeAllocatable: node,
      othersAllocated: c.others,
    });
    assert.equal(got.admission, c.want, c.name);
  }
});

test('admission is all or nothing for the pod: two containers that together exceed the node', () => {
  const got = admitResize({
    desired: new Map([
      ['a', r(1.5, 100)],
      ['b', r(1, 100)],
    ]),
    allocated: new Map([
      ['a', r(0.5, 100)],
      ['b', r(0.5, 100)],
    ]),
    nodeAllocatable: node,
    othersAllocated: { cpu: 0, memory: 0 },
  });
  assert.equal(got.admission, 'Infeasible');
  assert.match(got.message, /cpu, requested: 2500m, capacity: 2000m/);
});

test('actuation: a memory limit below usage is an Error; RestartContainer restarts; others apply', () => {
  const live = actuateResize({
    allocated: new Map([['app', r(0.5, 100, 1, 150)]]),
    actual: new Map([['app', r(0.5, 256, 1, 512)]]),
    memoryUsage: new Map([['app', 200 * Mi]]),
    policy: new Map([['app', { cpu: 'NotRequired' as const, memory: 'NotRequired' as const }]]),
  });
  assert.equal(live.outcome, 'Error');
  assert.deepEqual(live.applied, []);
  const restarting = actuateResize({
    allocated: new Map([['app', r(0.5, 100, 1, 150)]]),
    actual: new Map([['app', r(0.5, 256, 1, 512)]]),
    memoryUsage: new Map([['app', 200 * Mi]]),
    policy: new Map([['app', { cpu: 'NotRequired' as const, memory: 'RestartContainer' as const }]]),
  });
  assert.equal(restarting.outcome, 'Done');
  assert.deepEqual(restarting.restarted, ['app']);
  const cpuOnly = actuateResize({
    allocated: new Map([['app', r(1, 256, 2, 512)]]),
    actual: new Map([['app', r(0.5, 256, 1, 512)]]),
    memoryUsage: new Map([['app', 200 * Mi]]),
    policy: new Map([['app', { cpu: 'NotRequired' as const, memory: 'RestartContainer' as const }]]),
  });
  assert.deepEqual(cpuOnly, { outcome: 'Done', message: '', applied: ['app'], restarted: [] });
});
