// Oracle: one constant limit equal to the pod's own peak over the scored part. It knows the future,
// so it marks the floor for a constant limit at zero OOMs, not a score to beat fairly.
import type { Recommender } from '../protocol.ts';

export const hindsightConstant: Recommender = {
  kind: 'oracle',
  name: 'hindsight constant',
  start: (_ctx, future) => {
    const peak = future.reduce((m, s) => Math.max(m, s.value), 0);
    return { observe: () => {}, propose: () => peak, onOom: () => undefined, initialLimit: peak };
  },
};
