// What a long-running command does with an error nothing caught (an unhandled rejection, an
// uncaught exception): log it and exit non-zero, so the kubelet restarts a clean process, rather
// than run on with a timer, a watch or a store in a state no code expected.
import type { Logger } from 'pino';
import { exitCode } from '../errors.ts';

/** The bits of `process` this needs (a fake in tests). */
export interface CrashSource {
  on(event: 'unhandledRejection' | 'uncaughtException', listener: (err: unknown) => void): unknown;
}

/** Installs the handlers; `exit` is called once, with 70 (EX_SOFTWARE, as an Internal error). */
export function exitOnUnexpected(
  proc: CrashSource,
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let exiting = false;
  const handle = (kind: string) => (err: unknown) => {
    if (exiting) return;
    exiting = true;
    log.fatal(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), kind },
      `${kind}: exiting`,
    );
    // pino writes synchronously to stdout unless told otherwise; flush in case a transport buffers.
    log.flush?.();
    exit(exitCode('Internal'));
  };
  proc.on('unhandledRejection', handle('unhandled promise rejection'));
  proc.on('uncaughtException', handle('uncaught exception'));
}
