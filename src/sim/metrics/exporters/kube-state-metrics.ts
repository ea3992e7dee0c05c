// kube-state-metrics' pod and container series, built from the pods as the API shows them (the
// status the simulated kubelet wrote, read back through its watch), with KSM's names, labels and
// rules: kubernetes/kube-state-metrics internal/store/pod.go (every series carries namespace, pod
// and uid, wrapPodFunc; reasons come from the status as written; requests and limits from the spec).
import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '../../../core/quantity.ts';
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

const PHASES = ['Pending', 'Succeeded', 'Failed', 'Unknown', 'Running'] as const;

export function kubeStateMetrics(e: Exposition, view: UsageView): void {
  for (const pod of view.apiPods()) podSeries(e, pod);
}

/** One pod's series, as KSM's pod store generates them. */
export function podSeries(e: Exposition, pod: k8s.V1Pod): void {
  const m = pod.metadata ?? {};
  const base: Labels = { namespace: m.namespace ?? '', pod: m.name ?? '', uid: m.uid ?? '' };
  const node = pod.spec?.nodeName ?? '';
  const status = pod.status ?? {};
  const controller = m.ownerReferences?.find((o) => o.controller);
  e.add(
    'kube_pod_info',
    'gauge',
    'Information about pod.',
    {
      ...base,
      host_ip: status.hostIP ?? '',
      pod_ip: status.podIP ?? '',
      node,
      created_by_kind: controller?.kind ?? '',
      created_by_name: controller?.name ?? '',
      priority_class: pod.spec?.priorityClassName ?? '',
      host_network: String(pod.spec?.hostNetwork ?? false),
    },
    1,
  );
  const owners = m.ownerReferences ?? [];
  if (owners.length === 0)
    e.add(
      'kube_pod_owner',
      'gauge',
      "Information about the Pod's owner.",
      { ...base, owner_kind: '', owner_name: '', owner_is_controller: '' },
      1,
    );
  for (const o of owners)
    e.add(
      'kube_pod_owner',
      'gauge',
      "Information about the Pod's owner.",
      { ...base, owner_kind: o.kind, owner_name: o.name, owner_is_controller: String(o.controller ?? false) },
      1,
    );
  // No phase yet (never written by a kubelet): no series, as KSM.
  if (status.phase)
    for (const phase of PHASES)
      e.add(
        'kube_pod_status_phase',
        'gauge',
        'The pods current phase.',
        { ...base, phase },
        status.phase === phase ? 1 : 0,
      );

  for (const c of pod.spec?.containers ?? []) {
    resources(
      e,
      'kube_pod_container_resource_requests',
      'request',
      base,
      c.name,
      node,
      c.resources?.requests,
    );
    resources(e, 'kube_pod_container_resource_limits', 'limit', base, c.name, node, c.resources?.limits);
    const cs = status.containerStatuses?.find((s) => s.name === c.name);
    if (cs)
      e.add(
        'kube_pod_container_info',
        'gauge',
        'Information about a container in a pod.',
        {
          ...base,
          container: cs.name,
          image_spec: c.image ?? '',
          image: cs.image,
          image_id: cs.imageID,
          container_id: cs.containerID ?? '',
        },
        1,
      );
  }

  for (const cs of status.containerStatuses ?? []) {
    const l: Labels = { ...base, container: cs.name };
    const state = cs.state ?? {};
    e.add(
      'kube_pod_container_status_restarts_total',
      'counter',
      'The number of container restarts per container.',
      l,
      cs.restartCount,
    );
    e.add(
      'kube_pod_container_status_ready',
      'gauge',
      'Describes whether the containers readiness check succeeded.',
      l,
      cs.ready ? 1 : 0,
    );
    e.add(
      'kube_pod_container_status_running',
      'gauge',
      'Describes whether the container is currently in running state.',
      l,
      state.running ? 1 : 0,
    );
    e.add(
      'kube_pod_container_status_waiting',
      'gauge',
      'Describes whether the container is currently in waiting state.',
      l,
      state.waiting ? 1 : 0,
    );
    e.add(
      'kube_pod_container_status_terminated',
      'gauge',
      'Describes whether the container is currently in terminated state.',
      l,
      state.terminated ? 1 : 0,
    );
    if (state.waiting)
      e.add(
        'kube_pod_container_status_waiting_reason',
        'gauge',
        'Describes the reason the container is currently in waiting state.',
        { ...l, reason: state.waiting.reason ?? '' },
        1,
      );
    if (state.terminated)
      e.add(
        'kube_pod_container_status_terminated_reason',
        'gauge',
        'Describes the reason the container is currently in terminated state.',
        { ...l, reason: state.terminated.reason ?? '' },
        1,
      );
    const started = state.running?.startedAt ?? state.terminated?.startedAt;
    if (started)
      e.add(
        'kube_pod_container_state_started',
        'gauge',
        'Start time in unix timestamp for a pod container.',
        l,
        unix(started),
      );
    // Only the last termination's reason, value 1: one series per container, its reason label
    // changing with the next termination of another kind.
    const last = cs.lastState?.terminated;
    if (last) {
      e.add(
        'kube_pod_container_status_last_terminated_reason',
        'gauge',
        'Describes the last reason the container was in terminated state.',
        { ...l, reason: last.reason ?? '' },
        1,
      );
      e.add(
        'kube_pod_container_status_last_terminated_exitcode',
        'gauge',
        'Describes the exit code for the last container in terminated state.',
        l,
        last.exitCode,
      );
      if (last.finishedAt)
        e.add(
          'kube_pod_container_status_last_terminated_timestamp',
          'gauge',
          'Last terminated time for a pod container in unix timestamp.',
          l,
          unix(last.finishedAt),
        );
    }
  }
}

/** cpu in cores (unit core), memory and storage in bytes (unit byte), extended resources as integers. */
function resources(
  e: Exposition,
  name: string,
  kind: 'request' | 'limit',
  base: Labels,
  container: string,
  node: string,
  amounts: Record<string, string> | undefined,
): void {
  for (const [resource, quantity] of Object.entries(amounts ?? {})) {
    const value = parseQuantity(quantity);
    if (value === undefined) continue;
    const unit =
      resource === 'cpu'
        ? 'core'
        : resource === 'memory' ||
            resource === 'storage' ||
            resource === 'ephemeral-storage' ||
            resource.startsWith('hugepages-')
          ? 'byte'
          : resource.includes('/')
            ? 'integer'
            : undefined;
    // KSM keeps cpu, memory, storage, hugepages and extended resources (a domain-qualified name).
    if (unit === undefined) continue;
    e.add(
      name,
      'gauge',
      `The number of requested ${kind} resource by a container. It is recommended to use the kube_pod_resource_${kind}s metric exposed by kube-scheduler instead, as it is more precise.`,
      // SanitizeLabelName: nvidia.com/gpu -> nvidia_com_gpu.
      { ...base, container, node, resource: resource.replace(/[^a-zA-Z0-9_]/g, '_'), unit },
      unit === 'core' ? value : Math.ceil(value),
    );
  }
}

function unix(t: Date | string): number {
  return Math.floor(new Date(t).getTime() / 1000);
}
