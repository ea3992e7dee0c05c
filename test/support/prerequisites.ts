// What `npm test` needs on this machine beyond node_modules, checked before any test runs: for each
// missing program, one line with the Debian package that provides it (decision 0020).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSETS_ENV, cacheKey, verifyCache } from '../../src/devcluster/binaries.ts';
import { cacheHome } from '../../src/devcluster/paths.ts';

export interface Prerequisite {
  /** The program looked up on PATH (or the path a test is told to use). */
  readonly command: string;
  /** How to get it on Debian. */
  readonly install: string;
  /** Which tests need it. */
  readonly why: string;
}

export interface NeedsOf {
  /** The test files selected for this run, with their text (imports decide what each needs). */
  readonly files: readonly { readonly path: string; readonly text: string }[];
  /** An e2e file is selected: the control plane starts. */
  readonly needsCluster: boolean;
  /** The control-plane binaries are cached or given (TAILOR_ASSETS): Go is not needed. */
  readonly controlPlaneReady: boolean;
  /** The Go version go.mod asks for, for the message. */
  readonly goVersion: string;
  readonly chromium: string;
}

/** The programs this run needs; pure, so it is tested without a machine to miss them on. */
export function prerequisitesFor(n: NeedsOf): Prerequisite[] {
  const out: Prerequisite[] = [];
  const using = (support: string) =>
    n.files.filter((f) => f.text.includes(`support/${support}.ts`)).map((f) => f.path.replace(/^.*\//, ''));
  const names = (files: string[]) =>
    files.length > 2 ? `${files.slice(0, 2).join(', ')} and ${files.length - 2} more` : files.join(', ');
  if (n.needsCluster && !n.controlPlaneReady)
    out.push({
      command: 'go',
      install: `Go ${n.goVersion} or newer: https://go.dev/dl (Debian's golang-go if its version is enough), or set ${ASSETS_ENV[0]} to a folder of etcd and kube-* binaries`,
      why: 'builds the control plane the e2e tests run against (once; cached afterwards)',
    });
  if (n.needsCluster)
    out.push({
      command: 'setpriv',
      install: 'apt-get install util-linux',
      why: 'ties the control-plane processes to the test run, so none outlives it',
    });
  const prometheus = using('prometheus');
  if (prometheus.length > 0)
    out.push({ command: 'prometheus', install: 'apt-get install prometheus', why: names(prometheus) });
  const promtool = using('monitoring');
  if (promtool.length > 0)
    out.push({ command: 'promtool', install: 'apt-get install prometheus', why: names(promtool) });
  const browser = using('browser');
  if (browser.length > 0)
    out.push({
      command: n.chromium,
      install: 'apt-get install chromium (or set TAILOR_TEST_CHROMIUM to a Chromium binary)',
      why: names(browser),
    });
  return out;
}

/** The line printed for a missing one. */
export function missingLine(p: Prerequisite): string {
  return `missing ${p.command}: ${p.install}  (needed by ${p.why})`;
}

/** Whether `command` (a name on PATH, or a path) can be run. */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

/** The needs of this machine's run of `files`. */
export async function needsOf(files: readonly string[], needsCluster: boolean): Promise<NeedsOf> {
  const given = ASSETS_ENV.some((name) => process.env[name]);
  const ready =
    given || !needsCluster || (await verifyCache(join(cacheHome(), 'controlplane', cacheKey()))) === 'ok';
  const goMod = readFileSync(join('src', 'devcluster', 'go', 'go.mod'), 'utf8');
  return {
    files: files.map((path) => ({ path, text: readFileSync(path, 'utf8') })),
    needsCluster,
    controlPlaneReady: ready,
    goVersion: /^go (\S+)$/m.exec(goMod)?.[1] ?? '(see go.mod)',
    chromium: process.env.TAILOR_TEST_CHROMIUM ?? '/usr/bin/chromium',
  };
}
