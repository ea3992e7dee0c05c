// The peak of each fixed interval (VPA-style aggregation) and the peaks of the last few hours, which
// the recent-peak envelope reads. A memory spike inside an interval counts in full.
import type { UsageSample } from './types.ts';

export interface IntervalPeak {
  /** Interval start, seconds since the epoch (a multiple of the interval length). */
  readonly start: number;
  peak: number;
}

export interface PeakWindow {
  /** Oldest first; the last one is the interval still open. */
  recent: IntervalPeak[];
}

/** What a sample did to the peaks, so the slow histogram can follow without keeping samples. */
export type PeakChange =
  | { readonly kind: 'NewInterval'; readonly start: number; readonly peak: number }
  | { readonly kind: 'Raised'; readonly start: number; readonly from: number; readonly to: number }
  | { readonly kind: 'Unchanged' };

export function createPeakWindow(): PeakWindow {
  return { recent: [] };
}

export function observePeak(
  w: PeakWindow,
  sample: UsageSample,
  intervalSeconds: number,
  keepSeconds: number,
): PeakChange {
  const start = Math.floor(sample.t / intervalSeconds) * intervalSeconds;
  const open = w.recent[w.recent.length - 1];
  if (open && open.start === start) {
    if (!(sample.value > open.peak)) return { kind: 'Unchanged' };
    const from = open.peak;
    open.peak = sample.value;
    return { kind: 'Raised', start, from, to: sample.value };
  }
  if (open && start < open.start) {
    // A late sample for an interval already closed: it still counts toward the recent peak.
    const old = w.recent.find((p) => p.start === start);
    if (old && sample.value > old.peak) {
      const from = old.peak;
      old.peak = sample.value;
      return { kind: 'Raised', start, from, to: sample.value };
    }
    return { kind: 'Unchanged' };
  }
  w.recent.push({ start, peak: sample.value });
  // Keep one interval beyond the window so a window edge inside an interval still sees it.
  const horizon = start - keepSeconds - intervalSeconds;
  let drop = 0;
  while (drop < w.recent.length - 1 && w.recent[drop]!.start < horizon) drop++;
  if (drop > 0) w.recent.splice(0, drop);
  return { kind: 'NewInterval', start, peak: sample.value };
}

/** The highest interval peak that overlaps (now - windowSeconds, now]; 0 without any. */
export function recentPeak(
  w: PeakWindow,
  now: number,
  windowSeconds: number,
  intervalSeconds: number,
): number {
  let max = 0;
  for (let i = w.recent.length - 1; i >= 0; i--) {
    const p = w.recent[i]!;
    if (p.start + intervalSeconds <= now - windowSeconds) break;
    if (p.start <= now) max = Math.max(max, p.peak);
  }
  return max;
}
