// The dashboard in real Chromium: /ui served by the operator running on the simulated fleet (an
// over-requested workload Tailor resizes, another it only recommends for), and the self-contained
// HTML file opened offline. Checks what a person sees: every tenant, the figures
// of the Report JSON to the cent, charts drawn, the namespace filter, no request beyond localhost,
// names shown as text; keeps a screenshot of each page under test/artefacts/dashboard/.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Report } from '../../src/core/report/model.ts';
import { html } from '../../src/report/format/html.ts';
import {
  artefactsDir,
  drawnCharts,
  expectedRows,
  recordRequests,
  screenshot,
  shownRows,
  useBrowser,
  useDashboard,
  type CanvasState,
} from '../support/browser.ts';
import { FIXTURE_REPORT, HOSTILE_NAME, fixedReportProvider } from '../support/report-fixture.ts';
import type { ReportProvider } from '../../src/core/report/model.ts';
import { runReport } from '../../src/cli/commands/report.ts';
import { eventually, idleDeployment, useCluster } from '../support/cluster.ts';
import { Mi, createPolicy, overProvisioned, useTestOperator } from '../support/operator.ts';

// The Report under test: the operator's own, on the simulated fleet; the tests that read `ui`
// derive what they expect from the Report JSON. `fixture` always serves the hand-built Report, for
// what needs a known name (a hostile one, a negative saving, a history).
const cluster = useCluster(import.meta.url);
const operator = useTestOperator(cluster, {
  models: false,
  sizing: { checkpointIntervalSeconds: 1 },
  reportIntervalMs: 1000,
});
const provider: ReportProvider = (q) => operator.current.report(q);
const ui = {
  get url(): string {
    return operator.current.url;
  },
};
before(async () => {
  const { apps, namespace } = cluster;
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('web') });
  await apps.createNamespacedDeployment({
    namespace,
    body: idleDeployment(
      'spare',
      2,
      { cpuCores: 0.05, memoryBytes: 100 * Mi },
      { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
    ),
  });
  // Right after the CRDs are installed the apiserver may not serve them yet (404): retry.
  await eventually(
    () =>
      createPolicy(cluster, 'web', {
        mode: 'InPlace',
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      }),
    { timeoutMs: 30_000, what: 'the SizingPolicy web created' },
  );
  await createPolicy(cluster, 'spare', {
    mode: 'Recommend',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'spare' },
  });
  // Seeded: both workloads in the report, with history (a series to draw) and a saving.
  await eventually(
    async () => {
      const r = await provider({ sinceSeconds: 3600, namespaces: [namespace] });
      const ws = r.namespaces.find((n) => n.namespace === namespace)?.workloads ?? [];
      assert.deepEqual(ws.map((w) => w.name).sort(), ['spare', 'web']);
      assert.ok(
        ws.every((w) => w.series.length > 0),
        'each has a series',
      );
      assert.ok(
        ws.some((w) => w.figures.available.cost > 0.005),
        'a saving',
      );
      // Settled: web (InPlace) already resized, so the page and a later `tailor report` read
      // the same requests (a resize between the two moved web's saving from 3.79 to 0).
      const web = ws.find((w) => w.name === 'web')!;
      assert.ok(
        web.figures.available.cost < 0.005,
        `web resized (still ${web.figures.available.cost} to save)`,
      );
    },
    { timeoutMs: 120_000, intervalMs: 1000, what: 'the seeded tenants in the operator report, web resized' },
  );
});
const fixture = useDashboard(fixedReportProvider(FIXTURE_REPORT));
const browser = useBrowser();
const artefacts = artefactsDir('dashboard');

function assertDrawn(canvases: readonly CanvasState[], min: number): void {
  assert.ok(canvases.length >= min, `at least ${min} charts, found ${canvases.length}`);
  for (const c of canvases) {
    assert.ok(c.chart, `${c.id}: a chart.js chart`);
    assert.ok(c.points > 0, `${c.id}: it has data`);
    assert.ok(c.painted && c.width > 0, `${c.id}: its canvas is painted`);
  }
}

/** The charts a page draws per workload: CPU and memory, GPU too when it holds any; none without a series. */
function seriesCharts(report: Report): number {
  return report.namespaces
    .flatMap((n) => n.workloads)
    .filter((w) => w.series.length > 0)
    .reduce((sum, w) => {
      const gpu = w.series.some((p) => p.requested.gpus > 0 || p.recommended.gpus > 0 || p.used.gpus > 0);
      return sum + (gpu ? 3 : 2);
    }, 0);
}

function assertLocalOnly(urls: readonly string[], origin: string): void {
  const outside = urls.filter((u) => !u.startsWith(`${origin}/`));
  assert.deepEqual(outside, [], 'no request leaves the operator');
}

test('/ui: every tenant with the figures of its Report JSON to the cent, charts drawn, only local requests', async () => {
  const page = await browser.current.newPage({ viewport: { width: 1400, height: 900 } });
  const urls = recordRequests(page);
  try {
    const json = page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/api/report.json');
    await page.goto(`${ui.url}/ui`);
    // The figures the page must show are those of the JSON its own script fetched.
    const report = (await (await json).json()) as Report;
    assert.ok(report.namespaces.length > 0, 'the report has tenants');
    const canvases = await drawnCharts(page);
    const rows = await shownRows(page);
    assert.deepEqual(
      rows.map(({ hidden: _, ...r }) => r),
      expectedRows(report),
      'each namespace and workload row shows its JSON figures through the shared formatters',
    );
    assert.ok(
      report.namespaces.some((n) => n.figures.available.cost > 0.005 || n.figures.realised.cost > 0.005),
      'some tenant saves money',
    );
    // The same figures as `tailor report -o json` (its own gather, outside the operator), to the cent.
    const cli = JSON.parse(
      await runReport({
        kubeconfig: cluster.kubeconfigPath,
        namespace: cluster.namespace,
        since: '7d',
        output: 'json',
      }),
    ) as Report;
    const cents = (r: Report) =>
      r.namespaces.flatMap((n) => [
        [n.namespace, Math.round(n.figures.available.cost * 100), Math.round(n.figures.requested.cost * 100)],
        ...n.workloads.map((w) => [w.name, Math.round(w.figures.available.cost * 100)]),
      ]);
    assert.deepEqual(cents(report), cents(cli), 'the page shows what tailor report -o json prints');
    assert.equal(canvases.length, 2 + seriesCharts(report), 'two namespace charts, and each workload series');
    assertDrawn(canvases, 2);
    assertLocalOnly(urls, ui.url);
    console.log(`screenshot: ${await screenshot(page, artefacts, 'ui.png')}`);
  } finally {
    await page.close();
  }
});

test('/ui: the namespace filter narrows the page to one tenant, and says so in the URL', async () => {
  const page = await browser.current.newPage({ viewport: { width: 1400, height: 900 } });
  const urls = recordRequests(page);
  try {
    await page.goto(`${ui.url}/ui`);
    await drawnCharts(page);
    const all = await provider({ sinceSeconds: 7 * 86_400 });
    const one = all.namespaces[all.namespaces.length - 1]!.namespace;
    await Promise.all([page.waitForURL(/namespace=/), page.selectOption('#ns-filter', one)]);
    assert.equal(new URL(page.url()).searchParams.get('namespace'), one);
    await drawnCharts(page);
    const rows = await shownRows(page);
    assert.ok(rows.length > 0, 'the tenant is shown');
    assert.deepEqual([...new Set(rows.map((r) => r.ns))], [one], 'only the chosen tenant is shown');
    assert.equal(await page.inputValue('#ns-filter'), one, 'the filter shows the choice');
    const options = await page.$$eval('#ns-filter option', (os) => os.length);
    assert.equal(options, all.namespaces.length + 1, 'the other tenants can still be chosen');
    assertLocalOnly(urls, ui.url);
    console.log(`screenshot: ${await screenshot(page, artefacts, 'ui-filtered.png')}`);
  } finally {
    await page.close();
  }
});

test('/ui: a workload link opens its page with its series charts and resize history', async () => {
  const page = await browser.current.newPage({ viewport: { width: 1400, height: 900 } });
  const urls = recordRequests(page);
  try {
    await page.goto(`${ui.url}/ui`);
    await drawnCharts(page);
    const first = page.locator('section.namespace tr[data-row="workload"] a').first();
    const name = await first.textContent();
    await Promise.all([page.waitForURL(/\/ui\/workload\//), first.click()]);
    assert.equal(await page.getAttribute('section.workload', 'data-workload'), name);
    assertDrawn(await drawnCharts(page), 2);
    assert.match((await page.textContent('section.workload')) ?? '', /Resize history/);
    assertLocalOnly(urls, ui.url);
    console.log(`screenshot: ${await screenshot(page, artefacts, 'ui-workload.png')}`);
  } finally {
    await page.close();
  }
});

test('/ui: a workload named <script> shows as text and runs nothing; its history page lists the Events', async () => {
  const page = await browser.current.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`${fixture.url}/ui?namespace=shop`);
    await drawnCharts(page);
    assert.equal(await page.evaluate('window.__pwned'), undefined, 'no injected script ran');
    const link = page.locator('section.namespace tr[data-row="workload"] a', { hasText: HOSTILE_NAME });
    assert.equal(await link.count(), 1, 'the name is visible text, once in the table');
    await page.hover(`tr[data-row="container"]`).catch(() => {});
    assert.equal(await page.evaluate('window.__pwned'), undefined, 'no handler was added by a name');
    // The GPU tenant's page has a GPU chart; the shop's web workload shows its history.
    await page.goto(`${fixture.url}/ui/workload/shop/web`);
    await drawnCharts(page);
    assert.equal(await page.locator('tr[data-row="event"]').count(), 2);
    assert.match((await page.textContent('[data-row="lastApplied"]')) ?? '', /cpu 2 -> 500m/);
    await page.goto(`${fixture.url}/ui/workload/llm-team/vllm-llama`);
    const canvases = await drawnCharts(page);
    assert.ok(
      canvases.some((c) => c.id.startsWith('gpu:')),
      'a GPU tenant gets a GPU chart',
    );
    // A negative saving is shown signed, in the warning colour.
    await page.goto(`${fixture.url}/ui?namespace=shop`);
    const db = page.locator('tr[data-row="workload"][data-name="db"] td[data-fig="realised"]');
    assert.equal(await db.locator('[data-unit="cost"]').textContent(), '-$4.13');
    assert.match((await db.getAttribute('class')) ?? '', /\bneg\b/);
  } finally {
    await page.close();
  }
});

test('html file: opens offline with the same figures and drawn charts, and requests nothing', async () => {
  const report = await provider({ sinceSeconds: 7 * 86_400 });
  const file = join(artefacts, 'report.html');
  writeFileSync(file, html(report));
  const context = await browser.current.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const urls = recordRequests(page);
  try {
    const url = pathToFileURL(file).href;
    await page.goto(url);
    assertDrawn(await drawnCharts(page), 2);
    assert.deepEqual(
      (await shownRows(page)).map(({ hidden: _, ...r }) => r),
      expectedRows(report),
    );
    assert.deepEqual(urls, [url], 'the file itself, nothing else');
    console.log(`screenshot: ${await screenshot(page, artefacts, 'report-html.png')}`);
    // The filter works without a server: the other tenants' rows hide.
    const one = report.namespaces[0]!.namespace;
    await page.selectOption('#ns-filter', one);
    const visible = (await shownRows(page)).filter((r) => !r.hidden);
    assert.ok(visible.length > 0);
    assert.deepEqual([...new Set(visible.map((r) => r.ns))], [one]);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
  } finally {
    await context.close();
  }
});
