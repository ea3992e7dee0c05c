// The pure rules a ModelDeployment is held to before anything is written: it writes only objects
// that are absent or its own, runs only preset or allowed images, takes a token only from a Secret
// marked for Tailor, and leaves replicas to an HPA that targets its Deployment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOwnership, ownershipOf } from '../../src/core/models/ownership.ts';
import { allowedImageProblem, checkImage, underPrefix } from '../../src/core/models/image-policy.ts';
import { TOKEN_SECRET_LABEL, checkTokenSecret } from '../../src/core/models/token-secret.ts';
import { appliesReplicas, autoscalerOf } from '../../src/core/models/hpa.ts';
import { PRESET_IMAGES } from '../../src/controllers/models/presets.ts';
import { shortError } from '../../src/controllers/models/controller.ts';
import { toTailorError } from '../../src/kube/errors.ts';

const UID = 'md-uid';
const ref = (uid: string, controller = true) => ({
  apiVersion: 'tailor.dev/v1alpha1',
  kind: 'ModelDeployment',
  name: 'chat',
  uid,
  controller,
});

void test('ownership: absent, ours (controller reference with our UID), or foreign with who owns it', () => {
  assert.deepEqual(ownershipOf(undefined, UID), { kind: 'Absent' });
  assert.deepEqual(ownershipOf({ metadata: { ownerReferences: [ref(UID)] } }, UID), { kind: 'Ours' });
  // Our UID but not as controller: not ours to control.
  assert.equal(ownershipOf({ metadata: { ownerReferences: [ref(UID, false)] } }, UID).kind, 'Foreign');
  // An earlier ModelDeployment of the same name (another UID): foreign, and named.
  const earlier = ownershipOf({ metadata: { ownerReferences: [ref('old-uid')] } }, UID);
  assert.deepEqual(earlier, { kind: 'Foreign', owner: 'ModelDeployment/chat (uid old-uid)' });
  // A tenant's own object: no controller; who wrote it comes from managedFields.
  const tenant = ownershipOf(
    { metadata: { managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] } },
    UID,
  );
  assert.deepEqual(tenant, { kind: 'Foreign', owner: 'no controller; written by kubectl-create' });
  assert.deepEqual(ownershipOf({ metadata: {} }, UID), { kind: 'Foreign', owner: 'no controller' });
});

void test('ownership: every object is checked, and one foreign object stops all writes', () => {
  const clear = checkOwnership(
    [
      { kind: 'PersistentVolumeClaim', name: 'chat-model-cache', existing: undefined },
      { kind: 'Deployment', name: 'chat', existing: { metadata: { ownerReferences: [ref(UID)] } } },
    ],
    UID,
  );
  assert.deepEqual(clear, { kind: 'Clear', create: ['PersistentVolumeClaim/chat-model-cache'] });
  const conflict = checkOwnership(
    [
      { kind: 'PersistentVolumeClaim', name: 'chat-model-cache', existing: undefined },
      { kind: 'Deployment', name: 'chat', existing: undefined },
      { kind: 'Service', name: 'chat', existing: { metadata: { managedFields: [{ manager: 'kubectl' }] } } },
      { kind: 'SizingPolicy', name: 'chat', existing: undefined },
    ],
    UID,
  );
  assert.equal(conflict.kind, 'Conflict');
  if (conflict.kind !== 'Conflict') return;
  assert.deepEqual(conflict.conflicts, [
    { object: 'Service/chat', owner: 'no controller; written by kubectl' },
  ]);
  assert.match(conflict.message, /^Service\/chat \(no controller; written by kubectl\) already exists/);
  assert.match(conflict.message, /never adopts or overwrites/);
});

void test('images: the presets, or under an --allowed-image prefix at a boundary; anything else refused', () => {
  const presets = Object.values(PRESET_IMAGES);
  assert.deepEqual(checkImage(undefined, presets, []), { kind: 'Preset' });
  assert.deepEqual(checkImage(PRESET_IMAGES.vllm, presets, []), { kind: 'Preset' });
  const allowed = ['registry.example.com/llm', 'ghcr.io/acme/'];
  assert.deepEqual(checkImage('registry.example.com/llm/vllm:1', presets, allowed), {
    kind: 'Allowed',
    prefix: 'registry.example.com/llm',
  });
  assert.equal(checkImage('ghcr.io/acme/server@sha256:abc', presets, allowed).kind, 'Allowed');
  // A prefix stops at a boundary: "llm" does not allow "llm-evil".
  const evil = checkImage('registry.example.com/llm-evil/x:1', presets, allowed);
  assert.equal(evil.kind, 'NotAllowed');
  if (evil.kind === 'NotAllowed') {
    assert.match(evil.message, /runtime\.image "registry\.example\.com\/llm-evil\/x:1"/);
    assert.match(evil.hint, /--allowed-image PREFIX/);
  }
  // Another tag of a preset's repository is not the preset image.
  assert.equal(checkImage('vllm/vllm-openai:latest', presets, []).kind, 'NotAllowed');
  assert.equal(underPrefix('a/b', 'a/b'), true);
  assert.equal(underPrefix('a/bc', 'a/b'), false);
  assert.equal(underPrefix('a/b:1', 'a/b'), true);
  assert.equal(underPrefix('anything', ''), false);
  assert.match(allowedImageProblem('') ?? '', /every image/);
  assert.match(allowedImageProblem('  ') ?? '', /every image/);
  assert.match(allowedImageProblem('/x') ?? '', /must start/);
  assert.equal(allowedImageProblem('registry.example.com/llm'), undefined);
});

void test('token Secret: only one carrying the label is used; the refusal says how to label it', () => {
  assert.deepEqual(checkTokenSecret('acme', 'hf', { [TOKEN_SECRET_LABEL]: 'true' }), { kind: 'Allowed' });
  const unlabelled = checkTokenSecret('acme', 'hf', { app: 'x' });
  assert.equal(unlabelled.kind, 'NotAllowed');
  if (unlabelled.kind === 'NotAllowed')
    assert.equal(unlabelled.hint, `label it: kubectl label secret hf -n acme ${TOKEN_SECRET_LABEL}=true`);
  assert.equal(checkTokenSecret('acme', 'hf', { [TOKEN_SECRET_LABEL]: 'yes' }).kind, 'NotAllowed');
  assert.equal(checkTokenSecret('acme', 'hf', undefined).kind, 'NotAllowed');
  assert.equal(checkTokenSecret('acme', 'hf', null).kind, 'Missing');
});

void test('HPA: one that targets the Deployment (same namespace, apps group) owns replicas', () => {
  const hpa = (name: string, ns: string, kind: string, target: string, apiVersion = 'apps/v1') => ({
    metadata: { name, namespace: ns },
    spec: { scaleTargetRef: { apiVersion, kind, name: target } },
  });
  assert.equal(autoscalerOf('acme', 'chat', []), undefined);
  assert.equal(autoscalerOf('acme', 'chat', [hpa('h', 'other', 'Deployment', 'chat')]), undefined);
  assert.equal(autoscalerOf('acme', 'chat', [hpa('h', 'acme', 'StatefulSet', 'chat')]), undefined);
  assert.equal(autoscalerOf('acme', 'chat', [hpa('h', 'acme', 'Deployment', 'chat', 'x.io/v1')]), undefined);
  assert.equal(
    autoscalerOf('acme', 'chat', [
      hpa('z', 'acme', 'Deployment', 'chat'),
      hpa('a', 'acme', 'Deployment', 'chat'),
    ]),
    'a',
  );
  const fields = (manager: string, operation: string, spec: object) => ({
    manager,
    operation,
    fieldsV1: { 'f:spec': spec },
  });
  assert.equal(appliesReplicas([fields('tailor', 'Apply', { 'f:replicas': {} })], 'tailor'), true);
  assert.equal(appliesReplicas([fields('tailor', 'Apply', { 'f:template': {} })], 'tailor'), false);
  assert.equal(appliesReplicas([fields('tailor', 'Update', { 'f:replicas': {} })], 'tailor'), false);
  assert.equal(
    appliesReplicas([fields('kube-controller-manager', 'Update', { 'f:replicas': {} })], 'tailor'),
    false,
  );
  assert.equal(appliesReplicas(undefined, 'tailor'), false);
});

void test('a reconcile error in status is one line of what the apiserver said, no headers or body dump', () => {
  const apiErr = Object.assign(
    new Error('HTTP-Code: 403\nMessage: Unknown API Status Code!\nBody: {...}\nHeaders: {"audit-id":"x"}'),
    {
      code: 403,
      body: JSON.stringify({
        message: 'persistentvolumeclaims "chat-model-cache" is forbidden: exceeded quota: q',
        reason: 'Forbidden',
      }),
    },
  );
  const s = shortError(toTailorError('apply PersistentVolumeClaim acme/chat-model-cache', apiErr));
  assert.equal(
    s,
    'apply PersistentVolumeClaim acme/chat-model-cache: Forbidden (HTTP 403): persistentvolumeclaims "chat-model-cache" is forbidden: exceeded quota: q',
  );
  assert.equal(shortError(new Error('first\nHeaders: secret')), 'first');
});

void test('token reader: metadata only for the label check; the data only of a labelled Secret, in the given namespace', async () => {
  const { tokenSecrets } = await import('../../src/controllers/models/token.ts');
  const calls: { name: string; namespace: string; metadataOnly: boolean }[] = [];
  const stored: Record<string, { labels?: Record<string, string>; data: Record<string, string> }> = {
    'acme/hf': { labels: { 'tailor.dev/huggingface-token': 'true' }, data: { token: btoa('hf_ok\n') } },
    'acme/db': { data: { token: btoa('db-password') } },
  };
  const core = {
    readNamespacedSecret(p: { name: string; namespace: string }, options?: unknown) {
      calls.push({ ...p, metadataOnly: options !== undefined });
      const s = stored[`${p.namespace}/${p.name}`];
      if (!s) return Promise.reject(Object.assign(new Error('not found'), { code: 404, body: '{}' }));
      return Promise.resolve({
        metadata: { name: p.name, ...(s.labels ? { labels: s.labels } : {}) },
        ...(options === undefined ? { data: s.data } : {}),
      });
    },
  };
  const t = tokenSecrets(core as never);
  assert.deepEqual(await t.labels('acme', 'hf'), { 'tailor.dev/huggingface-token': 'true' });
  assert.deepEqual(await t.labels('acme', 'db'), {});
  assert.equal(await t.labels('acme', 'gone'), null);
  assert.ok(
    calls.every((c) => c.metadataOnly && c.namespace === 'acme'),
    'metadata only',
  );
  assert.equal(await t.read('acme', 'hf', 'token'), 'hf_ok');
  assert.equal(await t.read('acme', 'hf', 'other'), undefined);
  await assert.rejects(t.read('acme', 'db', 'token'), /lost the label tailor\.dev\/huggingface-token=true/);
});
