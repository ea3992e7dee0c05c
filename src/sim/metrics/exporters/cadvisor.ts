// cAdvisor's container series, as the kubelet serves them on /metrics/cadvisor.
import type { Exposition, Labels } from '../exposition.ts';
import type { UsageView } from '../view.ts';

export function cadvisor(e: Exposition, view: UsageView): void {
  for (const p of view.pods()) {
    for (const c of p.containers.values()) {
      const labels: Labels = {
        namespace: p.namespace,
        pod: p.name,
        container: c.name,
        image: c.image,
        node: p.node,
        id: `/kubepods/pod${p.uid}/${c.name}`,
        name: `${p.name}_${c.name}`,
      };
      e.add(
        'container_cpu_usage_seconds_total',
        'counter',
        'Cumulative cpu time consumed in seconds.',
        { ...labels, cpu: 'total' },
        c.cpuSecondsTotal,
      );
      e.add(
        'container_memory_working_set_bytes',
        'gauge',
        'Current working set in bytes.',
        labels,
        c.usage.memoryBytes,
      );
      e.add(
        'container_memory_usage_bytes',
        'gauge',
        'Current memory usage in bytes, including all memory regardless of when it was accessed.',
        labels,
        c.usage.memoryBytes,
      );
      e.add(
        'container_cpu_cfs_periods_total',
        'counter',
        'Number of elapsed enforcement period intervals.',
        labels,
        Math.floor(c.cfsPeriodsTotal),
      );
      e.add(
        'container_cpu_cfs_throttled_periods_total',
        'counter',
        'Number of throttled period intervals.',
        labels,
        Math.floor(c.cfsThrottledPeriodsTotal),
      );
      e.add(
        'container_oom_events_total',
        'counter',
        'Count of out of memory events observed for the container',
        labels,
        c.oomEventsTotal,
      );
      if (c.actual.memoryLimit !== undefined)
        e.add(
          'container_spec_memory_limit_bytes',
          'gauge',
          'Memory limit for the container.',
          labels,
          c.actual.memoryLimit,
        );
      if (c.actual.cpuLimit !== undefined)
        e.add(
          'container_spec_cpu_quota',
          'gauge',
          'CPU quota of the container.',
          labels,
          Math.round(c.actual.cpuLimit * 100000),
        );
    }
  }
}
