// The Containerfile's promises, read from the file so they cannot drift silently: two stages, the
// bases as build arguments (BASE, RUNTIME_BASE: a registry's images by default, the Debian-made ones
// of scripts/build-image.sh here), no npm or compiler in the runtime stage, a numeric non-root USER
// that is the chart's runAsUser, and the chart's writable mounts declared as the image's volumes.
// Building the image is not part of `npm test` (minutes): `npm run image` (decision 0022).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../src/devcluster/paths.ts';
import { MANIFESTS_FILE } from '../../scripts/manifests.ts';
import { execForm, parseContainerfile, type Stage } from '../support/containerfile.ts';

const root = packageRoot();
const file = parseContainerfile(readFileSync(join(root, 'Containerfile'), 'utf8'));
const [build, runtime] = file.stages as [Stage, Stage];
const last = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).at(-1);

interface Deployment {
  kind: string;
  spec: {
    template: {
      spec: {
        securityContext: { runAsUser: number; runAsGroup: number; runAsNonRoot: boolean };
        containers: {
          name: string;
          securityContext: { readOnlyRootFilesystem: boolean };
          volumeMounts: { mountPath: string; readOnly?: boolean }[];
        }[];
      };
    };
  };
}
const deployment = parseAllDocuments(readFileSync(join(root, MANIFESTS_FILE), 'utf8'))
  .map((d) => d.toJSON() as Deployment)
  .find((o) => o?.kind === 'Deployment')!;

test('two stages: a build stage, then the runtime stage the image is', () => {
  assert.equal(file.stages.length, 2, 'exactly a build and a runtime stage');
  assert.equal(build.name, 'build');
  assert.equal(runtime.name, 'runtime');
  const copied = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from=build'));
  assert.ok(copied.length > 0, 'the runtime stage copies its build results from the build stage');
});

test('the bases are build arguments with registry defaults, Node 20 on bookworm', () => {
  assert.equal(build.from, '${BASE}');
  assert.equal(runtime.from, '${RUNTIME_BASE}');
  assert.match(
    file.globalArgs.get('BASE') ?? '',
    /node:20(\.\d+){0,2}-bookworm$/,
    'ARG BASE=<node 20 bookworm>',
  );
  assert.match(
    file.globalArgs.get('RUNTIME_BASE') ?? '',
    /debian:bookworm/,
    'ARG RUNTIME_BASE=<debian bookworm>',
  );
});

test('the build stage compiles the sources and the native module, and checks it loads', () => {
  const runs = build.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join('\n');
  assert.match(runs, /npm ci\b/);
  assert.match(runs, /tsc -p tsconfig\.build\.json/);
  assert.match(runs, /npm rebuild better-sqlite3/);
  assert.match(runs, /npm prune --omit=dev/);
  assert.match(runs, /require\('better-sqlite3'\)/);
});

test('the runtime stage has no npm, npx or compiler, and runs Node directly', () => {
  for (const ins of runtime.instructions) {
    assert.doesNotMatch(
      ins.args,
      /\b(npm|npx|corepack|node-gyp|apt-get|g\+\+|make)\b/,
      `line ${ins.line}: ${ins.keyword} ${ins.args}`,
    );
  }
  const entrypoint = execForm(last(runtime, 'ENTRYPOINT')?.args ?? '');
  assert.deepEqual(entrypoint, ['/usr/local/bin/node', '/app/bin/tailor.js'], 'exec form, no shell');
  const node = runtime.instructions.find(
    (i) => i.keyword === 'COPY' && i.args.endsWith(' /usr/local/bin/node'),
  );
  assert.ok(node, 'the one Node binary is copied from the build stage');
});

test("the runtime stage runs as a numeric non-root user, the chart's runAsUser", () => {
  const user = last(runtime, 'USER');
  assert.ok(user, 'a USER in the runtime stage');
  const m = /^(\d+):(\d+)$/.exec(user.args);
  assert.ok(m, `USER ${user.args}: numeric uid:gid, so runAsNonRoot can verify it`);
  assert.notEqual(Number(m[1]), 0, 'not root');
  const pod = deployment.spec.template.spec.securityContext;
  assert.equal(Number(m[1]), pod.runAsUser);
  assert.equal(Number(m[2]), pod.runAsGroup);
  assert.equal(pod.runAsNonRoot, true);
  const afterUser = runtime.instructions.slice(runtime.instructions.indexOf(user));
  assert.ok(!afterUser.some((i) => i.keyword === 'RUN'), 'nothing runs after USER (it would run as it)');
});

test("the image's volumes are the chart's writable mounts on a read-only root filesystem", () => {
  const operator = deployment.spec.template.spec.containers.find((c) => c.name === 'operator')!;
  assert.equal(operator.securityContext.readOnlyRootFilesystem, true);
  const writable = operator.volumeMounts
    .filter((v) => !v.readOnly)
    .map((v) => v.mountPath)
    .sort();
  const volumes = runtime.instructions
    .filter((i) => i.keyword === 'VOLUME')
    .flatMap((i) => execForm(i.args) ?? [])
    .sort();
  assert.deepEqual(volumes, writable);
  const cmd = execForm(last(runtime, 'CMD')?.args ?? '') ?? [];
  assert.ok(
    cmd.some((a) => a.startsWith('--history=/var/lib/tailor/')),
    'the history lives on a volume',
  );
});

test('the reader joins continuations and skips comment lines inside them', () => {
  const f = parseContainerfile('ARG A=1\nFROM x AS one\nRUN a \\\n  # note\n  && b\nFROM ${A}\nUSER 1:1\n');
  assert.equal(f.globalArgs.get('A'), '1');
  assert.equal(f.stages[0]!.instructions[0]!.args, 'a && b');
  assert.equal(f.stages[1]!.from, '${A}');
  assert.throws(() => parseContainerfile('RUN x\nFROM y\n'), /before the first FROM/);
});

test('the runtime stage sets the allocator settings the operator-scale benchmark measured', () => {
  const env = runtime.instructions
    .filter((i) => i.keyword === 'ENV')
    .map((i) => i.args)
    .join(' ');
  for (const setting of [
    'MALLOC_ARENA_MAX=2',
    'MALLOC_MMAP_THRESHOLD_=131072',
    'MALLOC_TRIM_THRESHOLD_=131072',
  ])
    assert.match(env, new RegExp(`\\b${setting}\\b`), setting);
});
