// Bounded stopping for the simulator: a step that hangs (an API call to an unreachable apiserver, a
// server whose client keeps its connection) is given up after its time and the next one runs, so a
// stopped `tailor sim` always ends.
import type { Server } from 'node:net';

/** How one step of a stop ended. */
export type StepOutcome = 'Done' | 'Failed' | 'TimedOut';

/**
 * Runs `step`, waiting at most `ms`: a failure or a timeout is said with `log` and returned, never
 * thrown, so the caller goes on with the next step. The step itself is not cancelled (a hung
 * request is left to its own timeout); the process exits without waiting for it.
 */
export async function bounded(
  what: string,
  ms: number,
  step: () => Promise<unknown>,
  log: (line: string) => void,
): Promise<StepOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<StepOutcome>((resolve) => {
    // Not unref'd: the next steps must run even when nothing else holds the process.
    timer = setTimeout(() => resolve('TimedOut'), ms);
  });
  const ran = (async (): Promise<StepOutcome> => {
    try {
      await step();
      return 'Done';
    } catch (err) {
      log(`stopping: ${what} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      return 'Failed';
    }
  })();
  const outcome = await Promise.race([ran, timedOut]);
  clearTimeout(timer);
  if (outcome === 'TimedOut') log(`stopping: ${what} did not finish within ${ms / 1000}s; going on`);
  return outcome;
}

/**
 * Tracks every socket a server accepts, so that stopping can end them all: keep-alive connections
 * and, for TLS, those still in their handshake (which `closeAllConnections` does not know yet).
 * Call right after creating the server.
 */
export function closer(server: Server): () => Promise<void> {
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      if (!server.listening) {
        for (const s of sockets) s.destroy();
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
}
