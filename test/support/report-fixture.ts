// A hand-built Report for the renderers' tests: two tenants (a web shop and a GPU LLM team), a
// workload whose requests went up (a negative saving), names written to break out of HTML, and a
// workload with a resize history. Figures are invented, only shaped like the real thing.
import type { Figure } from '../../src/core/cost/types.ts';
import type {
  Figures,
  Report,
  ReportProvider,
  SeriesPoint,
  WorkloadReport,
} from '../../src/core/report/model.ts';

const GiB = 2 ** 30;
/** A workload name that is markup: it must show as text, never run. */
export const HOSTILE_NAME = '<script>window.__pwned=1</script>';
/** A container name that tries to end an attribute and add a handler. */
export const HOSTILE_CONTAINER = 'x" onmouseover="window.__pwned=2';

const fig = (cost: number, co2eKg: number): Figure => ({ cost, currency: 'USD', co2eKg });

function figures(requested: Figure, used: Figure, recommended: Figure, realised: Figure): Figures {
  const available = fig(requested.cost - recommended.cost, requested.co2eKg - recommended.co2eKg);
  return { requested, used, recommended, realised, available };
}

function series(
  hours: number,
  req: { cpu: number; memGiB: number; gpus?: number },
  rec: { cpu: number; memGiB: number; gpus?: number },
  use: (h: number) => { cpu: number; memGiB: number; gpus?: number },
): SeriesPoint[] {
  const start = Date.parse('2026-11-30T00:00:00Z');
  const amount = (a: { cpu: number; memGiB: number; gpus?: number }) => ({
    cpuCores: a.cpu,
    memoryBytes: a.memGiB * GiB,
    gpus: a.gpus ?? 0,
  });
  return Array.from({ length: hours }, (_, h) => ({
    t: new Date(start + h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    // The recommendation was applied at hour 12: requests drop to it from then on.
    requested: amount(h < 12 ? req : rec),
    used: amount(use(h)),
    recommended: amount(rec),
  }));
}

const diurnal = (h: number) => 0.5 + 0.5 * Math.sin((h / 24) * 2 * Math.PI);

const web: WorkloadReport = {
  namespace: 'shop',
  kind: 'Deployment',
  name: 'web',
  policy: 'web',
  mode: 'InPlace',
  replicas: 3,
  containers: [
    {
      name: 'app',
      amounts: {
        requested: { cpuCores: 2, memoryBytes: 4 * GiB, gpus: 0 },
        used: { cpuCores: 0.31, memoryBytes: 0.9 * GiB, gpus: 0 },
        recommended: { cpuCores: 0.5, memoryBytes: 1.25 * GiB, gpus: 0 },
      },
      figures: figures(fig(160.13, 21.456), fig(24.6, 3.2), fig(41.87, 5.5), fig(18.333, 2.104)),
    },
  ],
  figures: figures(fig(160.13, 21.456), fig(24.6, 3.2), fig(41.87, 5.5), fig(18.333, 2.104)),
  oomKills: 0,
  resizes: 3,
  series: series(48, { cpu: 6, memGiB: 12 }, { cpu: 1.5, memGiB: 3.75 }, (h) => ({
    cpu: 0.6 + 0.7 * diurnal(h),
    memGiB: 2.4 + 0.6 * diurnal(h),
  })),
  lastApplied: {
    time: '2026-11-30T12:00:05Z',
    pods: 3,
    summary: 'web-1: app: cpu 2 -> 500m, memory 4Gi -> 1280Mi',
  },
  events: [
    {
      time: '2026-11-30T12:00:05Z',
      type: 'Normal',
      reason: 'Resized',
      message: 'app: cpu 2 -> 500m, memory 4Gi -> 1280Mi',
      object: 'Pod/web-1',
    },
    {
      time: '2026-11-29T20:14:00Z',
      type: 'Warning',
      reason: 'EvictionHeld',
      message: 'a PodDisruptionBudget blocks it',
      object: 'Pod/web-0',
    },
  ],
};

// Its requests went up after OOM kills: it costs more than before, a negative saving.
const db: WorkloadReport = {
  namespace: 'shop',
  kind: 'StatefulSet',
  name: 'db',
  policy: 'db',
  mode: 'InPlace',
  replicas: 1,
  containers: [
    {
      name: 'postgres',
      amounts: {
        requested: { cpuCores: 1, memoryBytes: 2 * GiB, gpus: 0 },
        used: { cpuCores: 0.8, memoryBytes: 2.6 * GiB, gpus: 0 },
        recommended: { cpuCores: 1, memoryBytes: 3 * GiB, gpus: 0 },
      },
      figures: figures(fig(26.62, 3.1), fig(24.5, 2.9), fig(30.07, 3.6), fig(-4.125, -0.0042)),
    },
  ],
  figures: figures(fig(26.62, 3.1), fig(24.5, 2.9), fig(30.07, 3.6), fig(-4.125, -0.0042)),
  oomKills: 2,
  resizes: 1,
  series: series(48, { cpu: 1, memGiB: 2 }, { cpu: 1, memGiB: 3 }, (h) => ({
    cpu: 0.8,
    memGiB: 2.3 + 0.3 * diurnal(h),
  })),
};

const hostile: WorkloadReport = {
  namespace: 'shop',
  kind: 'Deployment',
  name: HOSTILE_NAME,
  policy: 'all-of-shop',
  mode: 'Recommend',
  replicas: 1,
  containers: [
    {
      name: HOSTILE_CONTAINER,
      amounts: {
        requested: { cpuCores: 0.5, memoryBytes: 0.5 * GiB, gpus: 0 },
        used: { cpuCores: 0.05, memoryBytes: 0.1 * GiB, gpus: 0 },
        recommended: { cpuCores: 0.1, memoryBytes: 0.25 * GiB, gpus: 0 },
      },
      figures: figures(fig(11.28, 1.2), fig(1.5, 0.15), fig(3.05, 0.31), fig(0, 0)),
    },
  ],
  figures: figures(fig(11.28, 1.2), fig(1.5, 0.15), fig(3.05, 0.31), fig(0, 0)),
  oomKills: 0,
  resizes: 0,
  series: series(48, { cpu: 0.5, memGiB: 0.5 }, { cpu: 0.1, memGiB: 0.25 }, () => ({
    cpu: 0.05,
    memGiB: 0.1,
  })),
};

const vllm: WorkloadReport = {
  namespace: 'llm-team',
  kind: 'Deployment',
  name: 'vllm-llama',
  policy: 'vllm-llama',
  mode: 'InPlace',
  replicas: 2,
  containers: [
    {
      name: 'vllm',
      amounts: {
        requested: { cpuCores: 8, memoryBytes: 64 * GiB, gpus: 2 },
        used: { cpuCores: 2.1, memoryBytes: 30 * GiB, gpus: 0.62 },
        recommended: { cpuCores: 3, memoryBytes: 40 * GiB, gpus: 1 },
      },
      figures: figures(fig(3721.44, 612.25), fig(1507.3, 240.1), fig(1893.03, 305.4), fig(402.5, 61.875)),
    },
  ],
  figures: figures(fig(3721.44, 612.25), fig(1507.3, 240.1), fig(1893.03, 305.4), fig(402.5, 61.875)),
  oomKills: 0,
  resizes: 2,
  series: series(48, { cpu: 16, memGiB: 128, gpus: 4 }, { cpu: 6, memGiB: 80, gpus: 2 }, (h) => ({
    cpu: 3 + 2 * diurnal(h),
    memGiB: 50 + 10 * diurnal(h),
    gpus: 0.8 + diurnal(h),
  })),
};

function sum(ws: readonly WorkloadReport[]): Figures {
  const add = (k: keyof Figures) =>
    fig(
      ws.reduce((s, w) => s + w.figures[k].cost, 0),
      ws.reduce((s, w) => s + w.figures[k].co2eKg, 0),
    );
  return {
    requested: add('requested'),
    used: add('used'),
    recommended: add('recommended'),
    realised: add('realised'),
    available: add('available'),
  };
}

const shop = [web, db, hostile];
const llm = [vllm];

export const FIXTURE_REPORT: Report = {
  generatedAt: '2026-12-02T09:00:00Z',
  since: '2026-11-30T00:00:00Z',
  until: '2026-12-02T00:00:00Z',
  currency: 'USD',
  cluster: { figures: sum([...shop, ...llm]), oomKills: 2, resizes: 6 },
  namespaces: [
    { namespace: 'llm-team', figures: sum(llm), oomKills: 0, resizes: 2, workloads: llm },
    { namespace: 'shop', figures: sum(shop), oomKills: 2, resizes: 4, workloads: shop },
  ],
  opportunities: [
    {
      namespace: 'llm-team',
      workload: 'vllm-llama',
      container: 'vllm',
      resource: 'nvidia.com/gpu',
      requested: 2,
      recommended: 1,
      saving: fig(1387.0, 228.4),
    },
    {
      namespace: 'shop',
      workload: HOSTILE_NAME,
      container: HOSTILE_CONTAINER,
      resource: 'memory',
      requested: 0.5 * GiB,
      recommended: 0.25 * GiB,
      saving: fig(2.31, 0.2),
    },
  ],
  notes: ['prices: OpenCost default for nodes without an instance type <b>(not bold)</b>'],
};

/** A provider that answers the fixture, narrowed to the namespaces asked for (as a real one would). */
export function fixedReportProvider(report: Report = FIXTURE_REPORT): ReportProvider {
  return (q) => Promise.resolve(narrowed(report, q.namespaces));
}

function narrowed(report: Report, only: readonly string[] | undefined): Report {
  if (!only) return report;
  const namespaces = report.namespaces.filter((n) => only.includes(n.namespace));
  const all = namespaces.flatMap((n) => n.workloads);
  return {
    ...report,
    cluster: {
      figures: sum(all),
      oomKills: namespaces.reduce((s, n) => s + n.oomKills, 0),
      resizes: namespaces.reduce((s, n) => s + n.resizes, 0),
    },
    namespaces,
    opportunities: report.opportunities.filter((o) => only.includes(o.namespace)),
  };
}
