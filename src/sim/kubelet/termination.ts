// Graceful deletion of a pod by the simulated kubelet (pkg/kubelet/kuberuntime killContainer and
// the pod's terminationGracePeriodSeconds): SIGTERM to every container, which stops when the app
// exits or, at the end of the grace period, is killed; then the kubelet's final delete (grace 0).
import type * as k8s from '@kubernetes/client-node';

/** The annotation that says how long the simulated app takes to exit on SIGTERM ("never": it ignores it). */
export const SHUTDOWN_ANNOTATION = 'sim.tailor.dev/shutdown-seconds';
/** A simulated app exits this long after SIGTERM unless the pod says otherwise (a server draining its requests). */
export const DEFAULT_SHUTDOWN_S = 1;
/** The API's default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_S = 30;

export type Stop = 'Exited' | 'Killed';

export interface Termination {
  /** Simulated seconds when SIGTERM was sent. */
  since: number;
  /** When the containers stop. */
  stopAt: number;
  /** Exited on SIGTERM (exit code 0), or killed at the end of the grace period (137). */
  how: Stop;
}

/** The grace period the apiserver set on delete (deletionGracePeriodSeconds), else the spec's, else 30 s. */
export function gracePeriodOf(pod: k8s.V1Pod): number {
  return (
    pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S
  );
}

/** How long the app takes to exit on SIGTERM: a number of seconds, or Infinity for "never"; bad values fall back to the default. */
export function shutdownSecondsOf(pod: k8s.V1Pod): number {
  const raw = pod.metadata?.annotations?.[SHUTDOWN_ANNOTATION];
  if (raw === undefined) return DEFAULT_SHUTDOWN_S;
  if (raw.trim() === 'never') return Infinity;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_SHUTDOWN_S;
}

export function terminate(now: number, graceSeconds: number, shutdownSeconds: number): Termination {
  const grace = Math.max(0, graceSeconds);
  return shutdownSeconds < grace
    ? { since: now, stopAt: now + shutdownSeconds, how: 'Exited' }
    : { since: now, stopAt: now + grace, how: 'Killed' };
}
