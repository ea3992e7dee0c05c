// The vs-vpa benchmark's pure parts: both tools' wall-clock settings divided by the clock speed,
// slack sums from the simulator's containers, and the requests a tool's proxy tells apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, vpaTimeFlags } from '../../bench/vpa-run.ts';
import {
  tailorTimeSettings,
  sizingPolicy,
  verticalPodAutoscaler,
  WORKLOADS,
} from '../../bench/vs-vpa-fleet.ts';
import {
  FleetSampler,
  classifyRequest,
  emptyKinds,
  relativeShortfall,
  relativeSlack,
} from '../../bench/vs-vpa-measure.ts';
import type { PodState } from '../../src/sim/kubelet/state.ts';

const Mi = 2 ** 20;

test('vpaTimeFlags: VPA defaults divided by the speed; sampling not under the metrics resolution', () => {
  const f = vpaTimeFlags(60, 10);
  assert.ok(f.recommender.includes('--memory-histogram-decay-half-life=1440s'), '24 h / 60');
  assert.ok(f.recommender.includes('--memory-aggregation-interval=1440s'));
  assert.ok(f.recommender.includes('--recommender-interval=10s'), '1 min / 60 is under the 10 s resolution');
  assert.ok(f.updater.includes('--updater-interval=1s'));
  assert.ok(f.updater.includes('--in-recommendation-bounds-eviction-lifetime-threshold=720s'), '12 h / 60');
  const real = vpaTimeFlags(1, 15);
  assert.ok(real.recommender.includes('--recommender-interval=60s'), 'speed 1 keeps the default');
  assert.ok(real.recommender.includes('--cpu-histogram-decay-half-life=86400s'));
  assert.equal(goDuration(0.2), '1s', 'never a zero duration');
});

test('tailorTimeSettings: defaults divided by the speed within the fields allowed ranges', () => {
  assert.deepEqual(tailorTimeSettings(1), {
    window: '11520m',
    cooldown: '5m',
    maxChangesPerHour: 4,
    minHistory: '1440m',
  });
  const fast = tailorTimeSettings(60);
  assert.equal(fast.window, '192m');
  assert.equal(fast.cooldown, '1m', 'update.cooldown cannot go under 1m');
  assert.equal(fast.maxChangesPerHour, 60, 'update.maxChangesPerHour cannot go over 60');
  assert.equal(fast.minHistory, '24m');
});

test('each fleet workload becomes a VPA in InPlaceOrRecreate and an InPlace SizingPolicy on the same Deployment', () => {
  for (const w of WORKLOADS) {
    const v = verticalPodAutoscaler(w).spec as {
      targetRef: { name: string };
      updatePolicy: { updateMode: string };
    };
    const s = sizingPolicy(w, 60).spec as { targetRef: { name: string }; mode: string };
    assert.equal(v.updatePolicy.updateMode, 'InPlaceOrRecreate');
    assert.equal(s.mode, 'InPlace');
    assert.equal(v.targetRef.name, s.targetRef.name);
    assert.ok(w.replicas >= 2, `${w.name}: the VPA updater leaves Deployments under 2 replicas alone`);
  }
});

function pod(
  namespace: string,
  uid: string,
  c: Partial<PodState['containers'] extends Map<string, infer C> ? C : never>,
): PodState {
  return {
    uid,
    namespace,
    name: uid,
    labels: { app: 'web' },
    phase: 'Running',
    containers: new Map([['app', { restartCount: 0, oomEventsTotal: 0, ...c }]]),
  } as unknown as PodState;
}

test('FleetSampler: slack of requests and limits, usage above the request, restarts apart from OOM kills', () => {
  const s = new FleetSampler('a');
  const actual = { cpuRequest: 1, memoryRequest: 400 * Mi, memoryLimit: 800 * Mi };
  s.sample([
    pod('a', 'p1', {
      actual,
      usage: { cpuCores: 0.25, memoryBytes: 200 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
    }),
    pod('a', 'p2', {
      actual,
      usage: { cpuCores: 1.5, memoryBytes: 600 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
      restartCount: 3,
      oomEventsTotal: 2,
    }),
    pod('b', 'other', {
      actual,
      usage: { cpuCores: 0, memoryBytes: 0, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
    }),
  ]);
  // CPU: set 2, unused 0.75 (p1), over 0.5 (p2) of 1.75 used.
  assert.equal(relativeSlack(s.sums.cpuRequest), 0.375);
  assert.equal(relativeShortfall(s.sums.cpuRequest), 0.286);
  // Memory request: set 800Mi, unused 200Mi; limit: set 1600Mi, unused 600 + 200.
  assert.equal(relativeSlack(s.sums.memoryRequest), 0.25);
  assert.equal(relativeSlack(s.sums.memoryLimit), 0.5);
  assert.equal(relativeSlack(s.sums.cpuLimit), null, 'no CPU limit set: no slack to speak of');
  assert.equal(s.sums.cpuLimit.unsetSamples, 2);
  assert.deepEqual(s.counts(), { podsSeen: 2, oomKills: 2, restartsNotFromOom: 1 });
});

test('FleetSampler: per simulated day, each sample in the day it was taken', () => {
  const s = new FleetSampler('a');
  const at = (cpuCores: number) =>
    pod('a', 'p1', {
      actual: { cpuRequest: 1, memoryRequest: 400 * Mi, memoryLimit: 800 * Mi },
      usage: { cpuCores, memoryBytes: 200 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
    });
  s.sample([at(0.25)], 0);
  s.sample([at(0.75)], 2);
  assert.equal(s.byDay.length, 3, 'a day without samples is still a day');
  assert.equal(relativeSlack(s.byDay[0]!.cpuRequest), 0.75);
  assert.equal(relativeSlack(s.byDay[1]!.cpuRequest), null);
  assert.equal(relativeSlack(s.byDay[2]!.cpuRequest), 0.25);
  assert.equal(relativeSlack(s.sums.cpuRequest), 0.5, 'the whole run is the sum of its days');
});

test('classifyRequest: resizes, evictions, pod deletions and watches by method and path', () => {
  const k = emptyKinds();
  classifyRequest(k, 'PATCH', '/api/v1/namespaces/n/pods/p/resize');
  classifyRequest(k, 'PATCH', '/api/v1/namespaces/n/pods/p');
  classifyRequest(k, 'POST', '/api/v1/namespaces/n/pods/p/eviction');
  classifyRequest(k, 'DELETE', '/api/v1/namespaces/n/pods/p');
  classifyRequest(k, 'GET', '/api/v1/namespaces/n/pods?watch=true&resourceVersion=5');
  assert.deepEqual(k, { total: 5, resizes: 1, evictions: 1, podDeletes: 1, watches: 1 });
});
