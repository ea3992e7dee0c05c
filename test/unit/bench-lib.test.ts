// The benchmarks' helpers: percentiles by nearest rank, /proc fields, Prometheus text; and the
// operator's full-pass timer and API request classification they read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OomReactions, parseProc, parsePrometheus, percentile, sumOf } from '../../bench/lib.ts';
import { PassTimer } from '../../src/controllers/sizing/pass.ts';
import { apiRequestOf } from '../../src/kube/client.ts';

test('percentile: nearest rank, unsorted input, edges', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 99), 10);
  assert.equal(percentile(v, 100), 10);
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile(v, 90), 9);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('parseProc: RSS, peak and utime+stime, a command name with spaces and parentheses', () => {
  const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
  const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000';
  const s = parseProc(status, stat);
  assert.equal(s.rssBytes, 100 * 2 ** 20);
  assert.equal(s.peakRssBytes, 200 * 2 ** 20);
  assert.equal(s.cpuSeconds, 3);
});

test('parsePrometheus and sumOf: labels with escapes, label filters', () => {
  const text = [
    '# HELP tailor_api_requests_total x',
    'tailor_api_requests_total{verb="get",resource="apps/deployments"} 12',
    'tailor_api_requests_total{verb="patch",resource="pods/resize"} 3',
    'tailor_api_requests_total{verb="get",resource="pods"} 1',
    'tailor_resizes_total{result="Rejected",reason="a \\"b\\""} 2',
    'tailor_sizing_last_pass_seconds{controller="sizing"} 0.75',
  ].join('\n');
  const s = parsePrometheus(text);
  assert.equal(sumOf(s, 'tailor_api_requests_total'), 16);
  assert.equal(sumOf(s, 'tailor_api_requests_total', { verb: 'get' }), 13);
  assert.equal(s.find((x) => x.name === 'tailor_resizes_total')?.labels.reason, 'a "b"');
  assert.equal(sumOf(s, 'tailor_sizing_last_pass_seconds'), 0.75);
});

test('apiRequestOf: verbs and group-qualified resources with subresources', () => {
  const base = 'https://127.0.0.1:6443';
  const cases: [string, string, string, string][] = [
    ['GET', '/api/v1/pods?limit=500', 'list', 'pods'],
    ['GET', '/api/v1/namespaces/a/pods/p', 'get', 'pods'],
    ['PATCH', '/api/v1/namespaces/a/pods/p/resize', 'patch', 'pods/resize'],
    ['GET', '/apis/apps/v1/namespaces/a/deployments/d', 'get', 'apps/deployments'],
    [
      'PATCH',
      '/apis/tailor.dev/v1alpha1/namespaces/a/sizingpolicies/s/status',
      'patch',
      'tailor.dev/sizingpolicies/status',
    ],
    ['GET', '/apis/metrics.k8s.io/v1beta1/pods', 'list', 'metrics.k8s.io/pods'],
    ['POST', '/apis/events.k8s.io/v1/namespaces/a/events', 'create', 'events.k8s.io/events'],
    ['GET', '/api/v1/namespaces/a', 'get', 'namespaces'],
    ['DELETE', '/api/v1/namespaces/a/pods', 'deletecollection', 'pods'],
  ];
  for (const [method, path, verb, resource] of cases)
    assert.deepEqual(apiRequestOf(method, base + path), { verb, resource }, `${method} ${path}`);
});

test('PassTimer: a pass ends when every key has finished a reconcile begun after it started', () => {
  const t = new PassTimer();
  assert.equal(t.begin([], 0), false, 'no keys, no pass');
  assert.equal(t.begin(['a', 'b'], 100), true);
  assert.equal(t.begin(['c'], 110), false, 'one pass at a time');
  assert.equal(t.done('a', 90, 120), undefined, 'a reconcile begun before the pass does not count');
  assert.equal(t.done('a', 100, 130), undefined);
  assert.equal(t.done('c', 105, 135), undefined, 'a key not in the pass');
  assert.equal(t.running, true);
  assert.equal(t.done('b', 101, 400), 300);
  assert.equal(t.running, false);
  assert.equal(t.done('b', 500, 600), undefined, 'no pass running');
  t.begin(['x', 'y'], 1000);
  t.done('x', 1000, 1010);
  assert.equal(t.forget('y', 1050), 50, 'a deleted policy closes the pass');
});

test('OomReactions: a kill is timed to the first spec raise and status raise above the limit it hit', () => {
  const r = new OomReactions();
  const Mi = 2 ** 20;
  const pod = (spec: number, status: number, restarts: number, reason?: string, finishedAt = 1000) => ({
    pod: 'ns/a',
    spec: spec * Mi,
    status: status * Mi,
    restartCount: restarts,
    ...(reason ? { terminated: { reason, finishedAt } } : {}),
  });
  r.update(pod(256, 256, 0), 0);
  r.update(pod(256, 256, 1, 'OOMKilled', 1000), 1500);
  r.update(pod(256, 256, 1, 'OOMKilled', 1000), 1600); // the same kill again
  r.update(pod(256, 256, 2, 'OOMKilled', 2000), 2100); // killed again before the raise
  r.update(pod(356, 256, 2, 'OOMKilled', 2000), 2200); // spec raised
  r.update(pod(356, 256, 3, 'OOMKilled', 2300), 2400); // killed while the kubelet has not applied it
  r.update(pod(356, 356, 3, 'OOMKilled', 2300), 3000); // applied
  r.update(pod(356, 356, 4, 'Error', 4000), 4100);
  const f = r.figures();
  assert.equal(f.oomKillsSeen, 3);
  assert.equal(f.episodes, 1);
  assert.equal(f.repeatKillsBeforeRaise, 1);
  assert.equal(f.killsWhileRaisePending, 1);
  assert.equal(f.killsNotAnswered, 0);
  assert.equal(f.nonOomTerminationsSeen, 1);
  assert.deepEqual(f.specRaiseFromSeenSeconds, { n: 1, p50: 0.7, p99: 0.7, max: 0.7 });
  assert.deepEqual(f.specRaiseFromFinishedAtSeconds, { n: 1, p50: 1.2, p99: 1.2, max: 1.2 });
  assert.deepEqual(f.statusAppliedFromSeenSeconds, { n: 1, p50: 1.5, p99: 1.5, max: 1.5 });
});
