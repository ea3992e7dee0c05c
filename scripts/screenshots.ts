// The README's screenshots: the dashboard of a running `tailor demo` and the HTML report of the same
// fleet, taken in Debian's Chromium through playwright-core.
//   npx tailor demo --port 8080 &   (wait for resizes: a few minutes)
//   node --import tsx scripts/screenshots.ts http://127.0.0.1:8080 KUBECONFIG docs/images
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runReport } from '../src/cli/commands/report.ts';

const [base, kubeconfig, out = 'docs/images'] = process.argv.slice(2);
if (!base || !kubeconfig) {
  process.stderr.write('usage: scripts/screenshots.ts OPERATOR_URL KUBECONFIG [OUT_DIR]\n');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.TAILOR_TEST_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${base}/ui`);
  await page.waitForSelector('canvas');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(out, 'dashboard.png') });
  const html = await runReport({ kubeconfig, allNamespaces: true, since: '7d', output: 'html' });
  const file = join(tmpdir(), 'tailor-report.html');
  writeFileSync(file, html);
  await page.goto(pathToFileURL(file).href);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(out, 'report-html.png') });
  process.stdout.write(`wrote ${join(out, 'dashboard.png')} and ${join(out, 'report-html.png')}\n`);
} finally {
  await browser.close();
}
