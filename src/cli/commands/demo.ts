// `tailor demo`: the whole product on this machine in one command (src/demo/run.ts): control plane,
// simulated multi-tenant fleet, operator with webhook and dashboard; Ctrl-C removes it all.
import { join } from 'node:path';
import type { Command } from 'commander';
import { TailorError } from '../../errors.ts';
import { durationFlag } from '../flags.ts';
import { tailorHome } from '../../devcluster/paths.ts';
import { runDemo } from '../../demo/run.ts';

interface Options {
  port: string;
  dir: string;
  pollInterval: string;
  minHistory: string;
  summaryEvery: string;
  keep: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the control plane, a simulated multi-tenant fleet (LLMs on GPU and CPU, web, batch) and the operator with its dashboard, in one process until Ctrl-C',
    )
    .option(
      '--port <port>',
      'port of the dashboard (/ui) and /metrics on 127.0.0.1 (0 = any free one)',
      '8080',
    )
    .option(
      '--dir <path>',
      'state folder (cluster data, kubeconfig, logs, usage history)',
      join(tailorHome(), 'demo'),
    )
    .option('--poll-interval <duration>', 'how often the operator reads usage (metrics.k8s.io)', '5s')
    .option(
      '--min-history <duration>',
      'lower nothing until a series has this much usage history (the operator defaults to hours; the demo to 2m so shrinks show within minutes)',
      '2m',
    )
    .option('--summary-every <duration>', 'how often the live summary line is printed', '20s')
    .option('--keep', 'keep the state folder on exit (logs, usage history)', false)
    .action(async (o: Options) => {
      const port = Number(o.port);
      if (!/^\d+$/.test(o.port) || port > 65535)
        throw new TailorError('InvalidInput', `--port ${o.port}: expected a port number 0-65535`, {
          hint: 'e.g. --port 8080, or --port 0 for any free one',
        });
      const pollIntervalMs = durationFlag('--poll-interval', o.pollInterval);
      if (pollIntervalMs < 1000)
        throw new TailorError('InvalidInput', `--poll-interval ${o.pollInterval} is under 1s`, {
          hint: 'e.g. --poll-interval 5s',
        });
      await runDemo(
        {
          dir: o.dir,
          port,
          pollIntervalMs,
          minHistorySeconds: durationFlag('--min-history', o.minHistory) / 1000,
          summaryEveryMs: Math.max(1000, durationFlag('--summary-every', o.summaryEvery)),
          keep: o.keep,
        },
        (line) => process.stderr.write(`${line}\n`),
        (text) => process.stdout.write(text),
      );
      // Stopped: a lingering client socket must not keep the process (and the user) waiting.
      setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
    });
}
