// The pod QoS class as the apiserver computes it (pkg/apis/core/helper/qos), over cpu and memory only:
// the planner checks that a resize keeps it, because the apiserver rejects one that changes it (422).
import type { QosClass, ResourceSpec } from './types.ts';
import { RESOURCES } from './types.ts';

export function qosOf(containers: readonly ResourceSpec[]): QosClass {
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    for (const r of RESOURCES) {
      // A zero quantity counts as unset, as in the apiserver.
      const req = positive(c.requests[r]);
      const lim = positive(c.limits[r]);
      if (req !== undefined || lim !== undefined) any = true;
      // The apiserver defaults a missing request to the limit, so "no request" with a limit is equal.
      if (lim === undefined || (req !== undefined && !sameAmount(r, req, lim))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function positive(v: number | undefined): number | undefined {
  return v !== undefined && v > 0 ? v : undefined;
}

/** Equal at the API's granularity: millicores for CPU, bytes for memory. */
export function sameAmount(r: 'cpu' | 'memory', a: number, b: number): boolean {
  return r === 'cpu' ? Math.round(a * 1000) === Math.round(b * 1000) : Math.round(a) === Math.round(b);
}
