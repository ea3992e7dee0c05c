// The webhook's HTTPS endpoint: POST /mutate-pods hands the AdmissionReview to admit, GET /healthz
// says it is up. Bodies are capped and decisions timed: whatever goes wrong, the pod is allowed.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { TailorError } from '../errors.ts';
import type { AdmitResult } from './admit.ts';
import { allow, type AdmissionReview } from './review.ts';

export const MUTATE_PODS_PATH = '/mutate-pods';
export const HEALTHZ_PATH = '/healthz';
/** A pod is rarely above a few KiB; 1 MiB leaves room for big ones and bounds what a request can cost. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Under the configuration's timeoutSeconds (5), so the apiserver gets our "allowed" rather than its own timeout. */
export const DEFAULT_DECISION_TIMEOUT_MS = 3_000;

export interface WebhookServerOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** Decides one parsed body (admit with its deps bound). */
  readonly decide: (body: unknown) => Promise<AdmitResult>;
  readonly maxBodyBytes?: number;
  readonly decisionTimeoutMs?: number;
  readonly log?: Logger;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** Serves this certificate from the next TLS handshake on (a renewal); open connections keep theirs. */
  setTls(tls: { readonly certPem: string; readonly keyPem: string }): void;
  close(): Promise<void>;
}

export async function serveWebhook(o: WebhookServerOptions): Promise<RunningServer> {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = o.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS;
  const server: Server = createServer(
    {
      cert: o.tls.certPem,
      key: o.tls.keyPem,
      // Bounds on a slow or stuck client; the apiserver itself gives up after timeoutSeconds.
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      // The apiserver keeps connections to webhooks open; closing them sooner only costs handshakes.
      keepAliveTimeout: 60_000,
    },
    (req, res) => {
      handle(req, res, o, maxBody, timeoutMs).catch((err: unknown) => {
        o.log?.error({ err }, 'webhook request failed');
        if (!res.headersSent) send(res, 500, { message: 'internal error' });
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new TailorError('InvalidInput', `cannot listen on ${o.host}:${o.port}: ${err.message}`, {
          cause: err,
          hint: 'choose another --port, or stop what is using it',
        }),
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: o.host,
    port,
    setTls: (tls) => server.setSecureContext({ cert: tls.certPem, key: tls.keyPem }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections from the apiserver would hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  o: WebhookServerOptions,
  maxBody: number,
  timeoutMs: number,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'https://webhook').pathname;
  if (path === HEALTHZ_PATH) return void res.end('ok');
  if (path !== MUTATE_PODS_PATH)
    return send(res, 404, { message: `no such path ${path}; POST ${MUTATE_PODS_PATH}` });
  if (req.method !== 'POST') return send(res, 405, { message: `${req.method} ${path}: use POST` });

  const read = await readCapped(req, maxBody);
  switch (read.kind) {
    case 'TooLarge': {
      const size = read.declared ?? read.seen;
      const message = `the AdmissionReview is ${read.declared !== undefined ? '' : 'over '}${size} bytes, above the webhook's cap of ${maxBody}`;
      o.log?.warn({ uid: read.uid, bytes: size, cap: maxBody }, `webhook: ${message}; pod allowed unchanged`);
      // The rest of the body may still be on its way: this connection is not reused.
      res.setHeader('connection', 'close');
      return send(res, 200, allow(read.uid, [`tailor: pod admitted unchanged: ${message}`]));
    }
    case 'Aborted':
      return;
    case 'Ok':
      break;
  }
  let body: unknown;
  try {
    body = JSON.parse(read.body.toString('utf8'));
  } catch (err) {
    body = undefined; // admit answers a malformed review with "allowed" and a warning
    o.log?.warn({ err }, 'webhook: body is not JSON');
  }
  const result = await withDeadline(o.decide(body), timeoutMs, body);
  const d = result.decision;
  switch (d.kind) {
    case 'Sized':
      o.log?.info(
        { policy: d.policy, uid: result.review.response.uid },
        `webhook: sized new pod: ${d.summary}`,
      );
      break;
    case 'Skipped':
      o.log?.debug({ reason: d.reason, policy: d.policy }, `webhook: pod left as written: ${d.message}`);
      break;
    case 'FailedOpen':
      o.log?.warn({ uid: result.review.response.uid }, `webhook: failed open: ${d.message}`);
      break;
  }
  send(res, 200, result.review);
}

/** Past the deadline the pod is allowed as written: the apiserver must not wait on a slow lookup. */
async function withDeadline(decision: Promise<AdmitResult>, ms: number, body: unknown): Promise<AdmitResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<AdmitResult>((resolve) => {
    timer = setTimeout(() => {
      const message = `no decision within ${ms}ms`;
      resolve({
        review: allow(uidIn(body), [`tailor: pod admitted unchanged: ${message}`]),
        decision: { kind: 'FailedOpen', message },
      });
    }, ms);
  });
  try {
    return await Promise.race([decision, late]);
  } finally {
    clearTimeout(timer);
  }
}

type BodyRead =
  | { readonly kind: 'Ok'; readonly body: Buffer }
  /** `uid` is found in the first bytes, so even this answer reaches the right request. */
  | { readonly kind: 'TooLarge'; readonly uid: string; readonly declared?: number; readonly seen: number }
  | { readonly kind: 'Aborted' };

/** How much of an oversized body is read (and thrown away) to keep the connection usable. */
const DRAIN_FACTOR = 8;
const HEAD_BYTES = 4096;

function readCapped(req: IncomingMessage, max: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let head = Buffer.alloc(0);
    let seen = 0;
    const tooLarge = () => ({
      kind: 'TooLarge' as const,
      uid: uidInText(head.toString('utf8')),
      ...(Number.isFinite(declared) ? { declared } : {}),
      seen,
    });
    req.on('data', (chunk: Buffer) => {
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      seen += chunk.length;
      if (seen <= max) chunks.push(chunk);
      else chunks.length = 0; // past the cap nothing more is kept
      if (seen > max * DRAIN_FACTOR) {
        // Past what is worth draining: answer now (the answer closes the connection).
        resolve(tooLarge());
        req.pause();
      }
    });
    req.on('end', () => resolve(seen > max ? tooLarge() : { kind: 'Ok', body: Buffer.concat(chunks) }));
    req.on('error', () => resolve({ kind: 'Aborted' }));
    req.on('aborted', () => resolve({ kind: 'Aborted' }));
  });
}

/** The apiserver writes request.uid before the object, so the first "uid" in the text is the request's. */
function uidInText(text: string): string {
  return /"uid"\s*:\s*"([^"\\]{1,128})"/.exec(text)?.[1] ?? '';
}

function uidIn(body: unknown): string {
  const uid = (body as { request?: { uid?: unknown } } | undefined)?.request?.uid;
  return typeof uid === 'string' ? uid : '';
}

function send(res: ServerResponse, status: number, body: AdmissionReview | { message: string }): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
