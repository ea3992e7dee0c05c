// The ground truth of one container: an inference server the simulator recognises (by image and
// command line) plays the reference of the model it serves under that runtime's start-up rules.
// A model the simulator has no reference for is refused, unless the pod declares its size.
import type * as k8s from '@kubernetes/client-node';
import { PARAMS_ANNOTATION } from '../usage/annotations.ts';
import { referenceOf, type Reference } from './reference.ts';
import { servedOf, type Served } from './served.ts';
import { KNOWN_MODELS } from './models.ts';

export type ServerResolution =
  /** Not an inference server, or one that names no model (a scenario's declared llm profile). */
  | { kind: 'Declared' }
  | { kind: 'Reference'; served: Served; reference: Reference }
  | { kind: 'NoReference'; error: string };

/** Whether the pod's sim params for this container give the weights' size themselves. */
function declaresWeights(pod: k8s.V1Pod, container: string): boolean {
  const a = pod.metadata?.annotations ?? {};
  return [a[PARAMS_ANNOTATION], a[`${PARAMS_ANNOTATION}.${container}`]].some((text) => {
    if (text === undefined) return false;
    try {
      const v = JSON.parse(text) as unknown;
      return typeof v === 'object' && v !== null && 'weightsBytes' in v;
    } catch {
      return false;
    }
  });
}

export function serverOf(
  pod: k8s.V1Pod,
  c: k8s.V1Container,
  gpus: number,
  gpuMemoryBytesPerGpu: number,
): ServerResolution {
  const served = servedOf(c, gpus, gpuMemoryBytesPerGpu);
  if (served === undefined) return { kind: 'Declared' };
  const m = served.model;
  switch (m.kind) {
    case 'NotNamed':
      return { kind: 'Declared' };
    case 'Safetensors':
      return { kind: 'Reference', served, reference: referenceOf(served, m.arch, undefined, gpus) };
    case 'Gguf':
      return { kind: 'Reference', served, reference: referenceOf(served, m.arch, m.file.bytes, gpus) };
    case 'Unknown':
      // Physics only: the runtime's rules on the sizes the pod declares.
      if (declaresWeights(pod, c.name))
        return { kind: 'Reference', served, reference: referenceOf(served, undefined, undefined, gpus) };
      return {
        kind: 'NoReference',
        error: `${served.runtime} serves ${JSON.stringify(m.name)}, a model the simulator has no reference for (it knows ${KNOWN_MODELS.join(', ')}); add it to src/sim/runtimes/models.ts, or declare its weightsBytes and kvBytesPerToken in the pod annotation ${PARAMS_ANNOTATION}`,
      };
  }
}
