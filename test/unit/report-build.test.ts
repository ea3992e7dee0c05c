// The report builder: sums that add up to the cent, realised vs available, a raise is negative,
// a range without history says so, GPU tenants show GPU cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildReport,
  type BuildInput,
  type PodFacts,
  type PolicyFacts,
} from '../../src/core/report/build.ts';
import { EMPTY_LEDGER, record, type Ledger } from '../../src/core/report/ledger.ts';
import { gpusOf } from '../../src/core/report/amounts.ts';
import { figureOf, pricingFor, HOURS_PER_MONTH } from '../../src/core/cost/index.ts';
import type { Figure, NodeFacts } from '../../src/core/cost/types.ts';

const GiB = 2 ** 30;
const NOW = 1_800_000_000;
const node: NodeFacts = { name: 'n1', labels: {}, cpuCores: 16, memoryBytes: 64 * GiB, gpus: 0 };
const gpuNode: NodeFacts = { name: 'g1', labels: {}, cpuCores: 16, memoryBytes: 64 * GiB, gpus: 1 };

function pod(
  namespace: string,
  workload: string,
  i: number,
  cpu: number,
  memory: number,
  gpus = 0,
): PodFacts {
  return {
    namespace,
    name: `${workload}-${i}`,
    node: gpus > 0 ? 'g1' : 'n1',
    workload: { kind: 'Deployment', name: workload },
    policy: workload,
    containers: [{ name: 'app', requests: { cpuCores: cpu, memoryBytes: memory, gpus } }],
  };
}

/** A ledger of `hours` of one pod at `requested` cores, asked `baseline` before Tailor, using `used`. */
function history(workload: string, hours: number, requested: number, baseline: number, used = 0.1): Ledger {
  let l = EMPTY_LEDGER;
  for (let t = NOW - hours * 3600; t <= NOW; t += 300)
    l = record(l, t, [
      {
        workload: { kind: 'Deployment', name: workload },
        container: 'app',
        pods: [
          {
            requested: { cpu: requested, memory: GiB, gpu: 0 },
            baseline: { cpu: baseline, memory: GiB, gpu: 0 },
            used: { cpu: used, memory: GiB / 2, gpu: 0 },
            recommended: { cpu: 0.25, memory: GiB, gpu: 0 },
          },
        ],
        oomKills: 0,
        resizes: 0,
      },
    ]);
  return l;
}

function policy(
  namespace: string,
  name: string,
  cpu: number | undefined,
  ledger: Ledger = EMPTY_LEDGER,
): PolicyFacts {
  return {
    namespace,
    name,
    mode: 'InPlace',
    recommendations: [{ container: 'app', ...(cpu !== undefined ? { cpu } : {}), memory: GiB }],
    ledger,
  };
}

const input = (over: Partial<BuildInput> = {}): BuildInput => ({
  now: NOW,
  query: { sinceSeconds: 7 * 86_400 },
  nodes: [node, gpuNode],
  pods: [],
  policies: [],
  ...over,
});

const cents = (f: Figure) => Math.round(f.cost * 100);
const mg = (f: Figure) => Math.round(f.co2eKg * 1e6);

test('build: an over-requested workload has an available saving of requested minus recommended, per month', () => {
  const r = buildReport(
    input({
      pods: [pod('shop', 'web', 0, 2, GiB), pod('shop', 'web', 1, 2, GiB)],
      policies: [policy('shop', 'web', 0.5)],
    }),
  );
  const w = r.namespaces[0]!.workloads[0]!;
  assert.equal(w.replicas, 2);
  assert.equal(w.containers[0]!.amounts.requested.cpuCores, 4);
  assert.equal(w.containers[0]!.amounts.recommended.cpuCores, 1);
  const pricing = pricingFor(node);
  const expected = figureOf({ cpuCores: 1.5, memoryBytes: 0, gpus: 0 }, HOURS_PER_MONTH, pricing).cost * 2;
  assert.ok(
    Math.abs(w.figures.available.cost - expected) <= 0.011,
    `${w.figures.available.cost} vs ${expected}`,
  );
  assert.ok(w.figures.available.cost > 0);
  assert.equal(r.opportunities[0]?.workload, 'Deployment/web');
  assert.equal(r.opportunities[0]?.resource, 'cpu');
  assert.equal(r.opportunities[0]?.saving.cost, w.figures.available.cost);
});

test('build: containers add up to workloads, workloads to namespaces, namespaces to the cluster, to the cent', () => {
  // Odd amounts so that each level has fractions of a cent to lose.
  const pods = [
    pod('a', 'web', 0, 0.333, 0.7 * GiB),
    pod('a', 'web', 1, 0.333, 0.7 * GiB),
    pod('a', 'api', 0, 1.777, 3.1 * GiB),
    pod('b', 'db', 0, 2.111, 5.3 * GiB),
    pod('c', 'llm', 0, 4.05, 12.9 * GiB, 1),
  ];
  const r = buildReport(
    input({
      pods,
      policies: [
        policy('a', 'web', 0.1, history('web', 30, 0.333, 1)),
        policy('a', 'api', 0.9, history('api', 30, 1.777, 1.2)),
        policy('b', 'db', 1.3, history('db', 30, 2.111, 3)),
        policy('c', 'llm', 3, history('llm', 30, 4.05, 6)),
      ],
    }),
  );
  for (const key of ['requested', 'used', 'recommended', 'realised', 'available'] as const) {
    for (const ns of r.namespaces) {
      for (const w of ns.workloads)
        assert.equal(
          Math.round(w.figures[key].cost * 100),
          w.containers.reduce((n, c) => n + cents(c.figures[key]), 0),
          `${key}: ${ns.namespace}/${w.name} = its containers`,
        );
      assert.equal(
        Math.round(ns.figures[key].cost * 100),
        ns.workloads.reduce((n, w) => n + cents(w.figures[key]), 0),
      );
    }
    assert.equal(
      Math.round(r.cluster.figures[key].cost * 100),
      r.namespaces.reduce((n, x) => n + cents(x.figures[key]), 0),
      `${key}: the namespaces add up to the cluster`,
    );
    assert.equal(
      Math.round(r.cluster.figures[key].co2eKg * 1e6),
      r.namespaces.reduce((n, x) => n + mg(x.figures[key]), 0),
      `${key} CO2e`,
    );
    // Every figure is a whole number of cents in the model, so every renderer prints the same.
    assert.equal(r.cluster.figures[key].cost, Math.round(r.cluster.figures[key].cost * 100) / 100);
  }
  assert.ok(r.cluster.figures.realised.cost > 0, 'lowered requests saved money');
  assert.deepEqual(
    r.namespaces.map((n) => n.namespace),
    ['a', 'b', 'c'],
  );
});

test('build: a workload whose requests Tailor raised shows a negative realised saving', () => {
  const r = buildReport(
    input({
      pods: [pod('shop', 'web', 0, 2, GiB)],
      policies: [policy('shop', 'web', 2, history('web', 24, 2, 1))],
    }),
  );
  const f = r.namespaces[0]!.workloads[0]!.figures;
  assert.ok(f.realised.cost < 0, `raised: ${f.realised.cost}`);
  // One extra core for 24 h at the default price.
  const expected = -figureOf({ cpuCores: 1, memoryBytes: 0, gpus: 0 }, 24, pricingFor(node)).cost;
  assert.ok(Math.abs(f.realised.cost - expected) <= 0.011, `${f.realised.cost} vs ${expected}`);
  assert.ok(f.realised.co2eKg < 0);
});

test('build: a range with no history says so in the notes instead of printing zeros silently', () => {
  const r = buildReport(
    input({ pods: [pod('shop', 'web', 0, 2, GiB)], policies: [policy('shop', 'web', 1)] }),
  );
  assert.ok(
    r.notes.some((n) => /no history between/.test(n)),
    r.notes.join('\n'),
  );
  assert.equal(r.namespaces[0]!.workloads[0]!.historyHours, 0);
  // A history that ended before the range is no history either.
  const old = buildReport(
    input({
      now: NOW + 30 * 86_400,
      query: { sinceSeconds: 86_400 },
      pods: [pod('shop', 'web', 0, 2, GiB)],
      policies: [policy('shop', 'web', 1, history('web', 2, 2, 3))],
    }),
  );
  assert.ok(old.notes.some((n) => /no history between/.test(n)));
  const empty = buildReport(input({ query: { sinceSeconds: 3600, namespaces: ['nobody'] } }));
  assert.ok(empty.notes.some((n) => /nobody: no workload covered/.test(n)));
});

test('build: a GPU tenant shows GPU cost (whole GPUs and MIG slices)', () => {
  assert.equal(gpusOf({ 'nvidia.com/gpu': '2' }), 2);
  assert.ok(Math.abs(gpusOf({ 'nvidia.com/mig-3g.40gb': '1' }) - 3 / 7) < 1e-12);
  const r = buildReport(
    input({ pods: [pod('acme', 'chat', 0, 4, 16 * GiB, 1)], policies: [policy('acme', 'chat', 4)] }),
  );
  const w = r.namespaces[0]!.workloads[0]!;
  const cpuMem = figureOf(
    { cpuCores: 4, memoryBytes: 16 * GiB, gpus: 0 },
    HOURS_PER_MONTH,
    pricingFor(gpuNode),
  );
  const gpu = figureOf({ cpuCores: 0, memoryBytes: 0, gpus: 1 }, HOURS_PER_MONTH, pricingFor(gpuNode));
  assert.ok(gpu.cost > 0);
  assert.ok(Math.abs(w.figures.requested.cost - (cpuMem.cost + gpu.cost)) <= 0.011);
  assert.equal(w.containers[0]!.amounts.requested.gpus, 1);
  assert.equal(w.containers[0]!.amounts.recommended.gpus, 1, 'the GPU is kept in the recommendation');
});

test('build: the series has a point per 5-minute bucket for a short range, hourly for a long one', () => {
  const ledger = history('web', 3, 1, 2);
  const short = buildReport(
    input({
      query: { sinceSeconds: 6 * 3600 },
      pods: [pod('shop', 'web', 0, 1, GiB)],
      policies: [policy('shop', 'web', 0.5, ledger)],
    }),
  );
  const s = short.namespaces[0]!.workloads[0]!.series;
  assert.ok(s.length >= 35 && s.length <= 37, `${s.length} points`);
  assert.ok(Math.abs(s[5]!.requested.cpuCores - 1) < 1e-9);
  assert.ok(Math.abs(s[5]!.used.cpuCores - 0.1) < 1e-9);
  const long = buildReport(
    input({ pods: [pod('shop', 'web', 0, 1, GiB)], policies: [policy('shop', 'web', 0.5, ledger)] }),
  );
  const l = long.namespaces[0]!.workloads[0]!.series;
  assert.ok(l.length >= 3 && l.length <= 4, `${l.length} points`);
});

test("build: a workload carries its policy's last change, for the dashboard's resize history", () => {
  const lastApplied = { time: '2027-01-15T08:00:00Z', pods: 2, summary: 'app: cpu 2 -> 500m' };
  const r = buildReport(
    input({
      pods: [pod('shop', 'web', 0, 2, GiB)],
      policies: [{ ...policy('shop', 'web', 0.5), lastApplied }],
    }),
  );
  assert.deepEqual(r.namespaces[0]!.workloads[0]!.lastApplied, lastApplied);
  const without = buildReport(
    input({ pods: [pod('shop', 'web', 0, 2, GiB)], policies: [policy('shop', 'web', 0.5)] }),
  );
  assert.equal(without.namespaces[0]!.workloads[0]!.lastApplied, undefined);
});
