// The notifications ConfigMap's YAML (src/notify/config.ts): a complete configuration reads as
// written, and every mistake is refused whole with the key path and the fix, URLs in the ConfigMap
// included: they are read only from Secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { parseNotifyConfig } from '../../src/notify/config.ts';
import { notificationsConfigMap } from '../../src/cli/commands/operator.ts';

const WHERE = 'ConfigMap tailor-system/tailor-notifications';

const GOOD = `
receivers:
  - name: ops-slack
    slack: { url: { secret: tailor-notifications, key: slack-url } }
  - name: oncall
    pagerduty: { routingKey: { secret: tailor-notifications, key: pagerduty-routing-key } }
  - name: alertmanager
    webhook: { url: { secret: tailor-notifications, key: webhook-url } }
routes:
  - alerts: [OOMLoop, ResizeInfeasible, EvictionHeld, HistoryFailing]
    receivers: [oncall, alertmanager]
  - alerts: [SavingsDigest, OOMLoop]
    receivers: [ops-slack]
    namespaces: [shop]
repeatInterval: 2h
oomLoop: { kills: 4, within: 30m }
resizeInfeasibleFor: 15m
evictionHeldFor: 2h
historyFailingFor: 5m
digestEvery: 168h
rateLimit: { perMinute: 10, burst: 2 }
timeout: 5s
clusterName: prod-eu-1
externalURL: https://tailor.example.com/ui
`;

test('a complete configuration reads as written', () => {
  const c = parseNotifyConfig(GOOD, WHERE);
  assert.deepEqual(c.receivers, [
    { name: 'ops-slack', type: 'slack', url: { secret: 'tailor-notifications', key: 'slack-url' } },
    {
      name: 'oncall',
      type: 'pagerduty',
      routingKey: { secret: 'tailor-notifications', key: 'pagerduty-routing-key' },
    },
    { name: 'alertmanager', type: 'webhook', url: { secret: 'tailor-notifications', key: 'webhook-url' } },
  ]);
  assert.deepEqual(c.routes[1], {
    alerts: ['SavingsDigest', 'OOMLoop'],
    receivers: ['ops-slack'],
    namespaces: ['shop'],
  });
  assert.deepEqual(c.alerts, {
    oomLoop: { kills: 4, withinSeconds: 1800 },
    resizeInfeasibleForSeconds: 900,
    evictionHeldForSeconds: 7200,
    historyFailingForSeconds: 300,
  });
  assert.equal(c.dispatch.repeatIntervalMs, 2 * 3600_000);
  assert.deepEqual(c.dispatch.rate, { perMinute: 10, burst: 2 });
  assert.equal(c.digestEverySeconds, 7 * 86_400);
  assert.equal(c.timeoutMs, 5000);
  assert.equal(c.clusterName, 'prod-eu-1');
  assert.equal(c.externalURL, 'https://tailor.example.com/ui');
});

test('defaults: Alertmanager-like repeat of 4h, a weekly digest, 10 s per request', () => {
  const c = parseNotifyConfig(
    'receivers: [{name: a, webhook: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]',
    WHERE,
  );
  assert.equal(c.dispatch.repeatIntervalMs, 4 * 3600_000);
  assert.equal(c.digestEverySeconds, 7 * 86_400);
  assert.equal(c.timeoutMs, 10_000);
  assert.deepEqual(c.alerts.oomLoop, { kills: 3, withinSeconds: 3600 });
});

test('bad configurations are refused with the key and the fix', () => {
  const cases: [string, RegExp][] = [
    ['receivers: [', /config\.yaml: not YAML/],
    ['- a\n- b', /config\.yaml: must be a mapping/],
    ['routes: []', /receivers: must be a list of at least one receiver/],
    [
      'receivers: [{name: a, slack: {url: "https://hooks.slack.com/services/T/B/X"}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]',
      /receivers\[0\]\.slack\.url: is written here; URLs and keys are read only from a Secret[\s\S]*hint: write url: \{secret: NAME, key: KEY\}/,
    ],
    [
      'receivers: [{name: a, pagerduty: {routingKey: abc123}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]',
      /receivers\[0\]\.pagerduty\.routingKey: is written here/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}, webhook: {url: {secret: s, key: k}}}]\nroutes: []',
      /receivers\[0\]: names slack and webhook[\s\S]*exactly one/,
    ],
    [
      'receivers: [{name: A_, slack: {url: {secret: s, key: k}}}]',
      /receivers\[0\]\.name: "A_" is not a name/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}, {name: a, slack: {url: {secret: s, key: k}}}]',
      /receivers\[1\]\.name: "a" is used twice/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoops], receivers: [a]}]',
      /routes\[0\]\.alerts\[0\]: "OOMLoops" is not an alert[\s\S]*OOMLoop, ResizeInfeasible/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [b]}]',
      /routes\[0\]\.receivers\[0\]: "b" is not a receiver[\s\S]*one of a/,
    ],
    [
      'receivers: [{name: p, pagerduty: {routingKey: {secret: s, key: k}}}]\nroutes: [{alerts: [SavingsDigest], receivers: [p]}]',
      /routes\[0\]\.receivers\[0\]: "p" is a PagerDuty receiver/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]\nrepeatInterval: 4 hours',
      /repeatInterval: "4 hours" is not a duration/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]\noomLoop: {kills: 1}',
      /oomLoop\.kills: 1 is not a whole number of at least 2/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]\nrateLimit: {perMinute: -1}',
      /rateLimit\.perMinute: -1 is not a positive number/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: s, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]\nreceiver: x',
      /receiver: is not a known key/,
    ],
    [
      'receivers: [{name: a, slack: {url: {secret: S!, key: k}}}]\nroutes: [{alerts: [OOMLoop], receivers: [a]}]',
      /receivers\[0\]\.slack\.url\.secret: "S!" is not a Secret name/,
    ],
  ];
  for (const [yaml, want] of cases)
    assert.throws(
      () => parseNotifyConfig(yaml, WHERE),
      (err: Error) => {
        assert.match(err.message, want, `for:\n${yaml}`);
        assert.ok(err.message.startsWith(WHERE), 'names the ConfigMap');
        return true;
      },
    );
});

test('examples/notifications.yaml: its ConfigMap reads, and its Secret holds every key the ConfigMap names', () => {
  const docs = parseAllDocuments(
    readFileSync(new URL('../../examples/notifications.yaml', import.meta.url), 'utf8'),
  ).map(
    (d) =>
      d.toJS() as {
        kind: string;
        metadata: { name: string; namespace: string };
        data?: Record<string, string>;
        stringData?: Record<string, string>;
      },
  );
  const cm = docs.find((d) => d.kind === 'ConfigMap')!;
  assert.equal(cm.metadata.namespace, 'tailor-system');
  assert.equal(cm.metadata.name, 'tailor-notifications');
  const c = parseNotifyConfig(cm.data!['config.yaml']!, WHERE);
  for (const r of c.receivers) {
    const refs = r.type === 'pagerduty' ? [r.routingKey, ...(r.url ? [r.url] : [])] : [r.url];
    for (const ref of refs) {
      const s = docs.find((d) => d.kind === 'Secret' && d.metadata.name === ref.secret);
      assert.ok(s, `a Secret ${ref.secret}`);
      assert.equal(s.metadata.namespace, 'tailor-system');
      assert.ok(s.stringData?.[ref.key] !== undefined, `Secret ${ref.secret} key ${ref.key}`);
    }
  }
  assert.ok(parse(cm.data!['config.yaml']!), 'plain YAML');
});

test('--notifications-configmap: NAMESPACE/NAME, both said (the Secrets are read in that namespace)', () => {
  assert.deepEqual(notificationsConfigMap('tailor-system/tailor-notifications'), {
    namespace: 'tailor-system',
    name: 'tailor-notifications',
  });
  assert.throws(
    () => notificationsConfigMap('tailor-notifications'),
    /--notifications-configmap tailor-notifications: expected NAMESPACE\/NAME/,
  );
  assert.throws(() => notificationsConfigMap('a/B'), /expected NAMESPACE\/NAME/);
});
