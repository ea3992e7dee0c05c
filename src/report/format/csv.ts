// `tailor report -o csv`: one row per workload container, then one per namespace and the cluster
// (level column), every figure a column: what a spreadsheet sums.
import type { Figures, Report } from '../../core/report/model.ts';
import { FIGURE_KEYS } from './common.ts';
import { appendPacking } from './packing-csv.ts';

export const cell = (v: string | number | undefined) => {
  // Fractions to 12 significant digits: no float noise (0.09999999999999999) in a spreadsheet.
  const s =
    v === undefined
      ? ''
      : typeof v === 'number' && !Number.isInteger(v)
        ? String(Number(v.toPrecision(12)))
        : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function renderCsv(r: Report): string {
  const header = [
    'level',
    'namespace',
    'kind',
    'workload',
    'container',
    'policy',
    'mode',
    'pods',
    'requestedCpuCores',
    'requestedMemoryBytes',
    'requestedGpus',
    'usedCpuCores',
    'usedMemoryBytes',
    'recommendedCpuCores',
    'recommendedMemoryBytes',
    ...FIGURE_KEYS.flatMap((k) => [`${k}Cost`, `${k}Co2eKg`]),
    'currency',
    'historyHours',
    'oomKills',
    'resizes',
  ];
  const figures = (f: Figures) => FIGURE_KEYS.flatMap((k) => [f[k].cost, f[k].co2eKg]);
  const lines = [header.join(',')];
  for (const n of r.namespaces) {
    for (const w of n.workloads)
      for (const c of w.containers)
        lines.push(
          [
            'container',
            w.namespace,
            w.kind,
            w.name,
            c.name,
            w.policy,
            w.mode,
            w.replicas,
            c.amounts.requested.cpuCores,
            Math.round(c.amounts.requested.memoryBytes),
            c.amounts.requested.gpus,
            c.amounts.used.cpuCores,
            Math.round(c.amounts.used.memoryBytes),
            c.amounts.recommended.cpuCores,
            Math.round(c.amounts.recommended.memoryBytes),
            ...figures(c.figures),
            r.currency,
            w.historyHours,
            '',
            '',
          ]
            .map(cell)
            .join(','),
        );
    lines.push(
      [
        'namespace',
        n.namespace,
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        ...figures(n.figures),
        r.currency,
        '',
        n.oomKills,
        n.resizes,
      ]
        .map(cell)
        .join(','),
    );
  }
  lines.push(
    [
      'cluster',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      ...figures(r.cluster.figures),
      r.currency,
      '',
      r.cluster.oomKills,
      r.cluster.resizes,
    ]
      .map(cell)
      .join(','),
  );
  if (r.volumes) appendVolumes(lines, header, r);
  if (r.packing) appendPacking(lines, r.packing);
  return lines.join('\n') + '\n';
}

/** Columns the volumes section adds (only when the report has one): blank on the other rows. */
const VOLUME_COLUMNS = [
  'storageClass',
  'volumes',
  'capacityBytes',
  'peakUsedBytes',
  'suggestedBytes',
  'wasteBytes',
  'volumeMonthlyCost',
  'wasteMonthlyCost',
] as const;

/** One `volume` row per wasted claim, then one `volume-namespace` row per tenant and `volume-cluster`. */
function appendVolumes(lines: string[], header: readonly string[], r: Report): void {
  const v = r.volumes!;
  const all = [...header, ...VOLUME_COLUMNS];
  lines[0] = all.join(',');
  for (let i = 1; i < lines.length; i++) lines[i] += ','.repeat(VOLUME_COLUMNS.length);
  const line = (cells: Record<string, string | number | undefined>) =>
    all.map((h) => cell(cells[h])).join(',');
  for (const w of v.wasted)
    lines.push(
      line({
        level: 'volume',
        namespace: w.namespace,
        kind: 'PersistentVolumeClaim',
        workload: w.claim,
        currency: w.currency,
        storageClass: w.storageClass ?? '',
        volumes: 1,
        capacityBytes: w.capacityBytes,
        peakUsedBytes: w.peakUsedBytes,
        suggestedBytes: w.suggestedBytes,
        wasteBytes: w.wasteBytes,
        volumeMonthlyCost: w.monthlyCost,
        wasteMonthlyCost: w.wasteMonthlyCost,
      }),
    );
  const total = (level: string, namespace: string, t: typeof v.total) =>
    line({
      level,
      namespace,
      currency: r.currency,
      volumes: t.volumes,
      capacityBytes: t.capacityBytes,
      wasteBytes: t.wasteBytes,
      volumeMonthlyCost: t.monthlyCost,
      wasteMonthlyCost: t.wasteMonthlyCost,
    });
  for (const n of v.namespaces) lines.push(total('volume-namespace', n.namespace, n));
  lines.push(total('volume-cluster', '', v.total));
}
