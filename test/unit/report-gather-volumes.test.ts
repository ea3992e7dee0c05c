// gatherVolumes: what the report and `tailor recommend` read for the volumes section, and how an
// unreadable source or class list becomes a note rather than a failed report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { gatherVolumes } from '../../src/report/gather.ts';
import type { VolumeStatsSource } from '../../src/sources/volume-stats.ts';
import type { VolumeSample } from '../../src/core/volume/index.ts';
import { TailorError } from '../../src/errors.ts';

const GiB = 2 ** 30;
const sample: VolumeSample = { at: 100, usedBytes: GiB, capacityBytes: 10 * GiB, availableBytes: 9 * GiB };

function source(read: VolumeStatsSource['read']): VolumeStatsSource & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    name: 'prometheus',
    calls,
    read: (since, namespaces) => {
      calls.push([since, namespaces]);
      return read(since, namespaces);
    },
  };
}

const claim = (
  namespace: string,
  name: string,
  cls: string,
  capacity: string,
): k8s.V1PersistentVolumeClaim => ({
  metadata: { namespace, name },
  spec: { storageClassName: cls },
  status: { capacity: { storage: capacity } },
});

void test("samples of the namespaces asked about, the claims' classes and billed capacity", async () => {
  const stats = source(() => Promise.resolve(new Map([['shop/cache', [sample]]])));
  const asked: unknown[] = [];
  const facts = await gatherVolumes(
    stats,
    {
      claims: (ns) => {
        asked.push(ns);
        return Promise.resolve([claim('shop', 'cache', 'gp3', '10Gi')]);
      },
      storageClasses: () =>
        Promise.resolve([
          { metadata: { name: 'gp3' }, provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3' } },
        ]),
    },
    50,
    ['shop'],
  );
  assert.deepEqual(stats.calls, [[50, ['shop']]]);
  assert.deepEqual(asked, [['shop']]);
  assert.equal(facts.source, 'prometheus');
  assert.equal(facts.samples.get('shop/cache')?.length, 1);
  assert.equal(facts.storageClassOf.get('shop/cache'), 'gp3');
  assert.equal(facts.claimCapacity?.get('shop/cache'), 10 * GiB);
  assert.deepEqual(facts.storageClasses, [
    { name: 'gp3', provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3' } },
  ]);
  assert.equal(facts.error, undefined);
});

void test('an unreadable source or class list is said, never thrown', async () => {
  const down = await gatherVolumes(
    source(() =>
      Promise.reject(new TailorError('ComponentFailed', 'Prometheus at http://p:9090 unreachable')),
    ),
    {},
    0,
    undefined,
  );
  assert.match(down.error ?? '', /unreachable/);
  assert.equal(down.samples.size, 0);
  const forbidden = await gatherVolumes(
    source(() => Promise.resolve(new Map([['shop/cache', [sample]]]))),
    {
      claims: () => Promise.resolve([]),
      storageClasses: () =>
        Promise.reject(new TailorError('KubernetesApi', 'listing StorageClasses: forbidden')),
    },
    0,
    undefined,
  );
  assert.match(forbidden.classesUnread ?? '', /forbidden/);
  assert.equal(forbidden.samples.size, 1, 'the samples still count');
});
