// The model cache's care, built purely: the VolumePolicy a ModelDeployment owns by default (and its
// opt-out), the PVC's expected-growth annotation and never-lowered request, the room decision before
// a new revision's download, and the CacheVolume condition that says why a rollout waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { ModelDeploymentSchema } from '../../src/api/modeldeployment.ts';
import type { ModelDeployment, ModelDeploymentSpec } from '../../src/api/modeldeployment.ts';
import { problems } from '../../src/api/validate.ts';
import { deployedSource, roomForNext } from '../../src/controllers/models/cache.ts';
import {
  MODEL_BYTES_ANNOTATION,
  MODEL_SOURCE_ANNOTATION,
  render,
  type RenderOptions,
} from '../../src/controllers/models/render.ts';
import { catalogueForGguf, plan } from '../../src/controllers/models/resolve.ts';
import { buildStatus, CACHE_CONDITION } from '../../src/controllers/models/status.ts';
import {
  EXPECTED_GROWTH_ANNOTATION,
  EXPECTED_GROWTH_REASON_ANNOTATION,
  cacheRoom,
  defaultMaxBytes,
  type CacheRoomInput,
} from '../../src/core/models/cache-room.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import type { VolumeSample } from '../../src/core/volume/types.ts';

const GiB = 2 ** 30;
const REPO = 'bartowski/Llama-3.2-1B-Instruct-GGUF';
const Q4 = 'Llama-3.2-1B-Instruct-Q4_K_M.gguf';
const Q8 = 'Llama-3.2-1B-Instruct-Q8_0.gguf';

function md(file = Q4, cache: Partial<ModelDeploymentSpec['cache']> = {}): ModelDeployment {
  return {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'assistant', namespace: 'tenant-b', uid: 'uid-7', generation: 2 },
    spec: {
      model: { huggingFace: { repo: REPO, revision: 'main', file } },
      runtime: { name: 'llamacpp' },
      serving: { dtype: 'auto', contextLength: 2048 },
      replicas: 1,
      gpu: { count: 0, type: 'auto' },
      cache: { size: 'auto', storageClassName: 'fast', ...cache },
      sizing: { mode: 'Recommend', startupBoost: true },
    },
  };
}

function resolved(m: ModelDeployment) {
  const a = catalogueForGguf(REPO);
  if (a?.kind !== 'ok') throw new Error('not catalogued');
  const r = plan(m, a.value, 'catalogue');
  if (r.kind !== 'Resolved') throw new Error(JSON.stringify(r.problem));
  return r.value;
}

function renderOf(m: ModelDeployment, opts: Partial<RenderOptions> = {}) {
  const r = resolved(m);
  return { ...render(m, r.estimate, r.fit, { replicas: 'Set', ...opts }), resolved: r };
}

void test('render: a Hugging Face cache gets a VolumePolicy owned like the other objects, selecting only the cache PVC', () => {
  const m = md();
  const r = renderOf(m);
  const vp = r.volumePolicy;
  assert.ok(vp, 'a VolumePolicy by default');
  assert.equal(vp.apiVersion, 'tailor.dev/v1alpha1');
  assert.equal(vp.kind, 'VolumePolicy');
  assert.equal(vp.metadata.name, 'assistant');
  assert.equal(vp.metadata.namespace, 'tenant-b');
  assert.deepEqual(vp.metadata.labels, r.deployment.metadata!.labels, 'the same labels as its siblings');
  assert.deepEqual(vp.metadata.ownerReferences, r.deployment.metadata!.ownerReferences);
  assert.equal(vp.metadata.ownerReferences?.[0]?.controller, true);
  assert.equal(vp.metadata.ownerReferences?.[0]?.uid, 'uid-7');
  assert.equal(vp.spec.mode, 'Auto');
  assert.equal(vp.spec.threshold, undefined, "the VolumePolicy's own default threshold");
  // The selector matches the cache PVC and nothing else the ModelDeployment owns.
  const matches = (labels: Record<string, string> | undefined) =>
    Object.entries(vp.spec.selector?.matchLabels ?? { none: 'x' }).every(([k, v]) => labels?.[k] === v);
  assert.ok(matches(r.pvc!.metadata!.labels));
  assert.ok(!matches(r.deployment.metadata!.labels));
  assert.ok(!matches(r.deployment.spec!.template.metadata!.labels));
  // Default maximum: 4x the model's files, at least the cache, whole GiB.
  const ckpt = r.resolved.estimate.checkpoint.value;
  const cache = parseQuantity(r.pvc!.spec!.resources!.requests!.storage)!;
  const max = parseQuantity(vp.spec.maxSize)!;
  assert.equal(max % GiB, 0);
  assert.ok(max >= 4 * ckpt && max >= cache, `${vp.spec.maxSize} >= 4 x ${ckpt} and >= ${cache}`);
  assert.ok(max - Math.max(4 * ckpt, cache) < GiB);
});

void test('render: the volume policy section sets mode, maxSize and threshold, or opts out', () => {
  const set = renderOf(md(Q4, { volumePolicy: { mode: 'Recommend', maxSize: '64Gi', threshold: '15%' } }));
  assert.deepEqual(
    {
      mode: set.volumePolicy?.spec.mode,
      max: set.volumePolicy?.spec.maxSize,
      t: set.volumePolicy?.spec.threshold,
    },
    { mode: 'Recommend', max: '64Gi', t: '15%' },
  );
  const off = renderOf(md(Q4, { volumePolicy: { mode: 'Off', maxSize: 'auto' } }));
  assert.equal(off.volumePolicy, undefined);
  assert.ok(off.pvc, 'the cache itself stays');
  // A big explicit cache: the default maximum is at least the cache.
  const big = renderOf(md(Q4, { size: '100Gi' }));
  assert.equal(big.volumePolicy?.spec.maxSize, '100Gi');
  // A model on the tenant's PVC: no cache of ours, no VolumePolicy.
  const m = md();
  m.spec.model = { pvc: { claimName: 'models', path: '.' } };
  m.spec.serving.servedModelName = 'meta-llama/Llama-3.2-1B-Instruct';
  const onPvc = renderOf(m);
  assert.equal(onPvc.pvc, undefined);
  assert.equal(onPvc.volumePolicy, undefined);
  assert.equal(onPvc.deployment.metadata!.annotations, undefined, 'no download, no model-source annotation');
});

void test('render: the cache request is never lowered, and a pending download is announced on the PVC', () => {
  const plain = renderOf(md());
  const rendered = parseQuantity(plain.pvc!.spec!.resources!.requests!.storage)!;
  assert.equal(plain.pvc!.metadata!.annotations, undefined, 'no growth announced by default');
  const grown = renderOf(md(), { cacheRequestBytes: rendered + 5 * GiB });
  assert.equal(parseQuantity(grown.pvc!.spec!.resources!.requests!.storage), rendered + 5 * GiB);
  const smaller = renderOf(md(), { cacheRequestBytes: GiB / 4 });
  assert.equal(parseQuantity(smaller.pvc!.spec!.resources!.requests!.storage), rendered);
  const announced = renderOf(md(Q8), {
    expectedGrowth: { bytes: 1_321_000_000.4, reason: `${REPO}@main:${Q8} for ModelDeployment assistant` },
  });
  assert.deepEqual(announced.pvc!.metadata!.annotations, {
    [EXPECTED_GROWTH_ANNOTATION]: '1321000001',
    [EXPECTED_GROWTH_REASON_ANNOTATION]: `${REPO}@main:${Q8} for ModelDeployment assistant`,
  });
  // The Deployment says what its pods download and how big it is.
  const d = announced.deployment.metadata!.annotations!;
  assert.equal(d[MODEL_SOURCE_ANNOTATION], `${REPO}@main:${Q8}`);
  assert.equal(Number(d[MODEL_BYTES_ANNOTATION]), Math.ceil(announced.resolved.estimate.checkpoint.value));
});

void test('schema: the volume policy section is defaulted and bad values are refused', () => {
  const base = (cache: unknown) => ({
    ...md(),
    metadata: { name: 'assistant', namespace: 'b' },
    spec: { ...md().spec, cache },
  });
  assert.deepEqual(problems(ModelDeploymentSchema, base({ size: 'auto' })), []);
  const cases: [unknown, RegExp][] = [
    [{ size: 'auto', volumePolicy: { mode: 'Sometimes' } }, /mode/],
    [{ size: 'auto', volumePolicy: { threshold: '150%' } }, /at most 99%/],
    [{ size: 'auto', volumePolicy: { threshold: '0%' } }, /above 0%/],
    [{ size: 'auto', volumePolicy: { threshold: '0' } }, /size above 0/],
    [{ size: 'auto', volumePolicy: { threshold: '-5Gi' } }, /at most 99%/],
    [{ size: 'auto', volumePolicy: { maxSize: 'lots' } }, /"auto" or a size/],
    [{ size: '50Gi', volumePolicy: { maxSize: '40Gi' } }, /maxSize must not be below size/],
  ];
  for (const [cache, why] of cases) {
    const found = problems(ModelDeploymentSchema, base(cache));
    assert.ok(
      found.some((p) => why.test(p.message) || why.test(p.path)),
      `${JSON.stringify(cache)}: ${JSON.stringify(found)}`,
    );
  }
  for (const ok of [{ threshold: '10%' }, { threshold: '5Gi' }, { threshold: '12.5%' }, { maxSize: '50Gi' }])
    assert.deepEqual(
      problems(ModelDeploymentSchema, base({ size: '50Gi', volumePolicy: ok })),
      [],
      JSON.stringify(ok),
    );
});

const input = (over: Partial<CacheRoomInput>): CacheRoomInput => ({
  next: `${REPO}@main:${Q8}`,
  needBytes: 1.5e9,
  used: { bytes: 0.8e9, source: 'RunningRevision' },
  capacityBytes: 2 * GiB,
  expandable: true,
  grower: 'Auto',
  maxBytes: 8 * GiB,
  ...over,
});

void test('cacheRoom: fits, waits for an expansion, or cannot grow, and says it with the figures', () => {
  const cases: { name: string; over: Partial<CacheRoomInput>; kind: string; message: RegExp }[] = [
    {
      name: 'room free',
      over: { capacityBytes: 4 * GiB },
      kind: 'Fits',
      message: /needs 1\.4Gi.*3\.3Gi free.*it fits/,
    },
    {
      name: 'too little, policy expands',
      over: {},
      kind: 'Waiting',
      message:
        /needs 1\.4Gi; the cache has 1\.3Gi free \(2\.0Gi capacity, 763Mi used \(the running revision\)\).*held until the volume has 2\.1Gi; the cache volume policy expands it/,
    },
    {
      name: 'stats say more used',
      over: { capacityBytes: 3 * GiB, used: { bytes: 2 * GiB, source: 'VolumeStats' } },
      kind: 'Waiting',
      message: /2\.0Gi used \(volume stats\)/,
    },
    {
      name: 'Recommend',
      over: { grower: 'Recommend' },
      kind: 'Waiting',
      message: /Recommend mode: expand the PVC/,
    },
    { name: 'Off', over: { grower: 'Off' }, kind: 'Waiting', message: /mode is Off/ },
    {
      name: 'no expansion',
      over: { expandable: false },
      kind: 'CannotGrow',
      message: /does not allow expansion.*raise spec\.cache\.size to at least 2\.1Gi/,
    },
    {
      name: 'above max',
      over: { maxBytes: 2 * GiB },
      kind: 'CannotGrow',
      message: /above the volume policy's maximum 2\.0Gi.*maxSize to at least 2\.1Gi/,
    },
    { name: 'not bound', over: { capacityBytes: undefined }, kind: 'Waiting', message: /not bound/ },
    {
      name: 'class unknown: not refused',
      over: { expandable: undefined },
      kind: 'Waiting',
      message: /expands it/,
    },
  ];
  for (const c of cases) {
    const r = cacheRoom(input(c.over));
    assert.equal(r.kind, c.kind, c.name);
    assert.match(r.message, c.message, c.name);
    if (r.kind !== 'Fits') assert.equal(r.growthBytes, 1.5e9, c.name);
  }
  const r = cacheRoom(input({ maxBytes: 2 * GiB }));
  assert.equal(r.kind === 'CannotGrow' ? r.why : r.kind, 'AtMaximum');
  assert.equal(defaultMaxBytes(1.5 * GiB, 2 * GiB, 4), 6 * GiB);
  assert.equal(defaultMaxBytes(1.1 * GiB, 2 * GiB, 4), 5 * GiB);
  assert.equal(defaultMaxBytes(GiB, 10 * GiB, 4), 10 * GiB);
});

const claim = (capacity: string, className = 'fast'): k8s.V1PersistentVolumeClaim => ({
  metadata: { name: 'assistant-model-cache', namespace: 'tenant-b' },
  spec: { storageClassName: className, resources: { requests: { storage: capacity } } },
  status: { phase: 'Bound', capacity: { storage: capacity } },
});

void test('roomForNext: only a new source is checked; use comes from fresh stats, else the running revision', async () => {
  const old = renderOf(md(Q4));
  const next = renderOf(md(Q8));
  const need = next.resolved.estimate.checkpoint.value;
  const oldBytes = old.resolved.estimate.checkpoint.value;
  const running = old.deployment;
  const classes: Record<string, k8s.V1StorageClass> = {
    fast: { provisioner: 'x', allowVolumeExpansion: true },
    fixed: { provisioner: 'x' },
  };
  const deps = { storageClass: (n: string) => Promise.resolve(classes[n]), now: () => 1000 };
  // The Q4 file takes 0.75 GB of 1.5 GiB: the Q8 file's 1.3 GB do not fit beside it.
  const pvc = claim('1536Mi');
  // Same source as running: nothing pending.
  assert.equal(await roomForNext(md(Q4), old, oldBytes, { pvc, deployment: running }, deps), undefined);
  // No Deployment yet (the first download) or no claim: nothing pending.
  assert.equal(await roomForNext(md(Q8), next, need, { pvc, deployment: undefined }, deps), undefined);
  assert.equal(
    await roomForNext(md(Q8), next, need, { pvc: undefined, deployment: running }, deps),
    undefined,
  );
  // A new file: the running revision's bytes are the use.
  const r = await roomForNext(md(Q8), next, need, { pvc, deployment: running }, deps);
  assert.equal(r?.kind, 'Waiting');
  assert.ok(r?.message.includes('the running revision'), r?.message);
  assert.equal(r?.kind === 'Waiting' ? r.growthBytes : undefined, Math.ceil(need));
  // Fresh stats win; stale ones (older than 180 s) do not.
  const sample = (at: number, usedBytes: number): VolumeSample => ({
    at,
    usedBytes,
    capacityBytes: 2 * GiB,
    availableBytes: 2 * GiB - usedBytes,
  });
  const stats = (samples: VolumeSample[]) => ({
    name: 'fake',
    read: (since: number, ns?: readonly string[]) => {
      assert.deepEqual(ns, ['tenant-b'], 'only the ModelDeployment namespace is read');
      return Promise.resolve(
        new Map([['tenant-b/assistant-model-cache', samples.filter((s) => s.at >= since)]]),
      );
    },
  });
  const fresh = await roomForNext(
    md(Q8),
    next,
    need,
    { pvc, deployment: running },
    {
      ...deps,
      volumeStats: stats([sample(900, 1.9 * GiB), sample(990, 0.1 * GiB)]),
    },
  );
  assert.ok(fresh?.message.includes('(volume stats)'), fresh?.message);
  assert.equal(fresh?.kind, 'Fits', '0.1Gi used leaves room');
  const stale = await roomForNext(
    md(Q8),
    next,
    need,
    { pvc, deployment: running },
    {
      ...deps,
      volumeStats: stats([sample(700, 0.1 * GiB)]),
    },
  );
  assert.ok(stale?.message.includes('the running revision'), stale?.message);
  let failed = 0;
  const broken = await roomForNext(
    md(Q8),
    next,
    need,
    { pvc, deployment: running },
    {
      ...deps,
      volumeStats: { name: 'down', read: () => Promise.reject(new Error('prometheus down')) },
      onStatsError: () => failed++,
    },
  );
  assert.equal(failed, 1);
  assert.ok(broken?.message.includes('the running revision'));
  // A StorageClass without expansion: cannot grow.
  const fixed = await roomForNext(
    md(Q8),
    next,
    need,
    { pvc: claim('1536Mi', 'fixed'), deployment: running },
    deps,
  );
  assert.equal(fixed?.kind, 'CannotGrow');
  // Opted out: no maximum, nobody grows it.
  const offMd = md(Q8, { volumePolicy: { mode: 'Off', maxSize: 'auto' } });
  const off = await roomForNext(offMd, renderOf(offMd), need, { pvc, deployment: running }, deps);
  assert.match(off?.message ?? '', /mode is Off/);
  // Expanded enough: fits.
  const roomy = await roomForNext(md(Q8), next, need, { pvc: claim('4Gi'), deployment: running }, deps);
  assert.equal(roomy?.kind, 'Fits');
});

void test('deployedSource: the annotation, else the download step of a Deployment from before it', () => {
  const d = renderOf(md(Q4)).deployment;
  assert.equal(deployedSource(d), `${REPO}@main:${Q4}`);
  const older = structuredClone(d);
  delete older.metadata!.annotations;
  assert.equal(deployedSource(older), `${REPO}@main:${Q4}`);
  assert.equal(deployedSource(undefined), undefined);
});

void test('status: a held rollout says so in Accepted and the CacheVolume condition', () => {
  const m = md(Q8);
  const r = resolved(m);
  const deployment = {
    metadata: { name: 'assistant', annotations: { 'tailor.dev/applied-generation': '1' } },
    status: { readyReplicas: 1 },
  };
  const base = {
    md: m,
    outcome: { kind: 'Resolved' as const, value: r, endpoint: 'http://x' },
    synced: { kind: 'Synced' as const },
    deployment,
    pods: [],
    sizingPolicy: undefined,
    now: new Date('2026-01-01T00:00:00Z'),
  };
  const room = cacheRoom(input({}));
  const held = buildStatus({ ...base, cacheRoom: room });
  const c = held.conditions?.find((x) => x.type === CACHE_CONDITION);
  assert.deepEqual([c?.status, c?.reason], ['False', 'WaitingForVolume']);
  assert.match(c?.message ?? '', /needs 1\.4Gi/);
  assert.match(held.conditions?.find((x) => x.type === 'Accepted')?.message ?? '', /rollout waits for room/);
  assert.equal(held.phase, 'Ready', 'the old revision still serves');
  const cannot = buildStatus({ ...base, cacheRoom: cacheRoom(input({ expandable: false })) });
  assert.equal(cannot.conditions?.find((x) => x.type === CACHE_CONDITION)?.reason, 'VolumeCannotGrow');
  const done = buildStatus({ ...base, md: { ...m, status: held } });
  const after = done.conditions?.find((x) => x.type === CACHE_CONDITION);
  assert.deepEqual([after?.status, after?.reason], ['True', 'NoDownloadPending']);
  assert.match(done.conditions?.find((x) => x.type === 'Accepted')?.message ?? '', /applied/);
});
