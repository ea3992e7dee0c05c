// The fleet as a replayed pod may see it: every pod's rises (fleet-surge.ts), time-ordered; the
// recommender reads only those up to the decision's `now`, so a policy that looks at other pods stays
// causal, as the operator reads the other pods' usage.
import {
  createRiseDetector,
  observeRise,
  type FleetSurgeOptions,
  type Rise,
} from '../recommend/fleet-surge.ts';
import type { PodInput } from './protocol.ts';

export function fleetRises(pods: readonly PodInput[], options: FleetSurgeOptions): Rise[] {
  const rises: Rise[] = [];
  for (const p of pods) {
    const d = createRiseDetector();
    for (const s of p.samples) {
      const r = observeRise(d, p.pod, s, options);
      if (r) rises.push(r);
    }
  }
  return rises.sort((a, b) => a.t - b.t);
}
