// Baseline: the limit a person set, never changed.
import type { Recommender } from '../protocol.ts';

export const handSet: Recommender = {
  kind: 'causal',
  name: 'hand-set',
  start: (ctx) => ({
    observe: () => {},
    propose: () => ctx.handSet,
    onOom: () => undefined,
  }),
};
