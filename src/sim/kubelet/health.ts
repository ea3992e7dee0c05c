// How the simulated kubelet judges one container's health: its probes, and what its process shows
// when it ends by itself (the log line, when terminationMessagePolicy lets the kubelet read it).
import type * as k8s from '@kubernetes/client-node';
import { runtimeOf } from '../runtimes/identify.ts';
import {
  hasProbes,
  probeKillEvents,
  probeVerdict,
  probesOf,
  type Probes,
  type ProbeVerdict,
} from './probes.ts';

export interface ContainerHealth {
  probes: Probes;
  /** FallbackToLogsOnError: a failed container's message is the tail of its log. */
  logsOnError: boolean;
  /** The status a server that listens while loading answers (llama.cpp's 503 "Loading model"). */
  loadingStatus?: number;
  /**
   * Seconds after start from which the health path answers whatever the model is doing: Ollama's
   * /api/version answers as soon as `ollama serve` listens; the model is pulled and loaded behind it.
   */
  answersAfterSeconds?: number;
}

/** `ollama serve` starts listening within a second or two (the preset's script sleeps 2 s before pulling). */
const OLLAMA_LISTENS_AFTER_S = 2;

export function healthOf(c: k8s.V1Container): ContainerHealth {
  const runtime = runtimeOf(c);
  return {
    probes: probesOf(c),
    logsOnError: c.terminationMessagePolicy === 'FallbackToLogsOnError',
    ...(runtime === 'llamacpp' ? { loadingStatus: 503 } : {}),
    ...(runtime === 'ollama' ? { answersAfterSeconds: OLLAMA_LISTENS_AFTER_S } : {}),
  };
}

/**
 * Where the container stands: by its probes when it has any; a container without probes keeps the
 * simulator's older rule, ready once its profile's start-up is over (a real kubelet would call it
 * ready at once; profiles' start-up times stand in for probes nobody wrote).
 */
export function healthVerdict(
  h: ContainerHealth | undefined,
  since: number,
  healthyAfter: number,
): ProbeVerdict {
  if (h === undefined || !hasProbes(h.probes))
    return since >= healthyAfter ? { kind: 'Ready' } : { kind: 'NotReady' };
  return probeVerdict(h.probes, since, Math.min(healthyAfter, h.answersAfterSeconds ?? Infinity));
}

/** The kubelet's Events for a probe kill. */
export function killEvents(
  h: ContainerHealth,
  probe: 'Startup' | 'Liveness',
  container: string,
  podIP: string,
) {
  return probeKillEvents(
    probe,
    container,
    podIP,
    probe === 'Startup' ? h.probes.startup : h.probes.liveness,
    h.loadingStatus,
  );
}
