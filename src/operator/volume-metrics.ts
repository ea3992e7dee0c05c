// The storage controller's series (tailor_volume_*): per claim, what the kubelet last said and the
// forecast time to full, and the expansions Tailor asked for by result. Registered on the operator's
// registry (one per running operator); a claim's series go when the claim leaves every policy.
import { Counter, Gauge } from 'prom-client';
import type { OperatorMetrics } from './metrics.ts';

/** How an expansion ended: asked for, done, refused by the resizer, or recovered after a refusal. */
export type ExpansionMetricResult = 'requested' | 'succeeded' | 'failed' | 'recovered';

export interface VolumeMetrics {
  /** One claim's figures now; `timeToFullSeconds` undefined when it is not growing. */
  claim(
    namespace: string,
    claim: string,
    v: { usedBytes?: number; capacityBytes?: number; timeToFullSeconds?: number },
  ): void;
  expansion(result: ExpansionMetricResult): void;
  /** The claim is no longer covered: its series go. */
  forget(namespace: string, claim: string): void;
}

const LABELS = ['namespace', 'persistentvolumeclaim'] as const;

/** Registered once per registry: a second call (tests that rebuild the controller) reuses the series. */
const built = new WeakMap<OperatorMetrics['registry'], VolumeMetrics>();

export function volumeMetrics(metrics: OperatorMetrics): VolumeMetrics {
  const existing = built.get(metrics.registry);
  if (existing) return existing;
  const registers = [metrics.registry];
  const used = new Gauge({
    name: 'tailor_volume_used_bytes',
    help: 'Bytes used on the volume of a claim Tailor watches, as the kubelet last reported (statfs).',
    labelNames: LABELS,
    registers,
  });
  const capacity = new Gauge({
    name: 'tailor_volume_capacity_bytes',
    help: "Size of the volume's file system as the kubelet last reported (statfs).",
    labelNames: LABELS,
    registers,
  });
  const timeToFull = new Gauge({
    name: 'tailor_volume_time_to_full_seconds',
    help: 'At the recent growth, seconds until the volume is full; absent when it is not growing.',
    labelNames: LABELS,
    registers,
  });
  const expansions = new Counter({
    name: 'tailor_volume_expansions_total',
    help: 'Claim expansions by result: requested (patched), succeeded, failed (the resizer refused), recovered.',
    labelNames: ['result'],
    registers,
  });
  for (const r of ['requested', 'succeeded', 'failed', 'recovered'] as const)
    expansions.inc({ result: r }, 0);
  const m: VolumeMetrics = {
    claim(namespace, claim, v) {
      const labels = { namespace, persistentvolumeclaim: claim };
      if (v.usedBytes !== undefined) used.set(labels, v.usedBytes);
      else used.remove(labels);
      if (v.capacityBytes !== undefined) capacity.set(labels, v.capacityBytes);
      else capacity.remove(labels);
      if (v.timeToFullSeconds !== undefined) timeToFull.set(labels, v.timeToFullSeconds);
      else timeToFull.remove(labels);
    },
    expansion(result) {
      expansions.inc({ result });
    },
    forget(namespace, claim) {
      const labels = { namespace, persistentvolumeclaim: claim };
      used.remove(labels);
      capacity.remove(labels);
      timeToFull.remove(labels);
    },
  };
  built.set(metrics.registry, m);
  return m;
}
