// The operator's HTTP endpoint: /healthz (the process serves), /readyz (started, and every required
// watch follows the API now: false while one is down or relisting), /metrics (Prometheus text),
// /ui (the savings dashboard, src/report/html/serve.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { TailorError } from '../errors.ts';
import type { ReportProvider } from '../core/report/model.ts';
import { uiHandler } from '../report/html/serve.ts';

/** What /readyz answers: 200 only for `Ready`; the body says why not. */
export type Readiness =
  | { readonly kind: 'Ready' }
  | { readonly kind: 'Starting' }
  /** A watch failed (the apiserver away, a 403...): its cache may be stale until it relists. */
  | { readonly kind: 'WatchesDown'; readonly watches: readonly string[] };

export function readinessBody(r: Readiness): string {
  switch (r.kind) {
    case 'Ready':
      return 'ok\n';
    case 'Starting':
      return 'starting\n';
    case 'WatchesDown':
      return `watches not synced (relisting after a failure): ${r.watches.join(', ')}\n`;
  }
}

export interface OperatorHttp {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** "host:port", ":port" or "port"; port 0 picks a free one. */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new TailorError('InvalidInput', `address "${addr}" is not host:port`, {
      hint: 'e.g. --metrics-addr :8080 or 127.0.0.1:9090 (port 0 picks a free one)',
    });
  }
  const host = m[1] === undefined || m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

export async function serveOperatorHttp(
  addr: string,
  registry: Registry,
  ready: () => Readiness,
  /** The savings report /ui shows; absent: /ui answers 503 with a sentence. */
  report?: ReportProvider,
): Promise<OperatorHttp> {
  const { host, port } = parseAddr(addr);
  const ui = uiHandler(report);
  const server: Server = createServer((req, res) => {
    if (ui(req, res)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    switch (path) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz': {
        const r = ready();
        res.writeHead(r.kind === 'Ready' ? 200 : 503, { 'content-type': 'text/plain' }).end(readinessBody(r));
        return;
      }
      case '/metrics':
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
        return;
      default:
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('not found: try /ui, /metrics, /healthz, /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new TailorError('InvalidInput', `cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
          hint:
            err.code === 'EADDRINUSE'
              ? 'another process uses the port: pass --metrics-addr with another one'
              : undefined,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
