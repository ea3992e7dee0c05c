// Real Chromium for the dashboard tests (Debian's package, driven by playwright-core), the operator's
// HTTP server with a ReportProvider of the test's choice, and what a test reads back from a page:
// the figures shown, whether each chart drew, every request made.
import { after, before } from 'node:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Figures, Report } from '../../src/core/report/model.ts';
import { serveOperatorHttp, type OperatorHttp } from '../../src/operator/http.ts';
import type { ReportProvider } from '../../src/core/report/model.ts';
import { co2e, money } from '../../src/report/format/numbers.ts';

export const CHROMIUM = process.env.TAILOR_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Launches Chromium for the file's tests; a missing binary fails them with what to install. */
export function useBrowser(): { readonly current: Browser } {
  const holder: { current?: Browser } = {};
  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium is not at ${CHROMIUM}: the dashboard is tested in a real browser. Install Debian's package ` +
          '(apt-get install chromium) or set TAILOR_TEST_CHROMIUM to its path.',
      );
    // --no-sandbox: the tests run as root, where Chromium refuses its sandbox.
    holder.current = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await holder.current?.close();
  });
  return holder as { readonly current: Browser };
}

/** The operator's HTTP server (/ui, /metrics ...) on a free local port, serving `provider`'s reports. */
export function useDashboard(provider: ReportProvider): { readonly url: string } {
  let http: OperatorHttp | undefined;
  const holder = {
    get url(): string {
      if (!http) throw new Error('the dashboard is not started yet (use it inside a test)');
      return `http://127.0.0.1:${http.port}`;
    },
  };
  before(async () => {
    http = await serveOperatorHttp('127.0.0.1:0', new Registry(), () => ({ kind: 'Ready' }), provider);
  });
  after(async () => {
    await http?.close();
  });
  return holder;
}

/** test/artefacts/<name>/ (ignored by git), created on first use; its path is printed once. */
export function artefactsDir(name: string): string {
  const dir = resolve('test', 'artefacts', name);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`[dashboard] screenshots and pages kept in ${dir}\n`);
  }
  return dir;
}

export async function screenshot(page: Page, dir: string, file: string): Promise<string> {
  const path = join(dir, file);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Every URL the page requests, to check none leaves the allowed origins. */
export function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** The figures of one table row as shown: money and CO2e per column. */
export type ShownFigures = Record<string, { cost: string; co2e: string }>;

export interface ShownRow {
  readonly row: string;
  readonly ns: string;
  readonly kind: string;
  readonly name: string;
  readonly figures: ShownFigures;
  readonly hidden: boolean;
}

// What runs in the page is plain JavaScript text: tsx would wrap a function's inner functions in a
// `__name` helper the browser does not have, and the tests' types have no DOM.
const READ_ROWS = `[...document.querySelectorAll('tr[data-row="namespace"], section.namespace tr[data-row="workload"]')].map((tr) => {
  const figures = {};
  tr.querySelectorAll('td[data-fig]').forEach((td) => {
    figures[td.getAttribute('data-fig')] = {
      cost: td.querySelector('[data-unit="cost"]')?.textContent ?? '',
      co2e: td.querySelector('[data-unit="co2e"]')?.textContent ?? '',
    };
  });
  return {
    row: tr.getAttribute('data-row') ?? '',
    ns: tr.getAttribute('data-ns') ?? '',
    kind: tr.getAttribute('data-kind') ?? '',
    name: tr.getAttribute('data-name') ?? '',
    figures,
    hidden: tr.offsetParent === null,
  };
})`;

/** The namespace and workload rows the page shows, read from the DOM. */
export function shownRows(page: Page): Promise<ShownRow[]> {
  return page.evaluate<ShownRow[]>(READ_ROWS);
}

function formatted(f: Figures, currency: string): ShownFigures {
  const out: ShownFigures = {};
  for (const k of ['requested', 'used', 'recommended', 'available', 'realised'] as const)
    out[k] = { cost: money(f[k].cost, f[k].currency || currency), co2e: co2e(f[k].co2eKg) };
  return out;
}

/** The rows a page must show for `report`: its JSON figures through the shared formatters. */
export function expectedRows(report: Report): Omit<ShownRow, 'hidden'>[] {
  return [
    ...report.namespaces.map((n) => ({
      row: 'namespace',
      ns: n.namespace,
      kind: '',
      name: '',
      figures: formatted(n.figures, report.currency),
    })),
    ...report.namespaces.flatMap((n) =>
      n.workloads.map((w) => ({
        row: 'workload',
        ns: w.namespace,
        kind: w.kind,
        name: w.name,
        figures: formatted(w.figures, report.currency),
      })),
    ),
  ];
}

export interface CanvasState {
  readonly id: string;
  readonly chart: boolean;
  /** Data points over all its datasets. */
  readonly points: number;
  readonly painted: boolean;
  readonly width: number;
}

/** Waits until the page's script says the charts are drawn, then reads each canvas's pixels. */
export async function drawnCharts(page: Page): Promise<CanvasState[]> {
  await page.waitForSelector('body[data-charts="drawn"], body[data-charts="failed"]', { timeout: 15_000 });
  const state = await page.getAttribute('body', 'data-charts');
  if (state !== 'drawn')
    throw new Error(`the charts did not draw: ${await page.textContent('#tailor-charts-status')}`);
  return page.evaluate<CanvasState[]>(READ_CANVASES);
}

const READ_CANVASES = `[...document.querySelectorAll('canvas')].map((c, i) => {
  const ctx = c.getContext('2d');
  const data = ctx && c.width > 0 && c.height > 0 ? ctx.getImageData(0, 0, c.width, c.height).data : [];
  let painted = false;
  for (let p = 3; p < data.length; p += 4) if (data[p] > 0) { painted = true; break; }
  return {
    id: c.id || (c.getAttribute('data-series') + ':' + c.getAttribute('data-name') + '#' + i),
    chart: window.Chart?.getChart(c) !== undefined,
    points: (window.Chart?.getChart(c)?.data.datasets ?? []).reduce((n, d) => n + d.data.length, 0),
    painted,
    width: c.width,
  };
})`;
