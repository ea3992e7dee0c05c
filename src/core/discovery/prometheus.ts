// Which Service is the cluster's Prometheus when nobody said: KRR's well-known labels of the common
// charts (kube-prometheus-stack, prometheus-community, Rancher, Thanos, VictoriaMetrics), tried in
// order, and the port to use. Pure: the Services come in, the choice goes out.
import { parseLabelSelector, selectorMatches } from '../../kube/selector.ts';

/** What answers the Prometheus HTTP API behind the Service. */
export type PrometheusFlavour = 'Prometheus' | 'Thanos' | 'VictoriaMetrics';

export interface WellKnownSelector {
  /** kubectl syntax, sent as the list's labelSelector and matched again here. */
  readonly selector: string;
  readonly flavour: PrometheusFlavour;
}

/**
 * KRR's lists (robusta_krr .../metrics_service/{prometheus,thanos,victoria}_metrics_service.py), in
 * its order: a Prometheus server first, then the queriers in front of several. Kubecost's bundled
 * Prometheus (`release=kubecost`) is skipped, as Robusta does: it keeps only Kubecost's own series.
 */
export const WELL_KNOWN_SELECTORS: readonly WellKnownSelector[] = [
  { selector: 'app=kube-prometheus-stack-prometheus', flavour: 'Prometheus' },
  { selector: 'app=prometheus,component=server,release!=kubecost', flavour: 'Prometheus' },
  { selector: 'app=prometheus-server', flavour: 'Prometheus' },
  { selector: 'app=prometheus-operator-prometheus', flavour: 'Prometheus' },
  { selector: 'app=rancher-monitoring-prometheus', flavour: 'Prometheus' },
  { selector: 'app=prometheus-prometheus', flavour: 'Prometheus' },
  { selector: 'app.kubernetes.io/name=prometheus,app.kubernetes.io/component=server', flavour: 'Prometheus' },
  { selector: 'app=stack-prometheus', flavour: 'Prometheus' },
  { selector: 'app.kubernetes.io/component=query,app.kubernetes.io/name=thanos', flavour: 'Thanos' },
  { selector: 'app.kubernetes.io/name=thanos-query', flavour: 'Thanos' },
  { selector: 'app=thanos-query', flavour: 'Thanos' },
  { selector: 'app=thanos-querier', flavour: 'Thanos' },
  { selector: 'app.kubernetes.io/name=vmsingle', flavour: 'VictoriaMetrics' },
  { selector: 'app.kubernetes.io/name=victoria-metrics-single', flavour: 'VictoriaMetrics' },
  { selector: 'app.kubernetes.io/name=vmselect', flavour: 'VictoriaMetrics' },
  { selector: 'app=vmselect', flavour: 'VictoriaMetrics' },
];

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

/** The few fields of a Service the choice reads. */
export interface ServiceFacts {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
}

export interface FoundPrometheus {
  readonly service: ServiceFacts;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  readonly selector: WellKnownSelector;
  /** Other Services the same selector matched (the first by namespace/name was taken). */
  readonly others: readonly string[];
}

/** Port names the charts give the HTTP API (kube-prometheus-stack: http-web; also a reloader port). */
const API_PORT_NAMES = ['http-web', 'web', 'http', 'https', 'http-query', 'query', 'http-api'];
/** Prometheus, Thanos query, vmsingle, vmselect. */
const API_PORT_NUMBERS = [9090, 10902, 8428, 8481];

/** The port of the HTTP API: a well-known name, else a well-known number, else the first TCP port. */
export function apiPort(ports: readonly ServicePort[]): ServicePort | undefined {
  const tcp = ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  return (
    API_PORT_NAMES.map((n) => tcp.find((p) => p.name === n)).find((p) => p !== undefined) ??
    tcp.find((p) => API_PORT_NUMBERS.includes(p.port)) ??
    tcp[0]
  );
}

/**
 * The Service one well-known selector picks among `services` (what the list with that selector
 * returned): only those in `namespaces` when given (the operator: the ones the admin listed), with an
 * API port; the first by namespace/name, so the same cluster always gives the same answer.
 */
export function pickService(
  known: WellKnownSelector,
  services: readonly ServiceFacts[],
  namespaces?: readonly string[],
): FoundPrometheus | undefined {
  const selector = parseLabelSelector(known.selector, 'well-known selector');
  const candidates = services
    .filter((s) => namespaces === undefined || namespaces.includes(s.namespace))
    .filter((s) => selectorMatches(selector, s.labels))
    .filter((s) => apiPort(s.ports) !== undefined)
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const first = candidates[0];
  if (first === undefined) return undefined;
  const port = apiPort(first.ports)!;
  const https = port.appProtocol === 'https' || (port.name ?? '').startsWith('https');
  return {
    service: first,
    port: port.port,
    scheme: https ? 'https' : 'http',
    selector: known,
    others: candidates.slice(1).map((s) => `${s.namespace}/${s.name}`),
  };
}

/**
 * The first well-known selector that finds a Service, trying them in order; `list` returns the
 * Services matching one selector (the caller lists with it as labelSelector).
 */
export async function findPrometheus(
  list: (selector: string) => Promise<readonly ServiceFacts[]>,
  namespaces?: readonly string[],
): Promise<FoundPrometheus | undefined> {
  for (const known of WELL_KNOWN_SELECTORS) {
    const found = pickService(known, await list(known.selector), namespaces);
    if (found) return found;
  }
  return undefined;
}

/** How Tailor reaches the Service: through the apiserver (the CLI, from anywhere), or its cluster DNS name (in a pod). */
export type DiscoveryReach = 'ApiserverProxy' | 'ClusterDns';

/** The URL of the found Service's HTTP API, as `reach` says. `server` is the apiserver's URL (ApiserverProxy). */
export function prometheusUrlOf(found: FoundPrometheus, reach: DiscoveryReach, server = ''): string {
  const { namespace, name } = found.service;
  switch (reach) {
    case 'ApiserverProxy':
      return `${server.replace(/\/+$/, '')}/api/v1/namespaces/${namespace}/services/${found.scheme}:${name}:${found.port}/proxy`;
    case 'ClusterDns':
      return `${found.scheme}://${name}.${namespace}.svc:${found.port}`;
  }
}

/** The one line that says what was found, e.g. for the CLI's stderr or the operator's log. */
export function describeFound(found: FoundPrometheus, reach: DiscoveryReach): string {
  const via = reach === 'ApiserverProxy' ? 'through the apiserver' : 'at its cluster DNS name';
  const more = found.others.length > 0 ? `; also matched ${found.others.join(', ')}` : '';
  return `found ${found.selector.flavour} Service ${found.service.namespace}/${found.service.name} port ${found.port} (${found.selector.selector}), reached ${via}${more}`;
}
