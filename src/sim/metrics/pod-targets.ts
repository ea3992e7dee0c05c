// The inference servers as a `kubernetes_sd` pod scrape finds them: an HTTP service-discovery list
// (Prometheus http_sd_configs) of one target per server, each labelled as the prometheus-community
// chart's `kubernetes-pods` job labels it (namespace, pod, node; instance the pod's IP and port),
// and each server's own /metrics body on a path of its own, without labels it would not put there.
import { Exposition } from './exposition.ts';
import type { UsageView } from './view.ts';
import { serverSeries } from './exporters/runtimes.ts';

/** The path of one pod's server exposition on the simulator's Prometheus endpoint. */
export function podMetricsPath(namespace: string, pod: string): string {
  return `/metrics/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}`;
}

/** One http_sd target group (https://prometheus.io/docs/prometheus/latest/http_sd/). */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** A target for every server that answers /metrics now; `address` is the simulator's host:port. */
export function podTargets(view: UsageView, address: string): TargetGroup[] {
  const now = view.now();
  const out: TargetGroup[] = [];
  for (const p of view.pods())
    for (const c of p.containers.values()) {
      if (c.server === undefined || !serverSeries(new Exposition(), c, now, {})) continue;
      out.push({
        targets: [address],
        labels: {
          __metrics_path__: podMetricsPath(p.namespace, p.name),
          instance: `${p.podIP}:${c.server.port}`,
          namespace: p.namespace,
          pod: p.name,
          node: p.node,
        },
      });
    }
  return out;
}

/** The body a pod's server answers on /metrics, or undefined when it has none (or is not up). */
export function podExposition(view: UsageView, namespace: string, pod: string): string | undefined {
  const now = view.now();
  for (const p of view.pods()) {
    if (p.namespace !== namespace || p.name !== pod) continue;
    const e = new Exposition();
    let any = false;
    for (const c of p.containers.values()) any = serverSeries(e, c, now, {}) || any;
    return any ? e.text() : undefined;
  }
  return undefined;
}
