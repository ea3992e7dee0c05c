// `tailor report -o html`: the Report as one self-contained HTML file (chart.js, script and data
// inline; it opens without a network). The rendering itself lives in src/report/html.
import type { Report } from '../../core/report/model.ts';
import { renderHtml } from '../html/page.ts';

export function html(report: Report): string {
  return renderHtml(report, { target: { kind: 'File' } });
}
