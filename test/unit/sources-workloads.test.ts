import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  WorkloadResolver,
  inferWorkloadFromPodName,
  ownerIndex,
  workloadKey,
  workloadOf,
  type OwnerLink,
  type OwnerLookup,
  type WorkloadRef,
} from '../../src/sources/workloads.ts';

const NS = 'shop';

function pod(
  name: string,
  owner?: { kind: string; name: string; uid?: string },
  labels: Record<string, string> = {},
): k8s.V1Pod {
  return {
    metadata: {
      name,
      namespace: NS,
      labels,
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: owner.kind,
                name: owner.name,
                uid: owner.uid ?? `uid-${owner.name}`,
                controller: true,
              },
            ],
          }
        : {}),
    },
  };
}

function owned(kind: string, name: string, owner?: { kind: string; name: string }) {
  return {
    kind,
    metadata: {
      name,
      namespace: NS,
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'x/v1', kind: owner.kind, name: owner.name, uid: 'u', controller: true },
            ],
          }
        : {}),
    },
  };
}

const index = new Map([
  ...ownerIndex(
    [owned('ReplicaSet', 'web-7d9f8', { kind: 'Deployment', name: 'web' }), owned('ReplicaSet', 'bare-rs')],
    'ReplicaSet',
  ),
  ...ownerIndex([owned('ReplicaSet', 'canary-5f6', { kind: 'Rollout', name: 'canary' })], 'ReplicaSet'),
  ...ownerIndex(
    [owned('Job', 'nightly-28000000', { kind: 'CronJob', name: 'nightly' }), owned('Job', 'migrate')],
    'Job',
  ),
]);
const lookup: OwnerLookup = (ns, kind, name) => index.get(`${kind}/${ns}/${name}`);

test('workloadOf follows controller ownerReferences to the workload', () => {
  const cases: [string, k8s.V1Pod, Omit<WorkloadRef, 'namespace'>][] = [
    ['bare pod', pod('debug'), { kind: 'Pod', name: 'debug' }],
    [
      'Deployment through its ReplicaSet',
      pod('web-7d9f8-abcde', { kind: 'ReplicaSet', name: 'web-7d9f8' }),
      { kind: 'Deployment', name: 'web' },
    ],
    [
      'ReplicaSet without a controller',
      pod('bare-rs-abcde', { kind: 'ReplicaSet', name: 'bare-rs' }),
      { kind: 'ReplicaSet', name: 'bare-rs' },
    ],
    [
      'unlisted ReplicaSet named <deployment>-<pod-template-hash>',
      pod('api-6c8b9-xyz12', { kind: 'ReplicaSet', name: 'api-6c8b9' }, { 'pod-template-hash': '6c8b9' }),
      { kind: 'Deployment', name: 'api' },
    ],
    [
      'unlisted ReplicaSet, no hash label',
      pod('x-1-abcde', { kind: 'ReplicaSet', name: 'x-1' }),
      { kind: 'ReplicaSet', name: 'x-1' },
    ],
    [
      'ReplicaSet of a custom controller',
      pod('canary-5f6-abcde', { kind: 'ReplicaSet', name: 'canary-5f6' }),
      { kind: 'Custom', name: 'canary', ownerKind: 'Rollout' },
    ],
    ['StatefulSet', pod('db-0', { kind: 'StatefulSet', name: 'db' }), { kind: 'StatefulSet', name: 'db' }],
    [
      'DaemonSet',
      pod('agent-abcde', { kind: 'DaemonSet', name: 'agent' }),
      { kind: 'DaemonSet', name: 'agent' },
    ],
    [
      'CronJob through its Job',
      pod('nightly-28000000-abcde', { kind: 'Job', name: 'nightly-28000000' }),
      { kind: 'CronJob', name: 'nightly' },
    ],
    ['bare Job', pod('migrate-abcde', { kind: 'Job', name: 'migrate' }), { kind: 'Job', name: 'migrate' }],
    [
      'custom controller owning pods',
      pod('vm-1', { kind: 'VirtualMachine', name: 'vm' }),
      { kind: 'Custom', name: 'vm', ownerKind: 'VirtualMachine' },
    ],
  ];
  for (const [what, p, want] of cases)
    assert.deepEqual(workloadOf(p, lookup), { namespace: NS, ...want }, what);
});

test('a non-controller owner reference is not the workload', () => {
  const p = pod('lonely');
  p.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u' }];
  assert.deepEqual(workloadOf(p, lookup), { namespace: NS, kind: 'Pod', name: 'lonely' });
});

test('workload keys tell kinds and custom controllers apart', () => {
  const keys = [
    workloadKey({ namespace: NS, kind: 'Deployment', name: 'a' }),
    workloadKey({ namespace: NS, kind: 'StatefulSet', name: 'a' }),
    workloadKey({ namespace: NS, kind: 'Custom', name: 'a', ownerKind: 'Rollout' }),
    workloadKey({ namespace: NS, kind: 'Custom', name: 'a', ownerKind: 'Other' }),
    workloadKey({ namespace: 'other', kind: 'Deployment', name: 'a' }),
  ];
  assert.equal(new Set(keys).size, keys.length);
});

test('pods that are gone are matched to workloads by the names their controllers give', () => {
  const known: WorkloadRef[] = [
    { namespace: NS, kind: 'Deployment', name: 'web' },
    { namespace: NS, kind: 'Deployment', name: 'web-api' },
    { namespace: NS, kind: 'StatefulSet', name: 'db' },
    { namespace: NS, kind: 'DaemonSet', name: 'agent' },
    { namespace: NS, kind: 'CronJob', name: 'nightly' },
  ];
  const cases: [string, string | undefined][] = [
    ['web-7d9f8c6b5-abcde', 'web'],
    ['web-api-7d9f8c6b5-abcde', 'web-api'],
    ['db-12', 'db'],
    ['agent-x2k9p', 'agent'],
    ['nightly-28000000-q8w7e', 'nightly'],
    ['db-primary', undefined],
    ['unrelated-abcde', undefined],
  ];
  for (const [name, want] of cases) assert.equal(inferWorkloadFromPodName(NS, name, known)?.name, want, name);
  assert.equal(inferWorkloadFromPodName('elsewhere', 'db-0', known), undefined);
});

test('the resolver reads each ReplicaSet once per TTL, and again when its uid changes', async () => {
  let now = 0;
  const reads: string[] = [];
  const owners: Record<string, OwnerLink | null> = { 'web-1': { kind: 'Deployment', name: 'web' } };
  const resolver = new WorkloadResolver({
    fetchOwner: (_ns, _kind, name) => {
      reads.push(name);
      return Promise.resolve(owners[name]);
    },
    ttlMs: 1000,
    now: () => now,
  });
  const p = pod('web-1-aaaaa', { kind: 'ReplicaSet', name: 'web-1', uid: 'a' });
  assert.deepEqual(await resolver.resolve(p), { namespace: NS, kind: 'Deployment', name: 'web' });
  await resolver.resolve(pod('web-1-bbbbb', { kind: 'ReplicaSet', name: 'web-1', uid: 'a' }));
  assert.equal(reads.length, 1);
  await resolver.resolve(pod('web-1-ccccc', { kind: 'ReplicaSet', name: 'web-1', uid: 'b' }));
  assert.equal(reads.length, 2, 'a recreated ReplicaSet (new uid) is read again');
  now = 5000;
  await resolver.resolve(p);
  assert.equal(reads.length, 3, 'expired entries are read again');
  assert.deepEqual(
    await resolver.resolve(pod('gone-aaaaa', { kind: 'ReplicaSet', name: 'gone', uid: 'c' })),
    {
      namespace: NS,
      kind: 'ReplicaSet',
      name: 'gone',
    },
  );
});
