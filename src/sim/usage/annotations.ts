// The pod annotations that choose a container's profile and its parameters, read into a ProfileSpec
// with messages that name the annotation, the field and the allowed values; and written back.
import type { ProfileKind } from './types.ts';
import { FieldError, formatPath, isRecord, oneOf, show } from './fields.ts';
import { PROFILE_KINDS, buildSpec, checkParams, type ProfileSpec } from './params.ts';

export const PROFILE_ANNOTATION = 'sim.tailor.dev/profile';
export const PARAMS_ANNOTATION = 'sim.tailor.dev/params';
/** The kind a container gets when neither an annotation nor the caller's defaults say. */
export const FALLBACK_KIND: ProfileKind = 'web';

export type ProfileResult = { ok: true; spec: ProfileSpec } | { ok: false; error: string };

function fail(annotation: string, err: unknown): { ok: false; error: string } {
  if (err instanceof FieldError) {
    return {
      ok: false,
      error: `annotation ${annotation}: ${err.path.length ? `${formatPath(err.path)}: ` : ''}${err.detail}`,
    };
  }
  throw err;
}

function readParams(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new FieldError(
      [],
      `not valid JSON (${(err as Error).message}); expected an object such as {"peakCpuCores": 2}`,
    );
  }
  if (!isRecord(v)) throw new FieldError([], `expected a JSON object of parameters, got ${show(v)}`);
  return v;
}

/**
 * The profile of one container. `sim.tailor.dev/profile.<container>` beats the pod-wide
 * `sim.tailor.dev/profile`; without either, the kind of `defaults` (else web) applies. Parameters:
 * the pod-wide `sim.tailor.dev/params` applies only to containers whose kind is not set per
 * container (it was written for the pod-wide kind); `sim.tailor.dev/params.<container>` always
 * applies, last. Both lie over `defaults` when it is of the same kind, else over the kind's defaults.
 */
export function parseProfile(
  annotations: Record<string, string>,
  containerName: string,
  defaults?: ProfileSpec,
): ProfileResult {
  const ownKindKey = `${PROFILE_ANNOTATION}.${containerName}`;
  const ownParamsKey = `${PARAMS_ANNOTATION}.${containerName}`;
  const kindKey =
    annotations[ownKindKey] !== undefined
      ? ownKindKey
      : annotations[PROFILE_ANNOTATION] !== undefined
        ? PROFILE_ANNOTATION
        : undefined;

  let kind: ProfileKind = defaults?.kind ?? FALLBACK_KIND;
  if (kindKey !== undefined) {
    try {
      kind = oneOf((annotations[kindKey] ?? '').trim(), [], PROFILE_KINDS, 'a profile');
    } catch (err) {
      return fail(kindKey, err);
    }
  }

  const sources: string[] = [];
  if (kindKey !== ownKindKey && annotations[PARAMS_ANNOTATION] !== undefined) sources.push(PARAMS_ANNOTATION);
  if (annotations[ownParamsKey] !== undefined) sources.push(ownParamsKey);
  const layers: Record<string, unknown>[] = [];
  for (const key of sources) {
    try {
      layers.push(checkParams(kind, readParams(annotations[key] ?? '')));
    } catch (err) {
      return fail(key, err);
    }
  }
  try {
    return { ok: true, spec: buildSpec(kind, layers, defaults) };
  } catch (err) {
    return fail(sources[sources.length - 1] ?? kindKey ?? PARAMS_ANNOTATION, err);
  }
}

/**
 * Profiles of all containers of a pod; also refuses per-container annotations that name no
 * container of the pod (a typo would otherwise silently fall back to the defaults).
 */
export function parsePodProfiles(
  annotations: Record<string, string>,
  containerNames: readonly string[],
  defaults?: ProfileSpec,
): { ok: true; specs: Map<string, ProfileSpec> } | { ok: false; error: string } {
  for (const key of Object.keys(annotations)) {
    for (const prefix of [PROFILE_ANNOTATION, PARAMS_ANNOTATION]) {
      if (!key.startsWith(`${prefix}.`)) continue;
      const name = key.slice(prefix.length + 1);
      if (!containerNames.includes(name)) {
        return {
          ok: false,
          error: `annotation ${key}: the pod has no container ${JSON.stringify(name)}; containers: ${containerNames.join(', ')}`,
        };
      }
    }
  }
  const specs = new Map<string, ProfileSpec>();
  for (const name of containerNames) {
    const r = parseProfile(annotations, name, defaults);
    if (!r.ok) return r;
    specs.set(name, r.spec);
  }
  return { ok: true, specs };
}

/**
 * The annotations that give `containerName` exactly `spec`. Every parameter is written, so the
 * result does not depend on the defaults the reader passes.
 */
export function profileAnnotations(containerName: string, spec: ProfileSpec): Record<string, string> {
  const { kind, ...params } = spec;
  const defined = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  return {
    [`${PROFILE_ANNOTATION}.${containerName}`]: kind,
    [`${PARAMS_ANNOTATION}.${containerName}`]: JSON.stringify(defined),
  };
}
