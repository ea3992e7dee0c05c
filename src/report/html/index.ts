// The HTML renderings of the savings report: the self-contained file and the operator's /ui.
export { renderHtml, type HtmlOptions, type HtmlTarget } from './page.ts';
export { uiHandler, UI_BASE } from './serve.ts';
