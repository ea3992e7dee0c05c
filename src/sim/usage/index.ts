// Usage profiles: what the simulated kubelet asks for each container's CPU, memory, GPU and serving
// figures at a simulated instant. Everything here is pure apart from loadTraceLibrary.
import type { ProfileContext, UsageProfile } from './types.ts';
import { withDefaults, type ProfileInput, type ProfileSpec } from './params.ts';
import type { TraceLibrary } from './traces.ts';
import { llmProfile } from './llm.ts';
import { batchProfile, idleProfile, webProfile } from './shapes.ts';
import { replayProfile } from './replay.ts';

export type { ProfileContext, ProfileKind, UsageProfile, UsageSample } from './types.ts';
export {
  AZURE_TRACES,
  PROFILE_KINDS,
  buildSpec,
  checkParams,
  defaultSpec,
  paramNames,
  resolveParams,
  withDefaults,
  type BatchParams,
  type BatchSpec,
  type IdleParams,
  type IdleSpec,
  type Interpolation,
  type LlmParams,
  type LlmSpec,
  type ProfileInput,
  type ProfileSpec,
  type ReplayParams,
  type ReplaySpec,
  type SpecOf,
  type WebParams,
  type WebSpec,
} from './params.ts';
export {
  createTraceLibrary,
  TRACE_FILES,
  type AlibabaMetric,
  type AzureTraceName,
  type PodSeries,
  type RequestTrace,
  type TraceLibrary,
  type TraceLoader,
} from './traces.ts';
export { loadTraceLibrary, shippedDataDir } from './load-traces.ts';
export {
  FALLBACK_KIND,
  PARAMS_ANNOTATION,
  PROFILE_ANNOTATION,
  parsePodProfiles,
  parseProfile,
  profileAnnotations,
  type ProfileResult,
} from './annotations.ts';
export type { LlmProfile, Serving } from './llm.ts';
export { servedTrace, type FinishedRequests, type ServedTrace, type ServerConfig } from './server.ts';
export { hashString, mulberry32 } from './prng.ts';

/**
 * The profile a container plays. Parameters an input leaves out take their defaults. Throws
 * TailorError: InvalidInput for a replay pod or index the trace lacks, Prerequisite when a trace
 * file cannot be read (traces are read here, on first use, not in sample()).
 */
export function createProfile(
  spec: ProfileSpec | ProfileInput,
  ctx: ProfileContext,
  traces: TraceLibrary,
): UsageProfile {
  const full = withDefaults(spec);
  switch (full.kind) {
    case 'llm':
      return llmProfile(full, ctx, traces);
    case 'web':
      return webProfile(full, ctx);
    case 'batch':
      return batchProfile(full, ctx);
    case 'idle':
      return idleProfile(full, ctx);
    case 'replay':
      return replayProfile(full, ctx, traces);
  }
}
