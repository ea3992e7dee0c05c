// The Hugging Face token Secret, read the narrow way: its metadata first (labels only, no data),
// and its data only when it carries the label that marks it for Tailor; always in the
// ModelDeployment's own namespace (tokenSecretRef has no namespace field).
import * as k8s from '@kubernetes/client-node';
import { TOKEN_SECRET_LABEL } from '../../core/models/token-secret.ts';
import { TailorError } from '../../errors.ts';
import { classify } from '../../kube/errors.ts';

/** The apiserver answers with the object's metadata only: the Secret's data never leaves it. */
const METADATA_ONLY = k8s.setHeaderOptions(
  'Accept',
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
);

export interface TokenSecrets {
  /** The Secret's labels, or null when it does not exist. */
  labels(namespace: string, name: string): Promise<Record<string, string> | null>;
  /** The token under `key`, from a labelled Secret only; undefined when the Secret or key is missing. */
  read(namespace: string, name: string, key: string): Promise<string | undefined>;
}

export function tokenSecrets(core: k8s.CoreV1Api): TokenSecrets {
  return {
    async labels(namespace, name) {
      try {
        const meta = await core.readNamespacedSecret({ name, namespace }, METADATA_ONLY);
        return meta.metadata?.labels ?? {};
      } catch (err) {
        if (classify(err).kind === 'NotFound') return null;
        throw err;
      }
    },
    async read(namespace, name, key) {
      let s: k8s.V1Secret;
      try {
        s = await core.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if (classify(err).kind === 'NotFound') return undefined;
        throw err;
      }
      // The label was checked on the metadata just before; a Secret relabelled since is not used.
      if (s.metadata?.labels?.[TOKEN_SECRET_LABEL] !== 'true')
        throw new TailorError(
          'InvalidInput',
          `Secret ${namespace}/${name} lost the label ${TOKEN_SECRET_LABEL}=true; its token is not used`,
        );
      const v = s.data?.[key];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8').trim();
    },
  };
}
