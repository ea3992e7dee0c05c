// Finds the real metrics-server the simulator runs in front of its kubelets: a file the user names
// ($TAILOR_METRICS_SERVER), or one built once from its Go module (the proxy serves it) into
// ~/.cache/tailor/metrics-server/<version>-<platform>, like helm (src/devcluster/helm.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TailorError } from '../../errors.ts';
import { cacheHome } from '../../devcluster/paths.ts';
import type { Progress } from '../../devcluster/binaries.ts';

/** The pinned release (sigs.k8s.io/metrics-server; v0.8.0 reads the kubelet's /metrics/resource). */
export const METRICS_SERVER_VERSION = 'v0.8.0';
const PACKAGE = 'sigs.k8s.io/metrics-server/cmd/metrics-server';
export const METRICS_SERVER_ENV = 'TAILOR_METRICS_SERVER';
/** What its Makefile stamps in (client-go's version package), so /version and its logs say v0.8.0. */
const LDFLAGS = [
  '-s -w',
  `-X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION}`,
  '-X k8s.io/client-go/pkg/version.gitTreeState=clean',
].join(' ');

export interface MetricsServerBinary {
  readonly path: string;
  readonly source: 'env' | 'cache' | 'built';
}

/** The cache folder of the pinned version: what a user deletes to rebuild. */
export function metricsServerCacheDir(): string {
  return join(cacheHome(), 'metrics-server', `${METRICS_SERVER_VERSION}-${process.platform}-${process.arch}`);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The binary if one is given or already built; never builds (the simulator's start must stay quick). */
export function findMetricsServer(): MetricsServerBinary | undefined {
  const given = process.env[METRICS_SERVER_ENV];
  if (given) return { path: given, source: 'env' };
  const dir = metricsServerCacheDir();
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { sha256: string };
    const path = join(dir, 'metrics-server');
    if ((statSync(path).mode & 0o111) !== 0 && sha256(path) === manifest.sha256)
      return { path, source: 'cache' };
  } catch {
    // absent or incomplete: not found
  }
  return undefined;
}

/** The binary, built with `go install` the first time (a few minutes on 2 cores, cached afterwards). */
export async function ensureMetricsServer(progress: Progress = () => {}): Promise<MetricsServerBinary> {
  const found = findMetricsServer();
  if (found) return found;
  const dir = metricsServerCacheDir();
  if (existsSync(dir)) {
    progress(`cached metrics-server in ${dir} is incomplete or corrupt: rebuilding it`);
    rmSync(dir, { recursive: true, force: true });
  }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0)
    throw new TailorError('Prerequisite', 'Go is needed to build metrics-server, and `go` is not on PATH', {
      hint: `install Go (https://go.dev/dl), or set ${METRICS_SERVER_ENV} to a metrics-server ${METRICS_SERVER_VERSION} binary`,
    });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  progress(
    `building metrics-server ${METRICS_SERVER_VERSION} from ${PACKAGE} with ${go.stdout.trim()} (once, cached in ${dir})`,
  );
  const started = Date.now();
  const tail: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      'go',
      ['install', '-trimpath', '-ldflags', LDFLAGS, `${PACKAGE}@${METRICS_SERVER_VERSION}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        // CGO off: a static binary, no C toolchain needed (as its Makefile builds it).
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
      `go install ${PACKAGE}@${METRICS_SERVER_VERSION} failed:\n    ${tail.join('\n    ')}`,
      {
        hint: `check the Go module proxy is reachable, or set ${METRICS_SERVER_ENV} to a metrics-server ${METRICS_SERVER_VERSION} binary`,
      },
    );
  }
  const path = join(tmp, 'metrics-server');
  writeFileSync(
    join(tmp, 'manifest.json'),
    JSON.stringify(
      {
        version: METRICS_SERVER_VERSION,
        builtAt: new Date().toISOString(),
        goVersion: go.stdout.trim(),
        sha256: sha256(path),
      },
      null,
      2,
    ),
  );
  renameSync(tmp, dir);
  progress(`metrics-server ${METRICS_SERVER_VERSION} built in ${Math.round((Date.now() - started) / 1000)}s`);
  return { path: join(dir, 'metrics-server'), source: 'built' };
}
