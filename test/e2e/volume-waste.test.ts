// Volume waste end to end: on the real control plane with the simulator's CSI driver and kubelet
// volume stats scraped by a real Prometheus, a mostly empty claim shows in `tailor recommend` and in
// `tailor report -o json` with its suggested size and monthly cost; a well-used one does not.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecommendReport } from '../../src/cli/commands/recommend-report.ts';
import type { Report, WastedVolume } from '../../src/core/report/model.ts';
import { installCrds } from '../../src/api/install.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { eventually, expectReady, prometheusTarget, simPod, useCluster } from '../support/cluster.ts';
import { runTailor, type CliResult } from '../support/cli.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const GiB = 2 ** 30;
/** The range every verdict covers: short, so the test does not wait long; the stats must cover 90% of it. */
const WINDOW_SECONDS = 90;
/** OpenCost's default, the price of a StorageClass whose provisioner is in no sheet (the simulator's). */
const DEFAULT_GIB_MONTH = 0.04;
const work = mkdtempSync(join(tmpdir(), 'tailor-volume-waste-'));
after(() => rmSync(work, { recursive: true, force: true }));

function tailor(...args: string[]): Promise<CliResult> {
  return runTailor(args, { kubeconfig: cluster.kubeconfigPath, home: work, timeoutMs: 180_000 });
}

/** A claim of the simulator's StorageClass, and a pod that writes `bytes` into it. */
async function filledClaim(name: string, size: string, bytes: number): Promise<void> {
  const { core, namespace } = cluster;
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        storageClassName: 'tailor-sim',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: size } },
      },
    },
  });
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: `writer-${name}`,
      profile: 'idle',
      params: { startupSeconds: 0, volumeBytes: bytes, noise: 0 },
      resources: { requests: { cpu: '10m', memory: '32Mi' } },
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }],
      mounts: [{ name: 'data', mountPath: '/data' }],
    }),
  });
  await expectReady(core, namespace, `writer-${name}`);
}

/** The empty claim's verdict, the same whichever command printed it. */
function expectWasted(w: WastedVolume | undefined): void {
  assert.ok(w, 'the mostly empty claim is listed');
  assert.equal(w.capacityBytes, 10 * GiB, "priced by the claim's capacity");
  assert.ok(w.peakUsedBytes >= 200 * Mi && w.peakUsedBytes < GiB, `peak ${w.peakUsedBytes}`);
  // 200Mi and its file system's metadata, 10% free: one or two GiB, never the whole claim.
  assert.ok(w.suggestedBytes >= GiB && w.suggestedBytes <= 2 * GiB, `suggested ${w.suggestedBytes}`);
  assert.equal(w.suggestedBytes % GiB, 0, 'whole GiB');
  assert.equal(w.storageClass, 'tailor-sim');
  assert.equal(w.monthlyCost, 10 * DEFAULT_GIB_MONTH);
  assert.equal(
    w.wasteMonthlyCost,
    Math.round(((10 * GiB - w.suggestedBytes) / GiB) * DEFAULT_GIB_MONTH * 100) / 100,
  );
  assert.equal(w.currency, 'USD');
}

test('a mostly empty volume shows in `tailor recommend` and the report with its suggested size and cost; a well-used one does not', async (t) => {
  const { namespace } = cluster;
  // Prometheus first: the stats must cover the window from its start.
  const prometheus = await startPrometheus(prometheusTarget());
  t.after(() => prometheus.stop());
  await filledClaim('empty', '10Gi', 200 * Mi);
  await filledClaim('full', '1Gi', 800 * Mi);

  // Wait until both claims' stats are steady over a whole window (a claim still filling grows, and
  // its growth carried a month forward would suggest no smaller volume) and cover it.
  const instant = async (q: string) => {
    const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    return ((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
  };
  const range = `${WINDOW_SECONDS + 10}s`;
  const sel = `kubelet_volume_stats_used_bytes{namespace="${namespace}"}`;
  await eventually(
    async () => {
      const steady = await instant(`changes(${sel}[${range}]) == 0`);
      const covered = await instant(`count_over_time(${sel}[${range}]) >= ${WINDOW_SECONDS}`);
      assert.equal(steady.length, 2, `claims with steady stats: ${steady.length}`);
      assert.equal(covered.length, 2, `claims with ${range} of stats: ${covered.length}`);
    },
    { timeoutMs: 300_000, intervalMs: 2000, what: `${range} of steady volume stats in Prometheus` },
  );

  // 1. tailor recommend, JSON and table.
  const json = await tailor(
    'recommend',
    '-n',
    namespace,
    '--prometheus',
    prometheus.url,
    '--window',
    `${WINDOW_SECONDS}s`,
    '--sample-for',
    '0s',
    '-o',
    'json',
  );
  assert.equal(json.code, 0, json.stderr);
  const rec = JSON.parse(json.stdout) as RecommendReport;
  assert.ok(rec.volumes, 'a volumes section');
  assert.equal(rec.volumes.claims, 2, JSON.stringify(rec.volumes));
  expectWasted(rec.volumes.wasted.find((w) => w.claim === 'empty'));
  assert.equal(
    rec.volumes.wasted.find((w) => w.claim === 'full'),
    undefined,
    '800Mi of 1Gi is well used',
  );
  assert.ok(
    rec.volumes.wasted.every((w) => w.namespace === namespace),
    'only the namespace asked about',
  );

  const table = await tailor(
    'recommend',
    '-n',
    namespace,
    '--prometheus',
    prometheus.url,
    '--window',
    `${WINDOW_SECONDS}s`,
    '--sample-for',
    '0s',
  );
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /volumes: 2 with stats from prometheus \(window 90s\), 1 never half full/);
  assert.match(
    table.stdout,
    new RegExp(
      `${namespace}\\s+empty\\s+tailor-sim\\s+10Gi\\s+\\S+\\s+[12]Gi\\s+0\\.40 USD\\s+0\\.3[26] USD`,
    ),
  );
  assert.doesNotMatch(table.stdout, /\sfull\s+tailor-sim/);

  // 2. tailor report -o json: the same verdict in the report's volumes section (the report reads
  // SizingPolicies too: their CRDs must exist).
  await installCrds(cluster.ext);
  const rep = await tailor(
    'report',
    '-n',
    namespace,
    '--since',
    `${WINDOW_SECONDS}s`,
    '--prometheus',
    prometheus.url,
    '-o',
    'json',
  );
  assert.equal(rep.code, 0, rep.stderr);
  const report = JSON.parse(rep.stdout) as Report;
  assert.ok(report.volumes, 'the report has a volumes section');
  expectWasted(report.volumes.wasted.find((w) => w.claim === 'empty'));
  assert.equal(
    report.volumes.wasted.find((w) => w.claim === 'full'),
    undefined,
  );
  assert.deepEqual(
    report.volumes.namespaces.map((n) => [n.namespace, n.volumes]),
    [[namespace, 1]],
  );
});
