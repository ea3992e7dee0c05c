// The kubelet's probes, worked out in closed form from a container's start: when its startup probe
// first succeeds (or runs out and kills it), when its readiness probe first passes, whether its
// liveness probe kills it first. Follows pkg/kubelet/prober (worker.go, prober_manager.go): the
// startup probe gates the other two; failureThreshold consecutive failures act; each probe runs at
// initialDelaySeconds, then every periodSeconds (the worker's random first-tick jitter is left out).
import type * as k8s from '@kubernetes/client-node';

export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  failureThreshold: number;
  successThreshold: number;
  /** What a failed attempt reports: the HTTP path and port, or the handler kind. */
  target: string;
}

export interface Probes {
  startup?: ProbeTiming;
  readiness?: ProbeTiming;
  liveness?: ProbeTiming;
}

export type ProbeKind = 'Startup' | 'Liveness';

export type ProbeVerdict =
  | { kind: 'NotReady' }
  | { kind: 'Ready' }
  /** The probe ran out: the kubelet kills the container (then restarts it, with back-off). */
  | { kind: 'Kill'; probe: ProbeKind; atSeconds: number };

/** The API's defaults (pkg/apis/core/v1/defaults.go SetDefaults_Probe). */
function timingOf(p: k8s.V1Probe | undefined): ProbeTiming | undefined {
  if (p === undefined) return undefined;
  const http = p.httpGet;
  return {
    initialDelaySeconds: Math.max(0, p.initialDelaySeconds ?? 0),
    periodSeconds: Math.max(1, p.periodSeconds ?? 10),
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
    successThreshold: Math.max(1, p.successThreshold ?? 1),
    target: http
      ? `${http.path ?? '/'}:${String(http.port)}`
      : p.tcpSocket
        ? `tcp:${String(p.tcpSocket.port)}`
        : 'exec',
  };
}

export function probesOf(c: k8s.V1Container): Probes {
  const startup = timingOf(c.startupProbe);
  const readiness = timingOf(c.readinessProbe);
  const liveness = timingOf(c.livenessProbe);
  return {
    ...(startup ? { startup } : {}),
    ...(readiness ? { readiness } : {}),
    ...(liveness ? { liveness } : {}),
  };
}

export function hasProbes(p: Probes): boolean {
  return p.startup !== undefined || p.readiness !== undefined || p.liveness !== undefined;
}

/** The k-th attempt's time (seconds since container start). */
const at = (t: ProbeTiming, k: number): number => t.initialDelaySeconds + k * t.periodSeconds;

/** Index of the first attempt at or after `time`. */
function firstAttemptFrom(t: ProbeTiming, time: number): number {
  return Math.max(0, Math.ceil((time - t.initialDelaySeconds) / t.periodSeconds - 1e-9));
}

/**
 * Where a container stands `since` seconds after it started when its server answers its health
 * path from `healthyAfter` seconds on (Infinity: never, e.g. it will crash first).
 */
export function probeVerdict(p: Probes, since: number, healthyAfter: number): ProbeVerdict {
  // Startup: the first passing attempt marks the container started; failureThreshold failing
  // attempts before it kill the container at the last of them.
  let started = 0;
  if (p.startup) {
    const k = firstAttemptFrom(p.startup, healthyAfter);
    if (k >= p.startup.failureThreshold) {
      const kill = at(p.startup, p.startup.failureThreshold - 1);
      return since >= kill ? { kind: 'Kill', probe: 'Startup', atSeconds: kill } : { kind: 'NotReady' };
    }
    started = at(p.startup, k);
  }
  if (since < started) return { kind: 'NotReady' };
  // Liveness runs once started; it only fails before the server answers (no startup probe).
  if (p.liveness) {
    const from = firstAttemptFrom(p.liveness, started);
    const k = firstAttemptFrom(p.liveness, healthyAfter);
    if (k - from >= p.liveness.failureThreshold) {
      const kill = at(p.liveness, from + p.liveness.failureThreshold - 1);
      if (since >= kill) return { kind: 'Kill', probe: 'Liveness', atSeconds: kill };
    }
  }
  // Readiness: ready at the successThreshold-th passing attempt once started; without a readiness
  // probe the container is ready as soon as it has started.
  if (!p.readiness) return { kind: 'Ready' };
  const k = firstAttemptFrom(p.readiness, Math.max(started, healthyAfter)) + p.readiness.successThreshold - 1;
  return since >= at(p.readiness, k) ? { kind: 'Ready' } : { kind: 'NotReady' };
}

/** The Events the kubelet records when a probe kills a container (pkg/kubelet/prober/prober.go, kuberuntime_manager.go). */
export function probeKillEvents(
  probe: ProbeKind,
  container: string,
  podIP: string,
  t: ProbeTiming | undefined,
  /** A server that listens while it loads answers this status (llama.cpp: 503); else the port is closed. */
  loadingStatus?: number,
): { unhealthy: string; killing: string } {
  const target = t?.target ?? '';
  const [path, port] = target.includes(':') && !target.startsWith('tcp:') ? target.split(':') : [target, ''];
  const output =
    loadingStatus !== undefined
      ? `HTTP probe failed with statuscode: ${loadingStatus}`
      : port !== ''
        ? `Get "http://${podIP}:${port}${path}": dial tcp ${podIP}:${port}: connect: connection refused`
        : 'connection refused';
  return {
    unhealthy: `${probe} probe failed: ${output}`,
    killing: `Container ${container} failed ${probe.toLowerCase()} probe, will be restarted`,
  };
}
