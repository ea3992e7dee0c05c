// Per-tenant budgets on the real control plane and simulator, with the operator as its own
// ServiceAccount: bad TenantBudgets are refused by the apiserver with the field named (a negative
// cap, an unknown currency, no cap, a namespace that does not exist) or, for a currency the prices
// are not in, by the controller's status; a tenant over its cap gets status (spend to date, forecast
// to month end, the recommendations that bring it under, largest saving first), a Warning Event and
// one notification per crossing, through the operator's notifications (an Alertmanager-format webhook).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GROUP, VERSION, type TenantBudget } from '../../src/api/index.ts';
import { makeClients, mergePatch } from '../../src/kube/client.ts';
import { apiError, eventually, idleDeployment, useCluster } from '../support/cluster.ts';
import { createPolicy, eventsFor, Mi, overProvisioned, useTestOperator } from '../support/operator.ts';
import { allowNotificationsHome } from '../support/identity.ts';

const cluster = useCluster(import.meta.url);

/** What the local Alertmanager-format receiver was sent. */
const hits: Record<string, unknown>[] = [];
let server: Server;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200);
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alertmanager`;
  await allowNotificationsHome(cluster.namespace);
  const { core, namespace } = cluster;
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'tailor-notifications' }, stringData: { 'webhook-url': url } },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: 'tailor-notifications' },
      data: {
        'config.yaml': [
          'receivers:',
          '  - name: finance',
          '    webhook:',
          '      url: { secret: tailor-notifications, key: webhook-url }',
          'routes:',
          '  - alerts: [BudgetForecastOverCap]',
          '    receivers: [finance]',
          '',
        ].join('\n'),
      },
    },
  });
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

useTestOperator(cluster, {
  models: false,
  budgets: { resyncMs: 1000 },
  notifications: {
    configMap: { namespace: cluster.namespace, name: 'tailor-notifications' },
    evaluateEveryMs: 500,
    reloadEveryMs: 1000,
  },
});

const custom = () => makeClients(cluster.kc).custom;

function createBudget(
  name: string,
  spec: Record<string, unknown>,
  namespace = cluster.namespace,
): Promise<unknown> {
  return custom().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'tenantbudgets',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'TenantBudget', metadata: { name }, spec },
  });
}

async function refusal(name: string, spec: Record<string, unknown>, namespace?: string) {
  return createBudget(name, spec, namespace).then(
    () => assert.fail(`budget ${name} ${JSON.stringify(spec)} was stored`),
    (err: unknown) => apiError(err),
  );
}

async function readBudget(name: string): Promise<TenantBudget> {
  return (await custom().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: cluster.namespace,
    plural: 'tenantbudgets',
    name,
  })) as TenantBudget;
}

async function setCap(name: string, monthlyCost: string): Promise<void> {
  await custom().patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: cluster.namespace,
      plural: 'tenantbudgets',
      name,
      body: { spec: { monthlyCost } },
    },
    mergePatch,
  );
}

/** The budget once `check` passes on it. */
function expectBudget(
  name: string,
  check: (b: TenantBudget) => void,
  what: string,
  timeoutMs = 60_000,
): Promise<TenantBudget> {
  return eventually(
    async () => {
      const b = await readBudget(name);
      check(b);
      return b;
    },
    { timeoutMs, what },
  );
}

const condition = (b: TenantBudget, type: string) => b.status?.conditions?.find((c) => c.type === type);

/** The notifications about one budget, as the receiver got them. */
function notified(budget: string) {
  return hits
    .map((h) => (h.alerts as { labels: Record<string, string>; annotations: Record<string, string> }[])[0]!)
    .filter((a) => a.labels.alertname === 'TailorBudgetForecastOverCap' && a.labels.budget === budget);
}

test('bad budgets are refused with the field named: negative caps, an unknown currency, no cap, a namespace that does not exist', async () => {
  const negative = await refusal('negative', { monthlyCost: '-5' });
  assert.equal(negative.code, 422);
  assert.match(negative.message, /spec\.monthlyCost: Invalid value: .*monthlyCost -5 is negative/);

  const carbon = await refusal('carbon', { monthlyCO2eKg: '-0.5' });
  assert.match(carbon.message, /spec\.monthlyCO2eKg: Invalid value: .*monthlyCO2eKg -0\.5 is negative/);

  const words = await refusal('words', { monthlyCost: 'lots' });
  assert.match(words.message, /spec\.monthlyCost: Invalid value: .*monthlyCost lots is not a number/);

  const currency = await refusal('doubloons', { currency: 'XDB', monthlyCost: '100' });
  assert.equal(currency.code, 422);
  assert.match(
    currency.message,
    /spec\.currency: Invalid value: .*currency XDB is not an ISO 4217 currency code/,
  );

  const none = await refusal('nothing', { currency: 'USD' });
  assert.match(none.message, /spec: Invalid value: .*set monthlyCost, monthlyCO2eKg or both/);

  // A budget holds the namespace it lives in: one that does not exist cannot hold one.
  const ghost = `${cluster.namespace}-ghost`;
  const missing = await refusal('ghost', { monthlyCost: '100' }, ghost);
  assert.equal(missing.code, 404);
  assert.match(missing.message, new RegExp(`namespaces "${ghost}" not found`));
});

test('a cap in a currency the prices are not in: Ready=False with the field named, and no figures', async () => {
  await createBudget('euros', { currency: 'EUR', monthlyCost: '100' });
  const b = await expectBudget(
    'euros',
    (x) => assert.equal(condition(x, 'Ready')?.reason, 'CurrencyMismatch', JSON.stringify(x.status)),
    'the CurrencyMismatch condition',
  );
  assert.equal(condition(b, 'Ready')?.status, 'False');
  assert.match(
    condition(b, 'Ready')!.message,
    /^spec\.currency: EUR is not the currency of Tailor's prices \(USD\)/,
  );
  assert.equal(b.status?.forecast, undefined, 'no forecast against a cap it cannot compare with');
});

test('a tenant over its budget: spend, forecast and the recommendations that bring it under; one Event and one notification per crossing', async (t) => {
  const { apps, namespace } = cluster;
  // Two over-provisioned workloads under Recommend: four recommendations of different sizes.
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('web') });
  await apps.createNamespacedDeployment({
    namespace,
    body: idleDeployment(
      'batch',
      1,
      { cpuCores: 0.05, memoryBytes: 100 * Mi },
      { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } },
    ),
  });
  for (const name of ['web', 'batch'])
    await createPolicy(cluster, name, {
      mode: 'Recommend',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    });

  // A cap nothing can meet: over even with every recommendation applied, all of them listed.
  await createBudget('monthly', { monthlyCost: '0.01', monthlyCO2eKg: '1000' });
  const unfixable = await expectBudget(
    'monthly',
    (b) => {
      assert.equal(b.status?.state, 'OverBudgetEvenIfApplied', JSON.stringify(b.status));
      assert.ok((b.status?.recommendations?.length ?? 0) >= 4, `recommendations ${JSON.stringify(b.status)}`);
    },
    'the budget judged over its cap with the recommendations of both workloads',
    120_000,
  );
  const s = unfixable.status!;
  assert.equal(s.currency, 'USD');
  assert.match(s.month ?? '', /^\d{4}-\d{2}$/);
  const forecast = Number(s.forecast!.cost);
  const ifApplied = Number(s.forecastIfApplied!.cost);
  assert.ok(
    Number(s.spent!.cost) >= 0 && forecast > Number(s.spent!.cost),
    `spent ${s.spent!.cost}, forecast ${forecast}`,
  );
  assert.ok(ifApplied < forecast, `applying them lowers the forecast: ${ifApplied} < ${forecast}`);
  const savings = s.recommendations!.map((r) => Number(r.savingPerMonth.cost));
  assert.deepEqual(
    savings,
    [...savings].sort((a, b) => b - a),
    'largest saving first',
  );
  assert.equal(s.recommendations![0]!.workload, 'Deployment/batch', 'the 1-core, 1Gi workload saves most');
  assert.equal(condition(unfixable, 'WithinBudget')?.status, 'False');
  assert.equal(condition(unfixable, 'Ready')?.status, 'True');

  const first = await eventually(
    () => {
      const n = notified('monthly');
      assert.equal(n.length, 1, `one notification: ${JSON.stringify(hits)}`);
      return n[0]!;
    },
    { what: 'the budget notification' },
  );
  assert.equal(first.labels.namespace, namespace);
  assert.match(
    first.annotations.summary!,
    new RegExp(`TenantBudget ${namespace}/monthly: .* forecast .* against a cap of 0\\.01 USD`),
  );
  assert.equal(
    (await eventsFor(cluster, 'TenantBudget', 'monthly', 'BudgetForecastOverCap')).length,
    1,
    'one Warning Event',
  );

  // A cap the largest savings can meet: the recommendations are the prefix that brings it under.
  await setCap('monthly', ((forecast + ifApplied) / 2).toFixed(2));
  const fixable = await expectBudget(
    'monthly',
    (b) => assert.equal(b.status?.state, 'OverBudget', JSON.stringify(b.status)),
    'the budget judged fixable',
  );
  const picked = fixable.status!.recommendations!;
  assert.ok(picked.length >= 1 && picked.length < s.recommendations!.length, `a prefix: ${picked.length}`);
  assert.deepEqual(
    picked.map((r) => `${r.workload} ${r.resource}`),
    s.recommendations!.slice(0, picked.length).map((r) => `${r.workload} ${r.resource}`),
  );
  assert.ok(Number(fixable.status!.forecastIfApplied!.cost) <= Number(fixable.spec.monthlyCost));
  // What `kubectl get` shows: the printer columns.
  const table = cluster.kubectl('get', 'tenantbudgets', '-n', namespace, '-o', 'wide');
  assert.equal(table.status, 0, table.stderr);
  t.diagnostic(table.stdout);
  const [header = '', row = ''] = table.stdout.split('\n').filter((l) => /^(NAME|monthly) /.test(l));
  assert.match(
    header,
    /^NAME\s+CAP\s+SPENT\s+FORECAST\s+CURRENCY\s+CO2E-CAP\s+CO2E-FORECAST\s+STATE\s+READY\s+AGE/,
  );
  assert.match(
    row,
    new RegExp(
      `^monthly\\s+${fixable.spec.monthlyCost!.replace('.', '\\.')}\\s+[0-9.]+\\s+[0-9.]+\\s+USD\\s+1000\\s+[0-9.]+\\s+OverBudget\\s+True`,
    ),
  );

  // Still over: the same crossing, told once, however many passes (one a second) go by.
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(notified('monthly').length, 1, 'no second notification for the same crossing');

  // Back under, then over again: a new crossing, a new notification.
  await setCap('monthly', '100000');
  await expectBudget(
    'monthly',
    (b) => assert.equal(b.status?.state, 'WithinBudget', JSON.stringify(b.status)),
    'the budget within its cap',
  );
  assert.equal((await readBudget('monthly')).status?.recommendations?.length, 0);
  await eventually(
    async () =>
      assert.equal(
        (await eventsFor(cluster, 'TenantBudget', 'monthly', 'BudgetForecastWithinCap')).length,
        1,
      ),
    { what: 'the BudgetForecastWithinCap Event' },
  );
  // A crossing is keyed by its second: make sure the next one starts in another.
  await new Promise((r) => setTimeout(r, 1100));
  await setCap('monthly', '0.01');
  const second = await eventually(
    () => {
      const n = notified('monthly');
      assert.equal(n.length, 2, `a second notification: ${JSON.stringify(n)}`);
      return n[1]!;
    },
    { what: 'the second crossing' },
  );
  assert.notEqual(second.annotations.dedup_key, first.annotations.dedup_key, 'a new crossing, a new key');
});
