// Polls a component's health endpoint until it answers ok, or the component dies, or time runs out.
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { TailorError } from '../errors.ts';
import type { RunningProcess } from './process.ts';

export interface TlsClient {
  ca?: string;
  cert?: string;
  key?: string;
}

export function get(
  url: string,
  tls: TlsClient = {},
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const fn = u.protocol === 'https:' ? request : httpRequest;
    const req = fn(
      u,
      { method: 'GET', timeout: timeoutMs, ...tls, rejectUnauthorized: u.protocol === 'https:' && !!tls.ca },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function waitHealthy(
  proc: RunningProcess,
  url: string,
  tls: TlsClient,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new TailorError(
        'ComponentFailed',
        `${proc.name} exited (${await proc.exited}) while starting; its last log lines:\n${indent(proc.tail())}`,
      );
    }
    try {
      const res = await get(url, tls);
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new TailorError(
    'Timeout',
    `${proc.name} was not healthy at ${url} within ${timeoutMs / 1000}s (last: ${last}); its last log lines:\n${indent(proc.tail())}`,
  );
}

export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
