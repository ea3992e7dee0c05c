// The simulator's own table of the models it can play: architecture figures copied from each
// model's published config.json and file sizes from its Hugging Face repository. Tailor's catalogue
// (src/core/llm) is never read here, so an estimate that is wrong cannot agree with itself.

/** A transformer as its config.json describes it. */
export interface Architecture {
  /** The repository of the original (safetensors) weights. */
  readonly repo: string;
  /** Parameters, from the safetensors metadata (tied embeddings counted once). */
  readonly params: number;
  readonly layers: number; // num_hidden_layers
  readonly hidden: number; // hidden_size
  readonly intermediate: number; // intermediate_size
  readonly heads: number; // num_attention_heads
  readonly kvHeads: number; // num_key_value_heads
  readonly headDim: number; // hidden_size / num_attention_heads unless head_dim says
  readonly vocab: number; // vocab_size
  readonly maxPosition: number; // max_position_embeddings
  /** Bytes of the repository's *.safetensors files; left out: params x 2 (bf16) plus headers. */
  readonly safetensorsBytes?: number;
}

/** One GGUF file of a quantised repository. */
export interface GgufFile {
  readonly repo: string;
  readonly file: string;
  /** The original model it was converted from (its architecture). */
  readonly base: string;
  /** As Ollama names it after the colon (hf.co/repo:Q4_K_M). */
  readonly quant: string;
  /** The file's size on the hub. */
  readonly bytes: number;
}

// config.json of each repository (huggingface.co/<repo>/blob/main/config.json); parameter counts
// from the hub's safetensors metadata.
export const ARCHITECTURES: readonly Architecture[] = [
  {
    repo: 'Qwen/Qwen2.5-0.5B-Instruct',
    params: 494_032_768,
    layers: 24,
    hidden: 896,
    intermediate: 4864,
    heads: 14,
    kvHeads: 2,
    headDim: 64,
    vocab: 151_936,
    maxPosition: 32_768,
    // model.safetensors, 988 MB (the download bar of a vLLM log: "model.safetensors: 988M/988M").
    safetensorsBytes: 988_097_824,
  },
  {
    repo: 'Qwen/Qwen2.5-3B-Instruct',
    params: 3_085_938_688,
    layers: 36,
    hidden: 2048,
    intermediate: 11_008,
    heads: 16,
    kvHeads: 2,
    headDim: 128,
    vocab: 151_936,
    maxPosition: 32_768,
  },
  {
    repo: 'Qwen/Qwen2.5-7B-Instruct',
    params: 7_615_616_512,
    layers: 28,
    hidden: 3584,
    intermediate: 18_944,
    heads: 28,
    kvHeads: 4,
    headDim: 128,
    vocab: 152_064,
    maxPosition: 32_768,
  },
  {
    repo: 'Qwen/Qwen2.5-32B-Instruct',
    params: 32_763_876_352,
    layers: 64,
    hidden: 5120,
    intermediate: 27_648,
    heads: 40,
    kvHeads: 8,
    headDim: 128,
    vocab: 152_064,
    maxPosition: 32_768,
  },
  {
    repo: 'meta-llama/Llama-3.1-8B-Instruct',
    params: 8_030_261_248,
    layers: 32,
    hidden: 4096,
    intermediate: 14_336,
    heads: 32,
    kvHeads: 8,
    headDim: 128,
    vocab: 128_256,
    maxPosition: 131_072,
    // model-0000{1..4}-of-00004.safetensors
    safetensorsBytes: 16_060_556_376,
  },
  {
    repo: 'meta-llama/Llama-3.1-70B-Instruct',
    params: 70_553_706_496,
    layers: 80,
    hidden: 8192,
    intermediate: 28_672,
    heads: 64,
    kvHeads: 8,
    headDim: 128,
    vocab: 128_256,
    maxPosition: 131_072,
  },
  {
    repo: 'meta-llama/Llama-3.2-1B-Instruct',
    params: 1_235_814_400,
    layers: 16,
    hidden: 2048,
    intermediate: 8192,
    heads: 32,
    kvHeads: 8,
    headDim: 64,
    vocab: 128_256,
    maxPosition: 131_072,
  },
  {
    repo: 'meta-llama/Llama-3.2-3B-Instruct',
    params: 3_212_749_824,
    layers: 28,
    hidden: 3072,
    intermediate: 8192,
    heads: 24,
    kvHeads: 8,
    headDim: 128,
    vocab: 128_256,
    maxPosition: 131_072,
  },
  {
    repo: 'mistralai/Mistral-7B-Instruct-v0.3',
    params: 7_248_023_552,
    layers: 32,
    hidden: 4096,
    intermediate: 14_336,
    heads: 32,
    kvHeads: 8,
    headDim: 128,
    vocab: 32_768,
    maxPosition: 32_768,
  },
];

// File sizes as listed on huggingface.co/bartowski/<repo> (the "Download a file" table).
export const GGUF_FILES: readonly GgufFile[] = [
  gguf('bartowski/Llama-3.2-1B-Instruct-GGUF', 'Llama-3.2-1B-Instruct', 'Q4_K_M', 807_694_464),
  gguf('bartowski/Llama-3.2-1B-Instruct-GGUF', 'Llama-3.2-1B-Instruct', 'Q8_0', 1_321_083_008),
  gguf('bartowski/Llama-3.2-1B-Instruct-GGUF', 'Llama-3.2-1B-Instruct', 'f16', 2_479_595_104),
  gguf('bartowski/Llama-3.2-3B-Instruct-GGUF', 'Llama-3.2-3B-Instruct', 'Q4_K_M', 2_019_377_696),
  gguf('bartowski/Llama-3.2-3B-Instruct-GGUF', 'Llama-3.2-3B-Instruct', 'Q8_0', 3_421_899_456),
];

function gguf(repo: string, stem: string, quant: string, bytes: number): GgufFile {
  return { repo, file: `${stem}-${quant}.gguf`, base: `meta-llama/${stem}`, quant, bytes };
}

const byRepo = new Map(ARCHITECTURES.map((a) => [a.repo.toLowerCase(), a]));

export function architectureOf(repo: string): Architecture | undefined {
  return byRepo.get(repo.toLowerCase());
}

/** A GGUF file by its name (any folder), or by repository and quantisation as Ollama names it. */
export function ggufOf(nameOrRepo: string, quant?: string): GgufFile | undefined {
  const key = nameOrRepo.toLowerCase();
  if (quant !== undefined)
    return GGUF_FILES.find(
      (f) => f.repo.toLowerCase() === key && f.quant.toLowerCase() === quant.toLowerCase(),
    );
  const file = key.slice(key.lastIndexOf('/') + 1);
  return GGUF_FILES.find((f) => f.file.toLowerCase() === file);
}

/** Bytes of an architecture's safetensors checkpoint. */
export function safetensorsBytes(a: Architecture): number {
  // The header of each file (tensor names, shapes, offsets) is a few tens of KB.
  return a.safetensorsBytes ?? a.params * 2 + 64 * 1024;
}

export const KNOWN_MODELS: readonly string[] = [
  ...ARCHITECTURES.map((a) => a.repo),
  ...GGUF_FILES.map((f) => `${f.repo}/${f.file}`),
];
