// `tailor models`: runs the ModelDeployment and start-up boost controllers in this process against
// a cluster (until Ctrl-C), ahead of `tailor operator`; installs the CRDs first unless told not to.
import type { Command } from 'commander';
import { LOG_FORMAT_HELP, logFormatFlag, makeLogger } from '../../logging/logger.ts';
import { installCrds } from '../../api/install.ts';
import { startModels } from '../../controllers/models/index.ts';
import type { OperatorContext } from '../../controllers/controller.ts';
import { makeClients } from '../../kube/client.ts';
import { eventRecorder } from '../../kube/events.ts';
import { ALLOWED_IMAGE_FLAG, allowedImageProblem } from '../../core/models/image-policy.ts';
import { TailorError } from '../../errors.ts';
import { clusterOptions, kubeConfigFrom, urlFlag, type ClusterFlags } from '../flags.ts';

interface ModelsCliOptions extends ClusterFlags {
  dryRun: boolean;
  installCrds: boolean;
  hubUrl?: string;
  allowedImage: string[];
  logFormat: string;
}

/** `--allowed-image PREFIX`, repeatable (commander's collector). */
export function collectAllowedImage(value: string, previous: string[] = []): string[] {
  const problem = allowedImageProblem(value);
  if (problem)
    throw new TailorError('InvalidInput', problem, {
      hint: `give a registry or repository prefix, e.g. ${ALLOWED_IMAGE_FLAG} registry.example.com/llm`,
    });
  return [...previous, value];
}

export const ALLOWED_IMAGE_HELP =
  "also allow ModelDeployments' runtime.image under this registry/repository prefix (repeatable; the presets' images are always allowed)";

export function registerModels(program: Command): void {
  const cmd = program
    .command('models')
    .description('run the ModelDeployment and start-up boost controllers in this process (until Ctrl-C)');
  // The same default as `tailor operator` ($KUBECONFIG, ~/.kube/config, in-cluster): the two run together.
  clusterOptions(cmd)
    .option('--dry-run', 'compute and report, send every write as a server-side dry run', false)
    .option('--no-install-crds', 'do not install or update the Tailor CRDs first')
    .option(
      '--hub-url <url>',
      'Hugging Face hub or mirror for config.json (default $HF_ENDPOINT or huggingface.co)',
    )
    .option(`${ALLOWED_IMAGE_FLAG} <prefix>`, ALLOWED_IMAGE_HELP, collectAllowedImage, [])
    .option('--log-format <format>', LOG_FORMAT_HELP, 'auto')
    .action(async (o: ModelsCliOptions) => {
      if (o.hubUrl) urlFlag('--hub-url', o.hubUrl, 'https://hf-mirror.example.com');
      const log = makeLogger({ level: 'info', format: logFormatFlag(o.logFormat), fd: 2 });
      const clients = makeClients(kubeConfigFrom(o));
      if (o.installCrds) await installCrds(clients.ext);
      const ctx: OperatorContext = {
        clients,
        log,
        events: eventRecorder(clients, 'tailor', (m) => log.warn(m)),
        now: () => Date.now() / 1000,
        dryRun: o.dryRun,
        fieldManager: 'tailor',
      };
      const running = await startModels(ctx, {
        ...(o.hubUrl ? { hub: { baseUrl: o.hubUrl } } : {}),
        allowedImages: o.allowedImage,
      });
      log.info('models: running; Ctrl-C stops');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.stop();
    });
}
