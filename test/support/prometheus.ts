// A real Prometheus server (Debian's package) for one test, scraping the given target every second.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/devcluster/ports.ts';
import { eventually } from './cluster.ts';

export interface TestPrometheus {
  url: string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** The scrape job's name (default tailor-sim). */
  readonly job?: string;
  /** Rules files Prometheus loads and evaluates every second. */
  readonly ruleFiles?: readonly string[];
}

export async function startPrometheus(target: string, opts: PrometheusOptions = {}): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-'));
  const port = await freePort();
  const rules = (opts.ruleFiles ?? []).map((f) => `  - '${f}'\n`).join('');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n` +
      (rules ? `rule_files:\n${rules}` : '') +
      `scrape_configs:\n  - job_name: ${opts.job ?? 'tailor-sim'}\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => assert.equal((await fetch(`${url}/-/ready`)).status, 200, 'Prometheus ready'),
    {
      timeoutMs: 30_000,
      what: 'Prometheus ready',
    },
  );
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
