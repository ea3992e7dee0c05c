// pvc-autoresizer's annotations (topolvm/pvc-autoresizer), honoured so a user can move over without
// rewriting PVCs, and Tailor's own known-growth annotation. pvc-autoresizer only acts on a PVC whose
// StorageClass says `resize.topolvm.io/enabled: "true"` and which has a non-zero
// `resize.topolvm.io/storage_limit`; Tailor reads the annotations under the same two conditions.
// Where pvc-autoresizer skips a bad value silently, Tailor refuses it with a TailorError naming the
// annotation and the allowed form (the controller turns it into a condition and resizes nothing).
import { TailorError } from '../../errors.ts';
import { quantityProblem, readQuantity } from '../quantity.ts';
import { parseFreeSpace, parseGrowth, parsePercent } from './rules.ts';
import type { KnownGrowth, VolumeRules } from './types.ts';

export const AUTORESIZER_PREFIX = 'resize.topolvm.io/';
export const AUTORESIZER_ENABLED = 'resize.topolvm.io/enabled';
export const AUTORESIZER_THRESHOLD = 'resize.topolvm.io/threshold';
export const AUTORESIZER_INODES_THRESHOLD = 'resize.topolvm.io/inodes-threshold';
export const AUTORESIZER_INCREASE = 'resize.topolvm.io/increase';
export const AUTORESIZER_STORAGE_LIMIT = 'resize.topolvm.io/storage_limit';

export const EXPECTED_GROWTH = 'tailor.dev/expected-growth';
export const EXPECTED_GROWTH_REASON = 'tailor.dev/expected-growth-reason';

type Annotations = Readonly<Record<string, string>> | undefined;

/**
 * The rules a PVC's pvc-autoresizer annotations set: undefined when pvc-autoresizer would not manage
 * the PVC (its StorageClass lacks `resize.topolvm.io/enabled: "true"`, or it has no
 * `resize.topolvm.io/storage_limit`, or the limit is 0), else the fields the annotations give
 * (threshold, inodes threshold, step, maximum; the others stay the policy's or the defaults).
 * Throws TailorError InvalidInput naming the annotation and the allowed form for a bad value.
 */
export function parseAutoresizerAnnotations(
  pvcAnnotations: Annotations,
  storageClassAnnotations: Annotations,
): Partial<VolumeRules> | undefined {
  if (storageClassAnnotations?.[AUTORESIZER_ENABLED] !== 'true') return undefined;
  const pvc = pvcAnnotations ?? {};
  const limit = pvc[AUTORESIZER_STORAGE_LIMIT];
  if (limit === undefined || limit.trim() === '') return undefined;
  const limitProblem = quantityProblem(limit);
  if (limitProblem !== undefined)
    throw new TailorError(
      'InvalidInput',
      `annotation ${AUTORESIZER_STORAGE_LIMIT}: ${limitProblem} (allowed: a quantity such as "100Gi")`,
    );
  const r = readQuantity(limit);
  const maxBytes = r.kind === 'Amount' ? r.value : 0;
  if (maxBytes === 0) return undefined;

  const rules: Partial<VolumeRules> = { maxBytes };
  const threshold = pvc[AUTORESIZER_THRESHOLD];
  if (threshold !== undefined)
    rules.threshold = parseFreeSpace(threshold, `annotation ${AUTORESIZER_THRESHOLD}`);
  const inodes = pvc[AUTORESIZER_INODES_THRESHOLD];
  if (inodes !== undefined) {
    // pvc-autoresizer accepts only a percentage here.
    if (!inodes.trim().endsWith('%'))
      throw new TailorError(
        'InvalidInput',
        `annotation ${AUTORESIZER_INODES_THRESHOLD}: ${JSON.stringify(inodes)} is not a percentage (allowed: "N%" of the inodes, 0 <= N <= 100, e.g. "10%")`,
      );
    rules.inodesThresholdPercent = parsePercent(inodes, `annotation ${AUTORESIZER_INODES_THRESHOLD}`, true);
  }
  const increase = pvc[AUTORESIZER_INCREASE];
  if (increase !== undefined) rules.step = parseGrowth(increase, `annotation ${AUTORESIZER_INCREASE}`);
  return rules;
}

/**
 * The known growth a PVC announces (`tailor.dev/expected-growth: "30Gi"`, with an optional
 * `tailor.dev/expected-growth-reason`); undefined without the annotation or for "0". Throws
 * TailorError InvalidInput for a value that is not a quantity.
 */
export function parseKnownGrowth(pvcAnnotations: Annotations): KnownGrowth | undefined {
  const text = pvcAnnotations?.[EXPECTED_GROWTH];
  if (text === undefined || text.trim() === '') return undefined;
  const problem = quantityProblem(text);
  if (problem !== undefined)
    throw new TailorError(
      'InvalidInput',
      `annotation ${EXPECTED_GROWTH}: ${problem} (allowed: a quantity of bytes to be written soon, such as "30Gi")`,
    );
  const r = readQuantity(text);
  const bytes = r.kind === 'Amount' ? r.value : 0;
  if (bytes === 0) return undefined;
  return {
    bytes,
    reason: pvcAnnotations?.[EXPECTED_GROWTH_REASON]?.trim() || `${EXPECTED_GROWTH}: ${text.trim()}`,
  };
}
