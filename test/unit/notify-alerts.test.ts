// Alert derivation (src/notify/alerts.ts): which conditions are alerts, after how long, under which
// stable dedup key, and the weekly digest from a fixed Report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_ALERT_SETTINGS,
  activeAlerts,
  digestAlert,
  type AlertInputs,
  type OomSeen,
} from '../../src/notify/alerts.ts';
import { StuckPods } from '../../src/notify/signals.ts';
import type { Report } from '../../src/core/report/model.ts';

const T = 1_800_000_000;
const none: AlertInputs = { now: T, ooms: [], stuck: [], history: { kind: 'Ok' }, policies: [] };
const kill = (t: number, pod = 'web-1', container = 'app'): OomSeen => ({
  namespace: 'shop',
  workload: 'Deployment/web',
  container,
  pod,
  t,
});

test('nothing wrong: no alert', () => {
  assert.deepEqual(activeAlerts(none), []);
});

test('OOM loop: 3 kills of one container within the hour fire, 2 do not, old ones fall out; the key is stable', () => {
  const two = activeAlerts({ ...none, ooms: [kill(T - 100), kill(T - 50)] });
  assert.deepEqual(two, [], 'two kills are not a loop');
  const ooms = [kill(T - 3000), kill(T - 100, 'web-2'), kill(T - 50), kill(T - 4000 - 3600, 'old')];
  const [a, ...rest] = activeAlerts({ ...none, ooms });
  assert.equal(rest.length, 0);
  assert.equal(a!.kind, 'OOMLoop');
  assert.equal(a!.key, 'OOMLoop/shop/Deployment/web/app');
  assert.equal(a!.severity, 'critical');
  assert.equal(a!.details.kills, 3, 'the kill older than the window does not count');
  assert.equal(a!.details.pods, 'web-1, web-2');
  assert.equal(a!.since, T - 3000);
  assert.deepEqual(a!.labels, { namespace: 'shop', workload: 'Deployment/web', container: 'app' });
  assert.match(a!.summary, /shop\/Deployment\/web container app was OOM-killed 3 times in 1h/);
  // A minute later, the same loop: the same key (one incident, not a new one per evaluation).
  const later = activeAlerts({ ...none, now: T + 60, ooms: [...ooms, kill(T + 30)] });
  assert.equal(later[0]!.key, a!.key);
  // Another container of the same workload is its own alert.
  const other = activeAlerts({
    ...none,
    ooms: [...ooms, ...[1, 2, 3].map((i) => kill(T - i, 'web-1', 'sidecar'))],
  });
  assert.deepEqual(
    other.map((x) => x.key),
    ['OOMLoop/shop/Deployment/web/app', 'OOMLoop/shop/Deployment/web/sidecar'],
  );
  // The kills stop: an hour after the third-last kill, the loop is over (the dispatcher resolves it).
  assert.deepEqual(activeAlerts({ ...none, now: T + 3600, ooms }), []);
});

test('resize infeasible and eviction held: only past their thresholds, one alert per policy naming its pods', () => {
  const stuck = new StuckPods(() => now);
  let now = T;
  stuck.passed('shop/web', [
    { pod: 'web-1', kind: 'ResizeInfeasible', message: 'needs 3 cores; the node has 2' },
    { pod: 'web-2', kind: 'EvictionHeld', message: 'PDB web allows no disruption' },
  ]);
  now = T + 1799;
  stuck.passed('shop/web', [
    { pod: 'web-1', kind: 'ResizeInfeasible', message: 'needs 3 cores; the node has 2' },
    { pod: 'web-2', kind: 'EvictionHeld', message: 'PDB web allows no disruption' },
  ]);
  assert.deepEqual(activeAlerts({ ...none, now, stuck: stuck.list() }), [], 'under 30 minutes: nothing yet');
  now = T + 1800;
  stuck.passed('shop/web', [
    { pod: 'web-1', kind: 'ResizeInfeasible', message: 'needs 3 cores; the node has 2' },
    { pod: 'web-2', kind: 'EvictionHeld', message: 'PDB web allows no disruption' },
  ]);
  const at30 = activeAlerts({ ...none, now, stuck: stuck.list() });
  assert.deepEqual(
    at30.map((a) => [a.kind, a.key, a.severity]),
    [['ResizeInfeasible', 'ResizeInfeasible/shop/web', 'error']],
    'the eviction hold waits for its hour',
  );
  assert.equal(at30[0]!.details.pods, 'web-1');
  assert.match(at30[0]!.summary, /SizingPolicy shop\/web: 1 pod resize infeasible for 30m/);
  assert.deepEqual(at30[0]!.labels, { namespace: 'shop', policy: 'web' });
  now = T + 3600;
  stuck.passed('shop/web', [{ pod: 'web-2', kind: 'EvictionHeld', message: 'PDB web allows no disruption' }]);
  assert.deepEqual(
    activeAlerts({ ...none, now, stuck: stuck.list() })
      .map((a) => a.key)
      .sort(),
    ['EvictionHeld/shop/web', 'ResizeInfeasible/shop/web'],
    'one pass without web-1 is not enough to call its resize done (a pass may lack its metrics)',
  );
  stuck.passed('shop/web', [{ pod: 'web-2', kind: 'EvictionHeld', message: 'PDB web allows no disruption' }]);
  assert.deepEqual(
    activeAlerts({ ...none, now, stuck: stuck.list() }).map((a) => a.key),
    ['EvictionHeld/shop/web'],
    'the resize went through (two passes without it): its alert is gone; the hold passed its hour',
  );
  // Two passes that find the pod no longer stuck start the clock again.
  stuck.passed('shop/web', []);
  stuck.passed('shop/web', []);
  stuck.passed('shop/web', [{ pod: 'web-2', kind: 'EvictionHeld', message: 'again' }]);
  assert.deepEqual(activeAlerts({ ...none, now: now + 60, stuck: stuck.list() }), []);
  stuck.forget('shop/web');
  assert.deepEqual(stuck.list(), []);
});

test('history store failing: from the HistoryGuard or a policy condition, after 10 minutes, one cluster-wide key', () => {
  const failing = {
    kind: 'Failing' as const,
    op: 'record',
    error: 'SQLITE_FULL: database or disk is full',
    since: T - 599,
  };
  assert.deepEqual(activeAlerts({ ...none, history: failing }), []);
  const [a] = activeAlerts({ ...none, history: { ...failing, since: T - 600 } });
  assert.equal(a!.key, 'HistoryFailing');
  assert.equal(a!.severity, 'critical');
  assert.match(String(a!.details.error), /record: SQLITE_FULL/);
  const fromCondition = activeAlerts({
    ...none,
    policies: [
      {
        namespace: 'shop',
        name: 'web',
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'HistoryUnavailable',
            message: 'the usage history store fails',
            lastTransitionTime: new Date((T - 3600) * 1000).toISOString(),
          },
        ],
      },
    ],
  });
  assert.deepEqual(
    fromCondition.map((x) => [x.key, x.since]),
    [['HistoryFailing', T - 3600]],
  );
});

test('thresholds come from settings', () => {
  const ooms = [kill(T - 10), kill(T - 5)];
  const s = { ...DEFAULT_ALERT_SETTINGS, oomLoop: { kills: 2, withinSeconds: 60 } };
  assert.equal(activeAlerts({ ...none, ooms }, s).length, 1);
});

const fig = (cost: number, co2eKg: number) => ({ cost, currency: 'USD', co2eKg });
const figures = (realised: number, available: number) => ({
  requested: fig(1000, 50),
  used: fig(200, 10),
  recommended: fig(400, 20),
  realised: fig(realised, realised / 20),
  available: fig(available, available / 20),
});

test('the weekly digest: realised and available savings, by namespace and top opportunities, keyed by its week', () => {
  const report: Report = {
    generatedAt: '2026-12-07T00:00:00Z',
    since: '2026-11-30T00:00:00Z',
    until: '2026-12-07T00:00:00Z',
    currency: 'USD',
    cluster: { figures: figures(123.456, 600), oomKills: 4, resizes: 17 },
    namespaces: [
      { namespace: 'shop', figures: figures(23.4, 100), oomKills: 1, resizes: 5, workloads: [] },
      { namespace: 'acme', figures: figures(100.056, 500), oomKills: 3, resizes: 12, workloads: [] },
    ],
    opportunities: [
      {
        namespace: 'acme',
        workload: 'Deployment/chat',
        container: 'vllm',
        resource: 'nvidia.com/gpu',
        requested: 2,
        recommended: 1,
        saving: fig(450, 22.5),
      },
    ],
    notes: [],
  };
  const d = digestAlert(report, T);
  assert.equal(d.kind, 'SavingsDigest');
  assert.equal(d.key, 'SavingsDigest/2026-11-30T00:00:00Z/2026-12-07T00:00:00Z');
  assert.equal(d.severity, 'info');
  assert.equal(
    d.summary,
    'Tailor saved 123.46 USD and 6.2 kg CO2e from 2026-11-30 to 2026-12-07; 600.00 USD/month more is available',
  );
  assert.equal(d.details.byNamespace, 'acme: 100.06 USD, 5.0 kg CO2e; shop: 23.40 USD, 1.2 kg CO2e');
  assert.equal(d.details.topOpportunities, 'acme/Deployment/chat vllm nvidia.com/gpu: 450.00 USD/month');
  assert.equal(d.details.oomKills, 4);
  assert.equal(d.details.resizes, 17);
});
