// Simulated time: starts at a chosen instant and runs `speed` times faster than the wall clock,
// so a day of usage can be played in minutes. Everything in the simulator reads time from here.

export interface Clock {
  /** Simulated epoch seconds. */
  now(): number;
  readonly speed: number;
}

export function simClock(
  speed = 1,
  start = Date.now() / 1000,
  wall: () => number = () => Date.now() / 1000,
): Clock {
  const t0 = wall();
  return { speed, now: () => start + (wall() - t0) * speed };
}

/** A clock the tests move by hand. */
export function manualClock(start = 1_700_000_000): Clock & { advance(seconds: number): void } {
  let t = start;
  return {
    speed: 1,
    now: () => t,
    advance: (s) => {
      t += s;
    },
  };
}
