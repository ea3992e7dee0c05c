// The `tailor` command: one program, one subcommand per file under commands/.
import { Command, CommanderError } from 'commander';
import { TailorError, exitCode, describe } from '../errors.ts';
import { registerApply } from './commands/apply.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDev } from './commands/dev.ts';
import { registerAdvise } from './commands/advise.ts';
import { registerModels } from './commands/models.ts';
import { registerOperator } from './commands/operator.ts';
import { registerRecommend } from './commands/recommend.ts';
import { registerReplay } from './commands/replay.ts';
import { registerReport } from './commands/report.ts';
import { registerSim } from './commands/sim.ts';
import { registerWebhookCommand } from './commands/webhook.ts';
import { packageVersion } from './flags.ts';

const program = new Command()
  // `kubectl tailor` when run as the kubectl plugin (bin/kubectl-tailor.js), so the help says so.
  .name(process.env.TAILOR_CLI_NAME ?? 'tailor')
  .description('Right-size Kubernetes workloads and self-hosted LLMs in place, and report what it saved.')
  .version(packageVersion(), '-V, --version', 'print the version of tailor')
  .showHelpAfterError()
  // Usage errors (unknown option, missing argument) exit 2 like every other bad input, not 1;
  // subcommands added below inherit this.
  .exitOverride();

registerAdvise(program);
registerApply(program);
registerDemo(program);
registerDev(program);
registerModels(program);
registerOperator(program);
registerRecommend(program);
registerReplay(program);
registerReport(program);
registerSim(program);
registerWebhookCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed its one-line error (or the help, exit code 0).
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    process.stderr.write(`tailor: ${describe(err)}\n`);
    process.exitCode = err instanceof TailorError ? exitCode(err.code) : 1;
  }
}
