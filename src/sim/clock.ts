// Simulated time: starts at a chosen instant and runs `speed` times faster than the wall clock,
// so a day of usage can be played in minutes. Everything in the simulator reads time from here.

export interface Clock {
  /** Simulated epoch seconds. */
  now(): number;
  readonly speed: number;
  /**
   * The wall-clock instant at which simulated time `t` happens (or happened). Timestamps written
   * to the API use it: clients compare them with their own clock, as on a real cluster.
   */
  wall(t: number): Date;
}

export function simClock(
  speed = 1,
  start = Date.now() / 1000,
  wall: () => number = () => Date.now() / 1000,
): Clock {
  const t0 = wall();
  return {
    speed,
    now: () => start + (wall() - t0) * speed,
    wall: (t) => new Date((t0 + (t - start) / speed) * 1000),
  };
}

/**
 * How far a counter the simulator exposes moves for `simSeconds` of simulated time: the wall-clock
 * seconds they take. Consumers stamp samples with their own clock (Prometheus, metrics-server), so a
 * counter of CPU seconds that grows by cores x wall seconds reads back as the simulated cores at any
 * speed (docs/decisions/0023-time-at-any-clock-speed.md).
 */
export function counterSeconds(clock: Pick<Clock, 'speed'>, simSeconds: number): number {
  return simSeconds / clock.speed;
}

/** A clock the tests move by hand. */
export function manualClock(start = 1_700_000_000): Clock & { advance(seconds: number): void } {
  let t = start;
  return {
    speed: 1,
    now: () => t,
    wall: (x) => new Date(x * 1000),
    advance: (s) => {
      t += s;
    },
  };
}
