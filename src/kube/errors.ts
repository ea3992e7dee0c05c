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
  const message = body.message ?? e.message ?? String(err);
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
