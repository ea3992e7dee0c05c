// The operator's HTTP endpoint: /healthz (the process serves), /readyz (every controller has synced
// its caches and started), /metrics (Prometheus text).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { TailorError } from '../errors.ts';

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
  ready: () => boolean,
): Promise<OperatorHttp> {
  const { host, port } = parseAddr(addr);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    switch (path) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz': {
        const ok = ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'starting\n');
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
          .end('not found: try /metrics, /healthz, /readyz\n');
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
