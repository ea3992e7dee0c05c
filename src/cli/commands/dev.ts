// `tailor dev`: a real local control plane (etcd, kube-apiserver, controller-manager, scheduler).
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { TailorError } from '../../errors.ts';
import { ensureBinaries } from '../../devcluster/binaries.ts';
import { down, runningState, supervise, up } from '../../devcluster/daemon.ts';
import { defaultDevDir, defaultKubeconfig } from '../../devcluster/paths.ts';

const err = (line: string) => process.stderr.write(`${line}\n`);

export function registerDev(program: Command): void {
  const dev = program
    .command('dev')
    .description('run a real Kubernetes control plane on this machine for trying Tailor and for tests');

  dev
    .command('up')
    .description('build (once) and start the control plane in the background; returns when it is ready')
    .option('--kubeconfig <path>', 'where to write the admin kubeconfig', defaultKubeconfig())
    .option('--dir <path>', 'state folder (certificates, etcd data, logs)', defaultDevDir())
    .action(async (o: { kubeconfig: string; dir: string }) => {
      const started = Date.now();
      const { state, alreadyRunning } = await up({ dir: o.dir, kubeconfigPath: o.kubeconfig }, err);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      err(alreadyRunning ? 'the control plane is already running' : `control plane ready in ${secs}s`);
      process.stdout.write(
        [
          `server:     ${state.controlPlane?.server ?? '?'}`,
          `kubeconfig: ${state.kubeconfigPath}`,
          `logs:       ${state.controlPlane?.dir ?? o.dir}/logs`,
          '',
          `try:  kubectl --kubeconfig ${state.kubeconfigPath} get nodes,ns`,
          `stop: tailor dev down${o.dir === defaultDevDir() ? '' : ` --dir ${o.dir}`}`,
          '',
        ].join('\n'),
      );
    });

  dev
    .command('down')
    .description('stop the control plane started by `tailor dev up` and delete its data')
    .option('--dir <path>', 'state folder', defaultDevDir())
    .action(async (o: { dir: string }) => {
      const stopped = await down({ dir: o.dir }, err);
      err(stopped ? 'control plane stopped' : 'no control plane was running');
    });

  dev
    .command('status')
    .description('say whether the control plane is running, and where')
    .option('--dir <path>', 'state folder', defaultDevDir())
    .option('-o, --output <format>', 'text or json', 'text')
    .action((o: { dir: string; output: string }) => {
      const state = runningState(o.dir);
      if (o.output === 'json') {
        process.stdout.write(JSON.stringify(state ?? { phase: 'Stopped' }, null, 2) + '\n');
        return;
      }
      if (!state) {
        process.stdout.write('Stopped\n');
        process.exitCode = 1;
        return;
      }
      process.stdout.write(
        `${state.phase}  ${state.controlPlane?.server ?? ''}  kubeconfig=${state.kubeconfigPath}\n`,
      );
      if (state.message) process.stdout.write(`${state.message}\n`);
    });

  dev
    .command('kubectl')
    .description('run the kubectl built with the control plane against it (arguments after --)')
    .allowUnknownOption()
    .argument('[args...]')
    .option('--dir <path>', 'state folder', defaultDevDir())
    .action(async (args: string[], o: { dir: string }) => {
      const state = runningState(o.dir);
      if (!state)
        throw new TailorError('InvalidInput', 'no control plane is running', {
          hint: 'run `tailor dev up` first',
        });
      const bin = (await ensureBinaries(err)).kubectl ?? 'kubectl';
      const child = spawn(bin, ['--kubeconfig', state.kubeconfigPath, ...args], { stdio: 'inherit' });
      process.exitCode = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    });

  dev
    .command('supervise', { hidden: true })
    .requiredOption('--dir <path>')
    .requiredOption('--kubeconfig <path>')
    .action(async (o: { dir: string; kubeconfig: string }) =>
      supervise({ dir: o.dir, kubeconfigPath: o.kubeconfig }),
    );
}
