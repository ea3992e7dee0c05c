// A volume policy's rules as users write them ("10%", "20Gi", "6h") turned into VolumeRules, with the
// defaults, and a clear refusal (TailorError InvalidInput naming the field and the allowed form) for
// anything that is not one: nothing is resized on a rule Tailor could not read.
import { parseDuration } from '../../api/common.ts';
import { TailorError } from '../../errors.ts';
import { humanBytes, quantityProblem, readQuantity } from '../quantity.ts';
import type { FreeSpace, Growth, VolumeMode, VolumeRules } from './types.ts';
import { VOLUME_MODES } from './types.ts';

export const GiB = 2 ** 30;

/**
 * The defaults. Threshold and step are pvc-autoresizer's (10% free, +10%), so a user moving over gets
 * the rule they know; the cooldown fits the clouds' limit of one modification per volume per six
 * hours (AWS EBS, Azure disks); the horizon is what `npm run bench -- volumes` chose (see
 * bench/results/volumes.md): far enough ahead that an expansion requested now is finished before
 * the volume fills, even when the cloud makes the next one wait for the six hours.
 */
export const DEFAULT_VOLUME_RULES: Readonly<Omit<VolumeRules, 'maxBytes'>> = {
  threshold: { percent: 10 },
  inodesThresholdPercent: 5,
  step: { percent: 10 },
  cooldownSeconds: 6 * 3600,
  horizonSeconds: 12 * 3600,
  mode: 'Auto',
};

/** The rules as a VolumePolicy's spec (or a user) writes them; every field optional but maxSize. */
export interface VolumeRulesSpec {
  /** "N%" of capacity or a quantity ("20Gi") of free space below which to expand. */
  readonly threshold?: string;
  /** "N%" of inodes free below which to expand. */
  readonly inodesThreshold?: string;
  /** "N%" of capacity or a quantity added per expansion; rounded up to a whole GiB. */
  readonly step?: string;
  /** A quantity: never grow past it. Required (here or in `overrides`). */
  readonly maxSize?: string;
  /** A duration: "6h", "90m". */
  readonly cooldown?: string;
  readonly horizon?: string;
  readonly mode?: VolumeMode;
}

const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

function invalid(field: string, message: string): TailorError {
  return new TailorError('InvalidInput', `${field}: ${message}`);
}

/** "12.5%" -> 12.5; undefined when the text is not a percentage. */
export function readPercent(text: string): number | undefined {
  const m = PERCENT.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A percentage in (0, 100] (or [0, 100] with `allowZero`); a TailorError naming `field` else. */
export function parsePercent(text: string, field: string, allowZero = false): number {
  const p = readPercent(text);
  if (p === undefined) throw invalid(field, `${JSON.stringify(text)} is not a percentage: write e.g. "10%"`);
  if (p > 100)
    throw invalid(field, `${JSON.stringify(text)} is over 100%: write a share of the volume, e.g. "10%"`);
  if (p === 0 && !allowZero)
    throw invalid(field, `${JSON.stringify(text)} is 0: write a share above 0, e.g. "10%"`);
  return p;
}

function parseBytes(text: string, field: string, form: string): number {
  const problem = quantityProblem(text);
  if (problem !== undefined) throw invalid(field, `${problem} (allowed: ${form})`);
  const r = readQuantity(text);
  return r.kind === 'Amount' ? r.value : NaN;
}

/** Free space: "N%" of capacity (0 < N < 100) or a quantity of bytes above 0. */
export function parseFreeSpace(text: string, field: string): FreeSpace {
  const form = '"N%" of the capacity (0 < N < 100) or a quantity such as "20Gi"';
  if (text.trim().endsWith('%')) {
    const p = readPercent(text);
    if (p === undefined || p <= 0 || p >= 100)
      throw invalid(field, `${JSON.stringify(text)} is not a share of free space to keep: write ${form}`);
    return { percent: p };
  }
  const bytes = parseBytes(text, field, form);
  if (bytes <= 0) throw invalid(field, `${JSON.stringify(text)} is 0: write ${form}`);
  return { bytes };
}

/** An expansion step: "N%" of capacity (N > 0) or a quantity above 0. */
export function parseGrowth(text: string, field: string): Growth {
  const form = '"N%" of the capacity (N > 0, e.g. "10%") or a quantity above 0 such as "10Gi"';
  if (text.trim().endsWith('%')) {
    const p = readPercent(text);
    if (p === undefined || p <= 0)
      throw invalid(field, `${JSON.stringify(text)} is not a step: write ${form}; a step of 0 never grows`);
    return { percent: p };
  }
  const bytes = parseBytes(text, field, form);
  if (bytes <= 0)
    throw invalid(field, `${JSON.stringify(text)} is 0: write ${form}; a step of 0 never grows`);
  return { bytes };
}

/** Seconds of a duration ("6h", "90m", "1h30m"); a TailorError naming `field` else. */
export function parseSeconds(text: string, field: string): number {
  const ms = parseDuration(text.trim());
  if (ms === undefined)
    throw invalid(field, `${JSON.stringify(text)} is not a duration: write e.g. "90s", "30m", "6h" or "2d"`);
  return ms / 1000;
}

/**
 * Resolves a spec into rules: each field parsed (a TailorError InvalidInput naming the field and its
 * allowed form when it cannot be), the defaults for the missing ones, then `overrides` (e.g. a PVC's
 * pvc-autoresizer annotations, already parsed) field by field on top. maxSize is required.
 */
export function resolveRules(spec: VolumeRulesSpec = {}, overrides: Partial<VolumeRules> = {}): VolumeRules {
  const fromSpec: Partial<VolumeRules> = {};
  if (spec.threshold !== undefined) fromSpec.threshold = parseFreeSpace(spec.threshold, 'threshold');
  if (spec.inodesThreshold !== undefined)
    fromSpec.inodesThresholdPercent = parsePercent(spec.inodesThreshold, 'inodesThreshold', true);
  if (spec.step !== undefined) fromSpec.step = parseGrowth(spec.step, 'step');
  if (spec.maxSize !== undefined) {
    const form = 'a quantity such as "500Gi"';
    const max = parseBytes(spec.maxSize, 'maxSize', form);
    if (max <= 0) throw invalid('maxSize', `${JSON.stringify(spec.maxSize)} is 0: write ${form}`);
    fromSpec.maxBytes = max;
  }
  if (spec.cooldown !== undefined) fromSpec.cooldownSeconds = parseSeconds(spec.cooldown, 'cooldown');
  if (spec.horizon !== undefined) fromSpec.horizonSeconds = parseSeconds(spec.horizon, 'horizon');
  if (spec.mode !== undefined) {
    if (!VOLUME_MODES.includes(spec.mode))
      throw invalid('mode', `${JSON.stringify(spec.mode)} is not a mode: write ${VOLUME_MODES.join(' or ')}`);
    fromSpec.mode = spec.mode;
  }
  const merged = { ...DEFAULT_VOLUME_RULES, ...fromSpec, ...definedOnly(overrides) };
  if (merged.maxBytes === undefined)
    throw invalid('maxSize', 'is required: write the most this volume may grow to, e.g. "500Gi"');
  return { ...merged, maxBytes: merged.maxBytes };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The free bytes a threshold keeps on a file system of `capacityBytes`. */
export function thresholdBytes(threshold: FreeSpace, capacityBytes: number): number {
  return 'percent' in threshold ? (capacityBytes * threshold.percent) / 100 : threshold.bytes;
}

/** The bytes one step adds to a claim of `capacityBytes` (before rounding up to a whole GiB). */
export function stepBytes(step: Growth, capacityBytes: number): number {
  return 'percent' in step ? (capacityBytes * step.percent) / 100 : step.bytes;
}

/** "10%" or "20Gi": a threshold or step as the user wrote it, for messages. */
export function describeAmount(a: FreeSpace | Growth): string {
  return 'percent' in a ? `${a.percent}%` : humanBytes(a.bytes);
}

/** Rounds up to a whole GiB (CSI drivers and clouds allocate in GiB). */
export function roundUpGiB(bytes: number): number {
  return Math.ceil(bytes / GiB - 1e-9) * GiB;
}
