// The storage controller end to end: the real control plane, the simulator's volumes filling and
// its CSI resizer (with its failures), a real Prometheus scraping the simulated kubelet volume
// stats, and the operator reading them (its Prometheus source "default"). The tests run at once:
// each waits for the kubelet's once-a-minute stats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeClients } from '../../src/kube/client.ts';
import { apiError, eventually, prometheusTarget, useCluster } from '../support/cluster.ts';
import { startTestOperator, type TestOperator } from '../support/operator.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import {
  FIXED_CLASS,
  Gi,
  Mi,
  createVolumePolicy,
  expectEvent,
  expectExpanded,
  expectUntouched,
  expectVolumePolicy,
  fillingClaim,
  SIM_CLASS,
  mergePatchHeader,
  readClaim,
  volumeCondition,
  volumeOf,
} from '../support/volumes.ts';

const cluster = useCluster(import.meta.url);
let prometheus: TestPrometheus | undefined;
let op: TestOperator | undefined;
before(async () => {
  prometheus = await startPrometheus(prometheusTarget());
  op = await startTestOperator(cluster, {
    prometheusSources: [{ name: 'default', url: prometheus.url }],
    storage: { resyncMs: 5000, busyRequeueMs: 1000 },
  });
});
after(async () => {
  await op?.stop();
  await prometheus?.stop();
});

describe('VolumePolicy', { concurrency: true }, () => {
  test('a filling volume is expanded before it is full, with Events, status and metrics', async () => {
    // 700Mi at once, then 3Gi/h (50Mi a minute) on 1Gi: below 40% free at the first stats.
    await fillingClaim(cluster, {
      name: 'cache',
      size: '1Gi',
      labels: { tier: 'cache' },
      writtenBytes: 700 * Mi,
      cacheBytesPerHour: 3 * Gi,
    });
    await createVolumePolicy(cluster, 'cache', {
      selector: { matchLabels: { tier: 'cache' } },
      threshold: '40%',
      maxSize: '10Gi',
      cooldown: '1m',
    });
    const claim = await expectExpanded(cluster, 'cache', '2Gi');
    assert.ok(claim.metadata?.annotations?.['tailor.dev/last-expansion'], 'the cooldown is on the claim');
    await expectEvent(cluster, 'PersistentVolumeClaim', 'cache', 'Expanding');
    await expectEvent(cluster, 'PersistentVolumeClaim', 'cache', 'Expanded');
    await expectEvent(cluster, 'VolumePolicy', 'cache', 'Expanded');
    const p = await expectVolumePolicy(cluster, 'cache', (p) => {
      const v = volumeOf(p, 'cache');
      assert.equal(v?.lastExpansion?.result, 'Succeeded', JSON.stringify(v));
      assert.equal(v?.lastExpansion?.from, '1Gi');
      assert.ok(v?.used && v.capacity && v.usedPercent !== undefined, JSON.stringify(v));
      assert.equal(volumeCondition(p, 'Ready')?.status, 'True', JSON.stringify(p.status?.conditions));
      assert.equal(volumeCondition(p, 'ClaimsFound')?.status, 'True');
      assert.equal(volumeCondition(p, 'ExpansionAllowed')?.status, 'True');
    });
    assert.equal(p.status?.source, 'prometheus');
    // Never full: the simulated kubelet records VolumeFull when a write is refused.
    const full = await cluster.core.listNamespacedEvent({
      namespace: cluster.namespace,
      fieldSelector: 'involvedObject.name=cache,reason=VolumeFull',
    });
    assert.equal(full.items.length, 0, 'the volume filled up before it was expanded');
    const metrics = await (await fetch(`${op!.url}/metrics`)).text();
    assert.match(metrics, /tailor_volume_expansions_total\{result="succeeded"\} [1-9]/);
    assert.match(
      metrics,
      /tailor_volume_capacity_bytes\{namespace="[^"]+",persistentvolumeclaim="cache"\} \d/,
    );
  });

  test('a StorageClass without expansion gets a condition, and the claim is never patched', async () => {
    await fillingClaim(cluster, {
      name: 'fixed',
      size: '1Gi',
      storageClass: FIXED_CLASS,
      labels: { tier: 'fixed' },
      writtenBytes: 800 * Mi,
    });
    await createVolumePolicy(cluster, 'fixed', {
      selector: { matchLabels: { tier: 'fixed' } },
      threshold: '40%',
      maxSize: '10Gi',
    });
    await expectVolumePolicy(cluster, 'fixed', (p) => {
      const c = volumeCondition(p, 'ExpansionAllowed');
      assert.equal(c?.status, 'False', JSON.stringify(p.status));
      assert.equal(c?.reason, 'StorageClassDisallows');
      assert.match(c?.message ?? '', /fixed \(tailor-sim-fixed\) does not allow volume expansion/);
      assert.equal(volumeOf(p, 'fixed')?.state, 'NotExpandable');
    });
    await expectEvent(cluster, 'PersistentVolumeClaim', 'fixed', 'NotExpandable', 'Warning');
    await expectUntouched(cluster, 'fixed', '1Gi');
  });

  test('an expansion the quota refuses is recovered (Kubernetes 1.34+: the request lowered, never below capacity)', async () => {
    // Step 300%: 1Gi -> 4Gi, past the simulated cloud's 2Gi quota; the recovery asks for 2Gi.
    await fillingClaim(cluster, {
      name: 'quota',
      size: '1Gi',
      labels: { tier: 'quota' },
      annotations: { 'sim.tailor.dev/volume-quota': '2Gi' },
      writtenBytes: 700 * Mi,
    });
    await createVolumePolicy(cluster, 'quota', {
      selector: { matchLabels: { tier: 'quota' } },
      threshold: '50%',
      step: '300%',
      maxSize: '10Gi',
      cooldown: '1h',
    });
    const failed = await expectEvent(cluster, 'PersistentVolumeClaim', 'quota', 'ExpansionFailed', 'Warning');
    assert.match(failed[0]?.message ?? '', /ControllerResizeInfeasible.*exceeds the volume quota of 2Gi/);
    await expectEvent(cluster, 'PersistentVolumeClaim', 'quota', 'Recovering');
    const claim = await expectExpanded(cluster, 'quota', '2Gi');
    assert.equal(claim.spec?.resources?.requests?.storage, '2Gi');
    assert.equal(claim.status?.allocatedResourceStatuses?.storage, undefined);
    await expectEvent(cluster, 'PersistentVolumeClaim', 'quota', 'Recovered');
    await expectVolumePolicy(cluster, 'quota', (p) =>
      assert.equal(
        volumeOf(p, 'quota')?.lastExpansion?.result,
        'Recovered',
        JSON.stringify(p.status?.volumes),
      ),
    );
  });

  test('a volume at its maximum raises a warning Event and is not grown past it', async () => {
    await fillingClaim(cluster, {
      name: 'capped',
      size: '1Gi',
      labels: { tier: 'capped' },
      writtenBytes: 800 * Mi,
    });
    await createVolumePolicy(cluster, 'capped', {
      selector: { matchLabels: { tier: 'capped' } },
      threshold: '30%',
      maxSize: '1Gi',
    });
    const [e] = await expectEvent(cluster, 'PersistentVolumeClaim', 'capped', 'AtMaximum', 'Warning');
    assert.match(e?.message ?? '', /is at its maximum size 1\.0Gi/);
    await expectEvent(cluster, 'VolumePolicy', 'capped', 'AtMaximum', 'Warning');
    await expectVolumePolicy(cluster, 'capped', (p) => {
      assert.equal(
        volumeCondition(p, 'WithinMaximum')?.reason,
        'AtMaximum',
        JSON.stringify(p.status?.conditions),
      );
      assert.equal(volumeOf(p, 'capped')?.state, 'AtMaximum');
    });
    await expectUntouched(cluster, 'capped', '1Gi');
  });

  test('mode Recommend says what it would expand and patches nothing', async () => {
    await fillingClaim(cluster, {
      name: 'advised',
      size: '1Gi',
      labels: { tier: 'advised' },
      writtenBytes: 800 * Mi,
    });
    await createVolumePolicy(cluster, 'advised', {
      selector: { matchLabels: { tier: 'advised' } },
      mode: 'Recommend',
      threshold: '40%',
      maxSize: '10Gi',
    });
    await expectVolumePolicy(cluster, 'advised', (p) => {
      const v = volumeOf(p, 'advised');
      assert.equal(v?.state, 'ExpansionRecommended', JSON.stringify(v));
      assert.match(v?.message ?? '', /expanding .* from 1\.0Gi to 2\.0Gi.*not done: mode Recommend/);
      assert.equal(volumeCondition(p, 'Ready')?.reason, 'Recommending');
    });
    await expectEvent(cluster, 'PersistentVolumeClaim', 'advised', 'ExpansionRecommended');
    await expectUntouched(cluster, 'advised', '1Gi');
  });

  test('a node step that fails (NodeResizeInfeasible) is said, recovered once, then reported stuck', async () => {
    await fillingClaim(cluster, {
      name: 'nodefail',
      size: '1Gi',
      labels: { tier: 'nodefail' },
      annotations: { 'sim.tailor.dev/node-resize': 'Fail' },
      writtenBytes: 700 * Mi,
    });
    await createVolumePolicy(cluster, 'nodefail', {
      selector: { matchLabels: { tier: 'nodefail' } },
      threshold: '50%',
      step: '300%',
      maxSize: '10Gi',
      cooldown: '1h',
    });
    const [failed] = await expectEvent(
      cluster,
      'PersistentVolumeClaim',
      'nodefail',
      'ExpansionFailed',
      'Warning',
    );
    assert.match(failed?.message ?? '', /NodeResizeInfeasible.*resize2fs/);
    await expectEvent(cluster, 'PersistentVolumeClaim', 'nodefail', 'Recovering');
    // The node fails the 2Gi too; 2Gi is the least Kubernetes lets the request go back to.
    await expectEvent(cluster, 'PersistentVolumeClaim', 'nodefail', 'ExpansionStuck', 'Warning');
    const c = await readClaim(cluster, 'nodefail');
    assert.equal(c.spec?.resources?.requests?.storage, '2Gi');
    assert.equal(c.status?.capacity?.storage, '1Gi');
  });

  test("pvc-autoresizer's annotations are honoured without a VolumePolicy", async (t) => {
    // The annotation pvc-autoresizer requires on the StorageClass, for this test only.
    const annotate = (value: string | null) =>
      makeClients(cluster.kc).storage.patchStorageClass(
        { name: SIM_CLASS, body: { metadata: { annotations: { 'resize.topolvm.io/enabled': value } } } },
        mergePatchHeader,
      );
    await annotate('true');
    t.after(() => annotate(null));
    await fillingClaim(cluster, {
      name: 'legacy',
      size: '1Gi',
      annotations: {
        'resize.topolvm.io/storage_limit': '5Gi',
        'resize.topolvm.io/threshold': '50%',
        'resize.topolvm.io/increase': '1Gi',
      },
      writtenBytes: 700 * Mi,
    });
    const claim = await expectExpanded(cluster, 'legacy', '2Gi');
    assert.ok(claim.metadata?.annotations?.['tailor.dev/last-expansion']);
    await expectEvent(cluster, 'PersistentVolumeClaim', 'legacy', 'Expanding');
    await expectEvent(cluster, 'PersistentVolumeClaim', 'legacy', 'Expanded');
  });

  test('bad policies: refused at the apiserver, or a condition and nothing resized', async () => {
    const refused = async (spec: Record<string, unknown>, message: RegExp) => {
      const err = await createVolumePolicy(cluster, 'bad', spec).then(
        () => assert.fail(`created: ${JSON.stringify(spec)}`),
        (e: unknown) => apiError(e),
      );
      assert.equal(err.code, 422, err.message);
      assert.match(err.message, message);
    };
    const selector = { matchLabels: { tier: 'big' } };
    await refused(
      { selector, threshold: '150%', maxSize: '10Gi' },
      /threshold 150% is out of range: a percentage must be above 0% and at most 99%/,
    );
    await refused({ selector, step: '0', maxSize: '10Gi' }, /step 0 must be above 0/);
    await refused({ selector, maxSize: 'lots' }, /maxSize.*must be a Kubernetes quantity/);
    await refused(
      { maxSize: '10Gi' },
      /set exactly one of targetRef \(a workload\) or selector \(claims by label\)/,
    );

    // A selector matching nothing: a condition.
    await createVolumePolicy(cluster, 'nothing', {
      selector: { matchLabels: { tier: 'nowhere' } },
      maxSize: '10Gi',
    });
    await expectVolumePolicy(cluster, 'nothing', (p) => {
      const c = volumeCondition(p, 'ClaimsFound');
      assert.equal(c?.status, 'False', JSON.stringify(p.status));
      assert.equal(c?.reason, 'NoClaims');
      assert.match(c?.message ?? '', /no PersistentVolumeClaim in namespace .* matches the selector/);
    });

    // A maximum below the current size: a condition, and the claim is left as it is.
    await fillingClaim(cluster, {
      name: 'big',
      size: '2Gi',
      labels: { tier: 'big' },
      writtenBytes: 1800 * Mi,
    });
    await createVolumePolicy(cluster, 'big', { selector, threshold: '40%', maxSize: '1Gi' });
    await expectVolumePolicy(cluster, 'big', (p) => {
      const c = volumeCondition(p, 'WithinMaximum');
      assert.equal(c?.reason, 'MaxBelowCurrentSize', JSON.stringify(p.status?.conditions));
      assert.match(c?.message ?? '', /maxSize 1Gi is below the current size of big \(2Gi\)/);
      assert.equal(volumeCondition(p, 'Ready')?.status, 'False');
    });
    await expectUntouched(cluster, 'big', '2Gi');
  });
});

test('the claims a StatefulSet targetRef covers are its volumeClaimTemplates, and only in the policy namespace', async () => {
  await cluster.apps.createNamespacedStatefulSet({
    namespace: cluster.namespace,
    body: {
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: {
            labels: { app: 'db' },
            annotations: {
              'sim.tailor.dev/profile': 'idle',
              'sim.tailor.dev/params': '{"startupSeconds":0}',
            },
          },
          spec: {
            nodeSelector: { 'sim.tailor.dev/pool': 'general' },
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'app',
                image: 'example.com/db:1',
                resources: { requests: { cpu: '10m', memory: '32Mi' } },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              storageClassName: 'tailor-sim',
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '1Gi' } },
            },
          },
        ],
      },
    },
  });
  await createVolumePolicy(cluster, 'db', {
    targetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' },
    maxSize: '10Gi',
  });
  const p = await expectVolumePolicy(cluster, 'db', (p) => {
    assert.equal(volumeCondition(p, 'ClaimsFound')?.status, 'True', JSON.stringify(p.status));
    assert.deepEqual(
      p.status?.volumes?.map((v) => v.claim),
      ['data-db-0'],
    );
  });
  assert.equal(p.status?.target, 'StatefulSet/db');
  await eventually(async () => assert.equal((await readClaim(cluster, 'data-db-0')).status?.phase, 'Bound'));
});
