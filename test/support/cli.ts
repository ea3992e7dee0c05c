// The `tailor` command line as a user runs it, in a child process: one helper for every e2e file.
import { execFile } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Appended as `--kubeconfig PATH`. */
  readonly kubeconfig?: string;
  /** TAILOR_HOME: where the CLI keeps its files (a test's own folder). */
  readonly home?: string;
  /** Default 120 s. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export function runTailor(args: readonly string[], o: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        ...args,
        ...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []),
      ],
      {
        cwd: process.cwd(),
        timeout: o.timeoutMs ?? 120_000,
        env: { ...process.env, ...(o.home ? { TAILOR_HOME: o.home } : {}), ...o.env },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
