// Resolves each container's usage profile: an inference server the simulator recognises plays its
// own reference (src/sim/runtimes), laid under the pod's sim annotations; anything else plays the
// profile its pod's annotations (or the scenario's default) declare. The kubelet gets a ready
// UsageProfile or a message saying what to fix.
import type * as k8s from '@kubernetes/client-node';
import type { ProfileResolution } from './kubelet/kubelet.ts';
import {
  buildSpec,
  createProfile,
  parseProfile,
  type LlmSpec,
  type ProfileSpec,
  type TraceLibrary,
} from './usage/index.ts';
import { llmProfile } from './usage/llm.ts';
import type { ProfileContext } from './usage/types.ts';
import { serverOf } from './runtimes/truth.ts';
import { startupOf } from './runtimes/startup.ts';

export function profileResolver(traces: TraceLibrary, defaults?: ProfileSpec) {
  return (pod: k8s.V1Pod, container: k8s.V1Container, ctx: ProfileContext): ProfileResolution => {
    const annotations = pod.metadata?.annotations ?? {};
    try {
      const server = serverOf(pod, container, ctx.gpus, ctx.gpuMemoryBytesPerGpu);
      switch (server.kind) {
        case 'NoReference':
          return { ok: false, error: server.error };
        case 'Reference': {
          // The reference is the base; a pod's own sim params (a test's disk speed) lie over it.
          const base = buildSpec('llm', [server.reference.params]);
          const parsed = parseProfile(annotations, container.name, base);
          if (!parsed.ok) return parsed;
          if (parsed.spec.kind !== 'llm') break;
          const spec: LlmSpec = parsed.spec;
          const truth = startupOf(server.reference.figures, spec, ctx.gpus, ctx.gpuMemoryBytesPerGpu);
          return { ok: true, profile: llmProfile(spec, ctx, traces, truth) };
        }
        case 'Declared':
          break;
      }
      const parsed = parseProfile(annotations, container.name, defaults);
      if (!parsed.ok) return parsed;
      return { ok: true, profile: createProfile(parsed.spec, ctx, traces) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
}
