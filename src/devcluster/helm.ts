// Finds the `helm` binary the chart's tests run: a file the user names ($TAILOR_HELM), or one built
// once from helm's Go module (the proxy serves it) into ~/.cache/tailor/helm/<version>, like the
// control plane (binaries.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TailorError } from '../errors.ts';
import { cacheHome } from './paths.ts';
import type { Progress } from './binaries.ts';

/** The pinned Helm release (helm.sh/helm/v3, the line every chart tool still targets). */
export const HELM_VERSION = 'v3.22.0';
const HELM_PACKAGE = 'helm.sh/helm/v3/cmd/helm';
export const HELM_ENV = 'TAILOR_HELM';
/**
 * What helm's own Makefile stamps in: its version, and the Kubernetes version `helm template` and
 * `helm lint` assume (1 + client-go's major, its minor: v0.37.0 -> 1.37); unstamped, helm assumes
 * 1.20 and refuses a chart that needs a newer cluster.
 */
const KUBE_VERSION = { major: '1', minor: '37' };
const LDFLAGS = [
  '-s -w',
  `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
  ...['pkg/lint/rules', 'pkg/chartutil'].flatMap((pkg) => [
    `-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=${KUBE_VERSION.major}`,
    `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${KUBE_VERSION.minor}`,
  ]),
].join(' ');

export interface Helm {
  readonly path: string;
  readonly source: 'env' | 'cache' | 'built';
}

function cacheDir(): string {
  return join(cacheHome(), 'helm', `${HELM_VERSION}-${process.platform}-${process.arch}`);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The helm binary if one is given or already built; never builds (for tests that only render). */
export function findHelm(): Helm | undefined {
  const given = process.env[HELM_ENV];
  if (given) return { path: given, source: 'env' };
  const dir = cacheDir();
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { sha256: string };
    const path = join(dir, 'helm');
    if ((statSync(path).mode & 0o111) !== 0 && sha256(path) === manifest.sha256)
      return { path, source: 'cache' };
  } catch {
    // absent or incomplete: not found
  }
  return undefined;
}

/** The helm binary, built with `go install` the first time (3-4 minutes on 2 busy cores). */
export async function ensureHelm(progress: Progress = () => {}): Promise<Helm> {
  const found = findHelm();
  if (found) return found;
  const dir = cacheDir();
  if (existsSync(dir)) {
    progress(`cached helm in ${dir} is incomplete or corrupt: rebuilding it`);
    rmSync(dir, { recursive: true, force: true });
  }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0)
    throw new TailorError('Prerequisite', 'Go is needed to build helm, and `go` is not on PATH', {
      hint: `install Go (https://go.dev/dl), or set ${HELM_ENV} to a helm ${HELM_VERSION} binary`,
    });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  progress(
    `building helm ${HELM_VERSION} from ${HELM_PACKAGE} with ${go.stdout.trim()} (once, cached in ${dir})`,
  );
  const started = Date.now();
  const tail: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      'go',
      ['install', '-trimpath', '-ldflags', LDFLAGS, `${HELM_PACKAGE}@${HELM_VERSION}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        // A fresh module cache is fine; CGO off: a static binary, no C toolchain needed.
        env: { ...process.env, GOBIN: tmp, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      },
    );
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      tail.push(...d.split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 15));
    });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new TailorError(
      'Prerequisite',
      `go install ${HELM_PACKAGE}@${HELM_VERSION} failed:\n    ${tail.join('\n    ')}`,
      {
        hint: `check the Go module proxy is reachable, or set ${HELM_ENV} to a helm ${HELM_VERSION} binary`,
      },
    );
  }
  const path = join(tmp, 'helm');
  writeFileSync(
    join(tmp, 'manifest.json'),
    JSON.stringify(
      {
        version: HELM_VERSION,
        builtAt: new Date().toISOString(),
        goVersion: go.stdout.trim(),
        sha256: sha256(path),
      },
      null,
      2,
    ),
  );
  renameSync(tmp, dir);
  progress(`helm ${HELM_VERSION} built in ${Math.round((Date.now() - started) / 1000)}s`);
  return { path: join(dir, 'helm'), source: 'built' };
}
