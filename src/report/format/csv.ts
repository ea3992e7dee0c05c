// `tailor report -o csv`: one row per workload container, then one per namespace and the cluster
// (level column), every figure a column: what a spreadsheet sums.
import type { Figures, Report } from '../../core/report/model.ts';
import { FIGURE_KEYS } from './common.ts';

const cell = (v: string | number | undefined) => {
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
  return lines.join('\n') + '\n';
}
