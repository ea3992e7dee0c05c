// What an eviction needs to be worth it, watched: Tailor's admission webhook registered for the
// pod's namespace (else the replacement comes back at its old size), and the nodes' allocatable (an
// eviction for a size no node has only makes a Pending pod).
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from '../../kube/client.ts';
import { watchResource, type Watched } from '../../kube/informer.ts';
import { parseQuantity } from '../../core/quantity.ts';
import type { NodeRoom } from '../../core/resize/index.ts';
import { WEBHOOK_NAME } from '../../webhook/register.ts';
import { selectorMatches, type Selector } from './matching.ts';

/** The label Tailor's MutatingWebhookConfigurations carry (webhook/register.ts). */
const MANAGED_BY = 'app.kubernetes.io/managed-by=tailor';
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface EvictionGuard {
  /** Whether a registered Tailor webhook sends this namespace's new pods to be sized. */
  webhookCovers(namespace: string): boolean;
  /** Allocatable of every schedulable node. */
  nodes(): NodeRoom[];
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export function evictionGuard(
  clients: Clients,
  onChange: () => void,
  onError: (what: string, err: unknown) => void,
): EvictionGuard {
  const configs: Watched<k8s.V1MutatingWebhookConfiguration> = watchResource(
    clients.kc,
    '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    () => clients.admission.listMutatingWebhookConfiguration({ labelSelector: MANAGED_BY }),
    {
      add: onChange,
      update: onChange,
      delete: onChange,
      error: (e) => onError('mutatingwebhookconfigurations', e),
    },
    { labelSelector: MANAGED_BY },
  );
  const nodes: Watched<k8s.V1Node> = watchResource(
    clients.kc,
    '/api/v1/nodes',
    () => clients.core.listNode(),
    { error: (e) => onError('nodes', e) },
  );
  return {
    webhookCovers: (namespace) =>
      configs.list().some((c) => (c.webhooks ?? []).some((w) => covers(w, namespace))),
    nodes: () =>
      nodes.list().flatMap((n) => {
        if (n.spec?.unschedulable) return [];
        const cpu = parseQuantity(n.status?.allocatable?.cpu);
        const memory = parseQuantity(n.status?.allocatable?.memory);
        return cpu !== undefined && memory !== undefined
          ? [{ name: n.metadata?.name ?? '', cpu, memory }]
          : [];
      }),
    synced: Promise.all([configs.synced, nodes.synced]).then(() => undefined),
    stop: async () => {
      await Promise.all([configs.stop(), nodes.stop()]);
    },
  };
}

/**
 * Tailor's pod webhook, for pod creation, in this namespace. Only the namespace's name label is
 * known here; a selector on other namespace labels is read as not covering (the careful answer).
 */
export function covers(w: k8s.V1MutatingWebhook, namespace: string): boolean {
  if (w.name !== WEBHOOK_NAME) return false;
  const podsOnCreate = (w.rules ?? []).some(
    (r) =>
      (r.resources ?? []).some((x) => x === 'pods' || x === '*') &&
      (r.operations ?? []).some((o) => o === 'CREATE' || o === '*'),
  );
  if (!podsOnCreate) return false;
  const sel = w.namespaceSelector;
  if (!sel || (!sel.matchLabels && !sel.matchExpressions)) return true;
  const keys = [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)];
  if (keys.some((k) => k !== NAMESPACE_NAME_LABEL)) return false;
  return selectorMatches(sel as Selector, { [NAMESPACE_NAME_LABEL]: namespace });
}
