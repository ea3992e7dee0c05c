// The fleet the vs-vpa benchmark gives each tool: the same Deployments (same profiles, same
// hand-set resources, same phases) in two namespaces, and the object that hands each one to its
// tool: a VerticalPodAutoscaler (updateMode InPlaceOrRecreate, nothing else set) or a Tailor
// SizingPolicy (mode InPlace, default profile; only its wall-clock durations scaled to the speed).
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../src/api/index.ts';

const Mi = 2 ** 20;

export type Tool = 'vpa' | 'tailor';
export const TOOLS: readonly Tool[] = ['vpa', 'tailor'];

export interface Workload {
  readonly name: string;
  /** What it stands for, in the results. */
  readonly what: string;
  readonly replicas: number;
  readonly profile: 'web' | 'batch' | 'replay';
  readonly params: Record<string, unknown>;
  readonly resources: k8s.V1ResourceRequirements;
}

/**
 * Two replicas each: the VPA updater leaves Deployments of fewer alone (--min-replicas=2). Hand-set
 * resources are what a team would write: generous for the web and replayed services, too tight for
 * the OOM-prone job. Batch phases are fixed so both fleets run their jobs at the same simulated time.
 */
export const WORKLOADS: readonly Workload[] = [
  {
    name: 'web',
    what: 'web service, daily cycle (0.2 to 1 core, 300 to 600 MiB, peak 15:00)',
    replicas: 2,
    profile: 'web',
    params: {
      baseCpuCores: 0.2,
      peakCpuCores: 1,
      baseMemoryBytes: 300 * Mi,
      peakMemoryBytes: 600 * Mi,
      noise: 0.15,
    },
    resources: { requests: { cpu: '1500m', memory: '1Gi' }, limits: { memory: '1536Mi' } },
  },
  {
    name: 'batch',
    what: 'batch job, 20 min busy every hour (0.05 to 1.2 cores, 100 to 700 MiB)',
    replicas: 2,
    profile: 'batch',
    params: {
      baseCpuCores: 0.05,
      peakCpuCores: 1.2,
      baseMemoryBytes: 100 * Mi,
      peakMemoryBytes: 700 * Mi,
      periodSeconds: 3600,
      busySeconds: 1200,
      phaseSeconds: 0,
    },
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
  },
  {
    name: 'replay',
    what: 'replayed production series (Alibaba GenTD26 pod index 3, step interpolation, of 1 GiB)',
    replicas: 2,
    profile: 'replay',
    params: { index: 3, memoryBytes: 1024 * Mi, cpuCores: 0.5, interpolation: 'step' },
    resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1536Mi' } },
  },
  {
    name: 'oom',
    what: 'OOM-prone job: memory builds up to 640 MiB over 30 min every 2 h, hand-set limit 320 MiB',
    replicas: 2,
    profile: 'batch',
    params: {
      baseCpuCores: 0.05,
      peakCpuCores: 0.3,
      baseMemoryBytes: 64 * Mi,
      peakMemoryBytes: 640 * Mi,
      periodSeconds: 7200,
      busySeconds: 1800,
      phaseSeconds: 600,
    },
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '320Mi' } },
  },
];

export function deployment(w: Workload, pool: Record<string, string>): k8s.V1Deployment {
  return {
    metadata: { name: w.name, labels: { app: w.name } },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: { app: w.name } },
      template: {
        metadata: {
          labels: { app: w.name },
          annotations: {
            'sim.tailor.dev/profile': w.profile,
            'sim.tailor.dev/params': JSON.stringify(w.params),
          },
        },
        spec: {
          nodeSelector: pool,
          terminationGracePeriodSeconds: 5,
          containers: [{ name: 'app', image: `example.com/${w.name}:1`, resources: w.resources }],
        },
      },
    },
  };
}

/** A VPA with VPA's defaults but the update mode: everything it decides is its own. */
export function verticalPodAutoscaler(w: Workload): k8s.KubernetesObject & { spec: unknown } {
  return {
    apiVersion: 'autoscaling.k8s.io/v1',
    kind: 'VerticalPodAutoscaler',
    metadata: { name: w.name },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: w.name },
      updatePolicy: { updateMode: 'InPlaceOrRecreate' },
    },
  };
}

/** Tailor's defaults whose meaning is wall-clock time, divided by the speed within their allowed range. */
export function tailorTimeSettings(speed: number) {
  const minutes = (s: number) => `${Math.max(1, Math.round(s / 60))}m`;
  return {
    /** history.window: 8d by default, at least 1h. */
    window: minutes(Math.max(3600, (8 * 86400) / speed)),
    /** update.cooldown: 5m by default, at least 1m (so at speed 60 it spans an hour, not 5 min). */
    cooldown: minutes(Math.max(60, 300 / speed)),
    /** update.maxChangesPerHour: 4 by default, at most 60 (at speed 60: one a simulated minute, not 4 an hour). */
    maxChangesPerHour: Math.min(60, Math.round(4 * speed)),
    /** --min-history: min(window, 24h) by default. */
    minHistory: minutes(Math.max(60, 86400 / speed)),
  };
}

export function sizingPolicy(w: Workload, speed: number): k8s.KubernetesObject & { spec: unknown } {
  const t = tailorTimeSettings(speed);
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'SizingPolicy',
    metadata: { name: w.name },
    spec: {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: w.name },
      history: { window: t.window },
      update: { cooldown: t.cooldown, maxChangesPerHour: t.maxChangesPerHour },
    },
  };
}
