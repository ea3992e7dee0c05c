// Baseline: Robusta KRR's `simple` strategy for memory, the maximum of the history plus 15%.
import type { Recommender } from '../protocol.ts';

export function krrSimple(bufferFraction = 0.15): Recommender {
  return {
    kind: 'causal',
    name: 'KRR simple',
    start: () => {
      let max = 0;
      return {
        observe: (s) => {
          max = Math.max(max, s.value);
        },
        propose: () => max * (1 + bufferFraction),
        onOom: () => undefined,
      };
    },
  };
}
