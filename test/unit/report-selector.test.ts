// `tailor report -l` on Tailor's records: the ledger keeps the labels a workload's pods share, so
// the records of deleted pods are selected like live ones; a record written before labels were kept
// counts only through a live pod of its workload that matches, and is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeLedger,
  EMPTY_LEDGER,
  encodeLedger,
  record,
  sharedLabels,
  type ContainerSample,
  type Ledger,
} from '../../src/core/report/ledger.ts';
import { gather, type ReportReader } from '../../src/report/gather.ts';
import type { SizingCheckpoint, SizingPolicy } from '../../src/api/index.ts';
import type { PodWithWorkload } from '../../src/sources/workloads.ts';
import { selectorFilter } from '../../src/cli/flags.ts';

const T0 = 1_800_000_000;
const pod = { requested: { cpu: 1, memory: 2 ** 30, gpu: 0 }, baseline: { cpu: 2, memory: 2 ** 31, gpu: 0 } };
const sample = (name: string, labels?: Record<string, string>): ContainerSample => ({
  workload: { kind: 'Deployment', name },
  container: 'app',
  ...(labels ? { labels } : {}),
  pods: [pod, pod],
  oomKills: 0,
  resizes: 0,
});
const ledgerOf = (...samples: ContainerSample[]): Ledger => {
  let l = EMPTY_LEDGER;
  for (let i = 0; i < 10; i++) l = record(l, T0 + i * 60, samples);
  return l;
};

test('sharedLabels: only what every pod carries with the same value (a pod-template-hash of two ReplicaSets drops out)', () => {
  assert.deepEqual(
    sharedLabels([
      { app: 'web', tier: 'front', 'pod-template-hash': 'a' },
      { app: 'web', tier: 'front', 'pod-template-hash': 'b' },
    ]),
    { app: 'web', tier: 'front' },
  );
  assert.deepEqual(sharedLabels([{ app: 'web' }, undefined]), {});
  assert.deepEqual(sharedLabels([]), {});
});

test('labels survive the codec; a ledger without them (older operator) still decodes', () => {
  const l = ledgerOf(sample('web', { app: 'web' }), sample('old'));
  const d = decodeLedger(encodeLedger(l).data);
  assert.equal(d.error, undefined);
  assert.deepEqual(d.ledger.containers.find((c) => c.workload.name === 'web')?.labels, { app: 'web' });
  assert.equal(d.ledger.containers.find((c) => c.workload.name === 'old')?.labels, undefined);
  // A later sample without labels keeps the last known ones.
  const later = record(l, T0 + 700, [sample('web')]);
  assert.deepEqual(later.containers.find((c) => c.workload.name === 'web')?.labels, { app: 'web' });
});

function reader(ledger: Ledger, live: PodWithWorkload[]): ReportReader {
  const policy = {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'SizingPolicy',
    metadata: { namespace: 'shop', name: 'all', uid: 'p1' },
    spec: { mode: 'InPlace', selector: {} },
  } as unknown as SizingPolicy;
  const checkpoint = {
    metadata: { namespace: 'shop', name: 'all', ownerReferences: [{ uid: 'p1' }] },
    spec: { ledger: { data: encodeLedger(ledger).data } },
  } as unknown as SizingCheckpoint;
  return {
    nodes: () => Promise.resolve([]),
    pods: () => Promise.resolve(live),
    policies: () => Promise.resolve([policy]),
    checkpoints: () => Promise.resolve([checkpoint]),
    configMap: () => Promise.resolve(undefined),
  };
}

const livePod = (name: string, labels: Record<string, string>): PodWithWorkload => ({
  pod: {
    metadata: { namespace: 'shop', name: `${name}-abc`, labels },
    spec: { containers: [] },
  },
  workload: { namespace: 'shop', kind: 'Deployment', name },
});

test('-l on the records: deleted pods by their kept labels; unlabelled ones through a matching live pod, named', async () => {
  const ledger = ledgerOf(
    sample('web', { app: 'web', tier: 'front' }), // every pod gone
    sample('batch', { app: 'batch' }),
    sample('legacy'), // written before labels: its workload still runs, pods labelled app=web
    sample('legacy-gone'), // no labels, nothing live: cannot be said to match
  );
  const lines: string[] = [];
  const selected = selectorFilter('app=web');
  const input = await gather(
    // The caller filters the live pods by -l (report.ts); here only legacy's pod matches.
    reader(ledger, [livePod('legacy', { app: 'web' })]),
    { sinceSeconds: 86_400, namespaces: ['shop'] },
    { now: () => T0 + 600, progress: (l) => lines.push(l), selected: (labels) => selected(labels) },
  );
  const kept = input.policies[0]!.ledger.containers.map((c) => c.workload.name).sort();
  assert.deepEqual(kept, ['legacy', 'web']);
  assert.ok(
    lines.some((l) => /-l: 1 record written before Tailor kept labels.*shop\/Deployment\/legacy/.test(l)),
    lines.join('\n'),
  );

  const all = await gather(
    reader(ledger, []),
    { sinceSeconds: 86_400, namespaces: ['shop'] },
    { now: () => T0 + 600 },
  );
  assert.equal(all.policies[0]!.ledger.containers.length, 4, 'no -l: every record');
});
