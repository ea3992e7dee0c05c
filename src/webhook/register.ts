// The MutatingWebhookConfiguration that sends new pods to the webhook: created or replaced with
// the settings that keep a cluster safe when the webhook is slow, down or wrong (fails open).
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../kube/client.ts';
import { classify, isAlreadyExists, isNotFound, toTailorError } from '../kube/errors.ts';
import { MUTATE_PODS_PATH } from './server.ts';
import { CERT_MANAGER_INJECT_ANNOTATION } from './tls-store.ts';

export const DEFAULT_CONFIGURATION_NAME = 'tailor-webhook';
/** The webhook's own name inside the configuration: a qualified name, as the API requires. */
export const WEBHOOK_NAME = 'pods.tailor.dev';
/** Pods with this label are never sent to the webhook (an escape hatch, and for Tailor's own pods). */
export const SKIP_LABEL = 'tailor.dev/skip-webhook';
/** Namespaces the webhook never sees: the control plane's own, where a surprise costs the most. */
export const EXCLUDED_NAMESPACES = ['kube-system', 'kube-node-lease', 'kube-public'] as const;
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** How the apiserver reaches the webhook. */
export type Endpoint =
  /** An operator outside the cluster (tests, `tailor dev`): an https URL the apiserver can dial. */
  | { readonly kind: 'Url'; readonly url: string }
  /** An operator inside the cluster, behind a Service. */
  | {
      readonly kind: 'Service';
      readonly namespace: string;
      readonly name: string;
      readonly port?: number;
    };

/** Which namespaces' pods go to the webhook. */
export type NamespaceScope =
  /** Every namespace but the EXCLUDED_NAMESPACES and these. */
  | { readonly kind: 'AllBut'; readonly exclude?: readonly string[] }
  /** Only these (a test's own namespace; a trial on a few teams). */
  | { readonly kind: 'Only'; readonly namespaces: readonly string[] };

export interface RegisterOptions {
  readonly endpoint: Endpoint;
  /**
   * Base64 PEM of the CA that signed the serving certificate (certs.ts caBundle). Undefined: not
   * Tailor's to write (cert-manager's CA injector does); an existing configuration's is kept.
   */
  readonly caBundle: string | undefined;
  readonly name?: string;
  readonly namespaces?: NamespaceScope;
  /** The apiserver waits at most this long for an answer, then admits the pod as it is (1-30). */
  readonly timeoutSeconds?: number;
  readonly fieldManager?: string;
}

export function webhookConfiguration(o: RegisterOptions): k8s.V1MutatingWebhookConfiguration {
  const scope = o.namespaces ?? { kind: 'AllBut' };
  const namespaceSelector: k8s.V1LabelSelector =
    scope.kind === 'Only'
      ? { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...scope.namespaces] }] }
      : {
          matchExpressions: [
            {
              key: NAMESPACE_NAME_LABEL,
              operator: 'NotIn',
              values: [...EXCLUDED_NAMESPACES, ...(scope.exclude ?? [])],
            },
          ],
        };
  const clientConfig: k8s.AdmissionregistrationV1WebhookClientConfig =
    o.endpoint.kind === 'Url'
      ? { url: o.endpoint.url, ...(o.caBundle !== undefined ? { caBundle: o.caBundle } : {}) }
      : {
          service: {
            namespace: o.endpoint.namespace,
            name: o.endpoint.name,
            path: MUTATE_PODS_PATH,
            port: o.endpoint.port ?? 443,
          },
          ...(o.caBundle !== undefined ? { caBundle: o.caBundle } : {}),
        };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: o.name ?? DEFAULT_CONFIGURATION_NAME,
      labels: { 'app.kubernetes.io/managed-by': 'tailor' },
    },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        clientConfig,
        rules: [
          {
            operations: ['CREATE'],
            apiGroups: [''],
            apiVersions: ['v1'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ],
        // A webhook that is down, slow or broken must never stop pods from being created.
        failurePolicy: 'Ignore',
        sideEffects: 'None',
        timeoutSeconds: o.timeoutSeconds ?? 5,
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
        // Tailor's patch only touches resources and its own annotations: seeing the pod again adds nothing.
        reinvocationPolicy: 'Never',
        namespaceSelector,
        objectSelector: { matchExpressions: [{ key: SKIP_LABEL, operator: 'DoesNotExist' }] },
      },
    ],
  };
}

/**
 * Who writes the configuration's caBundle: cert-manager when its CA-injector annotation is on the
 * configuration (put there by whoever installed Tailor with cert-manager), else Tailor.
 */
export async function caBundleOwner(
  clients: Clients,
  name = DEFAULT_CONFIGURATION_NAME,
): Promise<'CertManager' | 'SelfSigned'> {
  try {
    const current = await clients.admission.readMutatingWebhookConfiguration({ name });
    return current.metadata?.annotations?.[CERT_MANAGER_INJECT_ANNOTATION] !== undefined
      ? 'CertManager'
      : 'SelfSigned';
  } catch (err) {
    if (isNotFound(err)) return 'SelfSigned';
    throw toTailorError(`reading MutatingWebhookConfiguration ${name}`, err);
  }
}

/**
 * Creates the configuration, or replaces the one of that name. Annotations put on it by others
 * (cert-manager's) stay; without a caBundle of Tailor's, the one there (injected) stays too.
 */
export async function registerWebhook(clients: Clients, o: RegisterOptions): Promise<string> {
  const body = webhookConfiguration(o);
  const name = body.metadata!.name!;
  const fieldManager = o.fieldManager ?? 'tailor';
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await clients.admission.createMutatingWebhookConfiguration({ body, fieldManager });
        return name;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      try {
        const current = await clients.admission.readMutatingWebhookConfiguration({ name });
        const injected = current.webhooks?.find((w) => w.name === WEBHOOK_NAME)?.clientConfig.caBundle;
        await clients.admission.replaceMutatingWebhookConfiguration({
          name,
          fieldManager,
          body: {
            ...body,
            metadata: {
              ...body.metadata,
              annotations: { ...current.metadata?.annotations },
              labels: { ...current.metadata?.labels, ...body.metadata?.labels },
              resourceVersion: current.metadata?.resourceVersion,
            },
            webhooks: body.webhooks?.map((w) =>
              o.caBundle === undefined && injected !== undefined
                ? { ...w, clientConfig: { ...w.clientConfig, caBundle: injected } }
                : w,
            ),
          },
        });
        return name;
      } catch (err) {
        // Deleted or changed between the read and the replace: start over, a few times.
        if (attempt >= 3 || !(isNotFound(err) || isConflict(err))) throw err;
      }
    }
  } catch (err) {
    throw toTailorError(`registering MutatingWebhookConfiguration ${name}`, err);
  }
}

/** Deletes the configuration; one already gone is fine. */
export async function unregisterWebhook(clients: Clients, name = DEFAULT_CONFIGURATION_NAME): Promise<void> {
  try {
    await clients.admission.deleteMutatingWebhookConfiguration({ name });
  } catch (err) {
    if (!isNotFound(err)) throw toTailorError(`deleting MutatingWebhookConfiguration ${name}`, err);
  }
}

function isConflict(err: unknown): boolean {
  return classify(err).kind === 'Conflict';
}
