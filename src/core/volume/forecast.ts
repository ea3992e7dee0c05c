// How fast a volume fills: the recent growth of used bytes (and inodes) from the kubelet's samples,
// robust to log rotation (space freed at once) and to bursts, and the time left at that growth.
//
// The choice, and why. A volume's used bytes are a sum of a slow trend (caches, leaks, data), bursts
// (a batch writes, a model downloads) and drops (logs rotate, caches are pruned). One figure cannot
// serve both questions the planner asks, so there are two:
// - `bytesPerSecond` ("will it cross soon?") is the largest least-squares slope over a short, a
//   middle and a long window (1 h, 6 h, 24 h by default). Least squares over a window ignores one
//   noisy sample; taking the largest of the windows means a new sustained growth (seen by the short
//   window) is not hidden by a quiet day, and a slow leak (only visible over a day) is not hidden by
//   a quiet hour. A drop from log rotation pulls a window's slope down, never up, so it can only
//   delay a forecast expansion, never cause one; the shorter windows then see the rotating logs'
//   gross write rate, which is what fills the volume if a rotation is late.
// - `sustainedBytesPerSecond` ("how much room for the next hours?") is the slope over the long
//   window alone, when it is positive (else the middle one's): the sizing of an expansion follows
//   the day's trend, not the last hour's burst, so one burst does not buy a disk for a week of bursts.
// Slopes are clipped at zero: a shrinking volume is "not growing", never a negative forecast.
import type { VolumeSample } from './types.ts';

export interface ForecastWindows {
  /** Seconds; each slope needs at least two samples spanning `minSpanSeconds` within the window. */
  readonly short: number;
  readonly middle: number;
  readonly long: number;
  readonly minSpanSeconds: number;
}

export const DEFAULT_FORECAST_WINDOWS: ForecastWindows = {
  short: 3600,
  middle: 6 * 3600,
  long: 24 * 3600,
  minSpanSeconds: 600,
};

export interface GrowthForecast {
  /** Bytes per second, for "will it cross within the horizon" (0 when not growing). */
  readonly bytesPerSecond: number;
  /** Bytes per second, for sizing an expansion: the long window's trend (0 when not growing). */
  readonly sustainedBytesPerSecond: number;
  /** Inodes per second, the same way as `bytesPerSecond`; undefined without inode samples. */
  readonly inodesPerSecond?: number;
  /** The window (seconds) whose slope `bytesPerSecond` is. */
  readonly windowSeconds: number;
}

/**
 * The least-squares slope (per second) of `value` over the samples taken in [now - window, now];
 * undefined with fewer than two such samples or when they span less than `minSpan` seconds.
 */
export function slope(
  samples: readonly VolumeSample[],
  now: number,
  windowSeconds: number,
  minSpanSeconds: number,
  value: (s: VolumeSample) => number | undefined = (s) => s.usedBytes,
): number | undefined {
  const from = now - windowSeconds;
  let n = 0;
  let sx = 0;
  let sy = 0;
  let first = Infinity;
  let last = -Infinity;
  // Times relative to `now` keep the sums small enough for doubles to stay exact.
  const points: [number, number][] = [];
  for (const s of samples) {
    if (s.at < from || s.at > now) continue;
    const y = value(s);
    if (y === undefined || !Number.isFinite(y)) continue;
    const x = s.at - now;
    points.push([x, y]);
    n++;
    sx += x;
    sy += y;
    first = Math.min(first, s.at);
    last = Math.max(last, s.at);
  }
  if (n < 2 || last - first < minSpanSeconds) return undefined;
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den > 0 ? num / den : undefined;
}

/** The recent growth of a volume, or undefined when the samples are too few or too short to tell. */
export function forecastGrowth(
  samples: readonly VolumeSample[],
  now: number,
  windows: ForecastWindows = DEFAULT_FORECAST_WINDOWS,
): GrowthForecast | undefined {
  const at = (w: number, value?: (s: VolumeSample) => number | undefined) =>
    slope(samples, now, w, windows.minSpanSeconds, value);
  const slopes = (
    [
      [windows.short, at(windows.short)],
      [windows.middle, at(windows.middle)],
      [windows.long, at(windows.long)],
    ] as const
  ).filter((e): e is readonly [number, number] => e[1] !== undefined);
  if (slopes.length === 0) return undefined;
  let best = slopes[0]!;
  for (const e of slopes) if (e[1] > best[1]) best = e;
  const longest = slopes[slopes.length - 1]!;
  const sustained =
    longest[1] > 0 ? longest[1] : Math.max(0, slopes.length > 1 ? slopes[slopes.length - 2]![1] : 0);
  const inodeValue = (s: VolumeSample) => s.inodesUsed;
  const inodeSlopes = [windows.short, windows.middle, windows.long]
    .map((w) => at(w, inodeValue))
    .filter((v): v is number => v !== undefined);
  return {
    bytesPerSecond: Math.max(0, best[1]),
    sustainedBytesPerSecond: sustained,
    ...(inodeSlopes.length > 0 ? { inodesPerSecond: Math.max(0, ...inodeSlopes) } : {}),
    windowSeconds: best[0],
  };
}

/** Seconds until `room` bytes are used at `rate` bytes per second; undefined when not growing. */
export function secondsUntil(room: number, rate: number): number | undefined {
  if (!(rate > 0)) return undefined;
  return Math.max(0, room) / rate;
}

/** "3d 4h", "5h 20m", "12m": a time span for a user's message. */
export function humanSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
