// Notifications against local HTTP receivers standing in for Slack, PagerDuty and an
// Alertmanager-format webhook (node:http servers, real sockets, real clock): each payload checked
// field by field against its service's documentation, trigger then resolve with the same dedup key,
// and an endpoint that is down, slow or failing retried with backoff, counted, never blocking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dispatcher } from '../../src/notify/dispatcher.ts';
import { slackReceiver } from '../../src/notify/receivers/slack.ts';
import { pagerDutyReceiver, PAGERDUTY_EVENTS_URL } from '../../src/notify/receivers/pagerduty.ts';
import { webhookReceiver, ZERO_TIME } from '../../src/notify/receivers/webhook.ts';
import { postJson } from '../../src/notify/receivers/http.ts';
import type { Alert, DeliveryResult } from '../../src/notify/types.ts';
import { eventually } from '../support/cluster.ts';

interface Hit {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

/** A local receiver: records each request; `answer` says the status for the nth (0-based) request. */
async function receiverServer(answer: (n: number) => number | 'hang' = () => 200): Promise<{
  url: string;
  hits: Hit[];
  server: Server;
  close(): Promise<void>;
}> {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = hits.length;
      hits.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        at: Date.now(),
      });
      const status = answer(n);
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 202 ? JSON.stringify({ status: 'success', message: 'Event processed' }) : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook/T000/B000/secret`,
    hits,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const oom: Alert = {
  kind: 'OOMLoop',
  key: 'OOMLoop/shop/Deployment/web/app',
  severity: 'critical',
  summary: 'shop/Deployment/web container app was OOM-killed 3 times in 1h',
  labels: { namespace: 'shop', workload: 'Deployment/web', container: 'app' },
  details: { kills: 3, window: '1h', pods: 'web-1, web-2' },
  since: Math.floor(Date.now() / 1000) - 3600,
};

function counter() {
  const c = new Map<string, number>();
  return {
    count: (receiver: string, result: DeliveryResult) =>
      c.set(`${receiver}/${result}`, (c.get(`${receiver}/${result}`) ?? 0) + 1),
    get: (k: string) => c.get(k) ?? 0,
  };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

test('Slack, PagerDuty and an Alertmanager webhook: each payload as documented, trigger then resolve with the same key', async () => {
  const slack = await receiverServer(() => 200);
  const pd = await receiverServer(() => 202);
  const am = await receiverServer(() => 200);
  const n = counter();
  const d = new Dispatcher({
    receivers: [
      slackReceiver('ops-slack', slack.url, { timeoutMs: 2000 }),
      pagerDutyReceiver('oncall', 'R0UT1NGKEY0000000000000000000000', {
        url: `${pd.url.replace(/\/hook.*/, '')}/v2/enqueue`,
        source: 'prod-eu-1',
        timeoutMs: 2000,
      }),
      webhookReceiver('alertmanager', am.url, {
        externalURL: 'https://tailor.example.com/ui',
        timeoutMs: 2000,
      }),
    ],
    routes: [{ alerts: ['OOMLoop'], receivers: ['ops-slack', 'oncall', 'alertmanager'] }],
    count: n.count,
  });
  try {
    d.update([oom]);
    await eventually(() => assert.equal(slack.hits.length + pd.hits.length + am.hits.length, 3), {
      what: 'three firing',
    });
    d.update([]);
    await eventually(() => assert.equal(slack.hits.length + pd.hits.length + am.hits.length, 6), {
      what: 'three resolved',
    });

    for (const s of [slack, pd, am])
      for (const h of s.hits) {
        assert.equal(h.method, 'POST');
        assert.equal(h.contentType, 'application/json');
      }
    assert.equal(pd.hits[0]!.path, '/v2/enqueue', 'the Events API v2 path');
    assert.equal(PAGERDUTY_EVENTS_URL, 'https://events.pagerduty.com/v2/enqueue', 'the default endpoint');

    // Slack (api.slack.com/messaging/webhooks): text (the notification fallback) and Block Kit blocks.
    const [sFire, sResolve] = slack.hits.map((h) => h.body);
    assert.deepEqual(Object.keys(sFire!).sort(), ['blocks', 'text']);
    assert.equal(sFire!.text, `OOMLoop: ${oom.summary}`);
    const blocks = sFire!.blocks as {
      type: string;
      text?: { type: string; text: string };
      fields?: { type: string; text: string }[];
      elements?: unknown[];
    }[];
    assert.equal(blocks[0]!.type, 'section');
    assert.equal(blocks[0]!.text!.type, 'mrkdwn');
    assert.match(
      blocks[0]!.text!.text,
      /\*OOMLoop\*: shop\/Deployment\/web container app was OOM-killed 3 times/,
    );
    assert.equal(blocks[1]!.type, 'section');
    assert.ok(blocks[1]!.fields!.length <= 10, 'at most 10 fields');
    assert.deepEqual(blocks[1]!.fields![0], { type: 'mrkdwn', text: '*namespace*\nshop' });
    for (const f of blocks[1]!.fields!) assert.ok(f.text.length <= 2000, 'a field at most 2000 characters');
    assert.equal(blocks[2]!.type, 'context');
    assert.match(sResolve!.text as string, /^Resolved: OOMLoop: /);
    assert.match(
      (sResolve!.blocks as { text?: { text: string } }[])[0]!.text!.text,
      /:white_check_mark: \*Resolved\* OOMLoop/,
    );

    // PagerDuty Events API v2: trigger with the documented fields, then resolve with the same dedup_key.
    const [trigger, resolve] = pd.hits.map((h) => h.body);
    assert.deepEqual(Object.keys(trigger!).sort(), ['dedup_key', 'event_action', 'payload', 'routing_key']);
    assert.equal(trigger!.routing_key, 'R0UT1NGKEY0000000000000000000000');
    assert.equal(trigger!.event_action, 'trigger');
    assert.equal(trigger!.dedup_key, oom.key);
    assert.ok(trigger!.dedup_key.length <= 255, 'dedup_key at most 255');
    const p = trigger!.payload as Record<string, unknown>;
    assert.deepEqual(Object.keys(p).sort(), [
      'class',
      'component',
      'custom_details',
      'group',
      'severity',
      'source',
      'summary',
      'timestamp',
    ]);
    assert.equal(p.summary, oom.summary);
    assert.ok(p.summary.length <= 1024, 'summary at most 1024');
    assert.equal(p.source, 'prod-eu-1');
    assert.ok(['critical', 'error', 'warning', 'info'].includes(p.severity as string));
    assert.equal(p.severity, 'critical');
    assert.match(p.timestamp as string, ISO);
    assert.equal(p.component, 'Deployment/web');
    assert.equal(p.group, 'shop');
    assert.equal(p.class, 'OOMLoop');
    assert.deepEqual(p.custom_details, {
      namespace: 'shop',
      workload: 'Deployment/web',
      container: 'app',
      kills: 3,
      window: '1h',
      pods: 'web-1, web-2',
    });
    assert.deepEqual(resolve, {
      routing_key: 'R0UT1NGKEY0000000000000000000000',
      event_action: 'resolve',
      dedup_key: oom.key,
    });

    // Alertmanager's webhook payload (version 4).
    const [fire, resolved] = am.hits.map((h) => h.body);
    assert.deepEqual(Object.keys(fire!).sort(), [
      'alerts',
      'commonAnnotations',
      'commonLabels',
      'externalURL',
      'groupKey',
      'groupLabels',
      'receiver',
      'status',
      'truncatedAlerts',
      'version',
    ]);
    assert.equal(fire!.version, '4');
    assert.equal(typeof fire!.groupKey, 'string');
    assert.equal(fire!.truncatedAlerts, 0);
    assert.equal(fire!.status, 'firing');
    assert.equal(fire!.receiver, 'alertmanager');
    assert.deepEqual(fire!.groupLabels, { alertname: 'TailorOOMLoop' });
    assert.deepEqual(fire!.commonLabels, {
      alertname: 'TailorOOMLoop',
      severity: 'critical',
      namespace: 'shop',
      workload: 'Deployment/web',
      container: 'app',
    });
    assert.equal((fire!.commonAnnotations as Record<string, string>).summary, oom.summary);
    assert.equal(fire!.externalURL, 'https://tailor.example.com/ui');
    const alerts = fire!.alerts as Record<string, unknown>[];
    assert.equal(alerts.length, 1);
    assert.deepEqual(Object.keys(alerts[0]!).sort(), [
      'annotations',
      'endsAt',
      'fingerprint',
      'generatorURL',
      'labels',
      'startsAt',
      'status',
    ]);
    assert.equal(alerts[0]!.status, 'firing');
    assert.deepEqual(alerts[0]!.labels, fire!.commonLabels);
    assert.equal(alerts[0]!.startsAt, new Date(oom.since * 1000).toISOString());
    assert.equal(alerts[0]!.endsAt, ZERO_TIME, 'no end while firing, as Alertmanager sends it');
    assert.equal(alerts[0]!.generatorURL, 'https://tailor.example.com/ui');
    assert.match(alerts[0]!.fingerprint as string, /^[0-9a-f]{16}$/);
    assert.equal(resolved!.status, 'resolved');
    assert.equal(resolved!.groupKey, fire!.groupKey, 'the same group');
    const r0 = (resolved!.alerts as Record<string, unknown>[])[0]!;
    assert.equal(r0.status, 'resolved');
    assert.equal(r0.fingerprint, alerts[0]!.fingerprint, 'the same alert');
    assert.match(r0.endsAt as string, ISO);
    assert.ok(new Date(r0.endsAt as string) >= new Date(r0.startsAt as string), 'ends after it starts');

    for (const r of ['ops-slack', 'oncall', 'alertmanager']) assert.equal(n.get(`${r}/delivered`), 2, r);
  } finally {
    await d.stop();
    await Promise.all([slack.close(), pd.close(), am.close()]);
  }
});

test('an unreachable, failing or hanging endpoint is retried with growing backoff and counted; the others are not held up', async () => {
  // A port nobody listens on: connection refused.
  const gone = await receiverServer();
  const goneUrl = gone.url;
  await gone.close();
  const flaky = await receiverServer((i) => (i < 3 ? 503 : 200));
  const hanging = await receiverServer(() => 'hang');
  const fine = await receiverServer(() => 200);
  const n = counter();
  const d = new Dispatcher({
    receivers: [
      webhookReceiver('gone', goneUrl, { externalURL: '', timeoutMs: 500 }),
      webhookReceiver('flaky', flaky.url, { externalURL: '', timeoutMs: 500 }),
      slackReceiver('hanging', hanging.url, { timeoutMs: 200 }),
      webhookReceiver('fine', fine.url, { externalURL: '', timeoutMs: 500 }),
    ],
    routes: [{ alerts: ['OOMLoop'], receivers: ['gone', 'flaky', 'hanging', 'fine'] }],
    settings: { retry: { baseMs: 100, maxMs: 1000, maxAttempts: 4 } },
    count: n.count,
  });
  try {
    const began = Date.now();
    d.update([oom]);
    await eventually(() => assert.equal(fine.hits.length, 1), {
      timeoutMs: 2000,
      what: 'the working receiver',
    });
    assert.ok(Date.now() - began < 1000, 'the working receiver is not delayed by the others');
    await eventually(() => assert.equal(flaky.hits.length, 4), {
      timeoutMs: 5000,
      what: 'flaky: 3 x 503, then 200',
    });
    const gaps = flaky.hits.slice(1).map((h, i) => h.at - flaky.hits[i]!.at);
    assert.ok(
      gaps[0]! >= 90 && gaps[1]! >= 190 && gaps[2]! >= 390,
      `backoff 100, 200, 400 ms: ${gaps.join(', ')}`,
    );
    assert.equal(n.get('flaky/retried'), 3);
    assert.equal(n.get('flaky/delivered'), 1);
    await eventually(
      () => {
        assert.equal(n.get('gone/retried'), 3, 'refused connections retried');
        assert.equal(n.get('gone/failed'), 1, 'then given up, counted');
        assert.equal(n.get('hanging/retried'), 3, 'timeouts retried');
        assert.equal(n.get('hanging/failed'), 1);
      },
      { timeoutMs: 10_000, what: 'the dead endpoints given up' },
    );
    assert.equal(hanging.hits.length, 4);
  } finally {
    await d.stop();
    await Promise.all([flaky.close(), hanging.close(), fine.close()]);
  }
});

test('postJson: 2xx delivered; 429 with Retry-After, 408 and 5xx retried; other 4xx and redirects not; the URL never in a reason', async () => {
  const codes = [202, 429, 500, 404, 301];
  const s = await receiverServer((i) => codes[i]!);
  try {
    const results = [];
    for (let i = 0; i < codes.length; i++) results.push(await postJson(s.url, { i }, { timeoutMs: 1000 }));
    assert.deepEqual(
      results.map((r) => r.kind),
      ['Delivered', 'Retry', 'Retry', 'Failed', 'Failed'],
    );
    for (const r of results)
      if (r.kind !== 'Delivered')
        assert.ok(!r.reason.includes('secret') && !r.reason.includes('127.0.0.1'), r.reason);
  } finally {
    await s.close();
  }
});
