// From a ModelDeployment to what it needs, before anything is written: the model's architecture
// (catalogue, else the hub's config.json or GGUF header with the tenant's token), the estimate and
// the GPU fit. Every way this can fail is a Problem with a reason, a message and what to change.
import type * as k8s from '@kubernetes/client-node';
import type { ModelDeployment, WeightFormat } from '../../api/modeldeployment.ts';
import { catalogueArchitecture } from '../../core/llm/catalogue/index.ts';
import { estimate, type Estimate } from '../../core/llm/estimate.ts';
import { ggufFileTypeByName, ggufFileTypeFromFileName, type GgufFileType } from '../../core/llm/quant.ts';
import type { ModelArchitecture, Result } from '../../core/llm/types.ts';
import { fit, type FitResult } from '../../core/gpu/fit.ts';
import { GPU_CATALOGUE, findGpu, type GpuModel } from '../../core/gpu/catalogue.ts';
import {
  HuggingFaceError,
  fetchGgufArchitecture,
  resolveArchitecture,
  type HubOptions,
} from '../../sources/huggingface.ts';
import { classify } from '../../kube/errors.ts';

export type ProblemReason =
  | 'ModelNotFound'
  | 'HubUnreachable'
  | 'TokenMissing'
  | 'InvalidModel'
  | 'ContextTooLong'
  | 'FormatUnsupportedByRuntime'
  | 'NoGpuFits'
  | 'UnknownGpu'
  | 'InvalidRequest'
  /** The token Secret lacks the label that marks it for Tailor. */
  | 'TokenSecretNotAllowed'
  /** runtime.image is neither a preset's image nor under an --allowed-image prefix. */
  | 'ImageNotAllowed'
  /** An object the ModelDeployment would write exists and is not its own. */
  | 'NameConflict';

export interface Problem {
  reason: ProblemReason;
  message: string;
  /** What to change. */
  hint: string;
  /** Worth trying again unchanged (the hub was down), rather than waiting for an edit. */
  transient: boolean;
}

export interface Resolved {
  architecture: ModelArchitecture;
  estimate: Estimate;
  fit: FitResult;
  /** "Qwen/Qwen2.5-0.5B-Instruct@main (bfloat16)". */
  model: string;
  /** Where the architecture came from, for status.estimate.basis. */
  source: string;
}

export type Resolution = { kind: 'Resolved'; value: Resolved } | { kind: 'Problem'; problem: Problem };

const problem = (reason: ProblemReason, message: string, hint: string, transient = false): Resolution => ({
  kind: 'Problem',
  problem: { reason, message, hint, transient },
});

export function formatOf(md: ModelDeployment): WeightFormat {
  if (md.spec.model.format) return md.spec.model.format;
  const r = md.spec.runtime.name;
  return r === 'llamacpp' || r === 'ollama' ? 'gguf' : 'safetensors';
}

/** A GGUF repository ("bartowski/Llama-3.2-1B-Instruct-GGUF") named after a catalogued model. */
export function catalogueForGguf(repo: string): Result<ModelArchitecture> | undefined {
  const direct = catalogueArchitecture(repo);
  if (direct) return direct;
  const base = repo
    .split('/')
    .pop()!
    .replace(/[-_.]GGUF$/i, '');
  for (const owner of ['meta-llama', 'Qwen', 'mistralai', 'google', 'microsoft', 'deepseek-ai']) {
    const hit = catalogueArchitecture(`${owner}/${base}`);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * The catalogue GPUs the cluster's nodes offer: by the `nvidia.com/gpu.product` label GPU feature
 * discovery sets, a whole GPU where a node of that product advertises nvidia.com/gpu (under the
 * mixed MIG strategy a node whose GPUs are all cut advertises none), a MIG slice where a node
 * advertises the slice's resource.
 */
export function gpusOnNodes(
  nodes: readonly k8s.V1Node[],
  catalogue: readonly GpuModel[] = GPU_CATALOGUE,
): GpuModel[] {
  const offered = new Set<string>();
  for (const n of nodes) {
    const p = n.metadata?.labels?.['nvidia.com/gpu.product'];
    if (!p) continue;
    for (const [r, q] of Object.entries(n.status?.allocatable ?? {}))
      if (q !== '0' && r.startsWith('nvidia.com/')) offered.add(`${p}/${r}`);
  }
  return catalogue.filter((g) => offered.has(`${g.productLabel}/${g.resourceName}`));
}

export interface ResolveDeps {
  hub: HubOptions;
  /** GPUs the cluster offers, for gpu.type auto; empty or undefined: the whole catalogue. */
  gpusOnCluster?: () => readonly GpuModel[];
  /** Reads a Secret's key; undefined when the Secret or the key is missing. */
  readSecret: (namespace: string, name: string, key: string) => Promise<string | undefined>;
}

async function architecture(
  md: ModelDeployment,
  format: WeightFormat,
  deps: ResolveDeps,
): Promise<{ arch: Result<ModelArchitecture>; source: string } | Resolution> {
  const m = md.spec.model;
  const hf = m.huggingFace;
  if (hf === undefined) {
    // A pvc or oci source has no hub to ask: only the catalogue, by the name the user serves it as.
    const name = md.spec.serving.servedModelName ?? '';
    const hit = format === 'gguf' ? catalogueForGguf(name) : catalogueArchitecture(name);
    if (hit) return { arch: hit, source: `catalogue: ${name}` };
    return problem(
      'ModelNotFound',
      `a model on a ${m.pvc ? 'PVC' : 'OCI image'} is sized from the catalogue, and serving.servedModelName "${name}" is not in it`,
      'set serving.servedModelName to the catalogued Hugging Face id of the model (e.g. Qwen/Qwen2.5-7B-Instruct), or serve it from huggingFace',
    );
  }
  const known = format === 'gguf' ? catalogueForGguf(hf.repo) : catalogueArchitecture(hf.repo);
  if (known) return { arch: known, source: `catalogue: ${hf.repo}` };
  let token: string | undefined;
  if (hf.tokenSecretRef) {
    token = await deps.readSecret(md.metadata.namespace!, hf.tokenSecretRef.name, hf.tokenSecretRef.key);
    if (token === undefined) {
      return problem(
        'TokenMissing',
        `Secret ${hf.tokenSecretRef.name} (key ${hf.tokenSecretRef.key}) is missing in namespace ${md.metadata.namespace}`,
        'create the Secret with a Hugging Face token under that key, or fix model.huggingFace.tokenSecretRef',
      );
    }
  }
  const opts: HubOptions = { ...deps.hub, ...(token ? { token } : {}) };
  const ref = { repo: hf.repo, revision: hf.revision };
  try {
    if (format === 'gguf') {
      if (hf.file === undefined) {
        return problem(
          'ModelNotFound',
          `${hf.repo} is not in the catalogue, and a GGUF repository needs model.huggingFace.file to read the header`,
          'set model.huggingFace.file to the .gguf file to serve (e.g. Model-Q4_K_M.gguf)',
        );
      }
      return {
        arch: await fetchGgufArchitecture({ ...ref, file: hf.file }, opts),
        source: `GGUF header of ${hf.repo}/${hf.file}@${hf.revision}`,
      };
    }
    return { arch: await resolveArchitecture(ref, opts), source: `config.json of ${hf.repo}@${hf.revision}` };
  } catch (err) {
    if (err instanceof HuggingFaceError) {
      switch (err.reason) {
        case 'RepoNotFound':
        case 'RevisionNotFound':
        case 'FileNotFound':
        case 'Gated':
        case 'Unauthorized':
          return problem('ModelNotFound', err.message.split('\n')[0]!, hintOf(err));
        case 'RateLimited':
        case 'Timeout':
        case 'Unreachable':
        case 'ServerError':
        case 'BadResponse':
          return problem(
            'HubUnreachable',
            `${hf.repo} is not in the catalogue and its config could not be read: ${err.message.split('\n')[0]!}`,
            `${hintOf(err)}; or use a catalogued model`,
            true,
          );
      }
    }
    throw err;
  }
}

function hintOf(err: HuggingFaceError): string {
  return err.message.split('\n  hint: ')[1] ?? 'check the model reference';
}

function ggufType(md: ModelDeployment): GgufFileType | undefined {
  const q = md.spec.model.quantization;
  if (q !== undefined) return ggufFileTypeByName(q)?.type;
  const f = md.spec.model.huggingFace?.file;
  return f !== undefined ? ggufFileTypeFromFileName(f) : undefined;
}

/** The pure part: estimate and GPU fit for an architecture, or the problem with the spec. */
export function plan(
  md: ModelDeployment,
  arch: ModelArchitecture,
  source: string,
  onCluster: readonly GpuModel[] = [],
): Resolution {
  const s = md.spec;
  const format = formatOf(md);
  const gpuType = s.gpu.type;
  if (gpuType !== 'auto' && findGpu(gpuType) === undefined) {
    return problem(
      'UnknownGpu',
      `gpu.type "${gpuType}" is not in the GPU catalogue`,
      'use auto, or an id such as l4, a100-80gb or h100-80gb',
    );
  }
  const q = s.model.quantization;
  if (format === 'gguf' && q !== undefined && ggufFileTypeByName(q) === undefined) {
    return problem(
      'InvalidRequest',
      `quantization "${q}" is not a GGUF file type`,
      'use a GGUF type such as Q4_K_M, Q5_K_M, Q6_K or Q8_0',
    );
  }
  const device = s.gpu.count === 0 ? 'cpu' : 'gpu';
  const gguf = ggufType(md);
  const est = estimate(arch, {
    runtime: s.runtime.name,
    format,
    device,
    ...(s.serving.contextLength !== undefined ? { contextTokens: s.serving.contextLength } : {}),
    ...(s.serving.maxSequences !== undefined ? { concurrency: s.serving.maxSequences } : {}),
    dtype: s.serving.dtype,
    ...(s.gpu.count !== undefined && s.gpu.count > 0 ? { tensorParallel: s.gpu.count } : {}),
    ...(s.serving.gpuMemoryUtilization !== undefined
      ? { gpuMemoryUtilization: s.serving.gpuMemoryUtilization }
      : {}),
    ...(gguf ? { ggufFileType: gguf } : {}),
  });
  if (est.kind === 'problem') {
    const p = est.problem;
    const reason: ProblemReason =
      p.reason === 'ContextTooLong'
        ? 'ContextTooLong'
        : p.reason === 'FormatUnsupportedByRuntime'
          ? 'FormatUnsupportedByRuntime'
          : p.reason === 'InvalidRequest'
            ? 'InvalidRequest'
            : 'InvalidModel';
    return problem(reason, p.message, fieldHint(reason, p.hint));
  }
  const e = est.value;
  // auto picks among the GPUs the cluster has, when it says: the cheapest card elsewhere cannot run here.
  const scoped = gpuType === 'auto' && onCluster.length > 0;
  const f = fit(
    e,
    {
      ...(gpuType !== 'auto' ? { gpu: gpuType } : {}),
      ...(s.serving.gpuMemoryUtilization !== undefined
        ? { gpuMemoryUtilization: s.serving.gpuMemoryUtilization }
        : {}),
    },
    scoped ? onCluster : GPU_CATALOGUE,
  );
  if (scoped)
    f.reason = `among the GPUs on this cluster's nodes (${onCluster.map((g) => g.id).join(', ')}): ${f.reason}`;
  if (f.outcome === 'NoFit') {
    const l = f.largest;
    const hint = l
      ? `lower serving.contextLength to ${l.maxContextTokens} or less, or serving.maxSequences to ${l.maxConcurrency}, or pick a smaller or quantized model`
      : 'lower serving.contextLength or serving.maxSequences, or pick a smaller or quantized model';
    return problem('NoGpuFits', f.reason, hint);
  }
  const name = arch.name ?? s.model.huggingFace?.repo ?? md.metadata.name!;
  const rev = s.model.huggingFace ? `@${s.model.huggingFace.revision}` : '';
  return {
    kind: 'Resolved',
    value: {
      architecture: arch,
      estimate: e,
      fit: f,
      model: `${name}${rev} (${e.model.quantization})`,
      source,
    },
  };
}

function fieldHint(reason: ProblemReason, hint: string): string {
  if (reason === 'ContextTooLong') return `${hint} (serving.contextLength)`;
  if (reason === 'FormatUnsupportedByRuntime') return `${hint} (model.format / runtime.name)`;
  return hint;
}

export async function resolve(md: ModelDeployment, deps: ResolveDeps): Promise<Resolution> {
  const format = formatOf(md);
  // The format check needs no model: refuse it before any hub request.
  const r = md.spec.runtime.name;
  const ok = format === 'gguf' ? r === 'llamacpp' || r === 'ollama' : r === 'vllm' || r === 'tgi';
  if (!ok) {
    const hint =
      format === 'gguf'
        ? `serve GGUF files with runtime llamacpp or ollama, or set model.format: safetensors with ${r}`
        : `${r} loads GGUF files: set model.format: gguf with a GGUF repository, or use runtime vllm or tgi`;
    return problem('FormatUnsupportedByRuntime', `runtime ${r} cannot load ${format} weights`, hint);
  }
  const a = await architecture(md, format, deps);
  if ('kind' in a) return a;
  if (a.arch.kind === 'problem') {
    return problem('InvalidModel', a.arch.problem.message, a.arch.problem.hint);
  }
  return plan(md, a.arch.value, a.source, deps.gpusOnCluster?.() ?? []);
}

/** A Secret reader over the core API. */
export function secretReader(core: k8s.CoreV1Api) {
  return async (namespace: string, name: string, key: string): Promise<string | undefined> => {
    try {
      const s = await core.readNamespacedSecret({ name, namespace });
      const v = s.data?.[key];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8').trim();
    } catch (err) {
      if (classify(err).kind === 'NotFound') return undefined;
      throw err;
    }
  };
}
