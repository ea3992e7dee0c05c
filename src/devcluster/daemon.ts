// `tailor dev up` / `down` / `status`: runs the control plane under a detached supervisor process
// so it outlives the command, and so killing that supervisor (even with SIGKILL) takes it all down.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TailorError } from '../errors.ts';
import { ensureBinaries, type Progress } from './binaries.ts';
import { ControlPlane, type ControlPlaneInfo } from './controlplane.ts';
import { indent } from './health.ts';
import { tailFile } from './process.ts';

export interface DevOptions {
  /** State folder, default ~/.tailor/dev. */
  dir: string;
  kubeconfigPath: string;
}

export type DevPhase = 'Starting' | 'Ready' | 'Failed';

export interface DevState {
  phase: DevPhase;
  supervisorPid: number;
  kubeconfigPath: string;
  message?: string;
  controlPlane?: ControlPlaneInfo;
}

type SupervisorMessage =
  | { type: 'progress'; line: string }
  | { type: 'ready'; state: DevState }
  | { type: 'failed'; message: string };

const statePath = (dir: string) => join(dir, 'state.json');
const clusterDir = (dir: string) => join(dir, 'cluster');
const supervisorLog = (dir: string) => join(dir, 'supervisor.log');

export function readState(dir: string): DevState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as DevState;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process nobody has reaped yet (a zombie) still answers signal 0.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** The running cluster's state, or undefined; a state left by a dead supervisor is removed. */
export function runningState(dir: string): DevState | undefined {
  const state = readState(dir);
  if (!state) return undefined;
  if (isAlive(state.supervisorPid)) return state;
  rmSync(statePath(dir), { force: true });
  return undefined;
}

export async function up(
  opts: DevOptions,
  progress: Progress,
): Promise<{ state: DevState; alreadyRunning: boolean }> {
  const dir = resolve(opts.dir);
  const existing = runningState(dir);
  if (existing?.phase === 'Ready') return { state: existing, alreadyRunning: true };
  if (existing)
    throw new TailorError(
      'InvalidInput',
      `a control plane is already ${existing.phase.toLowerCase()} under ${dir} (pid ${existing.supervisorPid})`,
      { hint: 'run `tailor dev down` first' },
    );

  // 1. Build or verify the binaries here, in the foreground, so the user sees the progress.
  await ensureBinaries(progress);

  // 2. Start the supervisor detached from this terminal; it reports back over IPC, then lives on.
  mkdirSync(dir, { recursive: true });
  mkdirSync(dirname(resolve(opts.kubeconfigPath)), { recursive: true });
  const out = openSync(supervisorLog(dir), 'w');
  const entry = process.argv[1];
  if (!entry) throw new TailorError('Internal', 'cannot find the tailor entry point to start the supervisor');
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      entry,
      'dev',
      'supervise',
      '--dir',
      dir,
      '--kubeconfig',
      resolve(opts.kubeconfigPath),
    ],
    { detached: true, stdio: ['ignore', out, out, 'ipc'] },
  );
  const interrupt = () => child.kill('SIGTERM');
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const state = await new Promise<DevState>((resolvePromise, reject) => {
      child.on('message', (m: SupervisorMessage) => {
        switch (m.type) {
          case 'progress':
            progress(m.line);
            break;
          case 'ready':
            resolvePromise(m.state);
            break;
          case 'failed':
            reject(new TailorError('ComponentFailed', m.message));
            break;
        }
      });
      child.on('exit', (code, signal) =>
        reject(
          new TailorError(
            'ComponentFailed',
            `the dev supervisor exited (${signal ?? `code ${code}`}) before the cluster was ready; its log:\n${indent(tailFile(supervisorLog(dir)))}`,
          ),
        ),
      );
    });
    return { state, alreadyRunning: false };
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    if (child.connected) child.disconnect();
    child.unref();
  }
}

/** Body of the detached supervisor (`tailor dev supervise`). */
export async function supervise(opts: DevOptions): Promise<void> {
  const dir = resolve(opts.dir);
  const send = (m: SupervisorMessage) => {
    if (process.connected) process.send?.(m);
  };
  const say = (line: string) => {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    send({ type: 'progress', line });
  };
  const state: DevState = {
    phase: 'Starting',
    supervisorPid: process.pid,
    kubeconfigPath: opts.kubeconfigPath,
  };
  const save = () => writeFileSync(statePath(dir), JSON.stringify(state, null, 2));
  save();

  let cp: ControlPlane | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping the control plane');
    await cp?.stop();
    if (code === 0) {
      rmSync(statePath(dir), { force: true });
      rmSync(clusterDir(dir), { recursive: true, force: true });
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  process.on('disconnect', () => {});

  try {
    const binaries = await ensureBinaries(say);
    cp = await ControlPlane.start({
      dir: clusterDir(dir),
      kubeconfigPath: opts.kubeconfigPath,
      binaries,
      progress: say,
    });
  } catch (err) {
    state.phase = 'Failed';
    state.message = err instanceof Error ? err.message : String(err);
    save();
    send({ type: 'failed', message: state.message });
    say(state.message);
    process.exit(1);
  }
  // A component that dies later fails the whole cluster: half a control plane misleads tests.
  cp.onComponentDeath((name, reason, tail) => {
    state.phase = 'Failed';
    state.message = `${name} died (${reason}); its last log lines:\n${indent(tail)}`;
    save();
    say(state.message);
    void shutdown(1);
  });
  state.phase = 'Ready';
  state.controlPlane = cp.info;
  save();
  send({ type: 'ready', state });
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

export async function down(opts: Pick<DevOptions, 'dir'>, progress: Progress): Promise<boolean> {
  const dir = resolve(opts.dir);
  const state = readState(dir);
  if (!state) return false;
  if (isAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(state.supervisorPid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    if (isAlive(state.supervisorPid)) {
      progress('the supervisor did not stop within 30s: killing it (its components die with it)');
      process.kill(state.supervisorPid, 'SIGKILL');
    }
  }
  // Components are tied to the supervisor by PDEATHSIG; reap any that a missing setpriv left.
  for (const [name, pid] of Object.entries(state.controlPlane?.pids ?? {})) {
    if (pid && isAlive(pid) && commandLine(pid).includes(name)) process.kill(pid, 'SIGKILL');
  }
  rmSync(statePath(dir), { force: true });
  if (existsSync(clusterDir(dir))) rmSync(clusterDir(dir), { recursive: true, force: true });
  return true;
}
