// A Prometheus endpoint with the metric names and labels real exporters use: cAdvisor (through
// the kubelet), kubelet volume stats, NVIDIA DCGM and vLLM, so queries written for a real
// cluster work unchanged against the simulator.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TailorError } from '../../errors.ts';
import type { UsageView } from './view.ts';

type Labels = Record<string, string | number>;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class Exposition {
  private families = new Map<string, { help: string; type: 'gauge' | 'counter'; lines: string[] }>();

  add(name: string, type: 'gauge' | 'counter', help: string, labels: Labels, value: number): void {
    let f = this.families.get(name);
    if (!f) {
      f = { help, type, lines: [] };
      this.families.set(name, f);
    }
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escape(String(v))}"`)
      .join(',');
    f.lines.push(`${name}{${l}} ${Number.isFinite(value) ? value : 0}`);
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return out.join('\n') + '\n';
  }
}

export function exposition(view: UsageView): string {
  const e = new Exposition();
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
      e.add(
        'kube_pod_container_status_restarts_total',
        'counter',
        'The number of container restarts per container.',
        { namespace: p.namespace, pod: p.name, container: c.name },
        c.restartCount,
      );
      for (let g = 0; g < c.gpus; g++) {
        const dcgm: Labels = {
          gpu: g,
          UUID: `GPU-sim-${p.uid.slice(0, 8)}-${g}`,
          device: `nvidia${g}`,
          modelName: nodeGpuModel(view, p.node),
          Hostname: p.node,
          namespace: p.namespace,
          pod: p.name,
          container: c.name,
        };
        // DCGM reports framebuffer in MiB; a pod's usage is spread evenly over its GPUs.
        e.add(
          'DCGM_FI_DEV_FB_USED',
          'gauge',
          'Framebuffer memory used (in MiB).',
          dcgm,
          Math.round(c.usage.gpuMemoryBytes / c.gpus / 2 ** 20),
        );
        e.add(
          'DCGM_FI_DEV_GPU_UTIL',
          'gauge',
          'GPU utilization (in %).',
          dcgm,
          Math.round(c.usage.gpuUtilPercent),
        );
      }
      if (c.usage.llm) {
        const vllm: Labels = {
          namespace: p.namespace,
          pod: p.name,
          model_name: p.labels['tailor.dev/model'] ?? c.name,
        };
        e.add(
          'vllm:num_requests_running',
          'gauge',
          'Number of requests currently running on GPU.',
          vllm,
          c.usage.llm.requestsRunning,
        );
        e.add(
          'vllm:num_requests_waiting',
          'gauge',
          'Number of requests waiting to be processed.',
          vllm,
          c.usage.llm.requestsWaiting,
        );
        e.add(
          'vllm:kv_cache_usage_perc',
          'gauge',
          'KV-cache usage. 1 means 100 percent usage.',
          vllm,
          c.usage.llm.kvCacheUsage,
        );
      }
    }
  }
  for (const v of view.volumes()) {
    const labels: Labels = { namespace: v.namespace, persistentvolumeclaim: v.claim };
    e.add(
      'kubelet_volume_stats_used_bytes',
      'gauge',
      'Number of used bytes in the volume',
      labels,
      v.usedBytes,
    );
    e.add(
      'kubelet_volume_stats_capacity_bytes',
      'gauge',
      'Capacity in bytes of the volume',
      labels,
      v.capacityBytes,
    );
    e.add(
      'kubelet_volume_stats_available_bytes',
      'gauge',
      'Number of available bytes in the volume',
      labels,
      v.availableBytes ?? Math.max(0, v.capacityBytes - v.usedBytes),
    );
    if (v.inodes !== undefined && v.inodesUsed !== undefined) {
      e.add(
        'kubelet_volume_stats_inodes',
        'gauge',
        'Maximum number of inodes in the volume',
        labels,
        v.inodes,
      );
      e.add(
        'kubelet_volume_stats_inodes_used',
        'gauge',
        'Number of used inodes in the volume',
        labels,
        v.inodesUsed,
      );
      e.add(
        'kubelet_volume_stats_inodes_free',
        'gauge',
        'Number of free inodes in the volume',
        labels,
        Math.max(0, v.inodes - v.inodesUsed),
      );
    }
    e.add(
      'tailor_sim_volume_full_total',
      'counter',
      'Times the simulated volume filled up (a write refused: no space or no inodes left).',
      labels,
      v.fullTotal ?? 0,
    );
  }
  return e.text();
}

function nodeGpuModel(view: UsageView, node: string): string {
  for (const n of view.nodes()) if (n.name === node) return n.gpuModel ?? '';
  return '';
}

export class PrometheusEndpoint {
  private server?: Server;
  port = 0;

  constructor(private readonly view: UsageView) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url?.startsWith('/metrics')) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(exposition(this.view));
        return;
      }
      res.writeHead(404).end('not found: try /metrics\n');
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new TailorError('InvalidInput', `port ${port} on 127.0.0.1 is already in use`, {
                hint: 'pass --prometheus-port 0 for any free port',
              })
            : err,
        ),
      );
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    // The aggregator (or a scraper) holds keep-alive connections: close() alone waits for them forever.
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
