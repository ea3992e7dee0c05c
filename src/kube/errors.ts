// Kubernetes API errors, classified once here so callers switch on a meaning, not on numbers.
import { TailorError } from '../errors.ts';

export type ApiErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'AlreadyExists'
  | 'Invalid'
  | 'Forbidden'
  | 'TooManyRequests'
  | 'Unavailable'
  | 'Other';

export interface ApiFailure {
  kind: ApiErrorKind;
  status: number;
  message: string;
  reason?: string;
}

export function classify(err: unknown): ApiFailure {
  const e = err as { code?: number; body?: unknown; message?: string; cause?: { code?: string } };
  let body: { message?: string; reason?: string } = {};
  try {
    body = typeof e.body === 'string' ? (JSON.parse(e.body) as typeof body) : (e.body ?? {});
  } catch {
    // a non-JSON body (a proxy's HTML page, say)
  }
  // Only HTTP answers carry a status; a DOMException (our request timeout) has a numeric code too.
  const status = typeof e.code === 'number' && e.code >= 100 && e.code <= 599 ? e.code : 0;
  // client-node's ApiException message carries the body and every response header: only its own
  // "Message:" line is kept when the body says nothing readable.
  const exception = /^HTTP-Code: \d+\nMessage: (.*)$/m.exec(e.message ?? '')?.[1];
  const message = body.message ?? exception ?? e.message ?? String(err);
  const kind: ApiErrorKind =
    status === 404
      ? 'NotFound'
      : status === 409
        ? body.reason === 'AlreadyExists'
          ? 'AlreadyExists'
          : 'Conflict'
        : status === 422 || status === 400
          ? 'Invalid'
          : status === 403 || status === 401
            ? 'Forbidden'
            : status === 429
              ? 'TooManyRequests'
              : status === 0 || status >= 500
                ? 'Unavailable'
                : 'Other';
  return { kind, status, message, ...(body.reason ? { reason: body.reason } : {}) };
}

export function isNotFound(err: unknown): boolean {
  return classify(err).kind === 'NotFound';
}

export function isAlreadyExists(err: unknown): boolean {
  return classify(err).kind === 'AlreadyExists';
}

/** Wraps an API error as Tailor's error type, keeping the server's own message. */
export function toTailorError(what: string, err: unknown): TailorError {
  const f = classify(err);
  return new TailorError('KubernetesApi', `${what}: ${f.kind} (HTTP ${f.status}): ${f.message}`, {
    cause: err,
  });
}

/**
 * An error as one short log line: an API answer as its Status message and code (never client-node's
 * dump of headers and body), anything else by its message, cause code and hint on the same line.
 */
export function errorLine(err: unknown): string {
  const f = classify(err);
  if (f.status > 0) return oneLine(`${f.message} (HTTP ${f.status}${f.reason ? ` ${f.reason}` : ''})`);
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const text = typeof e?.message === 'string' ? e.message : String(err);
  // fetch's "fetch failed" says nothing; its cause (ECONNREFUSED, a TLS error) says what.
  const cause = e?.cause?.code ?? e?.cause?.message;
  return oneLine(typeof cause === 'string' && !text.includes(cause) ? `${text} (${cause})` : text);
}

function oneLine(s: string): string {
  const line = s.replace(/\r?\n\s*/g, '; ');
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}
