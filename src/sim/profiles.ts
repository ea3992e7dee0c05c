// Resolves each container's usage profile from its pod's annotations (or the scenario's
// default), so the kubelet gets a ready UsageProfile or a message saying what to fix.
import type * as k8s from '@kubernetes/client-node';
import type { ProfileResolution } from './kubelet/kubelet.ts';
import { createProfile, parseProfile, type ProfileSpec, type TraceLibrary } from './usage/index.ts';
import type { ProfileContext } from './usage/types.ts';

export function profileResolver(traces: TraceLibrary, defaults?: ProfileSpec) {
  return (pod: k8s.V1Pod, container: k8s.V1Container, ctx: ProfileContext): ProfileResolution => {
    const parsed = parseProfile(pod.metadata?.annotations ?? {}, container.name, defaults);
    if (!parsed.ok) return parsed;
    try {
      return { ok: true, profile: createProfile(parsed.spec, ctx, traces) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
}
