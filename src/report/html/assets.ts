// What a page needs besides its data: chart.js (the npm package's UMD build, read once from
// node_modules, never a CDN), the client script, the style sheet, and the CSP hashes of them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TailorError } from '../../errors.ts';
import { CLIENT_JS } from './client.ts';

let chartJs: string | undefined;

/** chart.js's UMD build (defines window.Chart), without its source-map comment (nothing to fetch). */
export function chartJsSource(): string {
  if (chartJs !== undefined) return chartJs;
  let path = '';
  try {
    // The package's exports map hides dist/chart.umd.min.js: resolve its entry and look beside it.
    path = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
    chartJs = readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  } catch (err) {
    throw new TailorError('Prerequisite', `cannot read chart.js (${path || 'not installed'})`, {
      cause: err,
      hint: 'reinstall Tailor (npm ci): the chart.js package is one of its dependencies',
    });
  }
  return chartJs;
}

export { CLIENT_JS };

/** The value of a CSP script-src/style-src hash source for an inline element's exact text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export const CSS = `
:root { --fg: #1c2833; --muted: #5d6d7e; --line: #d5d8dc; --bg: #fbfcfc; --neg: #b03a2e; --pos: #1e8449; }
* { box-sizing: border-box; }
body { margin: 0; padding: 0 1.5rem 3rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 2rem; padding: 1rem 0; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1.5rem 0 .4rem; }
.meta, .muted { color: var(--muted); }
[hidden] { display: none !important; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; background: #fff; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f3f4; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
td .co2e { display: block; color: var(--muted); font-size: .9em; }
.neg { color: var(--neg); }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; min-width: 11rem; }
.card .v { font-size: 1.25rem; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; }
.chart { position: relative; height: 16rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
.chart h4 { margin: 0 0 .25rem; font-size: .9rem; }
.chart .box { position: relative; height: calc(100% - 1.4rem); }
.workload { border-top: 1px dashed var(--line); margin-top: 1rem; }
.notes li { margin: .2rem 0; }
select { font: inherit; padding: .15rem .3rem; }
a { color: #1f618d; }
`;
