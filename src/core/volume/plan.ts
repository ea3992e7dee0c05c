// What to do about one claim now: expand it (before it fills, from the recent growth or a known
// step), recover from a failed expansion, or hold still, and why, in words a user can act on.
// Pure: the controller passes the time, the rules, the claim's state and its kubelet samples.
import { humanBytes } from '../quantity.ts';
import { DEFAULT_FORECAST_WINDOWS, forecastGrowth, humanSeconds, secondsUntil } from './forecast.ts';
import type { ForecastWindows, GrowthForecast } from './forecast.ts';
import { describeAmount, roundUpGiB, stepBytes, thresholdBytes } from './rules.ts';
import type { ClaimState, KnownGrowth, VolumeDecision, VolumeRules, VolumeSample } from './types.ts';

/** Samples older than this are not "fresh": five minutes, five of the kubelet's refreshes. */
export const DEFAULT_FRESH_SECONDS = 300;

export interface PlanInput {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly rules: VolumeRules;
  readonly claim: ClaimState;
  /** The claim's samples, oldest first (any order works); a day of them feeds the forecast. */
  readonly samples: readonly VolumeSample[];
  /** Room a known step will need soon (tailor.dev/expected-growth). */
  readonly known?: KnownGrowth;
  /** The newest sample must be at most this old (default DEFAULT_FRESH_SECONDS). */
  readonly freshSeconds?: number;
  /** The forecast's windows (default DEFAULT_FORECAST_WINDOWS); for benchmarks and tests. */
  readonly windows?: ForecastWindows;
}

const FAILED = ['ControllerResizeInfeasible', 'NodeResizeInfeasible'] as const;
const UNDER_WAY = ['ControllerResizeInProgress', 'NodeResizePending', 'NodeResizeInProgress'] as const;

const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '?');
const perHour = (bytesPerSecond: number) => `${humanBytes(bytesPerSecond * 3600)}/h`;

/** Decides what to do about one claim. Never a size below the request (never shrinks), never on stale stats. */
export function planExpansion(input: PlanInput): VolumeDecision {
  const { now, rules, claim, known } = input;
  const fresh = input.freshSeconds ?? DEFAULT_FRESH_SECONDS;
  const samples = input.samples.filter((s) => s.at <= now);
  let latest: VolumeSample | undefined;
  for (const s of samples) if (!latest || s.at > latest.at) latest = s;

  // 1. No fresh sample: hold still. Resizing on a guess (an old reading, a missing volume) could
  //    grow a volume that no longer needs it, and a PVC cannot be shrunk back.
  if (!latest || now - latest.at > fresh) {
    const age = latest ? `the newest is ${humanSeconds(now - latest.at)} old` : 'there are none';
    return {
      action: 'Hold',
      why: 'NoFreshStats',
      message: `no fresh usage stats for ${claim.namespace}/${claim.name} (${age}; the limit is ${humanSeconds(fresh)}): not resizing on a guess`,
    };
  }

  const state = measure(latest, claim, rules);
  const forecast = forecastGrowth(samples, now, input.windows ?? DEFAULT_FORECAST_WINDOWS);
  const rate = forecast?.bytesPerSecond ?? 0;
  const timeToFull = secondsUntil(latest.availableBytes, rate);
  const ttf = timeToFull !== undefined ? { timeToFullSeconds: timeToFull } : {};
  const usage = `${humanBytes(latest.availableBytes)} free of ${humanBytes(latest.capacityBytes)} (${pct(latest.availableBytes, latest.capacityBytes)})`;
  const pressure = state.belowBytes
    ? `; below the ${describeAmount(rules.threshold)} threshold`
    : state.belowInodes
      ? `; inodes below the ${rules.inodesThresholdPercent}% threshold`
      : '';

  // 2. A failed expansion (the CSI driver or the node refused it): lower the request back to what
  //    the volume has, as Kubernetes allows since 1.34 (KEP-1790), never below status.capacity.
  //    Until then the claim is stuck: no other expansion can be tried.
  const failed = FAILED.find((s) => s === claim.resizeStatus);
  if (failed) {
    if (claim.requestBytes > claim.capacityBytes)
      return {
        action: 'Recover',
        toBytes: claim.capacityBytes,
        message: `the expansion of ${claim.namespace}/${claim.name} to ${humanBytes(claim.requestBytes)} failed (${failed}): lowering the request back to ${humanBytes(claim.capacityBytes)}, the size the volume has; ${usage}`,
      };
    return {
      action: 'Hold',
      why: 'ResizeInProgress',
      ...ttf,
      message: `the failed expansion of ${claim.namespace}/${claim.name} (${failed}) is recovered to ${humanBytes(claim.capacityBytes)}; waiting for the resizer to clear it`,
    };
  }

  // 3. An expansion under way: one at a time; the next decision needs the size it ends at.
  if (
    claim.resizing ||
    UNDER_WAY.some((s) => s === claim.resizeStatus) ||
    claim.requestBytes > claim.capacityBytes
  ) {
    const target = Math.max(claim.requestBytes, claim.allocatedBytes ?? 0);
    return {
      action: 'Hold',
      why: 'ResizeInProgress',
      ...ttf,
      message: `an expansion of ${claim.namespace}/${claim.name} from ${humanBytes(claim.capacityBytes)} to ${humanBytes(target)} is under way${claim.resizeStatus ? ` (${claim.resizeStatus})` : ''}; ${usage}`,
    };
  }

  // 4. The StorageClass does not allow expansion: nothing Tailor may do but say so.
  if (!claim.expandable)
    return {
      action: 'Hold',
      why: 'NotExpandable',
      ...ttf,
      message: `the StorageClass of ${claim.namespace}/${claim.name} does not allow volume expansion (allowVolumeExpansion is not true); ${usage}${pressure}`,
    };

  // 5. At the maximum (or a maximum below the current size): never past it.
  if (claim.requestBytes >= rules.maxBytes) {
    const below =
      rules.maxBytes < claim.requestBytes
        ? ` (the maximum is below the current size ${humanBytes(claim.requestBytes)})`
        : '';
    return {
      action: 'Hold',
      why: 'AtMaximum',
      ...ttf,
      message: `${claim.namespace}/${claim.name} is at its maximum size ${humanBytes(rules.maxBytes)}${below}; ${usage}${pressure}${timeToFull !== undefined ? `; full in ${humanSeconds(timeToFull)} at ${perHour(rate)}` : ''}: raise the maximum or free space`,
    };
  }

  // 6. Cooling down: the clouds allow one modification per volume per six hours; an expansion asked
  //    for sooner would wait (or fail) at the cloud, and the claim would be stuck in progress.
  if (claim.lastExpansionAt !== undefined && now - claim.lastExpansionAt < rules.cooldownSeconds) {
    const left = rules.cooldownSeconds - (now - claim.lastExpansionAt);
    return {
      action: 'Hold',
      why: 'CoolingDown',
      ...ttf,
      message: `${claim.namespace}/${claim.name} was expanded ${humanSeconds(now - claim.lastExpansionAt)} ago; the next expansion may come in ${humanSeconds(left)}; ${usage}${pressure}${timeToFull !== undefined ? `; full in ${humanSeconds(timeToFull)} at ${perHour(rate)}` : ''}`,
    };
  }

  // 7. Below the threshold now (bytes or inodes): expand.
  if (state.belowBytes || state.belowInodes) {
    const what = state.belowBytes
      ? `${usage}, below the ${describeAmount(rules.threshold)} threshold`
      : `${latest.inodesFree} inodes free of ${latest.inodes} (${pct(latest.inodesFree ?? 0, latest.inodes ?? 0)}), below the ${rules.inodesThresholdPercent}% threshold`;
    return expand(input, state, forecast, 'BelowThreshold', what, timeToFull);
  }

  // 8. A known step needs more than the room above the threshold: make room before it is written.
  if (known && known.bytes > latest.availableBytes - state.roomBytes) {
    return expand(
      input,
      state,
      forecast,
      'KnownGrowth',
      `${known.reason} needs ${humanBytes(known.bytes)}; ${usage}, ${humanBytes(Math.max(0, latest.availableBytes - state.roomBytes))} above the ${describeAmount(rules.threshold)} threshold`,
      timeToFull,
    );
  }

  // 9. At the recent growth, the threshold would be crossed within the horizon: expand now, so the
  //    expansion (minutes) is done well before, and the next one is not needed within the cooldown.
  const toThreshold = secondsUntil(latest.availableBytes - state.roomBytes, rate);
  const inodeRate = forecast?.inodesPerSecond ?? 0;
  const toInodeThreshold =
    latest.inodes !== undefined && latest.inodesFree !== undefined
      ? secondsUntil(latest.inodesFree - (latest.inodes * rules.inodesThresholdPercent) / 100, inodeRate)
      : undefined;
  if (toThreshold !== undefined && toThreshold <= rules.horizonSeconds) {
    return expand(
      input,
      state,
      forecast,
      'Forecast',
      `${usage}, growing ${perHour(rate)}: the ${describeAmount(rules.threshold)} threshold would be crossed in ${humanSeconds(toThreshold)}${timeToFull !== undefined ? ` (full in ${humanSeconds(timeToFull)})` : ''}, within the ${humanSeconds(rules.horizonSeconds)} horizon`,
      timeToFull,
    );
  }
  if (toInodeThreshold !== undefined && toInodeThreshold <= rules.horizonSeconds) {
    return expand(
      input,
      state,
      forecast,
      'Forecast',
      `${latest.inodesFree} inodes free of ${latest.inodes}, used at ${Math.round(inodeRate * 3600)}/h: the ${rules.inodesThresholdPercent}% inodes threshold would be crossed in ${humanSeconds(toInodeThreshold)}, within the ${humanSeconds(rules.horizonSeconds)} horizon`,
      timeToFull,
    );
  }

  // 10. Enough room for the horizon.
  return {
    action: 'Hold',
    why: 'EnoughRoom',
    ...ttf,
    message: `${claim.namespace}/${claim.name}: ${usage}${
      timeToFull !== undefined
        ? `, growing ${perHour(rate)}: full in ${humanSeconds(timeToFull)}, the ${describeAmount(rules.threshold)} threshold in ${humanSeconds(toThreshold ?? 0)}, beyond the ${humanSeconds(rules.horizonSeconds)} horizon`
        : ', not growing'
    }`,
  };
}

/** The latest sample read against the claim and its rules. */
interface Measured {
  /** Free bytes the threshold keeps on the current file system. */
  readonly roomBytes: number;
  readonly belowBytes: boolean;
  readonly belowInodes: boolean;
  /**
   * The share of the claim's bytes a user can fill (used + available over status.capacity: ext4
   * keeps metadata and reserved blocks), and the file system's share of the claim; both assumed to
   * hold for a bigger volume. 1 when the sample does not match the claim (stats from before the
   * last expansion).
   */
  readonly usable: number;
  readonly fsShare: number;
}

function measure(s: VolumeSample, claim: ClaimState, rules: VolumeRules): Measured {
  const roomBytes = thresholdBytes(rules.threshold, s.capacityBytes);
  const belowBytes = s.availableBytes < roomBytes;
  const belowInodes =
    s.inodes !== undefined &&
    s.inodes > 0 &&
    s.inodesFree !== undefined &&
    (100 * s.inodesFree) / s.inodes < rules.inodesThresholdPercent;
  const usable = claim.capacityBytes > 0 ? (s.usedBytes + s.availableBytes) / claim.capacityBytes : NaN;
  const fsShare = claim.capacityBytes > 0 ? s.capacityBytes / claim.capacityBytes : NaN;
  const matches = usable >= 0.5 && usable <= 1 && fsShare >= 0.5 && fsShare <= 1;
  return { roomBytes, belowBytes, belowInodes, usable: matches ? usable : 1, fsShare: matches ? fsShare : 1 };
}

/** The smallest claim size whose file system holds `usedBytes` and still keeps the threshold free. */
export function sizeToHold(usedBytes: number, rules: VolumeRules, usable = 1, fsShare = 1): number {
  if ('percent' in rules.threshold) {
    const keep = usable - (rules.threshold.percent / 100) * fsShare;
    return keep > 0 ? usedBytes / keep : Infinity;
  }
  return (usedBytes + rules.threshold.bytes) / usable;
}

function expand(
  input: PlanInput,
  state: Measured,
  forecast: GrowthForecast | undefined,
  why: 'BelowThreshold' | 'KnownGrowth' | 'Forecast',
  what: string,
  timeToFull: number | undefined,
): VolumeDecision {
  const { rules, claim, known } = input;
  const latest = input.samples.reduce((a, s) => (s.at <= input.now && s.at > a.at ? s : a));
  // The size: the larger of one step and what the growth needs to last until the next expansion
  // may come (the cooldown) and the horizon after it, at the day's sustained growth; a known step
  // is added on top. Rounded up to a whole GiB, capped at the maximum, never below the request.
  const last = Math.max(rules.horizonSeconds, rules.cooldownSeconds);
  const sustained = forecast?.sustainedBytesPerSecond ?? 0;
  const willUse = latest.usedBytes + sustained * last + (known?.bytes ?? 0);
  let need = sizeToHold(willUse, rules, state.usable, state.fsShare);
  if (latest.inodes !== undefined && latest.inodes > 0 && latest.inodesUsed !== undefined) {
    // Inodes grow with the file system (ext4: a fixed bytes-per-inode ratio).
    const inodesUsed = latest.inodesUsed + (forecast?.inodesPerSecond ?? 0) * last;
    const keep = 1 - rules.inodesThresholdPercent / 100;
    if (keep > 0) need = Math.max(need, (inodesUsed / (latest.inodes * keep)) * claim.capacityBytes);
  }
  const step = claim.capacityBytes + stepBytes(rules.step, claim.capacityBytes);
  const wanted = roundUpGiB(Math.max(step, need, claim.requestBytes));
  const capped = wanted > rules.maxBytes;
  const toBytes = Math.max(claim.requestBytes, capped ? rules.maxBytes : wanted);
  const ttf = timeToFull !== undefined ? { timeToFullSeconds: timeToFull } : {};
  if (toBytes <= claim.requestBytes)
    return {
      action: 'Hold',
      why: 'AtMaximum',
      ...ttf,
      message: `${what}; but ${claim.namespace}/${claim.name} is at its maximum size ${humanBytes(rules.maxBytes)}: raise the maximum or free space`,
    };
  const sizing =
    need > step
      ? `the growth needs ${humanBytes(roundUpGiB(need))} to last ${humanSeconds(last)}${known ? ` with ${humanBytes(known.bytes)} more` : ''}`
      : `one step of ${describeAmount(rules.step)}`;
  return {
    action: 'Expand',
    toBytes,
    why,
    ...ttf,
    message: `${what}: expanding ${claim.namespace}/${claim.name} from ${humanBytes(claim.requestBytes)} to ${humanBytes(toBytes)} (${sizing}${capped ? `; capped at the maximum ${humanBytes(rules.maxBytes)}, ${humanBytes(wanted)} wanted` : ''})`,
  };
}
