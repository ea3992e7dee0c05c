// The packing section of the HTML report in real Chromium, opened offline: the pools with nodes
// freed, the emptied nodes with their moves and the caveat are shown, and stay shown under the
// namespace filter (nodes belong to no tenant); a pod that fits nowhere is listed with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { html } from '../../src/report/format/html.ts';
import { packingWhatIf } from '../../src/core/packing/index.ts';
import type { PackingResult } from '../../src/core/packing/types.ts';
import { artefactsDir, recordRequests, screenshot, useBrowser } from '../support/browser.ts';
import { FIXTURE_REPORT } from '../support/report-fixture.ts';
import { daemonSet, node, nodes, pdb, pod } from '../support/packing.ts';

const browser = useBrowser();
const artefacts = artefactsDir('dashboard');

function freeing(): PackingResult {
  const general = nodes('n', 3, { pool: 'general', cpu: 8, memoryGiB: 32, instanceType: 'm6i.2xlarge' });
  return packingWhatIf({
    nodes: general,
    pods: [
      ...daemonSet('agent', general),
      pod('shop/web-0', { on: 'n-1', cpu: 4, toCpu: 1 }),
      pod('shop/web-1', { on: 'n-2', cpu: 4, toCpu: 1 }),
      pod('shop/db-0', { on: 'n-3', cpu: 1, kind: 'LocalStorage' }),
    ],
    pdbs: [pdb('shop/web', 'web', 1)],
  });
}

/** The visible text of each row of a table, cell by cell (run in the page, as browser.ts's READ_ROWS). */
function rowsOf(page: Page, table: string): Promise<{ cells: string[]; shown: boolean }[]> {
  return page.evaluate<{ cells: string[]; shown: boolean }[]>(
    `[...document.querySelectorAll(${JSON.stringify(`${table} tbody tr`)})].map((tr) => ({
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      shown: tr.offsetParent !== null,
    }))`,
  );
}

async function open(
  name: string,
  packing: PackingResult,
): Promise<{ page: Page; close: () => Promise<void>; urls: string[]; url: string }> {
  const file = join(artefacts, name);
  writeFileSync(file, html({ ...FIXTURE_REPORT, packing }));
  const context = await browser.current.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const urls = recordRequests(page);
  const url = pathToFileURL(file).href;
  await page.goto(url);
  return { page, urls, url, close: () => context.close() };
}

test('html: the packing section shows pools, moves and the caveat, and the namespace filter keeps it', async () => {
  const { page, urls, url, close } = await open('report-packing.html', freeing());
  try {
    const summary = await page.textContent('[data-row="packing-summary"]');
    assert.match(summary ?? '', /2 nodes and 0 GPUs would empty, \$561\.02 and [\d.]+ kg CO2e per month\.$/);
    const pools = await rowsOf(page, '#packing-pools');
    assert.deepEqual(
      pools.map((r) => r.cells.slice(0, 4)),
      [['general', '3', '1', '2']],
    );
    assert.ok(pools.every((r) => r.shown));
    const moves = await rowsOf(page, '#packing-emptied');
    assert.deepEqual(
      moves.map((r) => r.cells),
      [
        ['n-1', 'general', 'shop/web-0 -> n-3'],
        ['n-2', 'general', 'shop/web-1 -> n-3'],
      ],
    );
    assert.match(
      (await page.textContent('#packing-caveats')) ?? '',
      /n-3 \(general\) stays: shop\/db-0 LocalStorage/,
    );
    console.log(`screenshot: ${await screenshot(page, artefacts, 'report-packing.png')}`);
    // Nodes belong to no tenant: filtering to one namespace leaves the section as it is.
    await page.selectOption('#ns-filter', FIXTURE_REPORT.namespaces[0]!.namespace);
    assert.ok((await rowsOf(page, '#packing-pools')).every((r) => r.shown));
    assert.deepEqual(urls, [url], 'the file itself, nothing else');
  } finally {
    await close();
  }
});

test('html: a pod that fits nowhere is listed with its reason instead of a figure', async () => {
  const { page, close } = await open(
    'report-packing-unschedulable.html',
    packingWhatIf({ nodes: [node('n-1', { cpu: 4 })], pods: [pod('ml/llm-0', { gpus: 1 })], pdbs: [] }),
  );
  try {
    assert.match(
      (await page.textContent('[data-row="packing-summary"]')) ?? '',
      /no packing: 1 pod fits on no node/,
    );
    const rows = await rowsOf(page, '#packing-unschedulable');
    assert.deepEqual(
      rows.map((r) => r.cells.slice(0, 2)),
      [['ml/llm-0', 'TooLarge']],
    );
    assert.ok(rows[0]!.shown);
    assert.equal(await page.$('#packing-pools'), null);
  } finally {
    await close();
  }
});
