// Case-insensitive lookup of the built-in model catalogue; an unknown id is undefined so the
// caller fetches config.json from the hub instead.
import { parseHfConfig } from '../hf-config.ts';
import type { ModelArchitecture, Result } from '../types.ts';
import type { CatalogueEntry } from './models.ts';
import { MODEL_CATALOGUE } from './models.ts';

export type { CatalogueEntry } from './models.ts';
export { MODEL_CATALOGUE } from './models.ts';

const BY_ID: ReadonlyMap<string, CatalogueEntry> = new Map(
  MODEL_CATALOGUE.flatMap((e) => [e.id, ...(e.aliases ?? [])].map((id) => [id.toLowerCase(), e] as const)),
);

/** The catalogued config.json essentials for a Hugging Face repository id, or undefined. */
export function lookupModelConfig(repoId: string): Record<string, unknown> | undefined {
  return BY_ID.get(repoId.trim().toLowerCase())?.config;
}

/** The catalogued model parsed into an architecture, or undefined when the id is not catalogued. */
export function catalogueArchitecture(repoId: string): Result<ModelArchitecture> | undefined {
  const config = lookupModelConfig(repoId);
  if (config === undefined) return undefined;
  const parsed = parseHfConfig(config, 'catalogue');
  if (parsed.kind === 'ok') parsed.value.name = BY_ID.get(repoId.trim().toLowerCase())?.id ?? repoId;
  return parsed;
}

/** Every id the catalogue answers for, canonical ids first. */
export function catalogueIds(): string[] {
  return [...MODEL_CATALOGUE.map((e) => e.id), ...MODEL_CATALOGUE.flatMap((e) => e.aliases ?? [])];
}
