// `tailor operator`'s leader election flags: a boolean written --flag=false (controller-runtime's
// spelling) and the pod's own namespace as the Lease's default home.
import { readFileSync } from 'node:fs';
import { TailorError } from '../../errors.ts';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** commander's parser for `--flag [bool]`: bare flag true, =true/=false, nothing else. */
export function parseBool(flag: string): (value: string) => boolean {
  return (value) => {
    switch (value.trim().toLowerCase()) {
      case 'true':
        return true;
      case 'false':
        return false;
      default:
        throw new TailorError('InvalidInput', `${flag}=${value}: expected true or false`, {
          hint: `e.g. ${flag}=false`,
        });
    }
  };
}

/** The namespace the pod runs in (its ServiceAccount's mount), as controller-runtime defaults to; none outside a cluster. */
export function podNamespace(path = SERVICE_ACCOUNT_NAMESPACE): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
