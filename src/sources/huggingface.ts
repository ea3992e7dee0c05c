// Reads model metadata from the Hugging Face hub (or a mirror with the same URL layout): a
// repository's config.json, its safetensors index size, and a GGUF file's header by HTTP Range.
// Transport failures raise HuggingFaceError with a closed reason; content problems come back as
// the estimator's Result so a ModelDeployment condition can say what to change.
import { TailorError } from '../errors.ts';
import type { TailorErrorCode } from '../errors.ts';
import { catalogueArchitecture } from '../core/llm/catalogue/index.ts';
import { ggufArchitecture } from '../core/llm/gguf-architecture.ts';
import type { GgufHeader } from '../core/llm/gguf.ts';
import { parseGgufHeader } from '../core/llm/gguf.ts';
import { parseHfConfig } from '../core/llm/hf-config.ts';
import type { ModelArchitecture, Result } from '../core/llm/types.ts';
import { problem } from '../core/llm/types.ts';

export type HubErrorReason =
  /** No such repository, or a private one the token cannot see. */
  | 'RepoNotFound'
  | 'RevisionNotFound'
  /** The repository exists but has no such file. */
  | 'FileNotFound'
  /** The repository is gated: accept its licence on the hub and send a token. */
  | 'Gated'
  /** The hub rejected the token. */
  | 'Unauthorized'
  | 'RateLimited'
  | 'Timeout'
  | 'Unreachable'
  | 'ServerError'
  | 'BadResponse';

export class HuggingFaceError extends TailorError {
  /** HTTP status, when the hub answered. */
  readonly status: number | undefined;
  constructor(
    readonly reason: HubErrorReason,
    message: string,
    options: { cause?: unknown; hint: string; status?: number },
  ) {
    super(codeFor(reason), message, { cause: options.cause, hint: options.hint });
    this.status = options.status;
  }
}

function codeFor(reason: HubErrorReason): TailorErrorCode {
  switch (reason) {
    case 'RepoNotFound':
    case 'RevisionNotFound':
    case 'FileNotFound':
      return 'InvalidInput';
    case 'Gated':
    case 'Unauthorized':
      return 'Prerequisite';
    case 'Timeout':
      return 'Timeout';
    case 'RateLimited':
    case 'Unreachable':
    case 'ServerError':
    case 'BadResponse':
      return 'ComponentFailed';
  }
}

export interface HubOptions {
  /** Default https://huggingface.co; a mirror or a test server with the same layout works. */
  baseUrl?: string;
  /** Bearer token (from a Secret); needed for gated and private repositories. */
  token?: string;
  /** Per request, default 15 s. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

export interface ModelRef {
  /** "owner/name". */
  repo: string;
  /** Branch, tag or commit; default "main". */
  revision?: string;
}

const DEFAULT_BASE = 'https://huggingface.co';
const REPO_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;

function fileUrl(ref: ModelRef, file: string, opts: HubOptions): string {
  if (!REPO_ID.test(ref.repo) || ref.repo.includes('..')) {
    throw new HuggingFaceError('RepoNotFound', `"${ref.repo}" is not a Hugging Face repository id`, {
      hint: 'use the form owner/name, e.g. Qwen/Qwen2.5-7B-Instruct',
    });
  }
  const base = (opts.baseUrl ?? DEFAULT_BASE).replace(/\/+$/, '');
  const revision = encodeURIComponent(ref.revision ?? 'main');
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${base}/${ref.repo}/resolve/${revision}/${path}`;
}

function describe(ref: ModelRef): string {
  return `${ref.repo}@${ref.revision ?? 'main'}`;
}

/** Maps a failed response the way huggingface_hub does: X-Error-Code first, then the status. */
function errorFor(res: Response, ref: ModelRef, file: string, hasToken: boolean): HuggingFaceError {
  const code = res.headers.get('x-error-code');
  const status = res.status;
  const what = describe(ref);
  if (code === 'GatedRepo') {
    return new HuggingFaceError('Gated', `${what} is gated: its files need an accepted licence and a token`, {
      status,
      hint: hasToken
        ? 'accept the model licence on huggingface.co with the account that owns the token'
        : 'accept the licence on huggingface.co, then reference a Secret holding a Hugging Face token',
    });
  }
  if (code === 'RevisionNotFound') {
    return new HuggingFaceError('RevisionNotFound', `${what}: revision not found`, {
      status,
      hint: 'use an existing branch, tag or commit',
    });
  }
  if (code === 'EntryNotFound') {
    return new HuggingFaceError('FileNotFound', `${what} has no ${file}`, {
      status,
      hint:
        file === 'config.json'
          ? 'a GGUF-only repository needs format: gguf and a file name'
          : 'check the file name',
    });
  }
  if (code === 'RepoNotFound' || status === 404 || (status === 401 && !hasToken)) {
    return new HuggingFaceError(
      'RepoNotFound',
      `model ${ref.repo} not found${hasToken ? '' : ' (or it is private or gated)'}`,
      {
        status,
        hint: hasToken
          ? 'check the repository id'
          : 'check the repository id; a private or gated model needs a token from a Secret',
      },
    );
  }
  if (status === 401) {
    return new HuggingFaceError('Unauthorized', `the hub rejected the token for ${what}`, {
      status,
      hint: 'check the token in the Secret; it may be expired or revoked',
    });
  }
  if (status === 403) {
    return new HuggingFaceError('Gated', `the token cannot read ${what}`, {
      status,
      hint: 'give the token read access to the repository, or accept its licence',
    });
  }
  if (status === 429) {
    return new HuggingFaceError('RateLimited', `the hub rate-limited the request for ${what}`, {
      status,
      hint: 'retry later, or use a token (higher limits)',
    });
  }
  if (status >= 500) {
    return new HuggingFaceError('ServerError', `the hub answered ${status} for ${what}/${file}`, {
      status,
      hint: 'retry later',
    });
  }
  return new HuggingFaceError('BadResponse', `unexpected ${status} for ${what}/${file}`, {
    status,
    hint: 'check baseUrl points at a Hugging Face hub or mirror',
  });
}

async function get(
  url: string,
  ref: ModelRef,
  file: string,
  opts: HubOptions,
  headers: Record<string, string> = {},
): Promise<Response> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const h: Record<string, string> = { 'user-agent': 'tailor', ...headers };
  if (opts.token) h['authorization'] = `Bearer ${opts.token}`;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  try {
    // undici drops the Authorization header on the cross-origin redirect to the CDN, as it should.
    return await doFetch(url, { headers: h, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw transportError(err, ref, file, timeoutMs, opts);
  }
}

function transportError(
  err: unknown,
  ref: ModelRef,
  file: string,
  timeoutMs: number,
  opts: HubOptions,
): HuggingFaceError {
  if (err instanceof HuggingFaceError) return err;
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new HuggingFaceError(
      'Timeout',
      `fetching ${describe(ref)}/${file} took longer than ${timeoutMs} ms`,
      {
        cause: err,
        hint: 'check the network path to the hub, or raise the timeout',
      },
    );
  }
  return new HuggingFaceError(
    'Unreachable',
    `cannot reach ${opts.baseUrl ?? DEFAULT_BASE} for ${describe(ref)}`,
    {
      cause: err,
      hint: 'check DNS, proxy and egress rules for the operator, or set a reachable hub mirror',
    },
  );
}

async function readJson(res: Response, ref: ModelRef, file: string): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HuggingFaceError('BadResponse', `${describe(ref)}/${file} is not valid JSON`, {
      cause: err,
      hint: 'check the file in the repository',
    });
  }
}

/** The repository's config.json, decoded. */
export async function fetchConfigJson(ref: ModelRef, opts: HubOptions = {}): Promise<unknown> {
  const file = 'config.json';
  const res = await get(fileUrl(ref, file, opts), ref, file, opts);
  if (!res.ok) throw errorFor(res, ref, file, Boolean(opts.token));
  try {
    return await readJson(res, ref, file);
  } catch (err) {
    throw transportError(err, ref, file, opts.timeoutMs ?? 15_000, opts);
  }
}

/**
 * metadata.total_size of model.safetensors.index.json: the exact bytes of a sharded checkpoint.
 * Undefined when the repository has a single model.safetensors (no index).
 */
export async function fetchSafetensorsTotalSize(
  ref: ModelRef,
  opts: HubOptions = {},
): Promise<number | undefined> {
  const file = 'model.safetensors.index.json';
  const res = await get(fileUrl(ref, file, opts), ref, file, opts);
  if (res.status === 404 && res.headers.get('x-error-code') !== 'RepoNotFound') return undefined;
  if (!res.ok) throw errorFor(res, ref, file, Boolean(opts.token));
  const json = await readJson(res, ref, file);
  const meta = (json as { metadata?: { total_size?: unknown } } | null)?.metadata;
  return typeof meta?.total_size === 'number' ? meta.total_size : undefined;
}

/** The catalogue's entry when it has one, else the repository's config.json. */
export async function resolveArchitecture(
  ref: ModelRef,
  opts: HubOptions = {},
): Promise<Result<ModelArchitecture>> {
  const known = catalogueArchitecture(ref.repo);
  if (known !== undefined) return known;
  const parsed = parseHfConfig(await fetchConfigJson(ref, opts));
  if (parsed.kind === 'ok' && parsed.value.name === undefined) parsed.value.name = ref.repo;
  return parsed;
}

/** Reads bytes [start, end) of a file; fewer when the file ends first. Servers that ignore Range are handled. */
async function fetchRange(
  ref: ModelRef,
  file: string,
  start: number,
  end: number,
  opts: HubOptions,
): Promise<Uint8Array> {
  const res = await get(fileUrl(ref, file, opts), ref, file, opts, { range: `bytes=${start}-${end - 1}` });
  if (res.status === 416) return new Uint8Array(0);
  if (!res.ok) throw errorFor(res, ref, file, Boolean(opts.token));
  const skip = res.status === 206 ? 0 : start;
  const want = end - start;
  try {
    return await readPrefix(res, skip, want);
  } catch (err) {
    throw transportError(err, ref, file, opts.timeoutMs ?? 15_000, opts);
  }
}

/** Reads `want` bytes after skipping `skip`, then stops the download. */
async function readPrefix(res: Response, skip: number, want: number): Promise<Uint8Array> {
  const out = new Uint8Array(want);
  let filled = 0;
  let skipped = 0;
  if (res.body === null) return out.subarray(0, 0);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  try {
    while (filled < want) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      if (skipped < skip) {
        const drop = Math.min(skip - skipped, chunk.byteLength);
        skipped += drop;
        chunk = chunk.subarray(drop);
      }
      const take = Math.min(chunk.byteLength, want - filled);
      out.set(chunk.subarray(0, take), filled);
      filled += take;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return out.subarray(0, filled);
}

export interface GgufFetchOptions extends HubOptions {
  /** First request size; default 4 MiB (a tokenizer with 150k tokens needs more, so it grows). */
  initialBytes?: number;
  /** Give up past this header size; default 64 MiB. */
  maxBytes?: number;
}

/** Fetches a GGUF file's header with Range requests, growing the range until the header parses. */
export async function fetchGgufHeader(
  ref: ModelRef & { file: string },
  opts: GgufFetchOptions = {},
): Promise<Result<GgufHeader>> {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  let want = Math.min(opts.initialBytes ?? 4 * 1024 * 1024, maxBytes);
  let buf = new Uint8Array(0);
  for (;;) {
    const more = await fetchRange(ref, ref.file, buf.byteLength, want, opts);
    const next = new Uint8Array(buf.byteLength + more.byteLength);
    next.set(buf, 0);
    next.set(more, buf.byteLength);
    const ended = more.byteLength < want - buf.byteLength;
    buf = next;
    const parsed = parseGgufHeader(buf);
    switch (parsed.outcome) {
      case 'Parsed':
        return { kind: 'ok', value: parsed.header };
      case 'Invalid':
        return { kind: 'problem', problem: parsed.problem };
      case 'Truncated':
        if (ended) {
          return problem(
            'InvalidGguf',
            `${ref.file} ends (${buf.byteLength} bytes) inside its GGUF header`,
            'the file is truncated or not a GGUF model; download it again',
          );
        }
        if (want >= maxBytes) {
          return problem(
            'InvalidGguf',
            `${ref.file}: GGUF header is larger than ${maxBytes} bytes`,
            'raise maxBytes if this header is genuinely that large',
          );
        }
        want = Math.min(want * 2, maxBytes);
    }
  }
}

/** A GGUF file's architecture with exact weight bytes from its tensor table. */
export async function fetchGgufArchitecture(
  ref: ModelRef & { file: string },
  opts: GgufFetchOptions = {},
): Promise<Result<ModelArchitecture>> {
  const header = await fetchGgufHeader(ref, opts);
  if (header.kind === 'problem') return header;
  const arch = ggufArchitecture(header.value);
  if (arch.kind === 'ok' && arch.value.name === undefined) arch.value.name = `${ref.repo}/${ref.file}`;
  return arch;
}
