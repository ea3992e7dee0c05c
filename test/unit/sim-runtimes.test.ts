import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagValue, runtimeOf } from '../../src/sim/runtimes/identify.ts';
import { PRESET_IMAGES } from '../../src/controllers/models/presets.ts';

test('each preset image is told apart by its repository', () => {
  assert.equal(runtimeOf({ name: 's', image: PRESET_IMAGES.vllm }), 'vllm');
  assert.equal(runtimeOf({ name: 's', image: PRESET_IMAGES.llamacpp }), 'llamacpp');
  assert.equal(runtimeOf({ name: 's', image: PRESET_IMAGES.llamacppCuda }), 'llamacpp');
  assert.equal(runtimeOf({ name: 's', image: PRESET_IMAGES.tgi }), 'tgi');
  assert.equal(runtimeOf({ name: 's', image: PRESET_IMAGES.ollama }), 'ollama');
  assert.equal(runtimeOf({ name: 's', image: 'registry.local:5000/team/vllm-openai@sha256:abc' }), 'vllm');
});

test('an ordinary app is no runtime; an in-house image is told by its program', () => {
  assert.equal(runtimeOf({ name: 'web', image: 'nginx:1.27' }), undefined);
  assert.equal(runtimeOf({ name: 's', image: 'acme/llm:1', command: ['/app/llama-server'] }), 'llamacpp');
  assert.equal(
    runtimeOf({
      name: 's',
      image: 'acme/llm:1',
      command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
    }),
    'vllm',
  );
});

test('flags are read in both spellings, the last one winning', () => {
  const c = { name: 's', args: ['--max-model-len', '4096', '-c', '8192', '--max-model-len=2048'] };
  assert.equal(flagValue(c, '--max-model-len'), '2048');
  assert.equal(flagValue(c, '-c', '--ctx-size'), '8192');
  assert.equal(flagValue(c, '--dtype'), undefined);
});
