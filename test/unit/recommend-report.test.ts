import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  formatChange,
  render,
  resourceReport,
  usageStats,
  type ContainerReport,
  type RecommendReport,
} from '../../src/cli/commands/recommend-report.ts';
import {
  currentResources,
  estimateOf,
  groupContainers,
  oomsFromPods,
} from '../../src/cli/commands/recommend.ts';
import type { WorkloadRef } from '../../src/sources/workloads.ts';
import { volumeWasteReport } from '../../src/core/report/volumes.ts';

const Mi = 2 ** 20;

test('usage percentiles are nearest-rank over the values', () => {
  assert.equal(usageStats([]), null);
  assert.deepEqual(usageStats([5]), { p50: 5, p95: 5, max: 5 });
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(usageStats(hundred), { p50: 50, p95: 95, max: 100 });
});

test('no samples, no recommendation, whatever the recommender would say', () => {
  const r = resourceReport('memory', {
    request: 64 * Mi,
    limit: undefined,
    values: [],
    recommendation: { target: 16 * Mi, lowerBound: 16 * Mi, upperBound: Infinity, reason: 'NoData' },
  });
  assert.deepEqual(r, {
    status: 'NoData',
    request: 64 * Mi,
    limit: null,
    usage: null,
    recommendation: null,
    change: null,
    action: null,
  });
  assert.equal(formatChange(r), '-');
});

test('a recommendation is rounded up as it would be applied, with the change against the request', () => {
  const cpu = resourceReport('cpu', {
    request: 0.2,
    limit: 1,
    values: [0.05, 0.05],
    recommendation: { target: 0.07019, lowerBound: 0, upperBound: 0.0912, reason: 'Percentile' },
  });
  assert.deepEqual(cpu.recommendation, {
    target: 0.071,
    lowerBound: 0,
    upperBound: 0.0912,
    reason: 'Percentile',
    quantity: '71m',
  });
  assert.equal(cpu.change, -0.645);
  assert.equal(cpu.action, 'Lower');
  assert.equal(formatChange(cpu), '-65%');
  const mem = resourceReport('memory', {
    request: 140 * Mi,
    limit: undefined,
    values: [100 * Mi],
    recommendation: { target: 132.3 * Mi, lowerBound: 102 * Mi, upperBound: 185 * Mi, reason: 'RecentPeak' },
  });
  assert.equal(mem.recommendation!.quantity, '133Mi');
  assert.equal(mem.recommendation!.target, 133 * Mi);
  assert.equal(formatChange(mem), '-5% (keep)');
  const none = resourceReport('memory', {
    request: undefined,
    limit: undefined,
    values: [Mi],
    recommendation: { target: 2 * Mi, lowerBound: Mi, upperBound: 3 * Mi, reason: 'Percentile' },
  });
  assert.equal(formatChange(none), 'new');
  assert.equal(none.action, 'Raise');
});

function report(items: ContainerReport[]): RecommendReport {
  return {
    apiVersion: 'tailor.dev/v1alpha1',
    kind: 'RecommendationReport',
    generatedAt: '2025-01-01T00:00:00.000Z',
    scope: { allNamespaces: false, namespaces: ['shop'] },
    history: {
      source: 'Store',
      location: '/h.db',
      window: '8d',
      sampledSeconds: 10,
      shortHistorySeconds: 86_400,
    },
    items,
    notes: [],
  };
}

const web: ContainerReport = {
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'web' },
  container: 'app',
  pods: 2,
  history: { first: null, last: null, seconds: 10, minutes: 1, short: true, ooms: 0 },
  cpu: resourceReport('cpu', {
    request: 0.2,
    limit: undefined,
    values: [0.05],
    recommendation: { target: 0.0702, lowerBound: 0, upperBound: 0.0912, reason: 'Percentile' },
  }),
  memory: resourceReport('memory', {
    request: 400 * Mi,
    limit: 1024 * Mi,
    values: [100 * Mi],
    recommendation: { target: 133 * Mi, lowerBound: 102 * Mi, upperBound: 186 * Mi, reason: 'RecentPeak' },
  }),
};

test('the table lines up one row per resource and says when history is short', () => {
  const out = render(report([web]), 'table');
  const lines = out.split('\n');
  assert.match(lines[0]!, /^usage: history \/h\.db \(window 8d\), plus 10s sampled from metrics\.k8s\.io$/);
  assert.match(
    lines[2]!,
    /^NAMESPACE\s+WORKLOAD\s+CONTAINER\s+RESOURCE\s+REQUEST\s+LIMIT\s+P50\s+P95\s+MAX\s+RECOMMEND\s+RANGE\s+CHANGE\s+HISTORY$/,
  );
  assert.match(
    lines[3]!,
    /^shop\s+Deployment\/web\s+app\s+cpu\s+200m\s+-\s+50m\s+50m\s+50m\s+71m\s+0\.\.92m\s+-65%\s+10s \(short\)$/,
  );
  assert.match(
    lines[4]!,
    /^\s+memory\s+400Mi\s+1Gi\s+100Mi\s+100Mi\s+100Mi\s+133Mi\s+102Mi\.\.186Mi\s+-67%$/,
  );
  assert.equal(lines[3]!.indexOf('cpu'), lines[4]!.indexOf('memory'), 'columns line up');
  assert.match(out, /\(short\): under 24h of history/);
});

test('JSON, YAML and CSV carry the same numbers in base units', () => {
  const r = report([web]);
  const json = JSON.parse(render(r, 'json')) as RecommendReport;
  assert.deepEqual(json, JSON.parse(JSON.stringify(r)));
  assert.equal(json.items[0]!.memory.recommendation!.target, 133 * Mi);
  assert.match(render(r, 'yaml'), /kind: RecommendationReport[\s\S]*quantity: 133Mi/);
  const csv = render(r, 'csv').trim().split('\n');
  assert.equal(csv.length, 3);
  assert.equal(
    csv[1],
    'shop,Deployment,web,app,2,cpu,Ok,0.2,,0.05,0.05,0.05,0.071,0,0.0912,Percentile,-0.645,Lower,10,true,0',
  );
  assert.equal(csv[2]!.split(',')[12], String(133 * Mi));
});

const deploy: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'web' };

function pod(name: string, cpu: string, memory: string, extra: Partial<k8s.V1PodStatus> = {}): k8s.V1Pod {
  return {
    metadata: { name, namespace: 'shop' },
    spec: {
      initContainers: [
        { name: 'init', image: 'x' },
        { name: 'proxy', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '10m' } } },
      ],
      containers: [{ name: 'app', image: 'x', resources: { requests: { cpu, memory }, limits: { memory } } }],
    },
    status: extra,
  };
}

test('containers group per workload (sidecars included, init containers not), with the most common resources', () => {
  const live = [
    { pod: pod('web-a', '200m', '400Mi'), workload: deploy },
    { pod: pod('web-b', '200m', '400Mi'), workload: deploy },
    { pod: pod('web-c', '100m', '300Mi'), workload: deploy },
  ];
  const groups = groupContainers(live);
  assert.deepEqual(
    groups.map((g) => [g.key.container, g.pods.length]),
    [
      ['app', 3],
      ['proxy', 3],
    ],
  );
  assert.deepEqual(currentResources(groups[0]!.pods, 'app'), {
    cpuRequest: 0.2,
    cpuLimit: undefined,
    memoryRequest: 400 * Mi,
    memoryLimit: 400 * Mi,
  });
});

test('OOM kills in pod status become history events at the limit the container hit', () => {
  const killed = pod('web-a', '200m', '256Mi', {
    containerStatuses: [
      {
        name: 'app',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 3,
        lastState: {
          terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date('2025-01-01T00:00:30Z') },
        },
      },
    ],
  });
  assert.deepEqual(oomsFromPods([{ pod: killed, workload: deploy }]), [
    { workload: deploy, container: 'app', pod: 'web-a', t: 1735689630, usageBytes: 256 * Mi },
  ]);
  assert.deepEqual(oomsFromPods([{ pod: pod('web-b', '1', '1Gi'), workload: deploy }]), []);
});

test('pods of a ModelDeployment show the estimate beside usage and recommendation', () => {
  const withEstimate = { ...web, estimate: { modelDeployment: 'chat', cpu: 2, memory: 2560 * Mi } };
  const lines = render(report([withEstimate, web]), 'table').split('\n');
  assert.match(
    lines[2]!,
    /^NAMESPACE\s+WORKLOAD\s+CONTAINER\s+RESOURCE\s+REQUEST\s+LIMIT\s+ESTIMATE\s+P50\s/,
  );
  assert.match(lines[3]!, /\scpu\s+200m\s+-\s+2\s+50m\s/);
  assert.match(lines[4]!, /\smemory\s+400Mi\s+1Gi\s+2\.5Gi\s+100Mi\s/);
  assert.match(lines[5]!, /\scpu\s+200m\s+-\s+-\s+50m\s/, 'no estimate for other workloads');
  const csv = render(report([withEstimate]), 'csv')
    .trim()
    .split('\n');
  assert.match(csv[0]!, /,modelDeployment,estimate$/);
  assert.match(csv[1]!, /,chat,2$/);
  // Without a ModelDeployment in scope the table is as before.
  assert.doesNotMatch(render(report([web]), 'table'), /ESTIMATE/);
});

test('the estimate is read from the pod annotation a ModelDeployment writes', () => {
  const p: k8s.V1Pod = {
    metadata: {
      name: 'chat-1',
      labels: { 'tailor.dev/model-deployment': 'chat' },
      annotations: { 'tailor.dev/estimate': '{"server":{"cpu":"2","memory":"2560Mi"}}' },
    },
  };
  assert.deepEqual(estimateOf([p], 'server'), {
    estimate: { modelDeployment: 'chat', cpu: 2, memory: 2560 * Mi },
  });
  assert.deepEqual(estimateOf([p], 'sidecar'), {});
  assert.deepEqual(estimateOf([{ metadata: { name: 'x' } }], 'server'), {});
});

test('wasted volumes: a table with capacity, peak, suggested size and monthly cost; CSV rows; JSON as is', () => {
  const GiB = 2 ** 30;
  const volumes = volumeWasteReport({
    now: 1_800_000_000,
    windowSeconds: 3600,
    facts: {
      source: 'prometheus',
      samples: new Map([
        [
          'shop/cache',
          Array.from({ length: 61 }, (_, i) => ({
            at: 1_800_000_000 - 3600 + i * 60,
            usedBytes: 3 * GiB,
            capacityBytes: 100 * GiB,
            availableBytes: 97 * GiB,
          })),
        ],
      ]),
      storageClassOf: new Map([['shop/cache', 'gp3']]),
      storageClasses: [{ name: 'gp3', provisioner: 'ebs.csi.aws.com' }],
    },
  });
  const r = { ...report([web]), volumes };
  const table = render(r, 'table');
  assert.match(table, /volumes: 1 with stats from prometheus \(window 60m\), 1 never half full/);
  assert.match(table, /NAMESPACE +CLAIM +CLASS +CAPACITY +PEAK USED +SUGGESTED +COST\/MO +WASTE\/MO/);
  // 3 GiB / 0.9 -> 4 GiB; 100 GiB of gp3 $8.00, 96 GiB wasted $7.68.
  assert.match(table, /shop +cache +gp3 +100Gi +3Gi +4Gi +8\.00 USD +7\.68 USD/);
  const csv = render(r, 'csv').trim().split('\n');
  assert.match(csv[0]!, /,monthlyCost,wasteMonthlyCost,currency$/);
  assert.equal(
    csv[csv.length - 1],
    `shop,PersistentVolumeClaim,cache,,,storage,Wasted,${100 * GiB},,,,${3 * GiB},${4 * GiB},,,,-0.96,,3600,,,8,7.68,USD`,
  );
  const json = JSON.parse(render(r, 'json')) as RecommendReport;
  assert.equal(json.volumes?.wasted[0]?.suggestedBytes, 4 * GiB);
  // Without volumes, nothing changes.
  assert.doesNotMatch(render(report([web]), 'table'), /volumes:/);
  assert.doesNotMatch(render(report([web]), 'csv'), /monthlyCost/);
});
