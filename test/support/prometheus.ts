// A real Prometheus server (Debian's package) for one test, scraping the given target every second:
// the simulator's endpoint as a real cluster's jobs (kubelet, kube-state-metrics, ...), or, given
// a job name, one plain job on the target's /metrics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/devcluster/ports.ts';
import { scrapeConfigs } from '../../src/sim/metrics/prometheus.ts';
import { eventually } from './cluster.ts';
import { SERVER_SCRAPE_JOB } from '../../src/sim/metrics/exporters/runtimes.ts';

export interface TestPrometheus {
  url: string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** One job of this name on the target's /metrics; without it, the target is the simulator, scraped as a cluster's jobs. */
  readonly job?: string;
  /** Rules files Prometheus loads and evaluates every second. */
  readonly ruleFiles?: readonly string[];
  /** The address it listens on (default 127.0.0.1); a non-loopback one for the apiserver's service proxy. */
  readonly host?: string;
  /**
   * Also scrape each simulated inference server on its own, as the `kubernetes-pods` job of a real
   * setup does (http_sd from the simulator's /sd/kubernetes-pods; series get job, instance, namespace,
   * pod and node from the target, as kubernetes_sd relabelling gives them).
   */
  readonly serverPods?: boolean;
  /** Basic auth users (user -> bcrypt hash), through --web.config.file. */
  readonly basicAuthUsers?: Readonly<Record<string, string>>;
}

export async function startPrometheus(
  target: string | readonly string[],
  opts: PrometheusOptions = {},
): Promise<TestPrometheus> {
  const targets = (typeof target === 'string' ? [target] : target).map((t) => `'${t}'`).join(', ');
  const dir = mkdtempSync(join(tmpdir(), 'prom-'));
  const port = await freePort();
  const rules = (opts.ruleFiles ?? []).map((f) => `  - '${f}'\n`).join('');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n` +
      (rules ? `rule_files:\n${rules}` : '') +
      `scrape_configs:\n` +
      (opts.job
        ? `  - job_name: ${opts.job}\n    static_configs:\n      - targets: [${targets}]\n`
        : scrapeConfigs(target, '1s')) +
      (opts.serverPods
        ? `  - job_name: ${SERVER_SCRAPE_JOB}\n    http_sd_configs:\n      - url: 'http://${typeof target === 'string' ? target : target[0]}/sd/kubernetes-pods'\n        refresh_interval: 2s\n`
        : ''),
  );
  const host = opts.host ?? '127.0.0.1';
  const web: string[] = [];
  if (opts.basicAuthUsers) {
    const users = Object.entries(opts.basicAuthUsers).map(([u, hash]) => `  ${u}: '${hash}'\n`);
    writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n${users.join('')}`);
    web.push(`--web.config.file=${join(dir, 'web.yml')}`);
  }
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${host}:${port}`,
      ...web,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://${host}:${port}`;
  await eventually(
    async () =>
      // Behind basic auth, a 401 is ready too (it answers).
      assert.ok([200, 401].includes((await fetch(`${url}/-/ready`)).status), 'Prometheus ready'),
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
