// `tailor webhook`: runs the mutating admission webhook on its own (new pods start with their
// SizingPolicy's recommendation), optionally registering it; `tailor operator` will run it in-process.
import type { Command } from 'commander';
import { LOG_FORMAT_HELP, logFormatFlag, makeLogger } from '../../logging/logger.ts';
import { TailorError } from '../../errors.ts';
import { makeClients } from '../../kube/client.ts';
import { clusterOptions, kubeConfigFrom, type ClusterFlags } from '../flags.ts';
import { serviceHosts } from '../../webhook/certs.ts';
import { DEFAULT_CONFIGURATION_NAME, type Endpoint, type NamespaceScope } from '../../webhook/register.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../webhook/server.ts';
import { startWebhook } from '../../webhook/start.ts';

interface Options extends ClusterFlags {
  port: string;
  host: string;
  register?: boolean;
  name: string;
  namespaces?: string;
  excludeNamespaces?: string;
  service?: string;
  serveAs?: string;
  tlsSecret?: string;
  maxBodyBytes: string;
  dryRun?: boolean;
  logLevel: string;
  logFormat: string;
}

export function registerWebhookCommand(program: Command): void {
  const cmd = program
    .command('webhook')
    .description(
      'serve the admission webhook that gives new pods their recommended requests and limits (runs until Ctrl-C)',
    )
    .option('--port <port>', 'HTTPS port (0 = any free one)', '9443')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--register',
      'create (or replace) the MutatingWebhookConfiguration pointing at this server; deleted again on exit',
    )
    .option('--name <name>', 'name of the MutatingWebhookConfiguration', DEFAULT_CONFIGURATION_NAME)
    .option('--namespaces <list>', 'with --register: only these namespaces (comma-separated)')
    .option(
      '--exclude-namespaces <list>',
      'with --register: namespaces to leave alone besides kube-system, kube-node-lease and kube-public',
    )
    .option(
      '--service <namespace/name[:port]>',
      'with --register: reach the webhook through this Service (in-cluster) instead of its URL',
    )
    .option(
      '--serve-as <names>',
      'host names or IPs the apiserver dials (certificate names), comma-separated',
    )
    .option(
      '--tls-secret <[namespace/]name>',
      "the CA and serving certificate, kept and reused across restarts and replicas (cert-manager's Secret when its annotation is on the configuration); its namespace also holds the replicas' Leases. Default <$POD_NAMESPACE, else tailor-system>/tailor-webhook-tls",
    )
    .option(
      '--max-body-bytes <n>',
      'larger AdmissionReviews are allowed unchanged',
      String(DEFAULT_MAX_BODY_BYTES),
    )
    .option('--dry-run', 'decide and log, but never change a pod')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--log-format <format>', LOG_FORMAT_HELP, 'auto');
  clusterOptions(cmd).action(async (o: Options) => run(o));
}

async function run(o: Options): Promise<void> {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TailorError('InvalidInput', `--port ${o.port}: expected a port number 0-65535`);
  const maxBodyBytes = Number(o.maxBodyBytes);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024)
    throw new TailorError(
      'InvalidInput',
      `--max-body-bytes ${o.maxBodyBytes}: expected a whole number of at least 1024`,
    );
  if ((o.namespaces || o.excludeNamespaces || o.service) && !o.register)
    throw new TailorError(
      'InvalidInput',
      '--namespaces, --exclude-namespaces and --service only apply with --register',
    );
  if (o.namespaces && o.excludeNamespaces)
    throw new TailorError('InvalidInput', 'give --namespaces or --exclude-namespaces, not both');
  const level = parseLevel(o.logLevel);
  const service = o.service ? parseService(o.service) : undefined;
  const namespaces: NamespaceScope = o.namespaces
    ? { kind: 'Only', namespaces: namespaceList('--namespaces', o.namespaces) }
    : { kind: 'AllBut', exclude: namespaceList('--exclude-namespaces', o.excludeNamespaces ?? '') };
  const serveAs = [
    ...list(o.serveAs ?? ''),
    ...(service ? serviceHosts(service.namespace, service.name) : []),
  ];

  const log = makeLogger({ level, format: logFormatFlag(o.logFormat), fd: 2 });
  const clients = makeClients(kubeConfigFrom(o));
  const handle = await startWebhook({
    clients,
    log,
    host: o.host,
    port,
    ...(serveAs.length > 0 ? { serveAs } : {}),
    ...(o.tlsSecret ? { tlsSecret: parseSecretRef(o.tlsSecret, '--tls-secret') } : {}),
    maxBodyBytes,
    // A person at a terminal should hear soon that the CRDs are missing; serving starts regardless.
    syncTimeoutMs: 10_000,
    actuation: o.dryRun ? 'ReportOnly' : 'Patch',
    ...(o.register
      ? { register: { name: o.name, namespaces, ...(service ? { endpoint: service } : {}) } }
      : {}),
  });
  process.stderr.write(
    `webhook serving ${handle.url}` +
      (handle.configuration
        ? `; registered as MutatingWebhookConfiguration ${handle.configuration} (failurePolicy Ignore)\n`
        : `\nregister it yourself with caBundle ${handle.caBundle.slice(0, 24)}... or run again with --register\n`),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Unregister first: a configuration left pointing at a stopped server costs every pod create a
  // failed call. Only the last replica standing removes it (a rolling update keeps it).
  if (handle.configuration) {
    const onStop = await handle.unregister();
    if (onStop.kind === 'KeepConfiguration')
      process.stderr.write(`configuration kept: other replicas serve (${onStop.others.join(', ')})\n`);
  }
  await handle.stop();
}

/** NAMESPACE/NAME or NAME (in the operator's namespace). */
export function parseSecretRef(s: string, flag: string): { namespace?: string; name: string } {
  const m = /^(?:([a-z0-9-]{1,63})\/)?([a-z0-9.-]{1,253})$/.exec(s);
  if (!m)
    throw new TailorError('InvalidInput', `${flag} ${s}: expected NAME or NAMESPACE/NAME of a Secret`, {
      hint: `e.g. ${flag} tailor-system/tailor-webhook-tls`,
    });
  return { ...(m[1] ? { namespace: m[1] } : {}), name: m[2]! };
}

export function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** A comma-separated list of namespace names, each a DNS label (checked before anything is registered). */
function namespaceList(flag: string, s: string): string[] {
  const names = list(s);
  const bad = names.find((n) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n));
  if (bad !== undefined) {
    throw new TailorError('InvalidInput', `${flag}: "${bad}" is not a namespace name`, {
      hint: `namespace names are lower-case letters, digits and "-", comma-separated: ${flag} team-a,team-b`,
    });
  }
  return names;
}

export function parseService(s: string): Endpoint & { kind: 'Service' } {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+)(?::(\d+))?$/.exec(s);
  if (!m)
    throw new TailorError('InvalidInput', `--service ${s}: expected NAMESPACE/NAME or NAMESPACE/NAME:PORT`, {
      hint: 'e.g. --service tailor-system/tailor-webhook:443',
    });
  return { kind: 'Service', namespace: m[1]!, name: m[2]!, ...(m[3] ? { port: Number(m[3]) } : {}) };
}

function parseLevel(v: string): 'debug' | 'info' | 'warn' | 'error' {
  switch (v) {
    case 'debug':
    case 'info':
    case 'warn':
    case 'error':
      return v;
    default:
      throw new TailorError('InvalidInput', `--log-level ${v}: expected debug, info, warn or error`);
  }
}
