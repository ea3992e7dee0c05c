// The packing what-if shown: the report's table and Markdown sections and the operator's gauges,
// for a fleet that frees nodes (with a caveat) and one with a pod that fits nowhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packingWhatIf } from '../../src/core/packing/index.ts';
import type { PackingResult } from '../../src/core/packing/types.ts';
import { renderPackingMarkdown, renderPackingTable } from '../../src/report/format/packing.ts';
import { operatorMetrics } from '../../src/operator/metrics.ts';
import { exportPacking } from '../../src/operator/packing-metrics.ts';
import { packingSection } from '../../src/report/html/packing.ts';
import { renderReport } from '../../src/report/format/index.ts';
import { FIXTURE_REPORT } from '../support/report-fixture.ts';
import { daemonSet, node, nodes, pdb, pod } from '../support/packing.ts';

function freeing(): PackingResult {
  const general = nodes('n', 3, { pool: 'general', cpu: 8, memoryGiB: 32, instanceType: 'm6i.2xlarge' });
  const gpu = nodes('g', 2, {
    pool: 'gpu-l4',
    cpu: 8,
    memoryGiB: 32,
    gpus: 1,
    gpuProduct: 'NVIDIA-L4',
    instanceType: 'g2-standard-8',
    taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
  });
  return packingWhatIf({
    nodes: [...general, ...gpu],
    pods: [
      ...daemonSet('agent', [...general, ...gpu]),
      pod('shop/web-0', { on: 'n-1', cpu: 4, toCpu: 1 }),
      pod('shop/db-0', { on: 'n-2', cpu: 1 }),
      pod('shop/db-1', { on: 'n-3', cpu: 1 }),
      pod('chat/llm-0', { on: 'g-1', gpus: 1, cpu: 2, tolerate: ['nvidia.com/gpu'] }),
    ],
    pdbs: [pdb('shop/db', 'db', 0)],
  });
}

const unschedulable = (): PackingResult =>
  packingWhatIf({
    nodes: [node('n-1', { cpu: 4 })],
    pods: [pod('ml/llm-0', { gpus: 1 })],
    pdbs: [],
  });

test('the table says nodes, GPUs and money freed per pool, the moves, and the caveat that keeps a node', () => {
  const text = renderPackingTable(freeing());
  assert.match(
    text,
    /Packing what-if: with the recommendations applied, 2 nodes and 1 GPU would empty, \$[\d,.]+ and [\d.]+ kg CO2e per month; 1 more node is kept by PodDisruptionBudgets/,
  );
  assert.match(text, /general\s+3\s+2\s+1\s+-\s+\$[\d,.]+\s+[\d.]+ kg\s+1/);
  assert.match(text, /gpu-l4\s+2\s+1\s+1\s+1 l4/);
  assert.match(text, /g-2\s+gpu-l4\s+\(DaemonSet pods only\)/);
  assert.match(text, /n-1\s+general\s+shop\/web-0 -> n-[23]/);
  assert.match(
    text,
    /caveat: n-2 \(general\) stays: shop\/db-0 PodDisruptionBudget: PodDisruptionBudget shop\/db allows 0 disruptions, 1 of its pods is on n-2/,
  );
});

test('a pod that fits nowhere: the section names it and why, in the table and in Markdown', () => {
  const p = unschedulable();
  assert.match(
    renderPackingTable(p),
    /no packing: 1 pod fits on no node[\s\S]*ml\/llm-0\s+TooLarge\s+requests nvidia.com\/gpu 1/,
  );
  const row = (c: readonly string[]) => `| ${c.join(' | ')} |\n`;
  const md = renderPackingMarkdown(p, (c) => row(c) + row(c.map(() => '---')), row);
  assert.match(md, /## Nodes right-sizing frees/);
  assert.match(md, /\| ml\/llm-0 \| TooLarge \|/);
});

test('gauges: nodes and GPUs freeable per pool (and model), the caveat per pool; no packing, no figure', async () => {
  const m = operatorMetrics(true);
  const g = m.report.packing;
  exportPacking(g, freeing());
  const values = async (gauge: { get(): Promise<{ values: { labels: object; value: number }[] }> }) =>
    (await gauge.get()).values.map((v) => [v.labels, v.value]);
  assert.deepEqual(await values(g.nodesFreeable), [
    [{ pool: 'general' }, 1],
    [{ pool: 'gpu-l4' }, 1],
  ]);
  assert.deepEqual(await values(g.gpusFreeable), [[{ pool: 'gpu-l4', model: 'l4' }, 1]]);
  assert.deepEqual(await values(g.nodesKeptByCaveats), [
    [{ pool: 'general' }, 1],
    [{ pool: 'gpu-l4' }, 0],
  ]);
  exportPacking(g, unschedulable());
  assert.deepEqual(await values(g.nodesFreeable), []);
  assert.deepEqual(await values(g.unschedulablePods), [[{}, 1]]);
});

test('the dashboard section: pools, emptied nodes and caveats as tables; unschedulable pods listed', () => {
  const html = packingSection({ packing: freeing() });
  assert.match(html, /<section id="packing"><h2>Nodes right-sizing frees<\/h2>/);
  assert.match(
    html,
    /<tr data-row="packing-pool"><td>general<\/td><td class="num">3<\/td><td class="num">2<\/td><td class="num">1<\/td>/,
  );
  assert.match(
    html,
    /<tr data-row="packing-node"><td>g-2<\/td><td>gpu-l4<\/td><td>\(DaemonSet pods only\)<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<ul class="notes" id="packing-caveats"><li>n-2 \(general\) stays: shop\/db-0 PodDisruptionBudget/,
  );
  const none = packingSection({ packing: unschedulable() });
  assert.match(none, /<tr data-row="packing-unschedulable"><td>ml\/llm-0<\/td><td>TooLarge<\/td>/);
  assert.equal(packingSection({}), '');
});

test('csv: one packing-pool row per pool, or one row per pod that fits nowhere; blank columns elsewhere', () => {
  const parse = (text: string) => text.trim().split('\n');
  const lines = parse(renderReport({ ...FIXTURE_REPORT, packing: freeing() }, 'csv'));
  const header = lines[0]!.split(',');
  const col = (name: string) => header.indexOf(name);
  const pools = lines.filter((l) => l.startsWith('packing-pool,')).map((l) => l.split(','));
  assert.deepEqual(
    pools.map((c) => [
      c[col('pool')],
      c[col('nodesFreed')],
      c[col('gpusFreed')],
      c[col('nodesKeptByCaveats')],
    ]),
    [
      ['general', '1', '0', '1'],
      ['gpu-l4', '1', '1', '0'],
    ],
  );
  assert.ok(
    lines.every((l) => l.split(',').length >= header.length),
    'every row has every column',
  );
  const none = parse(renderReport({ ...FIXTURE_REPORT, packing: unschedulable() }, 'csv'));
  assert.ok(none.some((l) => l.startsWith('packing-unschedulable,') && l.includes('ml/llm-0,TooLarge,')));
});
