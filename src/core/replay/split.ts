// The hold-out of the replay benchmark: every pod falls, by a hash of its id alone, into the half the
// recommender is tuned on or the half it is only scored on, so no figure on the second half was fitted.

/** Which half of a trace a pod belongs to. */
export type SplitHalf = 'Tuning' | 'Evaluation';

/** FNV-1a, 32 bits, over the UTF-16 code units of a string: stable across runs, machines and Node versions. */
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/**
 * The half of a pod id: the top bit of its hash (the top bit, not the lowest, because FNV's low bits
 * follow the last character too closely). A pod always lands in the same half, whatever other pods
 * the trace holds or in which order they come.
 */
export function splitHalfOf(pod: string): SplitHalf {
  return fnv1a32(pod) >>> 31 === 0 ? 'Tuning' : 'Evaluation';
}

export interface SplitPods<T> {
  readonly tuning: readonly T[];
  readonly evaluation: readonly T[];
}

/** Both halves of a list of pods, each in the input's order. */
export function splitByPod<T extends { readonly pod: string }>(pods: readonly T[]): SplitPods<T> {
  const tuning: T[] = [];
  const evaluation: T[] = [];
  for (const p of pods) {
    switch (splitHalfOf(p.pod)) {
      case 'Tuning':
        tuning.push(p);
        break;
      case 'Evaluation':
        evaluation.push(p);
        break;
    }
  }
  return { tuning, evaluation };
}
