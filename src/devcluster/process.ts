// Runs one control-plane component as a child process that cannot outlive its parent: started
// through util-linux `setpriv --pdeathsig KILL`, so a crashed or killed parent takes it along.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

let setprivPath: string | null | undefined;

function setpriv(): string | null {
  if (setprivPath === undefined) {
    const r = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
    setprivPath = r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
  }
  return setprivPath;
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<string>;
  hasExited(): boolean;
  stop(graceMs?: number): Promise<void>;
  tail(lines?: number): string;
}

export function startProcess(name: string, binary: string, args: string[], logFile: string): RunningProcess {
  const fd = openSync(logFile, 'a');
  const guard = setpriv();
  const [cmd, argv] = guard ? [guard, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let ended = false;
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      ended = true;
      resolve(signal ? `signal ${signal}` : `exit code ${code}`);
    });
    child.on('error', (err) => {
      ended = true;
      resolve(`failed to start: ${err.message}`);
    });
  });
  return {
    name,
    child,
    logFile,
    exited,
    hasExited: () => ended,
    async stop(graceMs = 5000) {
      if (ended) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    tail: (lines = 30) => tailFile(logFile, lines),
  };
}

export function tailFile(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
