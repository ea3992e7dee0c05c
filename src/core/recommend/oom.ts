// What an OOM kill teaches: the container needed more than it had. The floor jumps to a bump above
// the usage at the kill and fades slowly, so a lowered limit does not walk back into the same kill.
import type { OomEvent } from './types.ts';

export interface OomFloor {
  readonly t: number;
  readonly floor: number;
}

export interface OomBump {
  readonly factor: number;
  readonly minBump: number;
  readonly halfLifeSeconds: number;
}

/** At least usage x factor and usage + minBump: the VPA's rule (1.2, 100Mi) with Tailor's numbers. */
export function bumpAfterOom(usage: number, bump: OomBump): number {
  return Math.max(usage * bump.factor, usage + bump.minBump);
}

export function floorAt(floor: OomFloor | undefined, now: number, halfLifeSeconds: number): number {
  if (!floor) return 0;
  if (now <= floor.t) return floor.floor;
  return floor.floor * 2 ** (-(now - floor.t) / halfLifeSeconds);
}

export function recordOom(previous: OomFloor | undefined, event: OomEvent, bump: OomBump): OomFloor {
  const fresh = bumpAfterOom(event.usage, bump);
  const carried = floorAt(previous, event.t, bump.halfLifeSeconds);
  return { t: event.t, floor: Math.max(fresh, carried) };
}
