// The report's spend (what budgets read as spend to date): the requests Tailor recorded over the range,
// priced as the rest of the report, summed per workload and namespace to the cent; a shorter range
// spends less, and a workload without records spent nothing that Tailor knows of.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, type PodFacts, type PolicyFacts } from '../../src/core/report/build.ts';
import { EMPTY_LEDGER, record, type Ledger } from '../../src/core/report/ledger.ts';
import { figureOf, pricingFor } from '../../src/core/cost/index.ts';
import type { NodeFacts } from '../../src/core/cost/types.ts';

const GiB = 2 ** 30;
const NOW = 1_800_000_000;
const node: NodeFacts = { name: 'n1', labels: {}, cpuCores: 16, memoryBytes: 64 * GiB, gpus: 0 };

const pod = (namespace: string, workload: string, cpu: number): PodFacts => ({
  namespace,
  name: `${workload}-0`,
  node: 'n1',
  workload: { kind: 'Deployment', name: workload },
  policy: workload,
  containers: [{ name: 'app', requests: { cpuCores: cpu, memoryBytes: GiB, gpus: 0 } }],
});

/** `hours` of one pod holding `cpu` cores and 1 GiB, up to NOW. */
function held(workload: string, hours: number, cpu: number): Ledger {
  let l = EMPTY_LEDGER;
  for (let t = NOW - hours * 3600; t <= NOW; t += 300)
    l = record(l, t, [
      {
        workload: { kind: 'Deployment', name: workload },
        container: 'app',
        pods: [
          {
            requested: { cpu, memory: GiB, gpu: 0 },
            baseline: { cpu, memory: GiB, gpu: 0 },
            used: { cpu: 0.1, memory: GiB / 2, gpu: 0 },
            recommended: { cpu: 0.25, memory: GiB, gpu: 0 },
          },
        ],
        oomKills: 0,
        resizes: 0,
      },
    ]);
  return l;
}

const policy = (namespace: string, name: string, ledger: Ledger): PolicyFacts => ({
  namespace,
  name,
  mode: 'Recommend',
  recommendations: [{ container: 'app', cpu: 0.25, memory: GiB }],
  ledger,
});

function report(sinceSeconds: number) {
  return buildReport({
    now: NOW,
    query: { sinceSeconds },
    nodes: [node],
    pods: [pod('shop', 'web', 2), pod('shop', 'api', 1), pod('shop', 'new', 4)],
    policies: [
      policy('shop', 'web', held('web', 24, 2)),
      policy('shop', 'api', held('api', 24, 1)),
      policy('shop', 'new', EMPTY_LEDGER),
    ],
  });
}

void test('spend is the recorded requests over the range, priced; workloads add up to the namespace to the cent', () => {
  const r = report(7 * 86_400);
  const shop = r.namespaces.find((n) => n.namespace === 'shop')!;
  const web = shop.workloads.find((w) => w.name === 'web')!;
  const expected = figureOf({ cpuCores: 2, memoryBytes: GiB, gpus: 0 }, 24, pricingFor(node));
  // 24 h of records, give or take the 5-minute bucket at either end and a cent of rounding.
  const slack = (f: number) => f / 288 + 0.01;
  assert.ok(
    Math.abs(web.spent!.cost - expected.cost) <= slack(expected.cost),
    `${web.spent!.cost} vs ${expected.cost}`,
  );
  assert.ok(Math.abs(web.spent!.co2eKg - expected.co2eKg) <= slack(expected.co2eKg));
  assert.equal(shop.workloads.find((w) => w.name === 'new')!.spent!.cost, 0, 'no records, nothing spent');
  assert.equal(
    Math.round(shop.spent!.cost * 100),
    shop.workloads.reduce((n, w) => n + Math.round(w.spent!.cost * 100), 0),
  );
});

void test('a shorter range spends less: half the hours, about half the money', () => {
  const day = report(86_400).namespaces[0]!.spent!.cost;
  const half = report(43_200).namespaces[0]!.spent!.cost;
  assert.ok(half > 0 && Math.abs(half * 2 - day) <= day / 50, `${half} x 2 vs ${day}`);
});
