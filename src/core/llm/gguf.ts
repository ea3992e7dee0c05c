// Parses the header of a GGUF file (magic, version, metadata key/values, tensor infos) from its
// first bytes. The header can be megabytes (the tokenizer lives there), so a short buffer is a
// named outcome that tells the caller to fetch more, not an error.
import type { LlmProblem } from './types.ts';

/** GGUF metadata value types (gguf.h). */
export const GGUF_TYPE = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

export interface GgufArray {
  kind: 'array';
  itemType: number;
  length: number;
  /** Kept only for short arrays (per-layer head counts); tokenizer vocabularies are counted, not kept. */
  items?: Array<number | boolean | string>;
}

export type GgufValue = number | boolean | string | GgufArray;

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  /** ggml_type id. */
  type: number;
  offset: number;
}

export interface GgufHeader {
  version: number;
  littleEndian: boolean;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Where tensor data starts: the header's size on disk. */
  dataOffset: number;
}

export type GgufParse =
  | { outcome: 'Parsed'; header: GgufHeader }
  | { outcome: 'Truncated'; bytesRead: number }
  | { outcome: 'Invalid'; problem: LlmProblem };

const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const KEEP_ARRAY_ITEMS = 4096;
const MAX_TENSORS = 1_000_000;
const MAX_KV = 100_000;

class Truncated extends Error {}
class Invalid extends Error {}

class Reader {
  pos = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  constructor(
    private readonly bytes: Uint8Array,
    readonly le: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) throw new Truncated();
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  i8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, this.le);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos, this.le);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, this.le);
    this.pos += 8;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, this.le);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Invalid(`a 64-bit field (${v}) is larger than any real file`);
    return Number(v);
  }
  i64(): number {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, this.le);
    this.pos += 8;
    return Number(v);
  }
  str(): string {
    const len = this.u64();
    this.need(len);
    const s = this.decoder.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  skipStr(): void {
    this.skip(this.u64());
  }
}

function readScalar(r: Reader, type: number): number | boolean | string {
  switch (type) {
    case GGUF_TYPE.UINT8:
      return r.u8();
    case GGUF_TYPE.INT8:
      return r.i8();
    case GGUF_TYPE.UINT16:
      return r.u16();
    case GGUF_TYPE.INT16:
      return r.i16();
    case GGUF_TYPE.UINT32:
      return r.u32();
    case GGUF_TYPE.INT32:
      return r.i32();
    case GGUF_TYPE.FLOAT32:
      return r.f32();
    case GGUF_TYPE.BOOL:
      return r.u8() !== 0;
    case GGUF_TYPE.STRING:
      return r.str();
    case GGUF_TYPE.UINT64:
      return r.u64();
    case GGUF_TYPE.INT64:
      return r.i64();
    case GGUF_TYPE.FLOAT64:
      return r.f64();
    default:
      throw new Invalid(`unknown metadata value type ${type}`);
  }
}

const FIXED_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

function readValue(r: Reader, type: number): GgufValue {
  if (type !== GGUF_TYPE.ARRAY) return readScalar(r, type);
  const itemType = r.u32();
  const length = r.u64();
  if (itemType === GGUF_TYPE.ARRAY) throw new Invalid('nested metadata arrays are not part of GGUF');
  const keep = length <= KEEP_ARRAY_ITEMS;
  const items: Array<number | boolean | string> = [];
  const fixed = FIXED_SIZE[itemType];
  if (!keep && fixed !== undefined) {
    // Skip a long numeric array in one step; reading 150k token scores one by one is wasted work.
    r.skip(fixed * length);
    return { kind: 'array', itemType, length };
  }
  for (let i = 0; i < length; i++) {
    if (keep) items.push(readScalar(r, itemType));
    else if (itemType === GGUF_TYPE.STRING) r.skipStr();
    else readScalar(r, itemType);
  }
  return keep ? { kind: 'array', itemType, length, items } : { kind: 'array', itemType, length };
}

function invalid(message: string): GgufParse {
  return {
    outcome: 'Invalid',
    problem: {
      reason: 'InvalidGguf',
      message,
      hint: 'check that the file is a GGUF model (llama.cpp format) and that the download is not corrupt',
    },
  };
}

/** Parses as much of a GGUF header as `data` holds. */
export function parseGgufHeader(data: Uint8Array | ArrayBuffer): GgufParse {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.byteLength < 8) return { outcome: 'Truncated', bytesRead: bytes.byteLength };
  const probe = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (probe.getUint32(0, true) !== MAGIC) {
    return invalid(
      `the file does not start with the GGUF magic (found 0x${probe.getUint32(0, true).toString(16)})`,
    );
  }
  // Big-endian GGUF files exist (s390x); their version reads as a huge number in little-endian.
  const le = probe.getUint32(4, true) < 0x10000;
  const r = new Reader(bytes, le);
  r.pos = 4;
  try {
    const version = r.u32();
    if (version < 2 || version > 3) {
      return invalid(
        `GGUF version ${version} is not supported (2 and 3 are); re-convert the model with a current llama.cpp`,
      );
    }
    const tensorCount = r.u64();
    const kvCount = r.u64();
    if (tensorCount > MAX_TENSORS || kvCount > MAX_KV) {
      return invalid(`implausible header: ${tensorCount} tensors, ${kvCount} metadata keys`);
    }
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = r.str();
      const type = r.u32();
      metadata.set(key, readValue(r, type));
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = r.str();
      const nDims = r.u32();
      if (nDims > 8) throw new Invalid(`tensor ${name} has ${nDims} dimensions`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(r.u64());
      const type = r.u32();
      const offset = r.u64();
      tensors.push({ name, dims, type, offset });
    }
    const alignValue = metadata.get('general.alignment');
    const alignment = typeof alignValue === 'number' && alignValue > 0 ? alignValue : 32;
    const dataOffset = Math.ceil(r.pos / alignment) * alignment;
    return { outcome: 'Parsed', header: { version, littleEndian: le, metadata, tensors, dataOffset } };
  } catch (err) {
    if (err instanceof Truncated) return { outcome: 'Truncated', bytesRead: bytes.byteLength };
    if (err instanceof Invalid) return invalid(err.message);
    throw err;
  }
}

export function metaNumber(h: GgufHeader, key: string): number | undefined {
  const v = h.metadata.get(key);
  return typeof v === 'number' ? v : undefined;
}

export function metaString(h: GgufHeader, key: string): string | undefined {
  const v = h.metadata.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** A scalar, or the largest entry of a per-layer array (some models vary heads per layer). */
export function metaNumberOrMax(h: GgufHeader, key: string): number | undefined {
  const v = h.metadata.get(key);
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v.items !== undefined) {
    const nums = v.items.filter((x): x is number => typeof x === 'number');
    return nums.length > 0 ? Math.max(...nums) : undefined;
  }
  return undefined;
}

export function metaArrayLength(h: GgufHeader, key: string): number | undefined {
  const v = h.metadata.get(key);
  return typeof v === 'object' ? v.length : undefined;
}
