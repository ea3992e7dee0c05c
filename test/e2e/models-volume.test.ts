// A ModelDeployment's model cache on the real control plane and simulator: it gets its VolumePolicy
// by default; a new model file larger than the free space is announced on the PVC
// (tailor.dev/expected-growth) and its rollout held (CacheVolume=False, WaitingForVolume) with the
// old pods serving; the storage controller expands the PVC ahead (on the simulated kubelets' volume
// stats), the simulated CSI resizer grows it through the real status fields, then the rollout
// proceeds and the annotation is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import type { VolumePolicy } from '../../src/api/volumepolicy.ts';
import {
  EXPECTED_GROWTH_ANNOTATION,
  EXPECTED_GROWTH_REASON_ANNOTATION,
} from '../../src/core/models/cache-room.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import { eventually } from '../support/cluster.ts';
import {
  createModel,
  modelCondition,
  patchModel,
  readModel,
  useModels,
  type ModelsEnv,
} from '../support/models.ts';

const env = useModels('mvol', 1, { kubeletVolumeStats: true });
const NS = (): string => env.tenants[0]!;
const NAME = 'assistant';
const CACHE = `${NAME}-model-cache`;
const REPO = 'bartowski/Llama-3.2-1B-Instruct-GGUF';
const Q4 = 'Llama-3.2-1B-Instruct-Q4_K_M.gguf';
const F16 = 'Llama-3.2-1B-Instruct-f16.gguf';
const GiB = 2 ** 30;

/** llama.cpp on CPU, a 0.75 GB GGUF file on a 2 GiB cache (the f16 file's 2.5 GB do not fit beside it). */
const assistant = () => ({
  apiVersion: 'tailor.dev/v1alpha1' as const,
  kind: 'ModelDeployment' as const,
  metadata: { name: NAME, namespace: NS() },
  spec: {
    model: { huggingFace: { repo: REPO, revision: 'main', file: Q4 } },
    runtime: { name: 'llamacpp' as const },
    serving: { contextLength: 2048, maxSequences: 1, dtype: 'auto' as const },
    replicas: 1,
    gpu: { count: 0, type: 'auto' },
    cache: { size: '2Gi', storageClassName: 'tailor-sim' },
    sizing: { mode: 'Recommend' as const, startupBoost: true },
  },
});

async function volumePolicy(e: ModelsEnv, namespace: string, name: string): Promise<VolumePolicy> {
  return (await e.custom.getNamespacedCustomObject({
    group: 'tailor.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'volumepolicies',
    name,
  })) as VolumePolicy;
}

const cacheClaim = () => env.core.readNamespacedPersistentVolumeClaim({ name: CACHE, namespace: NS() });
const deployment = () => env.apps.readNamespacedDeployment({ name: NAME, namespace: NS() });

/** The model file the Deployment's pods download (its download step's FILE). */
function fileOf(d: k8s.V1Deployment): string | undefined {
  const init = d.spec?.template.spec?.initContainers?.find((c) => c.name === 'download');
  return init?.env?.find((e) => e.name === 'FILE')?.value;
}

void test('the model cache gets its VolumePolicy; a larger file waits for room, then rolls out once the PVC has grown', async () => {
  const md = await createModel(env, assistant());

  // 1. The VolumePolicy: owned like the Deployment, selecting the cache PVC, a default maximum.
  const vp = await eventually(() => volumePolicy(env, NS(), NAME), {
    what: 'VolumePolicy',
    timeoutMs: 60_000,
  });
  const d0 = await eventually(deployment, { what: 'Deployment' });
  const owner = vp.metadata.ownerReferences?.find((r) => r.controller === true);
  assert.equal(owner?.uid, md.metadata.uid, 'the ModelDeployment controls its VolumePolicy');
  assert.equal(owner?.kind, 'ModelDeployment');
  for (const [k, v] of Object.entries(d0.metadata?.labels ?? {}))
    assert.equal(vp.metadata.labels?.[k], v, `label ${k} as on the Deployment`);
  assert.equal(vp.spec.mode, 'Auto');
  const pvc0 = await eventually(cacheClaim, { what: 'cache PVC' });
  for (const [k, v] of Object.entries(vp.spec.selector?.matchLabels ?? {}))
    assert.equal(pvc0.metadata?.labels?.[k], v, `the selector's ${k} matches the cache PVC`);
  // 4 x the 0.75 GB file is 2.8 GiB, above the 2 GiB cache: 3 GiB.
  assert.equal(parseQuantity(vp.spec.maxSize), 3 * GiB);

  // 2. Running with the Q4 file on a bound 2 GiB claim.
  await eventually(
    async () => {
      const d = await deployment();
      assert.equal(d.status?.readyReplicas, 1, 'assistant ready');
      const c = await cacheClaim();
      assert.equal(c.status?.capacity?.storage, '2Gi', 'claim bound at 2Gi');
    },
    { what: 'assistant ready on its cache', timeoutMs: 120_000 },
  );
  const { condition: settled } = await modelCondition(env, NS(), NAME, 'CacheVolume');
  assert.equal(settled?.reason, 'NoDownloadPending');

  // 3. The f16 file (2.5 GB) does not fit in the 1.4 GB left: announced on the PVC, rollout held.
  const patched = await patchModel(env, NS(), NAME, {
    spec: { model: { huggingFace: { repo: REPO, revision: 'main', file: F16 } } },
  });
  const gen = patched.metadata.generation!;
  // From the patch on, every 200 ms: the claim's announcement, kept as first seen (the storage
  // controller may expand at once, and the models controller then removes it, within a second or
  // two), and whether the Deployment ever downloads the f16 file on a claim still at 2 GiB. The
  // Deployment is read before the claim: it changes only after the capacity, so a Deployment on
  // f16 followed by a claim at 2 GiB is a real early rollout, not a race of the two reads.
  const seen = { growth: undefined as string | undefined, reason: undefined as string | undefined };
  let heldSamples = 0;
  let earlyRollout = '';
  let sampling = true;
  const sampler = (async () => {
    // Bounded, so a failed assertion below does not leave it polling after the test.
    const stopAt = Date.now() + 400_000;
    while (sampling && Date.now() < stopAt) {
      const d = await deployment();
      const c = await cacheClaim();
      const a = c.metadata?.annotations ?? {};
      seen.growth ??= a[EXPECTED_GROWTH_ANNOTATION];
      seen.reason ??= a[EXPECTED_GROWTH_REASON_ANNOTATION];
      if (fileOf(d) !== F16) heldSamples++;
      else if ((parseQuantity(c.status?.capacity?.storage) ?? 0) <= 2 * GiB)
        earlyRollout ||= `f16 rolled out on a claim of ${c.status?.capacity?.storage}`;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const waiting = await eventually(
    async () => {
      const { md: m, condition } = await modelCondition(env, NS(), NAME, 'CacheVolume');
      assert.equal(m.status?.observedGeneration, gen);
      assert.equal(condition?.status, 'False');
      assert.equal(condition?.reason, 'WaitingForVolume');
      return condition;
    },
    { what: 'CacheVolume WaitingForVolume', timeoutMs: 60_000 },
  );
  // Use: the kubelet's stats (the storage controller's source) once fresh, else the Q4 file's 713Mi.
  assert.match(
    waiting.message,
    /needs 2\.3Gi; the cache has [0-9.]+[GM]i free \(2\.0Gi capacity, [0-9.]+[GM]i used \((volume stats|the running revision)\)\)/,
  );
  assert.match(waiting.message, /held until the volume has [0-9.]+Gi; the cache volume policy expands it/);
  const announced = await eventually(
    () => {
      assert.ok(seen.growth !== undefined, 'the growth announced on the claim');
      return { growth: Number(seen.growth), reason: seen.reason ?? '' };
    },
    { what: 'the expected growth on the cache claim', timeoutMs: 10_000 },
  );
  const growth = announced.growth;
  assert.ok(growth > 2.4e9 && growth < 2.5e9, `expected growth ${growth}`);
  assert.match(announced.reason, /f16\.gguf for ModelDeployment assistant/);
  // Held (unless the storage controller has already grown the claim: the Accepted condition is read
  // first, and changes only after the capacity does), the Deployment still downloads the Q4 file
  // and serves.
  const accepted = (await readModel(env, NS(), NAME)).status?.conditions?.find((c) => c.type === 'Accepted');
  if ((parseQuantity((await cacheClaim()).status?.capacity?.storage) ?? 0) <= 2 * GiB) {
    assert.match(accepted?.message ?? '', /rollout waits for room in the model cache/);
    assert.equal((await deployment()).status?.readyReplicas, 1, 'the old revision still serves');
  }

  // 4. The storage controller (in the operator, on the simulated kubelets' volume stats) turns the
  //    annotation into an expansion; the simulated CSI resizer grows the volume through the real
  //    PVC status fields.
  await eventually(
    async () => {
      const c = await cacheClaim();
      const request = parseQuantity(c.spec?.resources?.requests?.storage) ?? 0;
      assert.ok(request >= 0.7e9 + growth, `request ${c.spec?.resources?.requests?.storage} makes the room`);
    },
    { what: 'the storage controller raising the request', timeoutMs: 120_000 },
  );

  // 5. Room: the rollout proceeds, the annotation goes, the condition says so.
  await eventually(
    async () => {
      const c = await cacheClaim();
      assert.ok(
        (parseQuantity(c.status?.capacity?.storage) ?? 0) > 2 * GiB,
        `capacity ${c.status?.capacity?.storage}`,
      );
      assert.equal(fileOf(await deployment()), F16, 'rolled out');
      assert.equal(c.metadata?.annotations?.[EXPECTED_GROWTH_ANNOTATION], undefined, 'annotation removed');
      assert.equal(c.metadata?.annotations?.[EXPECTED_GROWTH_REASON_ANNOTATION], undefined);
      const { condition } = await modelCondition(env, NS(), NAME, 'CacheVolume');
      assert.equal(condition?.status, 'True');
      const accepted2 = (await readModel(env, NS(), NAME)).status?.conditions?.find(
        (x) => x.type === 'Accepted',
      );
      assert.match(accepted2?.message ?? '', new RegExp(`generation ${gen} applied`));
    },
    { what: 'rollout after the expansion', timeoutMs: 240_000 },
  );
  sampling = false;
  await sampler;
  assert.equal(earlyRollout, '', 'the f16 file rolled out only with more room');
  assert.ok(heldSamples > 0, 'the rollout was held at first');
  // The maximum follows the new file: 4 x 2.5 GB.
  const vp2 = await volumePolicy(env, NS(), NAME);
  assert.equal(parseQuantity(vp2.spec.maxSize), 10 * GiB);
});

void test('spec.cache.volumePolicy.mode Off removes the VolumePolicy; Auto brings it back', async () => {
  await eventually(() => volumePolicy(env, NS(), NAME), { what: 'VolumePolicy' });
  await patchModel(env, NS(), NAME, { spec: { cache: { volumePolicy: { mode: 'Off' } } } });
  await eventually(
    async () => {
      await assert.rejects(volumePolicy(env, NS(), NAME), /404|not found/i);
    },
    { what: 'VolumePolicy deleted', timeoutMs: 60_000 },
  );
  await patchModel(env, NS(), NAME, {
    spec: { cache: { volumePolicy: { mode: 'Recommend', threshold: '20%' } } },
  });
  const vp = await eventually(() => volumePolicy(env, NS(), NAME), {
    what: 'VolumePolicy again',
    timeoutMs: 60_000,
  });
  assert.equal(vp.spec.mode, 'Recommend');
  assert.equal(vp.spec.threshold, '20%');
});
