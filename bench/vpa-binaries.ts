// The real Vertical Pod Autoscaler for the vs-vpa benchmark: its three binaries (recommender, updater,
// admission controller) built once from the pinned Go module into ~/.cache/tailor/vpa/<version>-<platform>,
// like metrics-server (src/sim/metrics/metrics-server-binary.ts), and its CRD manifest from the same
// download. Bench-only: nothing in `.ci/run` or the test run imports this.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { TailorError } from '../src/errors.ts';
import { cacheHome } from '../src/devcluster/paths.ts';
import type { Progress } from '../src/devcluster/binaries.ts';

/** The pinned release: the first line with in-place updates as a GA update mode (InPlaceOrRecreate). */
export const VPA_VERSION = 'v1.8.1';
const MODULE = 'k8s.io/autoscaler/vertical-pod-autoscaler';
export const VPA_COMPONENTS = ['recommender', 'updater', 'admission-controller'] as const;
export type VpaComponent = (typeof VPA_COMPONENTS)[number];
/** The CRDs (VerticalPodAutoscaler, VerticalPodAutoscalerCheckpoint) as the module ships them. */
const CRD_FILE = 'deploy/vpa-v1-crd-gen.yaml';

export interface VpaBinaries {
  readonly paths: Readonly<Record<VpaComponent, string>>;
  /** A copy of the module's CRD manifest. */
  readonly crdPath: string;
  readonly version: string;
  readonly goVersion: string;
  readonly source: 'cache' | 'built';
}

export function vpaCacheDir(): string {
  return join(cacheHome(), 'vpa', `${VPA_VERSION}-${process.platform}-${process.arch}`);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

interface Manifest {
  readonly version: string;
  readonly goVersion: string;
  readonly sha256: Record<string, string>;
}

function fromCache(): VpaBinaries | undefined {
  const dir = vpaCacheDir();
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const files = [...VPA_COMPONENTS, 'crds.yaml'];
    for (const f of files) {
      const path = join(dir, f);
      if (f !== 'crds.yaml' && (statSync(path).mode & 0o111) === 0) return undefined;
      if (sha256(path) !== m.sha256[f]) return undefined;
    }
    return {
      paths: Object.fromEntries(VPA_COMPONENTS.map((c) => [c, join(dir, c)])) as Record<VpaComponent, string>,
      crdPath: join(dir, 'crds.yaml'),
      version: m.version,
      goVersion: m.goVersion,
      source: 'cache',
    };
  } catch {
    return undefined;
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    const keep = (d: string) => {
      tail.push(...d.split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 15));
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.on('error', reject);
    child.on('close', (c) =>
      c === 0
        ? resolve(tail)
        : reject(
            new TailorError('Prerequisite', `${cmd} ${args.join(' ')} failed:\n    ${tail.join('\n    ')}`, {
              hint: 'check the Go module proxy is reachable and Go is recent enough for the module',
            }),
          ),
    );
  });
}

/**
 * The binaries, built the first time. `go install mod@version` refuses this module (its go.mod has
 * exclude directives), so the module is downloaded (`go mod download -json` names its folder in the
 * module cache) and built in that folder, read-only, with the versions its own go.sum pins.
 */
export async function ensureVpa(progress: Progress = () => {}): Promise<VpaBinaries> {
  const found = fromCache();
  if (found) return found;
  const dir = vpaCacheDir();
  if (existsSync(dir)) {
    progress(`cached VPA in ${dir} is incomplete or corrupt: rebuilding it`);
    rmSync(dir, { recursive: true, force: true });
  }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0)
    throw new TailorError('Prerequisite', 'Go is needed to build the VPA, and `go` is not on PATH', {
      hint: 'install Go (https://go.dev/dl) or put /usr/local/go/bin on PATH',
    });
  const goVersion = go.stdout.trim();
  const dl = spawnSync('go', ['mod', 'download', '-json', `${MODULE}@${VPA_VERSION}`], {
    encoding: 'utf8',
    cwd: cacheHome(),
  });
  const info = (() => {
    try {
      return JSON.parse(dl.stdout) as { Dir?: string; Error?: string };
    } catch {
      return { Error: dl.stderr };
    }
  })();
  if (!info.Dir)
    throw new TailorError(
      'Prerequisite',
      `go mod download ${MODULE}@${VPA_VERSION} failed: ${info.Error ?? dl.stderr}`,
      {
        hint: 'check the Go module proxy is reachable',
      },
    );
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  progress(
    `building VPA ${VPA_VERSION} (${VPA_COMPONENTS.join(', ')}) from ${info.Dir} with ${goVersion} (once, cached in ${dir})`,
  );
  const started = Date.now();
  try {
    await run(
      'go',
      [
        'build',
        '-trimpath',
        '-ldflags',
        '-s -w',
        '-o',
        `${tmp}/`,
        ...VPA_COMPONENTS.map((c) => `./pkg/${c}`),
      ],
      // CGO off: static binaries, as the module's Dockerfiles build them; -mod=readonly: its go.sum as shipped.
      { cwd: info.Dir, env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' } },
    );
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  copyFileSync(join(info.Dir, CRD_FILE), join(tmp, 'crds.yaml'));
  const manifest: Manifest & { builtAt: string; module: string } = {
    version: VPA_VERSION,
    module: `${MODULE}@${VPA_VERSION}`,
    builtAt: new Date().toISOString(),
    goVersion,
    sha256: Object.fromEntries([...VPA_COMPONENTS, 'crds.yaml'].map((f) => [f, sha256(join(tmp, f))])),
  };
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
  mkdirSync(join(cacheHome(), 'vpa'), { recursive: true });
  renameSync(tmp, dir);
  progress(`VPA ${VPA_VERSION} built in ${Math.round((Date.now() - started) / 1000)}s`);
  const built = fromCache();
  if (!built) throw new TailorError('Internal', `VPA built into ${dir} but its manifest does not check out`);
  return { ...built, source: 'built' };
}
