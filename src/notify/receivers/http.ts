// One POST of a JSON body to a receiver, bounded in time, never following a redirect, its answer
// classified for the dispatcher: delivered, worth retrying (timeouts, refused connections, 408, 429,
// 5xx) or not (other 4xx: the same body would be refused again). Reasons never carry the URL: a
// Slack webhook URL is itself the secret.
import type { SendResult } from '../types.ts';

export type Fetch = typeof fetch;

export interface PostOptions {
  readonly timeoutMs: number;
  readonly fetch?: Fetch;
  readonly headers?: Readonly<Record<string, string>>;
}

export async function postJson(url: string, body: unknown, o: PostOptions): Promise<SendResult> {
  const f = o.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...o.headers },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (err) {
    return { kind: 'Retry', reason: networkReason(err, o.timeoutMs) };
  }
  // The answer's body is read (so the connection can be reused) but never logged or kept: it is
  // the receiver's, and a hostile one could put anything there.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { kind: 'Delivered' };
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    const after = retryAfterMs(res.headers.get('retry-after'));
    return {
      kind: 'Retry',
      reason: `HTTP ${res.status}`,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  }
  if (res.status >= 300 && res.status < 400)
    return {
      kind: 'Failed',
      reason: `HTTP ${res.status}: a redirect, not followed (check the URL in the Secret)`,
    };
  return { kind: 'Failed', reason: `HTTP ${res.status}` };
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string } } | null;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout after ${timeoutMs / 1000}s`;
  const code = e?.cause?.code;
  return typeof code === 'string' ? `connection failed (${code})` : 'connection failed';
}

/** Retry-After in seconds (RFC 9110 also allows a date; both are read), capped at 10 minutes. */
export function retryAfterMs(v: string | null): number | undefined {
  if (v === null) return undefined;
  const s = Number(v);
  const ms = Number.isFinite(s) ? s * 1000 : new Date(v).getTime() - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 600_000) : undefined;
}
