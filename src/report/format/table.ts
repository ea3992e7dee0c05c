// `tailor report -o table`: per workload, then per namespace and the cluster, then the top
// opportunities and the notes. Money per month (realised: over the range), CO2e in kg.
import type { Report } from '../../core/report/model.ts';
import { formatBytes, formatCpu } from '../../core/quantity.ts';
import { amount, co2e, columns, known, money, period } from './common.ts';
import { TENANT_HEADER, WASTED_HEADER, tenantRows, volumesSummary, wastedRows } from './volumes.ts';
import { removedSummary, renderPackingTable } from './packing.ts';

export function renderTable(r: Report): string {
  let out = `Savings report ${period(r)} (${r.currency} per month; realised: saved over the range)\n\n`;
  const workloads = r.namespaces.flatMap((n) => n.workloads);
  if (workloads.length > 0) {
    out += columns(
      [
        'NAMESPACE',
        'WORKLOAD',
        'MODE',
        'PODS',
        'REQUESTED',
        'USED',
        'RECOMMENDED',
        'REQ/MO',
        'USED/MO',
        'REC/MO',
        'AVAIL/MO',
        'REALISED',
        'CO2E AVAIL kg/MO',
        'OOM',
        'RESIZES',
      ],
      workloads.map((w) => {
        const req = w.containers.map((c) => c.amounts.requested);
        const sum = (k: 'requested' | 'used' | 'recommended') =>
          amount(
            w.containers
              .map((c) => c.amounts[k])
              .reduce(
                (a, b) => ({
                  cpuCores: a.cpuCores + b.cpuCores,
                  memoryBytes: a.memoryBytes + b.memoryBytes,
                  gpus: a.gpus + b.gpus,
                }),
                {
                  cpuCores: 0,
                  memoryBytes: 0,
                  gpus: 0,
                },
              ),
          );
        return [
          w.namespace,
          `${w.kind}/${w.name}`,
          w.mode,
          String(w.replicas),
          req.length > 0 ? sum('requested') : '-',
          known(w) ? sum('used') : 'no history',
          sum('recommended'),
          money(w.figures.requested),
          known(w) ? money(w.figures.used) : '-',
          money(w.figures.recommended),
          money(w.figures.available),
          known(w) ? money(w.figures.realised) : '-',
          co2e(w.figures.available),
          String(w.oomKills),
          String(w.resizes),
        ];
      }),
    );
    out += '\n';
    out += columns(
      [
        'NAMESPACE',
        'REQUESTED',
        'USED',
        'RECOMMENDED',
        'AVAILABLE',
        'REALISED',
        'CO2E AVAIL kg',
        'CO2E REALISED kg',
        'OOM',
        'RESIZES',
      ],
      [
        ...r.namespaces.map((n) => [
          n.namespace,
          ...totals(n.figures),
          String(n.oomKills),
          String(n.resizes),
        ]),
        ['(cluster)', ...totals(r.cluster.figures), String(r.cluster.oomKills), String(r.cluster.resizes)],
      ],
    );
  }
  if (r.opportunities.length > 0) {
    out += '\nTop opportunities (available per month)\n';
    out += columns(
      ['NAMESPACE', 'WORKLOAD', 'CONTAINER', 'RESOURCE', 'REQUESTED', 'RECOMMENDED', 'SAVING', 'CO2E kg'],
      r.opportunities.map((o) => [
        o.namespace,
        o.workload,
        o.container,
        o.resource,
        quantity(o.resource, o.requested),
        quantity(o.resource, o.recommended),
        money(o.saving),
        co2e(o.saving),
      ]),
    );
  }
  if (r.volumes) {
    out += `\nWasted volumes: ${volumesSummary(r.volumes)}\n`;
    if (r.volumes.wasted.length > 0)
      out +=
        columns(WASTED_HEADER, wastedRows(r.volumes)) +
        '\n' +
        columns(TENANT_HEADER, tenantRows(r.volumes, r.currency));
  }
  if (r.packing) out += renderPackingTable(r.packing);
  if (r.nodesRemoved) out += `Realised: ${removedSummary(r.nodesRemoved)}\n`;
  const notes = [...r.notes, ...(r.volumes?.notes ?? [])];
  for (const n of notes) out += `\nnote: ${n}`;
  return out + (notes.length > 0 ? '\n' : '');
}

function totals(f: Report['cluster']['figures']): string[] {
  return [
    money(f.requested),
    money(f.used),
    money(f.recommended),
    money(f.available),
    money(f.realised),
    co2e(f.available),
    co2e(f.realised),
  ];
}

export function quantity(resource: 'cpu' | 'memory' | 'nvidia.com/gpu', v: number): string {
  switch (resource) {
    case 'cpu':
      return formatCpu(v);
    case 'memory':
      return formatBytes(v);
    case 'nvidia.com/gpu':
      return String(Number(v.toFixed(3)));
  }
}
