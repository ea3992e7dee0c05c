// The demo's summary line: counts what runs, and shows the operator's figures as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { money, summaryLine } from '../../src/demo/summary.ts';
import type { Report } from '../../src/core/report/model.ts';

const pod = (phase: string, deleting = false): k8s.V1Pod => ({
  metadata: { name: 'p', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status: { phase },
});

test('the summary counts live pods, and waits for the first report before naming savings', () => {
  const line = summaryLine({
    pods: [pod('Running'), pod('Pending'), pod('Succeeded'), pod('Running', true)],
    resizesApplied: 1,
    oomRaises: 0,
    report: undefined,
  });
  assert.equal(
    line,
    'pods 1/2 running | 1 resize applied | 0 OOM raises | savings: first report not built yet',
  );
});

test("the summary shows the report's available and realised savings, fractions of a cent included", () => {
  const figure = (cost: number) => ({ cost, currency: 'USD', co2eKg: 0 });
  const report = {
    currency: 'USD',
    cluster: {
      figures: {
        requested: figure(100),
        used: figure(50),
        recommended: figure(60),
        realised: figure(0.0123),
        available: figure(40),
      },
      oomKills: 0,
      resizes: 3,
    },
  } as unknown as Report;
  const line = summaryLine({ pods: [pod('Running')], resizesApplied: 3, oomRaises: 2, report });
  assert.match(
    line,
    /3 resizes applied \| 2 OOM raises \| savings available 40\.00 USD\/month \| realised 0\.0123 USD so far$/,
  );
  assert.equal(money(-12.5, 'EUR'), '-12.50 EUR');
  assert.equal(money(0, 'USD'), '0.00 USD');
});
