// The savings report as Prometheus gauges, per namespace (tenant): money and CO2e requested,
// recommended and used, savings available and realised. The operator calls it with each report it
// builds (onReport); a namespace no longer in the report loses its series at once. Wasted volumes
// (tailor_volume_waste_*) per claim, when the report has a volumes section.
import type { Figure } from '../core/cost/types.ts';
import type { Report } from '../core/report/model.ts';
import type { OperatorMetrics } from './metrics.ts';
import { exportPacking } from './packing-metrics.ts';

/** Cost states exported: the three amounts a report prices. */
export const COST_STATES = ['requested', 'recommended', 'used'] as const;

const GRAMS_PER_KG = 1000;

export function exportReport(metrics: OperatorMetrics, report: Report): void {
  const g = metrics.report;
  // Reset and set in one synchronous step: a scrape sees the old report or the new one, and a
  // namespace (or a currency) the new report lacks is gone rather than left at its last value.
  for (const gauge of [
    g.savingsAvailable,
    g.savingsRealised,
    g.cost,
    g.co2e,
    g.co2eSavingsAvailable,
    g.co2eSavingsRealised,
    g.volumeWasteBytes,
    g.volumeWasteMonthlyCost,
  ])
    gauge.reset();
  for (const ns of report.namespaces) {
    const f = ns.figures;
    const namespace = ns.namespace;
    const money = (x: Figure) => ({ namespace, currency: x.currency });
    g.savingsAvailable.set(money(f.available), f.available.cost);
    g.savingsRealised.set(money(f.realised), f.realised.cost);
    for (const state of COST_STATES) {
      g.cost.set({ ...money(f[state]), state }, f[state].cost);
      g.co2e.set({ namespace, state }, f[state].co2eKg * GRAMS_PER_KG);
    }
    g.co2eSavingsAvailable.set({ namespace }, f.available.co2eKg * GRAMS_PER_KG);
    g.co2eSavingsRealised.set({ namespace }, f.realised.co2eKg * GRAMS_PER_KG);
  }
  for (const w of report.volumes?.wasted ?? []) {
    const claim = { namespace: w.namespace, persistentvolumeclaim: w.claim };
    g.volumeWasteBytes.set(claim, w.wasteBytes);
    g.volumeWasteMonthlyCost.set({ ...claim, currency: w.currency }, w.wasteMonthlyCost);
  }
  exportPacking(g.packing, report.packing);
  const since = Date.parse(report.since);
  const until = Date.parse(report.until);
  const generated = Date.parse(report.generatedAt);
  if (Number.isFinite(since) && Number.isFinite(until)) g.rangeSeconds.set((until - since) / 1000);
  if (Number.isFinite(generated)) g.timestampSeconds.set(generated / 1000);
}
