// The Hugging Face fetcher against a local node:http server that answers the way the hub does
// (X-Error-Code headers, 401 for unknown or gated repos, Range requests, redirects).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  HuggingFaceError,
  fetchConfigJson,
  fetchGgufArchitecture,
  fetchGgufHeader,
  fetchSafetensorsTotalSize,
  resolveArchitecture,
} from '../../src/sources/huggingface.ts';
import { lookupModelConfig } from '../../src/core/llm/catalogue/index.ts';
import { tinyLlamaGguf } from './llm-gguf-fixture.ts';

const TOKEN = 'hf_test_token';
const tiny = tinyLlamaGguf();
const config = { ...lookupModelConfig('Qwen/Qwen2.5-7B-Instruct'), _name_or_path: 'acme/custom-7b' };
let server: Server;
let base = '';
const requests: Array<{ url: string; range?: string; auth?: string }> = [];

function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Uint8Array,
  honourRange: boolean,
): void {
  const range = req.headers.range;
  const m = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
  if (honourRange && m) {
    const start = Number(m[1]);
    if (start >= bytes.length) {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
      return;
    }
    const end = Math.min(Number(m[2]), bytes.length - 1);
    res.writeHead(206, {
      'content-range': `bytes ${start}-${end}/${bytes.length}`,
      'content-length': end - start + 1,
    });
    res.end(Buffer.from(bytes.subarray(start, end + 1)));
    return;
  }
  res.writeHead(200, { 'content-length': bytes.length });
  res.end(Buffer.from(bytes));
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  requests.push({ url, range: req.headers.range, auth: req.headers.authorization });
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const authed = req.headers.authorization === `Bearer ${TOKEN}`;
  switch (url) {
    case '/acme/custom-7b/resolve/main/config.json':
      return json(200, config);
    case '/acme/custom-7b/resolve/refs%2Fpr%2F1/config.json':
      return json(200, { ...config, num_hidden_layers: 30 });
    case '/acme/custom-7b/resolve/v9/config.json':
      return json(404, { error: 'Invalid rev id: v9' }, { 'x-error-code': 'RevisionNotFound' });
    case '/acme/custom-7b/resolve/main/model.safetensors.index.json':
      return json(200, { metadata: { total_size: 15231233024 }, weight_map: {} });
    case '/acme/single/resolve/main/model.safetensors.index.json':
      return json(404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    case '/acme/gguf-only/resolve/main/config.json':
      return json(404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    case '/acme/private/resolve/main/config.json':
      // The hub answers 401 RepoNotFound to anonymous requests for private repositories.
      return authed
        ? json(200, config)
        : json(401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    case '/acme/gated/resolve/main/config.json':
      return authed
        ? json(200, config)
        : json(401, { error: 'Access to model acme/gated is restricted.' }, { 'x-error-code': 'GatedRepo' });
    case '/acme/forbidden/resolve/main/config.json':
      return json(403, { error: 'forbidden' });
    case '/acme/broken/resolve/main/config.json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"model_type": ');
      return;
    case '/acme/flaky/resolve/main/config.json':
      return json(503, { error: 'unavailable' });
    case '/acme/limited/resolve/main/config.json':
      return json(429, { error: 'slow down' });
    case '/acme/slow/resolve/main/config.json':
      setTimeout(() => json(200, config), 2000).unref();
      return;
    case '/acme/gguf/resolve/main/tiny-Q4_K_M.gguf':
      // LFS files redirect to a CDN; the range must survive the redirect.
      res.writeHead(302, { location: '/cdn/tiny.gguf' }).end();
      return;
    case '/cdn/tiny.gguf':
      return serveBytes(req, res, tiny.bytes, true);
    case '/acme/gguf/resolve/main/norange.gguf':
      return serveBytes(req, res, tiny.bytes, false);
    case '/acme/gguf/resolve/main/short.gguf':
      return serveBytes(req, res, tiny.bytes.subarray(0, 5000), true);
    case '/acme/gguf/resolve/main/notgguf.gguf':
      return serveBytes(req, res, new TextEncoder().encode('<html>not a model</html>'), true);
    default:
      return json(401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
  }
}

void before(async () => {
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

void after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function rejectsWith(p: Promise<unknown>, reason: string, code: string, hint?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HuggingFaceError, String(err));
    assert.equal(err.reason, reason);
    assert.equal(err.code, code);
    if (hint) assert.match(err.message, hint);
    assert.ok(!err.message.includes(TOKEN), 'never leaks the token');
    return true;
  });
}

void test('fetches and decodes config.json', async () => {
  const c = (await fetchConfigJson({ repo: 'acme/custom-7b' }, { baseUrl: base })) as Record<string, unknown>;
  assert.equal(c['hidden_size'], 3584);
});

void test('revisions are URL-encoded', async () => {
  const c = (await fetchConfigJson(
    { repo: 'acme/custom-7b', revision: 'refs/pr/1' },
    { baseUrl: base },
  )) as Record<string, unknown>;
  assert.equal(c['num_hidden_layers'], 30);
});

void test('unknown repository: RepoNotFound, and the hint mentions a token for private models', async () => {
  await rejectsWith(
    fetchConfigJson({ repo: 'acme/nothing' }, { baseUrl: base }),
    'RepoNotFound',
    'InvalidInput',
    /private or gated/,
  );
});

void test('gated repository without a token: Gated, asks for a token from a Secret', async () => {
  await rejectsWith(
    fetchConfigJson({ repo: 'acme/gated' }, { baseUrl: base }),
    'Gated',
    'Prerequisite',
    /Secret/,
  );
});

void test('the bearer token opens gated and private repositories', async () => {
  for (const repo of ['acme/gated', 'acme/private']) {
    const c = (await fetchConfigJson({ repo }, { baseUrl: base, token: TOKEN })) as Record<string, unknown>;
    assert.equal(c['hidden_size'], 3584);
  }
  assert.equal(requests.at(-1)?.auth, `Bearer ${TOKEN}`);
});

const failures: Array<{ name: string; repo: string; revision?: string; reason: string; code: string }> = [
  {
    name: 'missing revision',
    repo: 'acme/custom-7b',
    revision: 'v9',
    reason: 'RevisionNotFound',
    code: 'InvalidInput',
  },
  {
    name: 'no config.json (a GGUF-only repo)',
    repo: 'acme/gguf-only',
    reason: 'FileNotFound',
    code: 'InvalidInput',
  },
  { name: '403', repo: 'acme/forbidden', reason: 'Gated', code: 'Prerequisite' },
  { name: 'invalid JSON', repo: 'acme/broken', reason: 'BadResponse', code: 'ComponentFailed' },
  { name: '503', repo: 'acme/flaky', reason: 'ServerError', code: 'ComponentFailed' },
  { name: '429', repo: 'acme/limited', reason: 'RateLimited', code: 'ComponentFailed' },
  { name: 'not a repository id', repo: '../etc/passwd', reason: 'RepoNotFound', code: 'InvalidInput' },
];

for (const f of failures) {
  void test(`config.json failure: ${f.name}`, async () => {
    await rejectsWith(
      fetchConfigJson(
        { repo: f.repo, revision: f.revision },
        { baseUrl: base, token: f.repo === 'acme/forbidden' ? TOKEN : undefined },
      ),
      f.reason,
      f.code,
    );
  });
}

void test('timeout', async () => {
  await rejectsWith(
    fetchConfigJson({ repo: 'acme/slow' }, { baseUrl: base, timeoutMs: 150 }),
    'Timeout',
    'Timeout',
  );
});

void test('unreachable hub', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await rejectsWith(
    fetchConfigJson({ repo: 'acme/custom-7b' }, { baseUrl: `http://127.0.0.1:${port}` }),
    'Unreachable',
    'ComponentFailed',
  );
});

void test('safetensors index total size, and undefined for a single-file checkpoint', async () => {
  assert.equal(await fetchSafetensorsTotalSize({ repo: 'acme/custom-7b' }, { baseUrl: base }), 15231233024);
  assert.equal(await fetchSafetensorsTotalSize({ repo: 'acme/single' }, { baseUrl: base }), undefined);
});

void test('resolveArchitecture answers catalogued models without a request and fetches the rest', async () => {
  const before = requests.length;
  const known = await resolveArchitecture({ repo: 'qwen/qwen2.5-7b-instruct' }, { baseUrl: base });
  assert.equal(requests.length, before);
  assert.equal(known.kind === 'ok' && known.value.name, 'Qwen/Qwen2.5-7B-Instruct');
  const fetched = await resolveArchitecture({ repo: 'acme/custom-7b' }, { baseUrl: base });
  assert.equal(requests.length, before + 1);
  assert.equal(fetched.kind === 'ok' && fetched.value.hiddenSize, 3584);
});

void test('GGUF header through a redirect with Range requests that grow until the header parses', async () => {
  const before = requests.length;
  const r = await fetchGgufHeader(
    { repo: 'acme/gguf', file: 'tiny-Q4_K_M.gguf' },
    { baseUrl: base, initialBytes: 1024 },
  );
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.value.tensors.length, tiny.tensors.length);
  const ranges = requests
    .slice(before)
    .filter((q) => q.url === '/cdn/tiny.gguf')
    .map((q) => q.range);
  assert.ok(ranges.length >= 3, `grew in steps: ${ranges.join(', ')}`);
  assert.equal(ranges[0], 'bytes=0-1023');
  assert.equal(ranges[1], 'bytes=1024-2047');
});

void test('GGUF header from a server that ignores Range', async () => {
  const r = await fetchGgufArchitecture(
    { repo: 'acme/gguf', file: 'norange.gguf' },
    { baseUrl: base, initialBytes: 4096 },
  );
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.value.exact?.weightBytes, tiny.weightBytes);
  assert.equal(r.value.name, 'Tiny Llama');
});

void test('GGUF file that ends inside its header, or is not GGUF at all', async () => {
  const short = await fetchGgufHeader(
    { repo: 'acme/gguf', file: 'short.gguf' },
    { baseUrl: base, initialBytes: 1024 },
  );
  assert.equal(short.kind === 'problem' && short.problem.reason, 'InvalidGguf');
  assert.match(short.kind === 'problem' ? short.problem.message : '', /ends/);
  const html = await fetchGgufHeader({ repo: 'acme/gguf', file: 'notgguf.gguf' }, { baseUrl: base });
  assert.equal(html.kind === 'problem' && html.problem.reason, 'InvalidGguf');
});

void test('GGUF header larger than the limit', async () => {
  const r = await fetchGgufHeader(
    { repo: 'acme/gguf', file: 'tiny-Q4_K_M.gguf' },
    { baseUrl: base, initialBytes: 256, maxBytes: 2048 },
  );
  assert.equal(r.kind === 'problem' && r.problem.reason, 'InvalidGguf');
  assert.match(r.kind === 'problem' ? r.problem.message : '', /larger than 2048/);
});
