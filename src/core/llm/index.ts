// Public surface of the pure LLM estimator: parse a model (config.json, GGUF header, catalogue),
// then estimate what serving it takes.
export type {
  LatentAttention,
  LlmProblem,
  LlmProblemReason,
  MixtureOfExperts,
  ModelArchitecture,
  Quantization,
  QuantMethod,
  Result,
  SlidingWindow,
  TensorDtype,
} from './types.ts';
export { GiB, MiB, formatBytes, toTailorError, unwrap } from './types.ts';
export { parseHfConfig } from './hf-config.ts';
export type { GgufHeader, GgufParse, GgufTensorInfo, GgufValue } from './gguf.ts';
export { parseGgufHeader } from './gguf.ts';
export { ggufArchitecture, tensorTotals } from './gguf-architecture.ts';
export type { GgufFileType } from './quant.ts';
export { ggufFileTypeByName, ggufFileTypeFromFileName, parseQuantizationConfig } from './quant.ts';
export type { ParamCount, WeightBytes } from './params.ts';
export { countParameters, weightBytes } from './params.ts';
export type { KvCacheDtype, KvLayout } from './kv-cache.ts';
export { kvBytesForSequence, kvBytesPerToken, kvLayout } from './kv-cache.ts';
export type { Device, ReservationRule, Runtime, RuntimeKnobs, WeightFormat } from './runtime.ts';
export { RUNTIMES, budgetFraction, checkFormat, runtimeFormats, validGpuCounts } from './runtime.ts';
export type { Estimate, EstimateRequest, Figure, GpuShape } from './estimate.ts';
export { estimate, perGpuWithKv } from './estimate.ts';
export { catalogueArchitecture, catalogueIds, lookupModelConfig } from './catalogue/index.ts';
