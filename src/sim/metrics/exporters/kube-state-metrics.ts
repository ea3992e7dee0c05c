// kube-state-metrics' pod and container series, read from the pods' state as the API shows it.
import type { Exposition } from '../exposition.ts';
import type { UsageView } from '../view.ts';

export function kubeStateMetrics(e: Exposition, view: UsageView): void {
  for (const p of view.pods()) {
    for (const c of p.containers.values()) {
      e.add(
        'kube_pod_container_status_restarts_total',
        'counter',
        'The number of container restarts per container.',
        { namespace: p.namespace, pod: p.name, container: c.name },
        c.restartCount,
      );
    }
  }
}
