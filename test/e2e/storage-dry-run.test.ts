// The storage controller under `tailor operator --dry-run`: an Auto policy whose claim is filling
// is planned, said (status, Event) and never patched. A file of its own: the operator of
// storage.test.ts acts, this one only says.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { prometheusTarget, useCluster } from '../support/cluster.ts';
import { startTestOperator, type TestOperator } from '../support/operator.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import {
  Mi,
  createVolumePolicy,
  expectEvent,
  expectUntouched,
  expectVolumePolicy,
  fillingClaim,
  volumeCondition,
  volumeOf,
} from '../support/volumes.ts';

const cluster = useCluster(import.meta.url);
let prometheus: TestPrometheus | undefined;
let op: TestOperator | undefined;
before(async () => {
  prometheus = await startPrometheus(prometheusTarget());
  op = await startTestOperator(cluster, {
    dryRun: true,
    prometheusSources: [{ name: 'default', url: prometheus.url }],
    storage: { resyncMs: 5000, busyRequeueMs: 1000 },
  });
});
after(async () => {
  await op?.stop();
  await prometheus?.stop();
});

test('--dry-run: an expansion an Auto policy wants is said, never sent', async () => {
  await fillingClaim(cluster, {
    name: 'cache',
    size: '1Gi',
    labels: { tier: 'cache' },
    writtenBytes: 800 * Mi,
  });
  await createVolumePolicy(cluster, 'cache', {
    selector: { matchLabels: { tier: 'cache' } },
    mode: 'Auto',
    threshold: '40%',
    maxSize: '10Gi',
  });
  await expectVolumePolicy(cluster, 'cache', (p) => {
    const v = volumeOf(p, 'cache');
    assert.equal(v?.state, 'ExpansionRecommended', JSON.stringify(v));
    assert.match(v?.message ?? '', /not done: the operator runs with --dry-run/);
    assert.equal(volumeCondition(p, 'Ready')?.reason, 'DryRun');
  });
  await expectEvent(cluster, 'PersistentVolumeClaim', 'cache', 'ExpansionRecommended');
  await expectUntouched(cluster, 'cache', '1Gi');
});
