// Where the storage controller reads volume usage: the source the caller gives, else the operator's
// Prometheus source "default" (kubelet_volume_stats_*), else each kubelet's Summary API, read with
// the operator's service account token (src/sources/volume-stats/kubelet.ts).
import type { Logger } from 'pino';
import type { Clients } from '../kube/client.ts';
import { PrometheusClient } from '../sources/prometheus.ts';
import { PrometheusVolumeStats } from '../sources/volume-stats/prometheus.ts';
import { existsSync } from 'node:fs';
import { KubeletVolumeStats, SERVICE_ACCOUNT_DIR } from '../sources/volume-stats/kubelet.ts';
import type { VolumeStatsSource } from '../sources/volume-stats.ts';
import {
  DEFAULT_SOURCE,
  clientOptionsOf,
  resolveSources,
  type PrometheusSourceConfig,
} from './prometheus-sources.ts';

export function volumeStatsSource(
  options: {
    readonly volumeStats?: VolumeStatsSource;
    readonly prometheusSources?: readonly PrometheusSourceConfig[];
    readonly storage?: object | false;
    /** Do not verify the kubelets' serving certificates (metrics-server's --kubelet-insecure-tls). */
    readonly kubeletInsecureTls?: boolean;
  },
  clients: Clients,
  now: () => number,
  log: Logger,
): { volumeStats?: VolumeStatsSource } {
  if (options.storage === false) return {};
  if (options.volumeStats) return { volumeStats: options.volumeStats };
  const source = resolveSources(options.prometheusSources ?? []).find((s) => s.name === DEFAULT_SOURCE);
  if (source) {
    const client = new PrometheusClient(clientOptionsOf(source));
    return { volumeStats: new PrometheusVolumeStats({ client, now }) };
  }
  // In a pod, the service account's token; outside one (the demo, a laptop), the kubeconfig's own.
  const token = existsSync(`${SERVICE_ACCOUNT_DIR}/token`) ? undefined : clients.kc.getCurrentUser()?.token;
  return {
    volumeStats: new KubeletVolumeStats({
      ...(token ? { bearerToken: token } : {}),
      listNodes: async () => (await clients.core.listNode()).items,
      ...(options.kubeletInsecureTls ? { insecureSkipTlsVerify: true } : {}),
      now,
      log: log.child({ component: 'kubelet-volume-stats' }),
    }),
  };
}
