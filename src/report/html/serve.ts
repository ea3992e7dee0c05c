// The operator's dashboard routes under /ui: the page, one workload's page, the Report JSON the
// pages chart (the same object `tailor report -o json` prints), and the scripts. Read-only, GET only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../../api/common.ts';
import type { Report, ReportProvider, ReportQuery } from '../../core/report/model.ts';
import { describe } from '../../errors.ts';
import { CLIENT_JS, chartJsSource } from './assets.ts';
import { LIVE_CSP, renderHtml } from './page.ts';

export const UI_BASE = '/ui';
const DEFAULT_SINCE = '7d';
/** How long a built report answers the same query again (a page, then its JSON). */
const REUSE_MS = 15_000;

/** Why a request is answered without a report: a closed set, each with the sentence a person reads. */
type Refusal =
  | { readonly kind: 'NoProvider' }
  | { readonly kind: 'BadSince'; readonly value: string }
  | { readonly kind: 'BadNamespace' }
  | { readonly kind: 'NotFound'; readonly path: string }
  | { readonly kind: 'Method'; readonly method: string }
  | { readonly kind: 'ReportFailed'; readonly message: string };

function refuse(res: ServerResponse, r: Refusal): void {
  const [status, text] = ((): [number, string] => {
    switch (r.kind) {
      case 'NoProvider':
        return [503, 'The savings report is not available: this operator runs without a report provider.'];
      case 'BadSince':
        return [400, `since "${r.value}" is not a duration: write it like 6h, 7d or 30d.`];
      case 'BadNamespace':
        return [400, 'namespace is not a namespace name (at most 253 characters).'];
      case 'NotFound':
        return [
          404,
          `Nothing at ${r.path}: try ${UI_BASE}, ${UI_BASE}/api/report.json or ${UI_BASE}/workload/NAMESPACE/NAME.`,
        ];
      case 'Method':
        return [405, `${r.method} is not served here: the dashboard is read-only (GET).`];
      case 'ReportFailed':
        return [500, `The savings report could not be built: ${r.message}`];
    }
  })();
  res
    .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
    .end(`${text}\n`);
}

interface Params {
  readonly namespace?: string;
  readonly since: string;
  readonly query: ReportQuery;
}

function params(url: URL): Params | Refusal {
  const since = url.searchParams.get('since') || DEFAULT_SINCE;
  const ms = parseDuration(since);
  if (ms === undefined || ms <= 0) return { kind: 'BadSince', value: since };
  const namespace = url.searchParams.get('namespace') || undefined;
  if (namespace !== undefined && namespace.length > 253) return { kind: 'BadNamespace' };
  return {
    ...(namespace !== undefined ? { namespace } : {}),
    since,
    query: { ...(namespace !== undefined ? { namespaces: [namespace] } : {}), sinceSeconds: ms / 1000 },
  };
}

/** A path segment decoded, or undefined when its %-escapes are malformed. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

const isRefusal = (p: Params | Refusal): p is Refusal => 'kind' in p;

function send(res: ServerResponse, type: string, body: string, cache = 'no-store'): void {
  res
    .writeHead(200, {
      'content-type': type,
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
      ...(type.startsWith('text/html')
        ? { 'content-security-policy': LIVE_CSP, 'referrer-policy': 'no-referrer' }
        : {}),
    })
    .end(body);
}

/**
 * The /ui request handler: answers every path under /ui (true) and leaves the rest (false).
 * Without a provider every page answers 503 with a sentence.
 */
export function uiHandler(
  provider: ReportProvider | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  // The namespaces the filter offers: those seen in any report served, so a filtered page still lists the others.
  const known = new Set<string>();
  // A page and the JSON its script fetches right after are one Report (same figures to the cent,
  // one build): a report is reused for the same query for a few seconds, and shared while it builds.
  const recent = new Map<string, { readonly at: number; readonly report: Promise<Report> }>();
  const build = async (p: Params): Promise<Report> => {
    const key = JSON.stringify(p.query);
    const now = Date.now();
    for (const [k, v] of recent) if (now - v.at > REUSE_MS) recent.delete(k);
    let entry = recent.get(key);
    if (!entry) {
      entry = { at: now, report: provider!(p.query) };
      recent.set(key, entry);
      entry.report.catch(() => recent.delete(key));
    }
    const report = await entry.report;
    for (const n of report.namespaces) known.add(n.namespace);
    return report;
  };
  const dataUrl = (p: Params) =>
    `${UI_BASE}/api/report.json?${new URLSearchParams({ ...(p.namespace ? { namespace: p.namespace } : {}), since: p.since }).toString()}`;

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const path = url.pathname;
    if (path !== UI_BASE && !path.startsWith(`${UI_BASE}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, { kind: 'Method', method: req.method ?? '?' });
      return true;
    }
    if (path === `${UI_BASE}/assets/chart.js`) {
      send(res, 'text/javascript; charset=utf-8', chartJsSource(), 'public, max-age=3600');
      return true;
    }
    if (path === `${UI_BASE}/assets/dashboard.js`) {
      send(res, 'text/javascript; charset=utf-8', CLIENT_JS, 'no-cache');
      return true;
    }
    if (!provider) {
      refuse(res, { kind: 'NoProvider' });
      return true;
    }
    const p = params(url);
    if (isRefusal(p)) {
      refuse(res, p);
      return true;
    }
    const workload = /^\/ui\/workload\/([^/]+)\/([^/]+)$/.exec(path);
    let answer: Promise<void>;
    if (path === UI_BASE || path === `${UI_BASE}/`) {
      answer = build(p).then((report) =>
        send(
          res,
          'text/html; charset=utf-8',
          renderHtml(report, {
            target: {
              kind: 'Live',
              base: UI_BASE,
              dataUrl: dataUrl(p),
              since: p.since,
              namespaces: [...known],
              ...(p.namespace ? { namespace: p.namespace } : {}),
            },
          }),
        ),
      );
    } else if (path === `${UI_BASE}/api/report.json`) {
      answer = build(p).then((report) =>
        send(res, 'application/json; charset=utf-8', JSON.stringify(report)),
      );
    } else if (workload && decoded(workload[1]!) !== undefined && decoded(workload[2]!) !== undefined) {
      const namespace = decoded(workload[1]!)!;
      const name = decoded(workload[2]!)!;
      const q: Params = {
        namespace,
        since: p.since,
        query: { namespaces: [namespace], sinceSeconds: p.query.sinceSeconds },
      };
      answer = build(q).then((report) =>
        send(
          res,
          'text/html; charset=utf-8',
          renderHtml(report, {
            target: {
              kind: 'Live',
              base: UI_BASE,
              dataUrl: dataUrl(q),
              since: p.since,
              namespaces: [...known],
              namespace,
            },
            workload: { namespace, name },
          }),
        ),
      );
    } else {
      refuse(res, { kind: 'NotFound', path });
      return true;
    }
    answer.catch((err: unknown) => {
      if (!res.headersSent) refuse(res, { kind: 'ReportFailed', message: describe(err) });
      else res.destroy();
    });
    return true;
  };
}
