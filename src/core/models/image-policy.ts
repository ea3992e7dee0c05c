// Which container images a ModelDeployment may run: the runtime presets' own images, or images
// under a prefix the operator allows (`--allowed-image PREFIX`, repeatable). A tenant cannot pick one.

export const ALLOWED_IMAGE_FLAG = '--allowed-image';

export type ImageDecision =
  | { kind: 'Preset' }
  | { kind: 'Allowed'; prefix: string }
  | { kind: 'NotAllowed'; message: string; hint: string };

/**
 * A prefix matches the image itself or the image continued at a boundary ("/", ":" or "@"), so
 * `registry.example.com/models` allows `registry.example.com/models/vllm:1` but not
 * `registry.example.com/models-evil/x`. A prefix that ends in a boundary matches as is.
 */
export function underPrefix(image: string, prefix: string): boolean {
  if (prefix === '' || !image.startsWith(prefix)) return false;
  if (image.length === prefix.length || /[/:@]$/.test(prefix)) return true;
  return '/:@'.includes(image[prefix.length]!);
}

/** What is wrong with an allowlist entry, or undefined when it is usable. */
export function allowedImageProblem(prefix: string): string | undefined {
  if (prefix.trim() === '') return `${ALLOWED_IMAGE_FLAG} "" would allow every image`;
  if (/\s/.test(prefix)) return `${ALLOWED_IMAGE_FLAG} "${prefix}" contains white space`;
  if (!/^[a-z0-9]/.test(prefix))
    return `${ALLOWED_IMAGE_FLAG} "${prefix}" must start with a registry or repository name`;
  return undefined;
}

/**
 * `runtime.image` against the presets' images and the operator's allowlist. Left out, the preset's
 * image runs.
 */
export function checkImage(
  image: string | undefined,
  presetImages: readonly string[],
  allowed: readonly string[],
): ImageDecision {
  if (image === undefined || presetImages.includes(image)) return { kind: 'Preset' };
  const prefix = allowed.find((p) => underPrefix(image, p));
  if (prefix !== undefined) return { kind: 'Allowed', prefix };
  const list = allowed.length > 0 ? `the allowed prefixes (${allowed.join(', ')})` : 'an allowed prefix';
  return {
    kind: 'NotAllowed',
    message: `runtime.image "${image}" is neither a preset image (${presetImages.join(', ')}) nor under ${list}`,
    hint: `leave runtime.image out to run the preset's image, or ask the operator's administrator to allow it with ${ALLOWED_IMAGE_FLAG} PREFIX`,
  };
}
