// The demo's live summary line: what the running operator already knows (its pod cache, its
// resize and OOM counters, its latest standing savings report), put in one line; nothing recomputed.
import type * as k8s from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import type { Report } from '../core/report/model.ts';

export interface SummaryFacts {
  readonly pods: readonly k8s.V1Pod[];
  /** tailor_resizes_total{result="Applied"}. */
  readonly resizesApplied: number;
  /** tailor_oom_raises_total, every workload. */
  readonly oomRaises: number;
  /** The operator's latest standing report; undefined until the first is built. */
  readonly report: Report | undefined;
}

/** Pure: the line for these facts. */
export function summaryLine(f: SummaryFacts): string {
  const live = f.pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded');
  const running = live.filter((p) => p.status?.phase === 'Running').length;
  const parts = [
    `pods ${running}/${live.length} running`,
    `${f.resizesApplied} resize${f.resizesApplied === 1 ? '' : 's'} applied`,
    `${f.oomRaises} OOM raise${f.oomRaises === 1 ? '' : 's'}`,
  ];
  if (f.report) {
    const c = f.report.cluster.figures;
    parts.push(
      `savings available ${money(c.available.cost, f.report.currency)}/month`,
      `realised ${money(c.realised.cost, f.report.currency)} so far`,
    );
  } else parts.push('savings: first report not built yet');
  return parts.join(' | ');
}

/** Cents once it is worth it; the first minutes' realised savings are fractions of a cent. */
export function money(amount: number, currency: string): string {
  const digits = Math.abs(amount) >= 1 || amount === 0 ? 2 : 4;
  return `${amount.toFixed(digits)} ${currency}`;
}

/** The sum of a counter over its label sets matching `where`. */
export async function counterSum(c: Counter, where: Record<string, string> = {}): Promise<number> {
  const { values } = await c.get();
  return values
    .filter((v) => Object.entries(where).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}
