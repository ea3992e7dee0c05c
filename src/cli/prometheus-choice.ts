// Which Prometheus a CLI command reads: the --prometheus URL with its credentials, else the one
// discovery finds through the apiserver (the user's kubeconfig), else none; said in one line.
import type * as k8s from '@kubernetes/client-node';
import { TailorError } from '../errors.ts';
import { discoverPrometheus } from '../sources/prometheus-discovery.ts';
import type { PrometheusClientOptions } from '../sources/prometheus.ts';
import { prometheusAuthFrom, prometheusUrlFrom, type PrometheusFlags } from './flags.ts';

export interface PrometheusChoice {
  readonly client: PrometheusClientOptions;
  /** What the report names as its source: the URL given, or the Service found. */
  readonly location: string;
}

/**
 * The flags checked (before anything connects): the credential files go with a --prometheus URL
 * only, since a found Prometheus is reached through the apiserver with the kubeconfig's credentials.
 */
export function checkPrometheusFlags(o: PrometheusFlags): {
  url: string | undefined;
  auth: ReturnType<typeof prometheusAuthFrom>;
} {
  const url = prometheusUrlFrom(o);
  const auth = prometheusAuthFrom(o);
  const given = Object.keys(auth);
  if (url === undefined && given.length > 0)
    throw new TailorError('InvalidInput', `--prometheus-${kebab(given[0]!)} needs --prometheus URL`, {
      hint: "the credentials are for the Prometheus you name; a Prometheus Tailor finds by itself is reached through the apiserver with your kubeconfig's credentials",
    });
  return { url, auth };
}

/** The Prometheus to read, or undefined (none given, discovery off or nothing found: `say` tells why). */
export async function choosePrometheus(
  o: PrometheusFlags,
  checked: ReturnType<typeof checkPrometheusFlags>,
  kc: k8s.KubeConfig,
  core: k8s.CoreV1Api,
  say: (line: string) => void,
): Promise<PrometheusChoice | undefined> {
  if (checked.url !== undefined)
    return { client: { baseUrl: checked.url, ...checked.auth }, location: checked.url };
  if (o.prometheusDiscovery === false) return undefined;
  const d = await discoverPrometheus(kc, core, { reach: 'ApiserverProxy' });
  say(d.line);
  if (d.kind !== 'Found') return undefined;
  return {
    client: d.client,
    location: `${d.found.service.namespace}/${d.found.service.name}:${d.found.port} (through the apiserver)`,
  };
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
