// Builds GGUF file headers in code (no binary fixtures in the repo): the same layout llama.cpp
// writes, so the parser and the Range fetcher are tested on bytes a real file would have.
import { GGUF_TYPE } from '../../src/core/llm/gguf.ts';
import { GGML_TYPES } from '../../src/core/llm/quant.ts';

export type Kv =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'arr'; itemType: Exclude<Kv['type'], 'arr'>; items: Array<number | boolean | string> };

export const kv = {
  u32: (value: number): Kv => ({ type: 'u32', value }),
  i32: (value: number): Kv => ({ type: 'i32', value }),
  u64: (value: number): Kv => ({ type: 'u64', value }),
  f32: (value: number): Kv => ({ type: 'f32', value }),
  bool: (value: boolean): Kv => ({ type: 'bool', value }),
  str: (value: string): Kv => ({ type: 'str', value }),
  arr: (itemType: Exclude<Kv['type'], 'arr'>, items: Array<number | boolean | string>): Kv => ({
    type: 'arr',
    itemType,
    items,
  }),
};

export interface TensorSpec {
  name: string;
  /** ne0 first, as GGUF stores them. */
  dims: number[];
  /** ggml type name, e.g. "Q4_K". */
  type: string;
}

const TYPE_CODE: Record<Exclude<Kv['type'], 'arr'>, number> = {
  u8: GGUF_TYPE.UINT8,
  i8: GGUF_TYPE.INT8,
  u16: GGUF_TYPE.UINT16,
  i16: GGUF_TYPE.INT16,
  u32: GGUF_TYPE.UINT32,
  i32: GGUF_TYPE.INT32,
  f32: GGUF_TYPE.FLOAT32,
  bool: GGUF_TYPE.BOOL,
  str: GGUF_TYPE.STRING,
  u64: GGUF_TYPE.UINT64,
  i64: GGUF_TYPE.INT64,
  f64: GGUF_TYPE.FLOAT64,
};

class Writer {
  private chunks: Buffer[] = [];
  constructor(private readonly le: boolean) {}
  private num(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.chunks.push(b);
  }
  u8(v: number): void {
    this.num(1, (b) => b.writeUInt8(v));
  }
  i8(v: number): void {
    this.num(1, (b) => b.writeInt8(v));
  }
  u16(v: number): void {
    this.num(2, (b) => (this.le ? b.writeUInt16LE(v) : b.writeUInt16BE(v)));
  }
  i16(v: number): void {
    this.num(2, (b) => (this.le ? b.writeInt16LE(v) : b.writeInt16BE(v)));
  }
  u32(v: number): void {
    this.num(4, (b) => (this.le ? b.writeUInt32LE(v) : b.writeUInt32BE(v)));
  }
  i32(v: number): void {
    this.num(4, (b) => (this.le ? b.writeInt32LE(v) : b.writeInt32BE(v)));
  }
  f32(v: number): void {
    this.num(4, (b) => (this.le ? b.writeFloatLE(v) : b.writeFloatBE(v)));
  }
  f64(v: number): void {
    this.num(8, (b) => (this.le ? b.writeDoubleLE(v) : b.writeDoubleBE(v)));
  }
  u64(v: number): void {
    this.num(8, (b) => (this.le ? b.writeBigUInt64LE(BigInt(v)) : b.writeBigUInt64BE(BigInt(v))));
  }
  i64(v: number): void {
    this.num(8, (b) => (this.le ? b.writeBigInt64LE(BigInt(v)) : b.writeBigInt64BE(BigInt(v))));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.chunks.push(b);
  }
  raw(b: Buffer): void {
    this.chunks.push(b);
  }
  length(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }
}

function writeScalar(w: Writer, type: Exclude<Kv['type'], 'arr'>, value: number | boolean | string): void {
  switch (type) {
    case 'u8':
      return w.u8(value as number);
    case 'i8':
      return w.i8(value as number);
    case 'u16':
      return w.u16(value as number);
    case 'i16':
      return w.i16(value as number);
    case 'u32':
      return w.u32(value as number);
    case 'i32':
      return w.i32(value as number);
    case 'f32':
      return w.f32(value as number);
    case 'f64':
      return w.f64(value as number);
    case 'u64':
      return w.u64(value as number);
    case 'i64':
      return w.i64(value as number);
    case 'bool':
      return w.u8(value ? 1 : 0);
    case 'str':
      return w.str(value as string);
  }
}

export function ggmlTypeId(name: string): number {
  for (const [id, t] of GGML_TYPES) if (t.name === name) return id;
  throw new Error(`unknown ggml type ${name}`);
}

export function tensorBytes(t: TensorSpec): number {
  const type = GGML_TYPES.get(ggmlTypeId(t.type));
  if (type === undefined) throw new Error(t.type);
  const n = t.dims.reduce((a, b) => a * b, 1);
  return (n / type.blockSize) * type.typeSize;
}

export interface GgufSpec {
  version?: number;
  littleEndian?: boolean;
  metadata: Array<[string, Kv]>;
  tensors: TensorSpec[];
  /** Bytes of (fake) tensor data to append after the aligned header. */
  dataBytes?: number;
  magic?: string;
}

export function buildGguf(spec: GgufSpec): Uint8Array {
  const le = spec.littleEndian ?? true;
  const w = new Writer(le);
  w.raw(Buffer.from(spec.magic ?? 'GGUF', 'ascii'));
  w.u32(spec.version ?? 3);
  w.u64(spec.tensors.length);
  w.u64(spec.metadata.length);
  for (const [key, v] of spec.metadata) {
    w.str(key);
    if (v.type === 'arr') {
      w.u32(GGUF_TYPE.ARRAY);
      w.u32(TYPE_CODE[v.itemType]);
      w.u64(v.items.length);
      for (const item of v.items) writeScalar(w, v.itemType, item);
    } else {
      w.u32(TYPE_CODE[v.type]);
      writeScalar(w, v.type, v.value);
    }
  }
  let offset = 0;
  for (const t of spec.tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(ggmlTypeId(t.type));
    w.u64(offset);
    offset += Math.ceil(tensorBytes(t) / 32) * 32;
  }
  const pad = (32 - (w.length() % 32)) % 32;
  w.raw(Buffer.alloc(pad));
  if (spec.dataBytes) w.raw(Buffer.alloc(spec.dataBytes));
  return w.bytes();
}

export interface TinyLlama {
  bytes: Uint8Array;
  tensors: TensorSpec[];
  params: number;
  weightBytes: number;
  tokenEmbeddingBytes: number;
}

/** A llama-shaped Q4_K_M file: 2 layers, hidden 256, 4 heads (2 KV), vocab 512, with a tokenizer. */
export function tinyLlamaGguf(
  opts: { tied?: boolean; vocab?: number; extra?: Array<[string, Kv]> } = {},
): TinyLlama {
  const vocab = opts.vocab ?? 512;
  const h = 256;
  const ff = 512;
  const layers = 2;
  const tensors: TensorSpec[] = [{ name: 'token_embd.weight', dims: [h, vocab], type: 'Q4_K' }];
  for (let i = 0; i < layers; i++) {
    tensors.push(
      { name: `blk.${i}.attn_norm.weight`, dims: [h], type: 'F32' },
      { name: `blk.${i}.attn_q.weight`, dims: [h, h], type: 'Q4_K' },
      { name: `blk.${i}.attn_k.weight`, dims: [h, 128], type: 'Q4_K' },
      { name: `blk.${i}.attn_v.weight`, dims: [h, 128], type: 'Q6_K' },
      { name: `blk.${i}.attn_output.weight`, dims: [h, h], type: 'Q4_K' },
      { name: `blk.${i}.ffn_norm.weight`, dims: [h], type: 'F32' },
      { name: `blk.${i}.ffn_gate.weight`, dims: [h, ff], type: 'Q4_K' },
      { name: `blk.${i}.ffn_up.weight`, dims: [h, ff], type: 'Q4_K' },
      { name: `blk.${i}.ffn_down.weight`, dims: [ff, h], type: 'Q6_K' },
    );
  }
  tensors.push({ name: 'output_norm.weight', dims: [h], type: 'F32' });
  if (!opts.tied) tensors.push({ name: 'output.weight', dims: [h, vocab], type: 'Q6_K' });
  const tokens = Array.from({ length: vocab }, (_, i) => `tok${i}`);
  const metadata: Array<[string, Kv]> = [
    ['general.architecture', kv.str('llama')],
    ['general.name', kv.str('Tiny Llama')],
    ['general.file_type', kv.u32(15)],
    ['general.alignment', kv.u32(32)],
    ['llama.block_count', kv.u32(layers)],
    ['llama.context_length', kv.u32(2048)],
    ['llama.embedding_length', kv.u32(h)],
    ['llama.feed_forward_length', kv.u32(ff)],
    ['llama.attention.head_count', kv.u32(4)],
    ['llama.attention.head_count_kv', kv.u32(2)],
    ['llama.rope.freq_base', kv.f32(500000)],
    ['llama.attention.layer_norm_rms_epsilon', kv.f32(1e-5)],
    ['tokenizer.ggml.model', kv.str('gpt2')],
    ['tokenizer.ggml.tokens', kv.arr('str', tokens)],
    [
      'tokenizer.ggml.scores',
      kv.arr(
        'f32',
        Array.from({ length: 5000 }, () => 0),
      ),
    ],
    ['tokenizer.ggml.add_bos_token', kv.bool(true)],
    ...(opts.extra ?? []),
  ];
  const bytes = buildGguf({ metadata, tensors, dataBytes: 64 });
  const params = tensors.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
  const weightBytes = tensors.reduce((s, t) => s + tensorBytes(t), 0);
  return { bytes, tensors, params, weightBytes, tokenEmbeddingBytes: tensorBytes(tensors[0] as TensorSpec) };
}
