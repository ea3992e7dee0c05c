// Notifications on the real control plane and simulator, with the operator as its own
// ServiceAccount: the ConfigMap and Secret applied (in the test's namespace, with the shipped Role
// bound there), local HTTP servers standing in for PagerDuty, an Alertmanager-format webhook and a
// Slack endpoint that is down. A resize the node cannot fit pages (trigger) and resolves with the same
// dedup key once its policy goes; an eviction a PDB holds, an OOM-looping pod and a failing history
// store page; the digest goes to its route; the dead endpoint is retried and counted while the others
// deliver; a bad ConfigMap or Secret turns notifications off with an Event naming the key, and sizing
// goes on throughout.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GROUP, VERSION } from '../../src/api/index.ts';
import { makeClients } from '../../src/kube/client.ts';
import { eventually, idleDeployment, simPod, useCluster } from '../support/cluster.ts';
import {
  createPolicy,
  eventsFor,
  HOG_CORES,
  hogOnItsOwnNode,
  Mi,
  podOf,
  useTestOperator,
} from '../support/operator.ts';
import { allowNotificationsHome } from '../support/identity.ts';
import type { Report } from '../../src/core/report/model.ts';

const cluster = useCluster(import.meta.url);

interface Hit {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

/** One local server for every receiver, told apart by path: /pagerduty/v2/enqueue, /alertmanager. */
let server: Server;
const hits: Hit[] = [];
let base = '';
let deadUrl = '';

const CONFIG = `
receivers:
  - name: pager
    pagerduty:
      routingKey: { secret: tailor-notifications, key: pagerduty-routing-key }
      url: { secret: tailor-notifications, key: pagerduty-url }
  - name: am
    webhook:
      url: { secret: tailor-notifications, key: webhook-url }
  - name: dead
    slack:
      url: { secret: tailor-notifications, key: slack-url }
routes:
  - alerts: [OOMLoop, ResizeInfeasible, EvictionHeld, HistoryFailing]
    receivers: [pager, am, dead]
  - alerts: [SavingsDigest]
    receivers: [am]
resizeInfeasibleFor: 2s
historyFailingFor: 2s
evictionHeldFor: 2s
oomLoop: { kills: 3, within: 10m }
clusterName: e2e
`;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({
        path: req.url ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.writeHead(req.url?.startsWith('/pagerduty') ? 202 : 200);
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port nobody listens on any more: connection refused.
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  deadUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/services/T/B/X`;
  await new Promise<void>((r) => gone.close(() => r()));

  await allowNotificationsHome(cluster.namespace);
  const { namespace, core } = cluster;
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'tailor-notifications' },
      stringData: {
        'pagerduty-routing-key': 'R0UT1NGKEY0000000000000000000000',
        'pagerduty-url': `${base}/pagerduty/v2/enqueue`,
        'webhook-url': `${base}/alertmanager`,
        'slack-url': deadUrl,
      },
    },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'tailor-notifications' }, data: { 'config.yaml': CONFIG } },
  });
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const operator = useTestOperator(cluster, {
  models: false,
  notifications: {
    configMap: { namespace: cluster.namespace, name: 'tailor-notifications' },
    evaluateEveryMs: 500,
    reloadEveryMs: 1000,
    dispatch: { retry: { baseMs: 200, maxMs: 1000, maxAttempts: 3 } },
    // The real provider is the report's; a fixed Report stands in for it here.
    report: (q) => {
      asked.push(q.sinceSeconds);
      return Promise.resolve(REPORT);
    },
  },
});

const asked: number[] = [];
const fig = (cost: number, co2eKg: number) => ({ cost, currency: 'USD', co2eKg });
const figures = {
  requested: fig(900, 40),
  used: fig(200, 9),
  recommended: fig(400, 18),
  realised: fig(42.5, 2.2),
  available: fig(500, 22),
};
const REPORT: Report = {
  generatedAt: '2026-12-07T00:00:00Z',
  since: '2026-11-30T00:00:00Z',
  until: '2026-12-07T00:00:00Z',
  currency: 'USD',
  cluster: { figures, oomKills: 2, resizes: 9 },
  namespaces: [{ namespace: 'shop', figures, oomKills: 2, resizes: 9, workloads: [] }],
  opportunities: [],
  notes: [],
};

const pagerDuty = () => hits.filter((h) => h.path === '/pagerduty/v2/enqueue').map((h) => h.body);
const alertmanager = () => hits.filter((h) => h.path === '/alertmanager').map((h) => h.body);

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${operator.current.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('a resize the node cannot fit: PagerDuty trigger and an Alertmanager firing alert, then resolve with the same key when the policy goes; a dead endpoint retried and counted', async () => {
  const { apps, namespace } = cluster;
  // Uses 1.9 of its 2-core hog node's cores: the raise (about 2.6 cores) cannot fit there, and InPlace never evicts.
  const body = hogOnItsOwnNode(
    idleDeployment(
      'big',
      1,
      { cpuCores: HOG_CORES, memoryBytes: 50 * Mi },
      { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    ),
  );
  await apps.createNamespacedDeployment({ namespace, body });
  const pod = await podOf(cluster, 'big');
  await createPolicy(cluster, 'big', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'big' },
  });
  const key = `ResizeInfeasible/${namespace}/big`;

  const trigger = await eventually(
    () => {
      const t = pagerDuty().find((b) => b.event_action === 'trigger' && b.dedup_key === key);
      assert.ok(t, `a PagerDuty trigger for ${key}; got ${JSON.stringify(pagerDuty())}`);
      return t;
    },
    { timeoutMs: 90_000, what: 'the PagerDuty trigger' },
  );
  assert.equal(trigger.routing_key, 'R0UT1NGKEY0000000000000000000000', 'the routing key from the Secret');
  const payload = trigger.payload as Record<string, unknown>;
  assert.equal(payload.source, 'e2e');
  assert.equal(payload.severity, 'error');
  assert.equal(payload.class, 'ResizeInfeasible');
  assert.equal(payload.group, namespace);
  assert.match(
    payload.summary as string,
    new RegExp(`SizingPolicy ${namespace}/big: 1 pod resize infeasible for`),
  );
  assert.match(
    String((payload.custom_details as Record<string, unknown>).pods),
    new RegExp(pod.metadata!.name!),
  );
  const firing = await eventually(
    () => {
      const f = alertmanager().find((b) => b.status === 'firing');
      assert.ok(f, 'an Alertmanager-format firing notification');
      return f;
    },
    { what: 'the webhook' },
  );
  assert.equal(firing.version, '4');
  assert.equal(firing.receiver, 'am');
  const fa = (firing.alerts as Record<string, Record<string, string>>[])[0]!;
  assert.equal(fa.labels!.alertname, 'TailorResizeInfeasible');
  assert.equal(fa.labels!.namespace, namespace);
  assert.equal(fa.labels!.policy, 'big');
  // Sizing went on: the resize was tried and said so (the notification never held it up).
  assert.ok(
    (await eventsFor(cluster, 'Pod', pod.metadata!.name!, 'ResizeInfeasible')).length >= 1,
    'ResizeInfeasible event',
  );
  // Told once while it lasts (repeat interval 4h), not on every evaluation.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(
    pagerDuty().filter((b) => b.dedup_key === key && b.event_action === 'trigger').length,
    1,
    'one trigger',
  );

  await makeClients(cluster.kc).custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'sizingpolicies',
    name: 'big',
  });
  await eventually(
    () => {
      const r = pagerDuty().find((b) => b.event_action === 'resolve');
      assert.deepEqual(r, {
        routing_key: 'R0UT1NGKEY0000000000000000000000',
        event_action: 'resolve',
        dedup_key: key,
      });
      const resolved = alertmanager().find((b) => b.status === 'resolved');
      assert.ok(resolved, 'an Alertmanager resolved notification');
      const ra = (resolved.alerts as Record<string, string>[])[0]!;
      assert.equal(ra.fingerprint, (fa as unknown as Record<string, string>).fingerprint, 'the same alert');
    },
    { timeoutMs: 30_000, what: 'the resolve' },
  );
  assert.ok(
    (await metric('tailor_notifications_total', 'receiver="pager",result="delivered"')) >= 2,
    'delivered counted',
  );
  await eventually(
    async () =>
      assert.ok(
        (await metric('tailor_notifications_total', 'receiver="dead",result="retried"')) >= 2,
        'the dead Slack endpoint retried with backoff, counted',
      ),
    { what: 'retries counted' },
  );
});

test('Auto: an eviction a PodDisruptionBudget holds pages as EvictionHeld', async () => {
  const { apps, namespace } = cluster;
  const policy = makeClients(cluster.kc).policy;
  // As above, but Auto: the resize cannot fit, so the pod is to be evicted, and the PDB allows no disruption.
  const body = hogOnItsOwnNode(
    idleDeployment(
      'held',
      1,
      { cpuCores: HOG_CORES, memoryBytes: 50 * Mi },
      { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    ),
  );
  await apps.createNamespacedDeployment({ namespace, body });
  await policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: {
      metadata: { name: 'held' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'held' } } },
    },
  });
  const pod = await podOf(cluster, 'held');
  await createPolicy(cluster, 'held', {
    mode: 'Auto',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'held' },
  });
  const key = `EvictionHeld/${namespace}/held`;
  const t = await eventually(
    () => {
      const x = pagerDuty().find((b) => b.event_action === 'trigger' && b.dedup_key === key);
      assert.ok(x, `a trigger for ${key}; got ${JSON.stringify(pagerDuty().map((b) => b.dedup_key))}`);
      return x;
    },
    { timeoutMs: 90_000, what: 'the EvictionHeld trigger' },
  );
  const p = t.payload as Record<string, unknown>;
  assert.equal(p.severity, 'warning');
  assert.equal(p.class, 'EvictionHeld');
  assert.match(p.summary as string, /eviction held by a PodDisruptionBudget for/);
  assert.match(String((p.custom_details as Record<string, unknown>).pods), new RegExp(pod.metadata!.name!));
});

test('an OOM-looping pod pages with its workload and container', async () => {
  const { core, namespace } = cluster;
  // Uses 200Mi under a 160Mi limit, and no policy raises it: killed, restarted, killed again.
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'leaky',
      profile: 'idle',
      params: { memoryBytes: 200 * Mi, cpuCores: 0.02, noise: 0, startupSeconds: 0 },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '160Mi' } },
    }),
  });
  const key = `OOMLoop/${namespace}/Pod/leaky/app`;
  const t = await eventually(
    () => {
      const x = pagerDuty().find((b) => b.event_action === 'trigger' && b.dedup_key === key);
      assert.ok(x, `a trigger for ${key}`);
      return x;
    },
    { timeoutMs: 120_000, intervalMs: 500, what: 'the OOM loop trigger' },
  );
  const p = t.payload as Record<string, unknown>;
  assert.equal(p.severity, 'critical');
  assert.equal(p.class, 'OOMLoop');
  assert.equal(p.component, 'Pod/leaky');
  assert.match(p.summary as string, /container app was OOM-killed [3-9] times in 10m/);
});

test('the weekly savings digest: built from the report provider over a week, sent to its route only', async () => {
  assert.equal(await operator.current.notifier!.sendDigest(), true);
  const digest = await eventually(
    () => {
      const d = alertmanager().find(
        (b) => (b.commonLabels as Record<string, string>).alertname === 'TailorSavingsDigest',
      );
      assert.ok(d, 'the digest at the webhook');
      return d;
    },
    { what: 'the digest' },
  );
  assert.deepEqual(asked, [7 * 86_400], 'a week of report');
  const annotations = digest.commonAnnotations as Record<string, string>;
  assert.equal(
    annotations.summary,
    'Tailor saved 42.50 USD and 2.2 kg CO2e from 2026-11-30 to 2026-12-07; 500.00 USD/month more is available',
  );
  assert.equal(annotations.byNamespace, 'shop: 42.50 USD, 2.2 kg CO2e');
  assert.ok(
    !pagerDuty().some((b) => b.dedup_key === 'SavingsDigest/2026-11-30T00:00:00Z/2026-12-07T00:00:00Z'),
    'never paged',
  );
});

test('a bad ConfigMap or Secret: refused with the key named (Event, metric), notifications off until fixed; sizing goes on', async () => {
  const { core, namespace } = cluster;
  await core.replaceNamespacedConfigMap({
    name: 'tailor-notifications',
    namespace,
    body: {
      metadata: { name: 'tailor-notifications' },
      data: {
        'config.yaml': CONFIG.replace(
          'url: { secret: tailor-notifications, key: webhook-url }',
          `url: ${base}/tenant`,
        ),
      },
    },
  });
  const ev = await eventually(
    async () => {
      const e = await eventsFor(cluster, 'ConfigMap', 'tailor-notifications', 'InvalidNotificationConfig');
      assert.ok(e.length >= 1, 'an InvalidNotificationConfig Event on the ConfigMap');
      return e[0]!;
    },
    { what: 'the Event' },
  );
  assert.match(
    ev.message!,
    /receivers\[1\]\.webhook\.url: is written here; URLs and keys are read only from a Secret/,
  );
  assert.equal(operator.current.notifier?.state().kind, 'Invalid');
  assert.ok((await metric('tailor_notification_config_errors_total', '')) >= 1, 'counted');
  // A Secret key that is not there: refused too, naming it; then fixed: notifications are on again.
  const setConfig = (text: string) =>
    core.replaceNamespacedConfigMap({
      name: 'tailor-notifications',
      namespace,
      body: { metadata: { name: 'tailor-notifications' }, data: { 'config.yaml': text } },
    });
  await setConfig(CONFIG.replace('key: webhook-url', 'key: no-such-key'));
  await eventually(
    async () => {
      const e = await eventsFor(cluster, 'ConfigMap', 'tailor-notifications', 'InvalidNotificationConfig');
      assert.ok(
        e.some((x) =>
          /receivers\[1\]\.webhook\.url: Secret \S+\/tailor-notifications has no key no-such-key/.test(
            x.message ?? '',
          ),
        ),
        `an Event naming the missing key: ${e.map((x) => x.message).join(' | ')}`,
      );
    },
    { what: 'the missing-key Event' },
  );
  await setConfig(CONFIG);
  await eventually(() => assert.equal(operator.current.notifier?.state().kind, 'On'), {
    what: 'notifications on again',
  });
  const res = await fetch(`${operator.current.url}/readyz`);
  assert.equal(res.status, 200, 'the operator is ready: sizing is not affected');
  assert.ok(
    (await metric('tailor_reconciles_total', 'controller="sizing",result="ok"')) >= 1,
    'the sizing controller reconciles',
  );
});

test('the usage history store failing pages as HistoryFailing, and resolves once it works again', async () => {
  const guard = operator.current.historyGuard;
  // A store error the way SQLite raises it, on an op nothing else in this file runs (no Prometheus policy).
  const r = guard.run('prometheus', () => {
    throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  });
  assert.equal(r.ok, false);
  const t = await eventually(
    () => {
      const x = pagerDuty().find((b) => b.event_action === 'trigger' && b.dedup_key === 'HistoryFailing');
      assert.ok(x, 'a HistoryFailing trigger');
      return x;
    },
    { timeoutMs: 60_000, what: 'the HistoryFailing trigger' },
  );
  const p = t.payload as Record<string, unknown>;
  assert.equal(p.severity, 'critical');
  assert.equal(p.group, 'cluster');
  assert.match(
    String((p.custom_details as Record<string, unknown>).error),
    /prometheus: SQLITE_FULL: database or disk is full/,
  );
  assert.equal(guard.run('prometheus', () => 1).ok, true, 'the store works again');
  await eventually(
    () =>
      assert.ok(
        pagerDuty().some((b) => b.event_action === 'resolve' && b.dedup_key === 'HistoryFailing'),
        'resolved with the same dedup key',
      ),
    { timeoutMs: 60_000, what: 'the HistoryFailing resolve' },
  );
});
