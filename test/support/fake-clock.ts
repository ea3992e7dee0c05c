// A clock tests move by hand (src/notify/clock.ts): sleeps end when `advance` passes their time.
import type { Clock } from '../../src/notify/clock.ts';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

export class FakeClock implements Clock {
  private t: number;
  private timers: { at: number; resolve: () => void }[] = [];

  constructor(start = 1_800_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      this.timers.push({ at: this.t + ms, resolve });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Moves time forward by `ms`, waking each sleep in order, and lets the woken code run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.resolve();
    }
    this.t = end;
    await flush();
  }
}
