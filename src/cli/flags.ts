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

/** -n and -A exclude each other. */
export function checkNamespaceFlags(o: { namespace?: string; allNamespaces?: boolean }): void {
  if (o.namespace && o.allNamespaces) {
    throw new TailorError('InvalidInput', '-n and -A both given', {
      hint: 'use one: -n NAMESPACE, or -A for all',
    });
  }
}
