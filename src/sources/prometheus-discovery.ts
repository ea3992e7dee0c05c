// Finds the cluster's Prometheus when no --prometheus was given: lists Services with KRR's
// well-known selectors (src/core/discovery/prometheus.ts picks one) and says how to reach it. The CLI
// goes through the apiserver's service proxy with the user's own kubeconfig (works from a laptop, as
// KRR does); the operator only in the namespaces its admin listed, at the Service's DNS name.
import type * as k8s from '@kubernetes/client-node';
import type https from 'node:https';
import {
  describeFound,
  findPrometheus,
  prometheusUrlOf,
  type DiscoveryReach,
  type FoundPrometheus,
  type ServiceFacts,
} from '../core/discovery/prometheus.ts';
import { errorLine } from '../kube/errors.ts';
import { agentFetch, type PrometheusClientOptions } from './prometheus.ts';

export type Discovered =
  | {
      readonly kind: 'Found';
      readonly found: FoundPrometheus;
      /** What PrometheusClient needs: the URL and, through the apiserver, its fetch and GET. */
      readonly client: Pick<PrometheusClientOptions, 'baseUrl' | 'fetch' | 'method'>;
      /** One line for the user: which Service, how reached. */
      readonly line: string;
    }
  | { readonly kind: 'NotFound'; readonly line: string }
  | { readonly kind: 'Failed'; readonly line: string };

export interface DiscoveryOptions {
  readonly reach: DiscoveryReach;
  /** Only these namespaces (the operator's --prometheus-discovery-namespaces); left out, all. */
  readonly namespaces?: readonly string[];
}

/** How to pass one by hand, said whenever discovery does not give one. */
export const PASS_PROMETHEUS_HINT =
  'pass --prometheus URL (e.g. http://prometheus-server.monitoring:9090, or http://localhost:9090 after kubectl port-forward)';

/** Looks for the cluster's Prometheus; never throws (a failed list is a `Failed` line). */
export async function discoverPrometheus(
  kc: k8s.KubeConfig,
  core: k8s.CoreV1Api,
  o: DiscoveryOptions,
): Promise<Discovered> {
  const list = async (labelSelector: string): Promise<ServiceFacts[]> => {
    const lists =
      o.namespaces === undefined
        ? [await core.listServiceForAllNamespaces({ labelSelector })]
        : await Promise.all(
            o.namespaces.map((namespace) => core.listNamespacedService({ namespace, labelSelector })),
          );
    return lists.flatMap((l) => l.items.map(serviceFacts));
  };
  let found: FoundPrometheus | undefined;
  const where = o.namespaces === undefined ? 'any namespace' : `namespace ${o.namespaces.join(', ')}`;
  try {
    found = await findPrometheus(list, o.namespaces);
  } catch (err) {
    return {
      kind: 'Failed',
      line: `no Prometheus found: cannot list Services in ${where} (${errorLine(err)}); ${PASS_PROMETHEUS_HINT}`,
    };
  }
  if (found === undefined)
    return {
      kind: 'NotFound',
      line: `no Prometheus found: no Service in ${where} carries a well-known Prometheus label (e.g. app=kube-prometheus-stack-prometheus); ${PASS_PROMETHEUS_HINT}`,
    };
  const line = describeFound(found, o.reach);
  switch (o.reach) {
    case 'ClusterDns':
      return { kind: 'Found', found, client: { baseUrl: prometheusUrlOf(found, 'ClusterDns') }, line };
    case 'ApiserverProxy': {
      const server = kc.getCurrentCluster()?.server ?? '';
      // The kubeconfig's TLS settings and credentials (client certificate, token, exec plugin).
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {}))
        if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return {
        kind: 'Found',
        found,
        client: {
          baseUrl: prometheusUrlOf(found, 'ApiserverProxy', server),
          fetch: agentFetch(typeof opts.agent === 'object' ? opts.agent : undefined, headers),
          method: 'GET',
        },
        line,
      };
    }
  }
}

function serviceFacts(s: k8s.V1Service): ServiceFacts {
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    labels: s.metadata?.labels ?? {},
    ports: (s.spec?.ports ?? []).map((p) => ({
      port: p.port,
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
      ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}),
    })),
  };
}
