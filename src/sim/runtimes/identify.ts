// Which inference server a container runs, told the way an operator would tell it: by its image and
// command line, never by annotations Tailor writes. The simulator's ground truth and each runtime's
// metric names start from this.
import type * as k8s from '@kubernetes/client-node';

export type Runtime = 'vllm' | 'llamacpp' | 'tgi' | 'ollama';

/** Image repositories (without tag) and the runtime each one runs. */
const IMAGES: readonly (readonly [RegExp, Runtime])[] = [
  [/(^|\/)vllm-openai$|(^|\/)vllm$/, 'vllm'],
  [/(^|\/)llama\.cpp$|(^|\/)llama-cpp(-python)?$|(^|\/)llamacpp$/, 'llamacpp'],
  [/(^|\/)text-generation-inference$|(^|\/)tgi$/, 'tgi'],
  [/(^|\/)ollama$/, 'ollama'],
];

/** Programs on the command line, for images built in-house around a known server. */
const PROGRAMS: readonly (readonly [RegExp, Runtime])[] = [
  [/(^|\/)vllm$|vllm\.entrypoints/, 'vllm'],
  [/(^|\/)llama-server$|(^|\/)server$/, 'llamacpp'],
  [/(^|\/)text-generation-launcher$/, 'tgi'],
  [/(^|\/)ollama$/, 'ollama'],
];

function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The runtime a container runs, or undefined for anything else (an ordinary app). */
export function runtimeOf(container: k8s.V1Container): Runtime | undefined {
  const repo = repositoryOf(container.image ?? '');
  for (const [re, runtime] of IMAGES) if (re.test(repo)) return runtime;
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  for (const w of words.slice(0, 3)) for (const [re, runtime] of PROGRAMS) if (re.test(w)) return runtime;
  return undefined;
}

/**
 * The value of a command-line flag (`--max-model-len 4096` or `--max-model-len=4096`), by any of
 * its spellings (`-c`, `--ctx-size`); the last occurrence wins, as with argparse and llama.cpp.
 */
export function flagValue(container: k8s.V1Container, ...names: string[]): string | undefined {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  let found: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    for (const n of names) {
      if (w === n && i + 1 < words.length) found = words[i + 1];
      else if (w.startsWith(`${n}=`)) found = w.slice(n.length + 1);
    }
  }
  return found;
}

/** An environment variable set by value on the container (not from a Secret or a field). */
export function envValue(container: k8s.V1Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** Whether a bare flag (`--enforce-eager`) is on the command line, by any of its spellings. */
export function hasFlag(container: k8s.V1Container, ...names: string[]): boolean {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  return words.some((w) => names.includes(w) || names.some((n) => w.startsWith(`${n}=`)));
}

/**
 * The words a shell would run, `$NAME` and `${NAME}` filled from the container's own environment
 * (`sh -c 'ollama pull "$MODEL"'`): what the program really sees.
 */
export function expandedWords(container: k8s.V1Container): string[] {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  return words
    .flatMap((w) => w.split(/[\s;&|]+/))
    .map((w) =>
      w.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => envValue(container, n) ?? ''),
    )
    .map((w) => w.replace(/^["']|["']$/g, ''))
    .filter((w) => w.length > 0);
}
