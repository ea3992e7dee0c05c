// Where the dev control plane keeps its state, its logs and its cached binaries.
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `$TAILOR_HOME`, default `~/.tailor`: state of `tailor dev up` (certificates, etcd data, logs). */
export function tailorHome(): string {
  return process.env.TAILOR_HOME ?? join(homedir(), '.tailor');
}

export function defaultDevDir(): string {
  return join(tailorHome(), 'dev');
}

/** The documented default for `tailor dev up --kubeconfig`. */
export function defaultKubeconfig(): string {
  return join(defaultDevDir(), 'kubeconfig');
}

/** `$XDG_CACHE_HOME/tailor`, default `~/.cache/tailor`: built binaries, keyed by go.sum. */
export function cacheHome(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tailor');
}

/** The checkout or installed package root (the folder holding package.json). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the tailor package root');
    dir = up;
  }
  return dir;
}

/** The Go module that pins and builds the control-plane binaries. */
export function goModuleDir(): string {
  return join(packageRoot(), 'src', 'devcluster', 'go');
}
