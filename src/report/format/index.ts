// The report's output formats, a closed set: each renders the Report model alone.
import type { Report } from '../../core/report/model.ts';
import { renderCsv } from './csv.ts';
import { html } from './html.ts';
import { renderJson } from './json.ts';
import { renderMarkdown } from './markdown.ts';
import { renderTable } from './table.ts';

export const REPORT_FORMATS = ['table', 'json', 'csv', 'markdown', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(r: Report, format: ReportFormat): string {
  switch (format) {
    case 'table':
      return renderTable(r);
    case 'json':
      return renderJson(r);
    case 'csv':
      return renderCsv(r);
    case 'markdown':
      return renderMarkdown(r);
    case 'html':
      return html(r);
  }
}
