// cAdvisor's container series as the kubelet serves them on /metrics/cadvisor: one series set per
// running container instance (its cgroup), named by `id`, plus the pod's own cgroup (container="").
//
// Followed sources:
// - labels: kubernetes pkg/kubelet/server/server.go containerPrometheusLabelsFunc (id = the cgroup
//   name, name = the first alias, which the containerd handler makes the container ID,
//   google/cadvisor container/containerd/handler.go; image, pod, namespace, container; the pod
//   cgroup gets pod and namespace through GetPodByCgroupfs and blank name, image and container);
// - families and their conditions: google/cadvisor metrics/prometheus.go (v0.53): cpu usage with
//   cpu="total" only once it is above zero (no per-CPU series: the kubelet asks for none), the cfs
//   counters and container_spec_cpu_quota only under a quota, container_spec_memory_limit_bytes 0
//   when unlimited, container_spec_cpu_shares and _period always;
// - the OOM counter: google/cadvisor manager/manager.go watchForNewOoms counts a kill on the cgroup
//   of the killed task (oomparser's task_memcg), on that cgroup's in-memory record. A killed main
//   process ends the container: the runtime removes the cgroup, cAdvisor drops the record and the
//   next instance is a new cgroup (new `id`) counting from zero, so a scrape almost never sees the
//   increment. The simulator kills only main processes (its profiles have no child processes), so
//   the counter reads 0 on every series, as it does on a real cluster after such kills.
import { qosOf } from '../../../core/resize/qos.ts';
import type { QosClass } from '../../../core/resize/types.ts';
import { containerIdOf, type ContainerState, type PodState } from '../../kubelet/state.ts';
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

/** The kubelet's CFS period (cpu.cfs_period_us), in microseconds. */
const CFS_PERIOD_US = 100_000;

/** The pod's QoS class (fixed at creation: a resize may not change it), from its containers' resources. */
export function podQos(pod: PodState): QosClass {
  return qosOf(
    [...pod.containers.values()].map((c) => ({
      requests: { cpu: c.allocated.cpuRequest, memory: c.allocated.memoryRequest },
      limits: { cpu: c.actual.cpuLimit, memory: c.actual.memoryLimit },
    })),
  );
}

/**
 * The pod's cgroup under the cgroupfs driver (pkg/kubelet/cm/qos_container_manager_linux.go,
 * pod_container_manager_linux.go): Guaranteed pods sit right under /kubepods, the others under
 * their QoS class's cgroup.
 */
export function podCgroup(pod: PodState): string {
  const qos = podQos(pod);
  switch (qos) {
    case 'Guaranteed':
      return `/kubepods/pod${pod.uid}`;
    case 'Burstable':
      return `/kubepods/burstable/pod${pod.uid}`;
    case 'BestEffort':
      return `/kubepods/besteffort/pod${pod.uid}`;
  }
}

/** A container instance runs (has a cgroup) unless it is down (exited, not started again) or behind init containers. */
export function runs(pod: PodState, c: ContainerState): boolean {
  if (pod.init && pod.init.doneAt === undefined) return false;
  return c.backOffUntil === undefined;
}

/** cpu.shares as the kubelet sets them from the CPU request (pkg/kubelet/cm/helpers_linux.go MilliCPUToShares). */
function shares(cpuRequest: number): number {
  return Math.max(2, Math.floor((Math.round(cpuRequest * 1000) * 1024) / 1000));
}

interface Cgroup {
  labels: Labels;
  startedAt: number;
  cpuSeconds: number;
  memoryBytes: number;
  cpuRequest: number;
  cpuLimit?: number;
  memoryLimit?: number;
  cfsPeriods: number;
  cfsThrottledPeriods: number;
}

export function cadvisor(e: Exposition, view: UsageView): void {
  for (const p of view.pods()) {
    const podPath = podCgroup(p);
    const running = [...p.containers.values()].filter((c) => runs(p, c));
    // The pod cgroup outlives its containers' restarts: its CPU counter keeps every instance's time.
    let podCpu = 0;
    let podMemory = 0;
    let podCpuRequest = 0;
    let podCpuLimit: number | undefined = 0;
    let podMemoryLimit: number | undefined = 0;
    for (const c of p.containers.values()) {
      podCpu += (c.priorCpuSeconds ?? 0) + c.cpuSecondsTotal;
      podCpuRequest += c.actual.cpuRequest;
      // A pod-level limit exists only when every container has one (the sum of them).
      podCpuLimit =
        podCpuLimit !== undefined && c.actual.cpuLimit !== undefined
          ? podCpuLimit + c.actual.cpuLimit
          : undefined;
      podMemoryLimit =
        podMemoryLimit !== undefined && c.actual.memoryLimit !== undefined
          ? podMemoryLimit + c.actual.memoryLimit
          : undefined;
    }
    for (const c of running) podMemory += c.usage.memoryBytes;
    const node = { node: p.node };
    write(e, {
      labels: {
        container: '',
        id: podPath,
        image: '',
        name: '',
        namespace: p.namespace,
        pod: p.name,
        ...node,
      },
      startedAt: p.startTime,
      cpuSeconds: podCpu,
      memoryBytes: podMemory,
      cpuRequest: podCpuRequest,
      cpuLimit: podCpuLimit,
      memoryLimit: podMemoryLimit,
      cfsPeriods: 0,
      cfsThrottledPeriods: 0,
    });
    for (const c of running) {
      const id = containerIdOf(p.uid, c.name, c.restartCount);
      write(e, {
        labels: {
          container: c.name,
          id: `${podPath}/${id}`,
          image: c.image,
          name: id,
          namespace: p.namespace,
          pod: p.name,
          ...node,
        },
        startedAt: c.startedAt,
        cpuSeconds: c.cpuSecondsTotal,
        memoryBytes: c.usage.memoryBytes,
        cpuRequest: c.actual.cpuRequest,
        cpuLimit: c.actual.cpuLimit,
        memoryLimit: c.actual.memoryLimit,
        cfsPeriods: c.cfsPeriodsTotal,
        cfsThrottledPeriods: c.cfsThrottledPeriodsTotal,
      });
    }
  }
}

function write(e: Exposition, g: Cgroup): void {
  const l = g.labels;
  e.add(
    'container_start_time_seconds',
    'gauge',
    'Start time of the container since unix epoch in seconds.',
    l,
    Math.floor(g.startedAt),
  );
  e.add('container_spec_cpu_period', 'gauge', 'CPU period of the container.', l, CFS_PERIOD_US);
  if (g.cpuLimit !== undefined)
    e.add(
      'container_spec_cpu_quota',
      'gauge',
      'CPU quota of the container.',
      l,
      Math.round(g.cpuLimit * CFS_PERIOD_US),
    );
  e.add('container_spec_cpu_shares', 'gauge', 'CPU share of the container.', l, shares(g.cpuRequest));
  e.add(
    'container_spec_memory_limit_bytes',
    'gauge',
    'Memory limit for the container.',
    l,
    g.memoryLimit ?? 0,
  );
  if (g.cpuSeconds > 0)
    e.add(
      'container_cpu_usage_seconds_total',
      'counter',
      'Cumulative cpu time consumed in seconds.',
      { ...l, cpu: 'total' },
      g.cpuSeconds,
    );
  if (g.cpuLimit !== undefined) {
    e.add(
      'container_cpu_cfs_periods_total',
      'counter',
      'Number of elapsed enforcement period intervals.',
      l,
      Math.floor(g.cfsPeriods),
    );
    e.add(
      'container_cpu_cfs_throttled_periods_total',
      'counter',
      'Number of throttled period intervals.',
      l,
      Math.floor(g.cfsThrottledPeriods),
    );
  }
  // No page cache is simulated: usage, working set and RSS are the same bytes.
  e.add('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.', l, 0);
  e.add('container_memory_rss', 'gauge', 'Size of RSS in bytes.', l, g.memoryBytes);
  e.add(
    'container_memory_usage_bytes',
    'gauge',
    'Current memory usage in bytes, including all memory regardless of when it was accessed',
    l,
    g.memoryBytes,
  );
  e.add('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', l, g.memoryBytes);
  // Main-process kills only (see the header): the cgroup that counted a kill is gone by the next scrape.
  e.add(
    'container_oom_events_total',
    'counter',
    'Count of out of memory events observed for the container',
    l,
    0,
  );
}
