// Seeded randomness for the simulator: stateless hashes, so that noise at a time bucket is a pure
// function of (seed, bucket) and sample(t) can be called in any order, any number of times.

/** 32-bit hash of a string (FNV-1a, then a murmur finaliser to spread the low bits). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a seed hash and an integer (a time bucket, an index); integers beyond 2^32 keep their high bits. */
export function hash2(seed: number, n: number): number {
  const lo = n >>> 0;
  const hi = Math.floor(n / 4294967296) >>> 0;
  return fmix32(fmix32(seed ^ Math.imul(lo, 0x9e3779b1)) ^ Math.imul(hi + 0x7f4a7c15, 0x85ebca77));
}

/** Uniform in [0, 1) for (seed, n). */
export function unit(seed: number, n: number): number {
  return hash2(seed, n) / 4294967296;
}

/** Triangular in (-1, 1) for (seed, n): two uniforms, so small deviations are commoner than large ones. */
export function centred(seed: number, n: number): number {
  return unit(seed, n) + unit(seed ^ 0x5bd1e995, n) - 1;
}

/**
 * Smooth noise in (-1, 1) at time t: independent values per bucket of `bucketSeconds`, eased
 * between neighbours so a metric does not jump at every bucket edge.
 */
export function smoothNoise(seed: number, t: number, bucketSeconds: number): number {
  const x = t / bucketSeconds;
  const b = Math.floor(x);
  const f = x - b;
  const e = f * f * (3 - 2 * f);
  const a = centred(seed, b);
  return a + (centred(seed, b + 1) - a) * e;
}

/** A sequential generator (mulberry32) for callers that need a stream, e.g. to lay out a fleet. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
