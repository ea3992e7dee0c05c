// The storage controller's pure parts: which claims a policy covers, a claim as the planner sees it,
// and the usage cache (incremental reads, a failing source reported, never thrown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  claimState,
  coveredClaims,
  LAST_EXPANSION_ANNOTATION,
} from '../../src/controllers/storage/claims.ts';
import { VolumeUsage } from '../../src/controllers/storage/usage.ts';
import type { VolumeSample } from '../../src/core/volume/index.ts';
import type { VolumeStatsSource } from '../../src/sources/volume-stats.ts';
import { TailorError } from '../../src/errors.ts';

const Gi = 2 ** 30;
const pvc = (
  name: string,
  labels: Record<string, string> = {},
  extra: Partial<k8s.V1PersistentVolumeClaim> = {},
) =>
  ({
    metadata: { name, namespace: 'team', labels },
    spec: { resources: { requests: { storage: '10Gi' } }, storageClassName: 'fast' },
    status: { phase: 'Bound', capacity: { storage: '10Gi' } },
    ...extra,
  }) as k8s.V1PersistentVolumeClaim;

test('a selector covers claims by label; a StatefulSet its volumeClaimTemplates and mounted claims', () => {
  const all = [
    pvc('data-db-0', { app: 'db' }),
    pvc('data-db-1'),
    pvc('data-dbx-0'),
    pvc('shared'),
    pvc('other'),
  ];
  const bySelector = coveredClaims({ selector: { matchLabels: { app: 'db' } } }, all, undefined);
  assert.deepEqual(
    bySelector.map((c) => c.metadata?.name),
    ['data-db-0'],
  );
  const sts: k8s.V1StatefulSet = {
    metadata: { name: 'db' },
    spec: {
      serviceName: 'db',
      selector: {},
      template: {
        spec: { containers: [], volumes: [{ name: 's', persistentVolumeClaim: { claimName: 'shared' } }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' } }],
    },
  };
  const byTarget = coveredClaims(
    { targetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' } },
    all,
    { kind: 'StatefulSet', object: sts },
  );
  assert.deepEqual(
    byTarget.map((c) => c.metadata?.name),
    ['data-db-0', 'data-db-1', 'shared'],
  );
  // A missing workload covers nothing.
  assert.deepEqual(
    coveredClaims({ targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' } }, all, undefined),
    [],
  );
});

test('claimState: sizes, the resize status, conditions, the StorageClass, the later of two last expansions', () => {
  const c = pvc(
    'd',
    {},
    {
      metadata: {
        name: 'd',
        namespace: 'team',
        annotations: { [LAST_EXPANSION_ANNOTATION]: '2026-01-01T01:00:00Z' },
      },
      spec: { resources: { requests: { storage: '20Gi' } } },
      status: {
        phase: 'Bound',
        capacity: { storage: '10Gi' },
        allocatedResources: { storage: '20Gi' },
        allocatedResourceStatuses: { storage: 'ControllerResizeInfeasible' },
        conditions: [{ type: 'Resizing', status: 'True' }],
      },
    },
  );
  const s = claimState(
    c,
    { metadata: { name: 'fast' }, provisioner: 'x', allowVolumeExpansion: true },
    Date.parse('2026-01-01T00:00:00Z') / 1000,
  );
  assert.deepEqual(s, {
    namespace: 'team',
    name: 'd',
    requestBytes: 20 * Gi,
    capacityBytes: 10 * Gi,
    allocatedBytes: 20 * Gi,
    resizeStatus: 'ControllerResizeInfeasible',
    resizing: true,
    expandable: true,
    lastExpansionAt: Date.parse('2026-01-01T01:00:00Z') / 1000,
  });
  assert.equal(claimState(pvc('e'), undefined, undefined).expandable, false);
});

const sample = (at: number, used: number): VolumeSample => ({
  at,
  usedBytes: used,
  capacityBytes: 10 * Gi,
  availableBytes: 10 * Gi - used,
});

test('VolumeUsage reads a day once, then incrementally; a failing source is a result, not a throw', async () => {
  const reads: number[] = [];
  let fail = false;
  const source: VolumeStatsSource = {
    name: 'memory',
    read(since) {
      reads.push(since);
      if (fail) return Promise.reject(new TailorError('Prerequisite', 'Prometheus is down'));
      return Promise.resolve(new Map([['team/d', [sample(since + 10, 1), sample(1_000_000, 2)]]]));
    },
  };
  const u = new VolumeUsage(source, { reuseSeconds: 20, overlapSeconds: 300, windowSeconds: 86_400 });
  const r1 = await u.read('team', 1_000_000);
  assert.ok(r1.ok);
  assert.equal(reads[0], 1_000_000 - 86_400);
  await u.read('team', 1_000_010); // within reuseSeconds: no read
  assert.equal(reads.length, 1);
  const r2 = await u.read('team', 1_000_060);
  assert.equal(reads[1], 1_000_000 - 300);
  assert.ok(r2.ok);
  // The first read's oldest sample fell out of the day; the overlap's is new.
  assert.deepEqual(
    r2.samples('d').map((s) => s.at),
    [1_000_000 - 300 + 10, 1_000_000],
  );
  fail = true;
  const r3 = await u.read('team', 1_000_200);
  assert.equal(r3.ok, false);
});
