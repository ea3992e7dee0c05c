// The HTML report without a browser: one self-contained file (no URL it could fetch), every tenant
// string escaped, the figures written by the shared formatters; and the /ui routes' answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { html } from '../../src/report/format/html.ts';
import { money } from '../../src/report/format/numbers.ts';
import { serveOperatorHttp } from '../../src/operator/http.ts';
import {
  FIXTURE_REPORT,
  HOSTILE_CONTAINER,
  HOSTILE_NAME,
  fixedReportProvider,
} from '../support/report-fixture.ts';

test('html: one file with chart.js and the data inline, and nothing it could load from elsewhere', () => {
  const page = html(FIXTURE_REPORT);
  assert.match(page, /^<!doctype html>/);
  assert.match(page, /Chart\.js v4/, 'chart.js is inlined');
  assert.doesNotMatch(page, /sourceMappingURL/, 'no source map to fetch');
  assert.doesNotMatch(page, /<(script|link|img|iframe)[^>]+(src|href)=/i, 'no element loads a resource');
  assert.match(page, /Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
  assert.match(page, /id="tailor-report"/, 'the report travels with the file');
});

test('html: a tenant name that is markup shows as text, and cannot end an attribute or the data block', () => {
  const page = html(FIXTURE_REPORT);
  assert.ok(!page.includes(HOSTILE_NAME), 'the raw <script> name never appears');
  assert.ok(page.includes('&lt;script&gt;window.__pwned=1&lt;/script&gt;'), 'it appears escaped');
  assert.ok(!page.includes(HOSTILE_CONTAINER), 'the quote in the container name is escaped');
  assert.ok(page.includes('x&quot; onmouseover=&quot;window.__pwned=2'));
  assert.ok(page.includes('\\u003cscript>window.__pwned=1\\u003c/script>'), 'inside the JSON too');
  assert.ok(page.includes('&lt;b&gt;(not bold)&lt;/b&gt;'), 'notes are text');
  // Exactly the four script elements this page means to have: config, data, chart.js, client.
  assert.equal(page.match(/<script[\s>]/g)?.length, 4);
});

test('html: figures are the shared formatter of the JSON figures, negative savings signed', () => {
  const page = html(FIXTURE_REPORT);
  const shop = FIXTURE_REPORT.namespaces.find((n) => n.namespace === 'shop')!;
  for (const k of ['requested', 'recommended', 'available', 'realised'] as const)
    assert.ok(page.includes(`>${money(shop.figures[k].cost, 'USD')}<`), `shop ${k}`);
  assert.ok(page.includes('>-$4.13<'), 'db costs more after its raise: a negative realised saving');
});

test('/ui: 503 with a sentence without a provider; the page, the JSON and the assets with one', async () => {
  const none = await serveOperatorHttp('127.0.0.1:0', new Registry(), () => ({ kind: 'Ready' }));
  try {
    const r = await fetch(`http://127.0.0.1:${none.port}/ui`);
    assert.equal(r.status, 503);
    assert.match(
      await r.text(),
      /savings report is not available: this operator runs without a report provider/,
    );
  } finally {
    await none.close();
  }
  const http = await serveOperatorHttp(
    '127.0.0.1:0',
    new Registry(),
    () => ({ kind: 'Ready' }),
    fixedReportProvider(),
  );
  const base = `http://127.0.0.1:${http.port}`;
  try {
    const json = await fetch(`${base}/ui/api/report.json`);
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), JSON.parse(JSON.stringify(FIXTURE_REPORT)));
    const narrowed = (await (
      await fetch(`${base}/ui/api/report.json?namespace=llm-team`)
    ).json()) as typeof FIXTURE_REPORT;
    assert.deepEqual(
      narrowed.namespaces.map((n) => n.namespace),
      ['llm-team'],
    );
    const page = await fetch(`${base}/ui?namespace=shop`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    const text = await page.text();
    assert.match(text, /<script src="\/ui\/assets\/chart.js">/);
    assert.ok(!text.includes(HOSTILE_NAME));
    assert.equal((await fetch(`${base}/ui/assets/chart.js`)).status, 200);
    assert.equal((await fetch(`${base}/ui/assets/dashboard.js`)).status, 200);
    const bad = await fetch(`${base}/ui?since=forever`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /since "forever" is not a duration: write it like 6h, 7d/);
    const wl = await fetch(`${base}/ui/workload/shop/${encodeURIComponent(HOSTILE_NAME)}`);
    assert.equal(wl.status, 200);
    assert.match(await wl.text(), /Resize history/);
    assert.equal(
      (await fetch(`${base}/ui/workload/shop/%E0%A4%A`)).status,
      404,
      'a malformed escape is not a crash',
    );
    assert.equal((await fetch(`${base}/ui`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${base}/metrics`)).status, 200, 'the other routes still answer');
  } finally {
    await http.close();
  }
});

test('/ui: a provider that fails answers 500 with its message, as text', async () => {
  const http = await serveOperatorHttp(
    '127.0.0.1:0',
    new Registry(),
    () => ({ kind: 'Ready' }),
    () => Promise.reject(new Error('history store <locked>')),
  );
  try {
    const r = await fetch(`http://127.0.0.1:${http.port}/ui`);
    assert.equal(r.status, 500);
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(await r.text(), /could not be built: history store <locked>/);
  } finally {
    await http.close();
  }
});
