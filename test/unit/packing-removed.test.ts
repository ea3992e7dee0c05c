// The packing's realised side: nodes a scale-down removed, read back from their removal Events'
// annotation, counted over the report's range and priced per month like the nodes the what-if frees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRemovedNode, nodesRemoved, type RemovedNodeRecord } from '../../src/core/packing/removed.ts';
import { packingWhatIf } from '../../src/core/packing/index.ts';
import { renderReport } from '../../src/report/format/index.ts';
import { FIXTURE_REPORT } from '../support/report-fixture.ts';
import type { Report } from '../../src/core/report/model.ts';
import { node, nodes } from '../support/packing.ts';

const removed = (
  name: string,
  pool: string,
  at: number,
  instanceType: string,
  gpus = 0,
): RemovedNodeRecord => ({
  pool,
  at,
  facts: node(name, {
    pool,
    cpu: 8,
    memoryGiB: 32,
    instanceType,
    gpus,
    ...(gpus ? { gpuProduct: 'NVIDIA-L4' } : {}),
  }).facts,
});

test('nodes removed within the range count per pool, priced as the what-if prices the same nodes', () => {
  const records = [
    removed('n-2', 'general', 1000, 'm6i.2xlarge'),
    removed('n-3', 'general', 2000, 'm6i.2xlarge'),
    removed('g-2', 'gpu-l4', 1500, 'g2-standard-8', 1),
    removed('old', 'general', 10, 'm6i.2xlarge'),
  ];
  const r = nodesRemoved(records, 500, 2500);
  assert.deepEqual(
    r.pools.map((p) => [p.pool, p.nodes, p.gpus]),
    [
      ['general', 2, 0],
      ['gpu-l4', 1, 1],
    ],
  );
  assert.equal(r.total.nodes, 3);
  assert.equal(r.total.gpus, 1);
  // The what-if's price of the same m6i.2xlarge, freed: what one removed node is worth.
  const whatIf = packingWhatIf({
    nodes: nodes('n', 2, { pool: 'general', cpu: 8, memoryGiB: 32, instanceType: 'm6i.2xlarge' }),
    pods: [],
    pdbs: [],
  });
  assert.equal(whatIf.kind, 'Packed');
  const one = whatIf.kind === 'Packed' ? whatIf.nodes[0]!.monthly : undefined;
  assert.ok(one && one.cost > 0);
  assert.ok(Math.abs(r.pools[0]!.monthly.cost - 2 * one.cost) <= 0.01, JSON.stringify([r.pools[0], one]));
  assert.ok(r.pools[1]!.monthly.cost > r.pools[0]!.monthly.cost / 2, 'a GPU node costs more than a CPU one');
  assert.equal(
    r.total.monthly.cost,
    Math.round((r.pools[0]!.monthly.cost + r.pools[1]!.monthly.cost) * 100) / 100,
  );
  assert.equal(nodesRemoved(records, 3000, 4000).total.nodes, 0);
});

test("a removal Event's annotation is read back; another tool's or a broken one is not counted", () => {
  const r = removed('n-2', 'general', 1000, 'm6i.2xlarge');
  assert.deepEqual(decodeRemovedNode(JSON.stringify(r)), r);
  assert.equal(decodeRemovedNode(undefined), undefined);
  assert.equal(decodeRemovedNode('{not json'), undefined);
  assert.equal(decodeRemovedNode(JSON.stringify({ pool: 'general', at: 1 })), undefined);
});

test('the table and Markdown reports say the nodes removed and what they are worth per month', () => {
  const report = {
    ...FIXTURE_REPORT,
    nodesRemoved: nodesRemoved([removed('n-2', 'general', 1000, 'm6i.2xlarge')], 0, 2000),
  };
  assert.match(
    renderReport(report, 'table'),
    /Realised: 1 node removed by scale-down over the range, \$[\d,.]+ and [\d.]+ kg CO2e per month \(general: 1\)/,
  );
  assert.match(renderReport(report, 'markdown'), /Realised: 1 node removed by scale-down over the range/);
  assert.equal((JSON.parse(renderReport(report, 'json')) as Report).nodesRemoved?.total.nodes, 1);
});
