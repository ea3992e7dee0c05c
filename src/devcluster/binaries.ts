// Finds the control-plane binaries: a folder the user names, or a cache built once from the
// pinned Go module (src/devcluster/go) and keyed by its go.mod + go.sum.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TailorError } from '../errors.ts';
import { cacheHome, goModuleDir } from './paths.ts';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Binaries {
  etcd: string;
  'kube-apiserver': string;
  'kube-controller-manager': string;
  'kube-scheduler': string;
  /** Undefined when no kubectl was built or given; callers fall back to PATH. */
  kubectl: string | undefined;
  source: 'env' | 'cache' | 'built';
}

/** Environment variables naming a folder of ready-made binaries, in the order they are read. */
export const ASSETS_ENV = ['TAILOR_ASSETS', 'KUBEBUILDER_ASSETS'] as const;

const PACKAGES: Record<Component | 'kubectl', string> = {
  etcd: './cmd/etcd',
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
};

export type Progress = (line: string) => void;

export async function ensureBinaries(progress: Progress = () => {}): Promise<Binaries> {
  for (const name of ASSETS_ENV) {
    const dir = process.env[name];
    if (dir) return fromFolder(name, dir);
  }
  const key = cacheKey();
  const dir = join(cacheHome(), 'controlplane', key);
  const cached = await verifyCache(dir);
  if (cached === 'ok') return fromCache(dir, 'cache');
  if (cached === 'corrupt') {
    progress(`cached control plane in ${dir} is incomplete or corrupt: rebuilding it`);
    rmSync(dir, { recursive: true, force: true });
  }
  await build(dir, progress);
  return fromCache(dir, 'built');
}

function fromFolder(envName: string, dir: string): Binaries {
  const missing = COMPONENTS.filter((c) => !isExecutable(join(dir, c)));
  if (missing.length) {
    throw new TailorError('Prerequisite', `${envName}=${dir} lacks ${missing.join(', ')}`, {
      hint: `put ${COMPONENTS.join(', ')} (and optionally kubectl) in that folder, or unset ${envName} to build them with Go`,
    });
  }
  const kubectl = join(dir, 'kubectl');
  return {
    etcd: join(dir, 'etcd'),
    'kube-apiserver': join(dir, 'kube-apiserver'),
    'kube-controller-manager': join(dir, 'kube-controller-manager'),
    'kube-scheduler': join(dir, 'kube-scheduler'),
    kubectl: isExecutable(kubectl) ? kubectl : undefined,
    source: 'env',
  };
}

function fromCache(dir: string, source: 'cache' | 'built'): Binaries {
  return {
    etcd: join(dir, 'etcd'),
    'kube-apiserver': join(dir, 'kube-apiserver'),
    'kube-controller-manager': join(dir, 'kube-controller-manager'),
    'kube-scheduler': join(dir, 'kube-scheduler'),
    kubectl: join(dir, 'kubectl'),
    source,
  };
}

function isExecutable(path: string): boolean {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The cache key: whatever changes the binaries (module pins, main package, platform). */
export function cacheKey(): string {
  const mod = goModuleDir();
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'cmd/etcd/main.go']) h.update(readFileSync(join(mod, f)));
  h.update(`${process.platform}/${process.arch} ${versionLdflags()}`);
  return h.digest('hex').slice(0, 16);
}

interface Manifest {
  key: string;
  builtAt: string;
  goVersion: string;
  sha256: Record<string, string>;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

type CacheState = 'ok' | 'absent' | 'corrupt';

export async function verifyCache(dir: string): Promise<CacheState> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(dir)) return 'absent';
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    for (const name of [...COMPONENTS, 'kubectl']) {
      const expected = manifest.sha256[name];
      if (!expected || (await sha256File(join(dir, name))) !== expected) return 'corrupt';
    }
    return 'ok';
  } catch {
    return 'corrupt';
  }
}

function goVersion(): string {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new TailorError(
      'Prerequisite',
      'Go is needed to build the control plane, and `go` is not on PATH',
      {
        hint: `install Go (https://go.dev/dl), or set ${ASSETS_ENV[0]} to a folder holding ${COMPONENTS.join(', ')} (the layout KUBEBUILDER_ASSETS uses)`,
      },
    );
  }
  return r.stdout.trim();
}

async function build(dir: string, progress: Progress): Promise<void> {
  const version = goVersion();
  const mod = goModuleDir();
  const pkgs = Object.values(PACKAGES);
  const listed = spawnSync('go', ['list', '-deps', ...pkgs], {
    cwd: mod,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (listed.status !== 0) throw buildError(listed.stderr);
  const total = listed.stdout.split('\n').filter(Boolean).length;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  progress(
    `building etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl with ${version}`,
  );
  progress(`(${total} packages; a few minutes on 2 cores the first time, cached afterwards in ${dir})`);
  const started = Date.now();
  const tail: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      'go',
      ['build', '-v', '-trimpath', '-ldflags', versionLdflags(), '-o', tmp + '/', ...pkgs],
      {
        cwd: mod,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, CGO_ENABLED: '0' },
      },
    );
    let done = 0;
    let lastReport = 0;
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      done += 1;
      const now = Date.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        const pct = Math.min(99, Math.round((100 * done) / total));
        progress(
          `  [${pct}%] ${done}/${total} packages compiled, ${Math.round((now - started) / 1000)}s: ${line}`,
        );
      }
    });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw buildError(tail.join('\n'));
  }
  const sha256: Record<string, string> = {};
  for (const name of [...COMPONENTS, 'kubectl']) sha256[name] = await sha256File(join(tmp, name));
  const manifest: Manifest = {
    key: cacheKey(),
    builtAt: new Date().toISOString(),
    goVersion: version,
    sha256,
  };
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  progress(`built in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** The pinned Kubernetes release, read from the Go module's require line. */
export function kubernetesVersion(): string {
  const m = /k8s\.io\/kubernetes (v\d+\.\d+\.\d+)/.exec(readFileSync(join(goModuleDir(), 'go.mod'), 'utf8'));
  if (!m?.[1]) throw new TailorError('Internal', 'go.mod does not pin k8s.io/kubernetes');
  return m[1];
}

/** What Kubernetes' own build (hack/lib/version.sh) stamps in, so `kubectl version` reads right. */
function versionLdflags(): string {
  const v = kubernetesVersion();
  const [major, minor] = v.slice(1).split('.');
  const vars = {
    gitVersion: v,
    gitMajor: major,
    gitMinor: minor,
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
  };
  return ['-s', '-w']
    .concat(
      ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) =>
        Object.entries(vars).map(([k, val]) => `-X ${pkg}.${k}=${val}`),
      ),
    )
    .join(' ');
}

function buildError(output: string): TailorError {
  const unreachable =
    /dial tcp|no such host|proxyconnect|i\/o timeout|connection refused|403 Forbidden|404 Not Found/i.test(
      output,
    );
  const lines = output.trim().split('\n').slice(-15).join('\n    ');
  return new TailorError(
    'Prerequisite',
    unreachable
      ? `cannot download the control-plane modules from the Go module proxy:\n    ${lines}`
      : `go build of the control plane failed:\n    ${lines}`,
    {
      hint: `set ${ASSETS_ENV[0]} to a folder holding ready-made ${COMPONENTS.join(', ')} to skip the build`,
    },
  );
}
