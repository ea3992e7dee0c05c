// Room for bursts not yet seen: a pod whose peaks already reach far above its typical level tends to
// burst higher again (one fleet-wide event in the GenTD26 trace doubled such pods' memory).

export type BurstClass = 'Steady' | 'Bursty';

export function burstClass(high: number, median: number, burstRatio: number): BurstClass {
  return median > 0 && high > burstRatio * median ? 'Bursty' : 'Steady';
}

/** Multiplier for the slow estimate. */
export function burstHeadroom(cls: BurstClass, headroom: number): number {
  switch (cls) {
    case 'Steady':
      return 1;
    case 'Bursty':
      return Math.max(1, headroom);
  }
}
