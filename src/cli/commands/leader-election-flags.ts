// `tailor operator`'s leader election flags: a boolean written --flag=false (controller-runtime's
// spelling), and where the Lease lives by default (the operator's own namespace, as the webhook's).
import { TailorError } from '../../errors.ts';
import { operatorNamespace } from '../../webhook/start.ts';

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

/**
 * --leader-election-namespace, else the pod's namespace ($POD_NAMESPACE, the ServiceAccount's
 * mount); outside a cluster tailor-system, created when missing (local development, `tailor dev`).
 */
export function leaseHome(flag: string | undefined): { namespace: string; createNamespace?: true } {
  if (flag) return { namespace: flag };
  const home = operatorNamespace();
  return home.inCluster
    ? { namespace: home.namespace }
    : { namespace: home.namespace, createNamespace: true };
}
