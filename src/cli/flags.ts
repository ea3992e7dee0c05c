// Flag parsing shared by the subcommands, so the same flag fails the same way in each.
import { parseDuration } from '../api/common.ts';
import { TailorError } from '../errors.ts';

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
