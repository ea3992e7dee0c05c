// Bits per weight: the ggml tensor types (exact block sizes), the GGUF file types (nominal
// averages over a whole model), and the quantization_config methods of Hugging Face checkpoints.
import type { Quantization, Result, TensorDtype } from './types.ts';
import { ok, problem } from './types.ts';

export interface GgmlType {
  name: string;
  /** Elements per block. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

/** ggml_type ids as written in GGUF tensor infos (ggml.h), with their block layouts (ggml.c type_traits). */
export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map<number, GgmlType>([
  [0, { name: 'F32', blockSize: 1, typeSize: 4 }],
  [1, { name: 'F16', blockSize: 1, typeSize: 2 }],
  [2, { name: 'Q4_0', blockSize: 32, typeSize: 18 }],
  [3, { name: 'Q4_1', blockSize: 32, typeSize: 20 }],
  [6, { name: 'Q5_0', blockSize: 32, typeSize: 22 }],
  [7, { name: 'Q5_1', blockSize: 32, typeSize: 24 }],
  [8, { name: 'Q8_0', blockSize: 32, typeSize: 34 }],
  [9, { name: 'Q8_1', blockSize: 32, typeSize: 36 }],
  [10, { name: 'Q2_K', blockSize: 256, typeSize: 84 }],
  [11, { name: 'Q3_K', blockSize: 256, typeSize: 110 }],
  [12, { name: 'Q4_K', blockSize: 256, typeSize: 144 }],
  [13, { name: 'Q5_K', blockSize: 256, typeSize: 176 }],
  [14, { name: 'Q6_K', blockSize: 256, typeSize: 210 }],
  [15, { name: 'Q8_K', blockSize: 256, typeSize: 292 }],
  [16, { name: 'IQ2_XXS', blockSize: 256, typeSize: 66 }],
  [17, { name: 'IQ2_XS', blockSize: 256, typeSize: 74 }],
  [18, { name: 'IQ3_XXS', blockSize: 256, typeSize: 98 }],
  [19, { name: 'IQ1_S', blockSize: 256, typeSize: 50 }],
  [20, { name: 'IQ4_NL', blockSize: 32, typeSize: 18 }],
  [21, { name: 'IQ3_S', blockSize: 256, typeSize: 110 }],
  [22, { name: 'IQ2_S', blockSize: 256, typeSize: 82 }],
  [23, { name: 'IQ4_XS', blockSize: 256, typeSize: 136 }],
  [24, { name: 'I8', blockSize: 1, typeSize: 1 }],
  [25, { name: 'I16', blockSize: 1, typeSize: 2 }],
  [26, { name: 'I32', blockSize: 1, typeSize: 4 }],
  [27, { name: 'I64', blockSize: 1, typeSize: 8 }],
  [28, { name: 'F64', blockSize: 1, typeSize: 8 }],
  [29, { name: 'IQ1_M', blockSize: 256, typeSize: 56 }],
  [30, { name: 'BF16', blockSize: 1, typeSize: 2 }],
  [34, { name: 'TQ1_0', blockSize: 256, typeSize: 54 }],
  [35, { name: 'TQ2_0', blockSize: 256, typeSize: 66 }],
  [39, { name: 'MXFP4', blockSize: 32, typeSize: 17 }],
]);

/** GGUF file types users name (general.file_type / the file-name suffix). */
export type GgufFileType =
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'Q4_0'
  | 'Q4_1'
  | 'Q5_0'
  | 'Q5_1'
  | 'Q8_0'
  | 'Q2_K'
  | 'Q2_K_S'
  | 'Q3_K_S'
  | 'Q3_K_M'
  | 'Q3_K_L'
  | 'Q4_K_S'
  | 'Q4_K_M'
  | 'Q5_K_S'
  | 'Q5_K_M'
  | 'Q6_K'
  | 'IQ1_S'
  | 'IQ1_M'
  | 'IQ2_XXS'
  | 'IQ2_XS'
  | 'IQ2_S'
  | 'IQ2_M'
  | 'IQ3_XXS'
  | 'IQ3_XS'
  | 'IQ3_S'
  | 'IQ3_M'
  | 'IQ4_NL'
  | 'IQ4_XS'
  | 'TQ1_0'
  | 'TQ2_0'
  | 'MXFP4_MOE';

/**
 * llama_ftype ids (llama.h) and the whole-model average bits per weight each gives. The mixes
 * (K_M, K_S, ...) keep some tensors at a higher type, so the averages exceed the block's own rate;
 * they are the figures llama.cpp's quantize table quotes and are approximate (a model with a larger
 * vocabulary spends more on its Q6_K output head). A parsed header always wins over these.
 */
const FILE_TYPES: ReadonlyArray<{ id: number; type: GgufFileType; bpw: number }> = [
  { id: 0, type: 'F32', bpw: 32 },
  { id: 1, type: 'F16', bpw: 16 },
  { id: 2, type: 'Q4_0', bpw: 4.55 },
  { id: 3, type: 'Q4_1', bpw: 5.05 },
  { id: 7, type: 'Q8_0', bpw: 8.5 },
  { id: 8, type: 'Q5_0', bpw: 5.55 },
  { id: 9, type: 'Q5_1', bpw: 6.05 },
  { id: 10, type: 'Q2_K', bpw: 3.0 },
  { id: 11, type: 'Q3_K_S', bpw: 3.5 },
  { id: 12, type: 'Q3_K_M', bpw: 3.91 },
  { id: 13, type: 'Q3_K_L', bpw: 4.27 },
  { id: 14, type: 'Q4_K_S', bpw: 4.58 },
  { id: 15, type: 'Q4_K_M', bpw: 4.84 },
  { id: 16, type: 'Q5_K_S', bpw: 5.54 },
  { id: 17, type: 'Q5_K_M', bpw: 5.68 },
  { id: 18, type: 'Q6_K', bpw: 6.56 },
  { id: 19, type: 'IQ2_XXS', bpw: 2.06 },
  { id: 20, type: 'IQ2_XS', bpw: 2.31 },
  { id: 21, type: 'Q2_K_S', bpw: 2.79 },
  { id: 22, type: 'IQ3_XS', bpw: 3.3 },
  { id: 23, type: 'IQ3_XXS', bpw: 3.06 },
  { id: 24, type: 'IQ1_S', bpw: 1.56 },
  { id: 25, type: 'IQ4_NL', bpw: 4.5 },
  { id: 26, type: 'IQ3_S', bpw: 3.44 },
  { id: 27, type: 'IQ3_M', bpw: 3.66 },
  { id: 28, type: 'IQ2_S', bpw: 2.5 },
  { id: 29, type: 'IQ2_M', bpw: 2.7 },
  { id: 30, type: 'IQ4_XS', bpw: 4.25 },
  { id: 31, type: 'IQ1_M', bpw: 1.75 },
  { id: 32, type: 'BF16', bpw: 16 },
  { id: 36, type: 'TQ1_0', bpw: 1.69 },
  { id: 37, type: 'TQ2_0', bpw: 2.06 },
  { id: 38, type: 'MXFP4_MOE', bpw: 4.25 },
];

export function ggufFileTypeById(id: number): { type: GgufFileType; bpw: number } | undefined {
  return FILE_TYPES.find((f) => f.id === id);
}

/** Case-insensitive, so "q4_k_m" and the suffix of "model-Q4_K_M.gguf" both resolve. */
export function ggufFileTypeByName(name: string): { type: GgufFileType; bpw: number } | undefined {
  const upper = name.toUpperCase();
  return FILE_TYPES.find((f) => f.type === upper);
}

/** Reads the quantization type from a GGUF file name such as "Llama-3.1-8B-Instruct-Q4_K_M.gguf". */
export function ggufFileTypeFromFileName(file: string): GgufFileType | undefined {
  const base = file.replace(/\.gguf$/i, '').replace(/-\d{5}-of-\d{5}$/i, '');
  // Longest names first, so Q4_K_M is not read as Q4_K_S or Q4_0 is not read from IQ4_...
  const names = [...FILE_TYPES].map((f) => f.type).sort((a, b) => b.length - a.length);
  for (const n of names) {
    const re = new RegExp(`(^|[^A-Za-z0-9])${n}($|[^A-Za-z0-9])`, 'i');
    if (re.test(base)) return n;
  }
  return undefined;
}

export function ggufQuantization(type: GgufFileType, bitsPerWeight?: number): Quantization {
  const entry = FILE_TYPES.find((f) => f.type === type);
  return {
    method: 'gguf',
    bitsPerWeight: bitsPerWeight ?? entry?.bpw ?? 16,
    label: `GGUF ${type}`,
    quantizesEmbeddings: true,
  };
}

export function dtypeBytes(dtype: TensorDtype): number {
  switch (dtype) {
    case 'float32':
      return 4;
    case 'bfloat16':
    case 'float16':
      return 2;
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** Per-group storage: the packed weights plus a 16-bit scale and a packed zero point per group. */
function groupedBits(bits: number, groupSize: number | undefined, zeroPoint: boolean): number {
  if (groupSize === undefined || groupSize <= 0) return bits; // per-channel: scales are negligible
  return bits + (16 + (zeroPoint ? bits : 0)) / groupSize;
}

/**
 * Reads a Hugging Face quantization_config. Only the linear layers of the decoder blocks are
 * quantized by these methods; embeddings, the output head and norms keep the checkpoint dtype.
 */
export function parseQuantizationConfig(q: unknown): Result<Quantization | undefined> {
  const c = rec(q);
  if (c === undefined) return ok(undefined);
  const method = (typeof c['quant_method'] === 'string' ? c['quant_method'] : '').toLowerCase();
  const linear = (m: Quantization['method'], bitsPerWeight: number, label: string): Result<Quantization> =>
    ok({ method: m, bitsPerWeight, label, quantizesEmbeddings: false });
  switch (method) {
    case 'gptq':
    case 'gptq_marlin': {
      const bits = num(c['bits']) ?? 4;
      const group = num(c['group_size']) ?? 128;
      return linear('gptq', groupedBits(bits, group, true), `GPTQ ${bits}-bit, group ${group}`);
    }
    case 'awq':
    case 'awq_marlin': {
      const bits = num(c['bits']) ?? num(c['w_bit']) ?? 4;
      const group = num(c['group_size']) ?? num(c['q_group_size']) ?? 128;
      return linear(
        'awq',
        groupedBits(bits, group, c['zero_point'] !== false),
        `AWQ ${bits}-bit, group ${group}`,
      );
    }
    case 'bitsandbytes': {
      if (c['load_in_8bit'] === true) return linear('bitsandbytes-int8', 8, 'bitsandbytes LLM.int8');
      // NF4: one fp32 absmax per 64 weights, or an 8-bit one (plus a second-level fp32) with double quant.
      const doubleQuant = c['bnb_4bit_use_double_quant'] === true;
      return linear(
        'bitsandbytes-nf4',
        doubleQuant ? 4 + 8 / 64 + 32 / (64 * 256) : 4 + 32 / 64,
        'bitsandbytes NF4',
      );
    }
    case 'fp8':
    case 'fbgemm_fp8': {
      const block = c['weight_block_size'];
      const perBlockScale =
        Array.isArray(block) && block.length === 2 ? 32 / (Number(block[0]) * Number(block[1])) : 0;
      return linear('fp8', 8 + perBlockScale, 'FP8');
    }
    case 'mxfp4':
      return linear('mxfp4', 4.25, 'MXFP4');
    case 'compressed-tensors':
      return parseCompressedTensors(c);
    default:
      return problem(
        'UnsupportedQuantization',
        `quantization_config.quant_method "${method || '(missing)'}" is not one the estimator knows`,
        'use a gptq, awq, bitsandbytes, fp8 or compressed-tensors checkpoint, or set the weight size explicitly',
      );
  }
}

function parseCompressedTensors(c: Record<string, unknown>): Result<Quantization> {
  const groups = rec(c['config_groups']) ?? {};
  const first = rec(Object.values(groups)[0]);
  const weights = rec(first?.['weights']);
  const bits = num(weights?.['num_bits']);
  if (weights === undefined || bits === undefined) {
    return problem(
      'UnsupportedQuantization',
      'compressed-tensors quantization_config has no config_groups.*.weights.num_bits',
      'check the checkpoint config.json, or use an unquantized or GPTQ/AWQ checkpoint',
    );
  }
  const isFloat = weights['type'] === 'float';
  const group = num(weights['group_size']);
  const symmetric = weights['symmetric'] !== false;
  const method: Quantization['method'] = isFloat && bits === 8 ? 'fp8' : bits === 8 ? 'int8' : 'int4';
  const bpw = groupedBits(bits, group ?? undefined, !symmetric);
  return ok({
    method,
    bitsPerWeight: bpw,
    label: `compressed-tensors ${isFloat ? 'FP' : 'INT'}${bits}${group ? `, group ${group}` : ''}`,
    quantizesEmbeddings: false,
  });
}
