// Flag parsing shared by the subcommands, so the same flag fails the same way in each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type * as k8s from '@kubernetes/client-node';
import { parseDuration } from '../api/common.ts';
import { packageRoot } from '../devcluster/paths.ts';
import { TailorError } from '../errors.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { parseLabelSelector, selectorMatches, type Selector } from '../kube/selector.ts';

/** A duration flag in milliseconds; "0" is zero (turns the feature off where a command allows it). */
export function durationFlag(flag: string, value: string): number {
  const ms = value === '0' ? 0 : parseDuration(value);
  if (ms === undefined) {
    throw new TailorError('InvalidInput', `${flag} "${value}" is not a duration`, {
      hint: `write it like 30s, 5m, 6h or 8d`,
    });
  }
  return ms;
}

/** A duration flag that must be longer than 0 (a timeout of 0 would fail every request). */
export function positiveDuration(flag: string, value: string): number {
  const ms = durationFlag(flag, value);
  if (ms <= 0) {
    throw new TailorError('InvalidInput', `${flag} must be longer than 0`, { hint: `e.g. ${flag} 30s` });
  }
  return ms;
}

/** -n and -A exclude each other. */
export function checkNamespaceFlags(o: { namespace?: string; allNamespaces?: boolean }): void {
  if (o.namespace && o.allNamespaces) {
    throw new TailorError('InvalidInput', '-n and -A both given', {
      hint: 'use one: -n NAMESPACE, or -A for all',
    });
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** --log-level, checked before the logger is built (pino would throw its own words, exit 1). */
export function logLevelFlag(value: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) {
    throw new TailorError('InvalidInput', `--log-level ${value}: expected ${LOG_LEVELS.join(', ')}`, {
      hint: 'e.g. --log-level debug',
    });
  }
  return level;
}

/** A URL flag (http or https), checked before anything connects. */
export function urlFlag(flag: string, value: string, example: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TailorError('InvalidInput', `${flag} "${value}" is not an http(s) URL`, {
      hint: `e.g. ${flag} ${example}`,
    });
  }
  return value;
}

/** The package's version (package.json), for `tailor --version`. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** What clusterOptions adds to a command's options. */
export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

/**
 * `--kubeconfig PATH` and `--context NAME`, the same on every command that talks to a cluster.
 * `kubeconfigDefault` only for the commands meant for `tailor dev up`'s cluster (sim).
 */
export function clusterOptions(cmd: Command, kubeconfigDefault?: string): Command {
  return cmd
    .option(
      '--kubeconfig <path>',
      kubeconfigDefault === undefined
        ? 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)'
        : 'kubeconfig',
      kubeconfigDefault,
    )
    .option('--context <name>', "kubeconfig context (default: the kubeconfig's current-context)");
}

/** The kubeconfig the cluster flags name. */
export function kubeConfigFrom(o: ClusterFlags): k8s.KubeConfig {
  return loadKubeConfig(o.kubeconfig, o.context);
}

/** `-l, --selector`: kubectl's label selector on the pods (or objects) a command lists. */
export function selectorOption(cmd: Command, what: string): Command {
  return cmd.option(
    '-l, --selector <selector>',
    `only ${what} whose labels match (kubectl syntax: app=web,tier!=cache,'env in (prod,qa)')`,
  );
}

/** A filter from `-l` text, or one that keeps everything when the flag is absent. */
export function selectorFilter(
  text: string | undefined,
): (labels: Readonly<Record<string, string>> | undefined) => boolean {
  if (text === undefined) return () => true;
  const selector: Selector = parseLabelSelector(text, '-l');
  return (labels) => selectorMatches(selector, labels ?? {});
}

/** What prometheusOption adds to a command's options. */
export interface PrometheusFlags {
  prometheus?: string;
  prometheusUrl?: string;
  prometheusBearerTokenFile?: string;
  prometheusBasicAuthFile?: string;
  prometheusCaFile?: string;
  /** false: --no-prometheus-discovery. */
  prometheusDiscovery?: boolean;
}

/**
 * `--prometheus URL`, the one name for it in every command; `--prometheus-url` stays as a hidden
 * alias for old scripts and warns once. Commands that take several (the operator) define their own
 * --prometheus and call deprecatedPrometheusUrl.
 */
export function prometheusOption(cmd: Command, description: string): Command {
  return cmd
    .option('--prometheus <url>', description)
    .addOption(new Option('--prometheus-url <url>', 'deprecated: --prometheus').hideHelp())
    .option('--prometheus-bearer-token-file <file>', 'send the token in this file to Prometheus (Bearer)')
    .option(
      '--prometheus-basic-auth-file <file>',
      'send the "user:password" in this file to Prometheus (basic auth)',
    )
    .option('--prometheus-ca-file <file>', "PEM bundle Prometheus's https certificate must chain to")
    .option(
      '--no-prometheus-discovery',
      "without --prometheus, do not look for the cluster's Prometheus (well-known Service labels, reached through the apiserver)",
    );
}

/**
 * The credentials and CA of --prometheus-*-file, each file checked now (readable; a CA with a
 * certificate; basic auth with a colon), so a typo fails before anything connects.
 */
export function prometheusAuthFrom(o: PrometheusFlags): {
  bearerTokenFile?: string;
  basicAuthFile?: string;
  caFile?: string;
} {
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new TailorError('InvalidInput', `${flag} ${file} cannot be read: ${(err as Error).message}`);
    }
  };
  if (o.prometheusBearerTokenFile !== undefined && o.prometheusBasicAuthFile !== undefined)
    throw new TailorError(
      'InvalidInput',
      '--prometheus-bearer-token-file and --prometheus-basic-auth-file both given',
      { hint: 'Prometheus takes one Authorization header: give one of them' },
    );
  if (
    o.prometheusBearerTokenFile !== undefined &&
    read('--prometheus-bearer-token-file', o.prometheusBearerTokenFile).trim() === ''
  )
    throw new TailorError(
      'InvalidInput',
      `--prometheus-bearer-token-file ${o.prometheusBearerTokenFile} is empty`,
    );
  if (
    o.prometheusBasicAuthFile !== undefined &&
    !read('--prometheus-basic-auth-file', o.prometheusBasicAuthFile).includes(':')
  )
    throw new TailorError(
      'InvalidInput',
      `--prometheus-basic-auth-file ${o.prometheusBasicAuthFile} holds no "user:password"`,
      {
        hint: 'one line: user:password',
      },
    );
  if (
    o.prometheusCaFile !== undefined &&
    !read('--prometheus-ca-file', o.prometheusCaFile).includes('-----BEGIN CERTIFICATE-----')
  )
    throw new TailorError(
      'InvalidInput',
      `--prometheus-ca-file ${o.prometheusCaFile} holds no PEM certificate`,
    );
  return {
    ...(o.prometheusBearerTokenFile !== undefined ? { bearerTokenFile: o.prometheusBearerTokenFile } : {}),
    ...(o.prometheusBasicAuthFile !== undefined ? { basicAuthFile: o.prometheusBasicAuthFile } : {}),
    ...(o.prometheusCaFile !== undefined ? { caFile: o.prometheusCaFile } : {}),
  };
}

/** The --prometheus URL given either way (checked), warning on the old name. */
export function prometheusUrlFrom(
  o: PrometheusFlags,
  warn = (line: string) => process.stderr.write(`${line}\n`),
): string | undefined {
  if (o.prometheusUrl !== undefined) {
    warn('tailor: --prometheus-url is deprecated; use --prometheus');
    if (o.prometheus !== undefined && o.prometheus !== o.prometheusUrl)
      throw new TailorError('InvalidInput', '--prometheus and --prometheus-url both given', {
        hint: 'give --prometheus URL only',
      });
  }
  const url = o.prometheus ?? o.prometheusUrl;
  return url === undefined
    ? undefined
    : urlFlag('--prometheus', url, 'http://prometheus-server.monitoring:9090');
}
