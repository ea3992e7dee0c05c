// `tailor replay FILE`: scores Tailor's recommender and the usual baselines on a recorded usage
// series by the protocol of bench/REPLAY.md, as a table or JSON.
import type { Command } from 'commander';
import { TailorError } from '../../errors.ts';
import { REPLAY_PROTOCOL, type SeriesUnit } from '../../core/replay/protocol.ts';
import { runSuite, type SuiteResult } from '../../core/replay/suite.ts';
import { readUsageTrace, type UsageTrace } from '../../sources/trace-file.ts';

type OutputFormat = 'table' | 'json';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'replay a recorded usage series (CSV: timestamp, value, pod) through Tailor and the baselines',
    )
    .argument('<file>', 'usage CSV, e.g. pod_memory_util_anon.csv (fractions of the limit)')
    .option('--bytes', "values are bytes; the hand-set limit is then twice each pod's first-hour peak", false)
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (file: string, o: { bytes: boolean; output: string }) => {
      const format = parseFormat(o.output);
      const unit: SeriesUnit = o.bytes ? 'bytes' : 'fraction';
      const trace = await readUsageTrace(file);
      checkUnit(trace, unit);
      const result = runSuite(trace.pods, unit);
      if (result.pods === 0) {
        throw new TailorError(
          'InvalidInput',
          `no pod in ${file} has ${REPLAY_PROTOCOL.minHistorySeconds / 3600} h of samples`,
          {
            hint: 'the replay needs at least that much history per pod (one warm-up hour plus scored time)',
          },
        );
      }
      process.stdout.write(
        format === 'json' ? renderJson(file, trace, result) : renderTable(file, trace, result),
      );
    });
}

function parseFormat(value: string): OutputFormat {
  switch (value) {
    case 'table':
    case 'json':
      return value;
    default:
      throw new TailorError('InvalidInput', `unknown output format "${value}"`, {
        hint: 'use -o table or -o json',
      });
  }
}

/** A fraction series never exceeds its limit by much; bytes given without --bytes would score nonsense. */
function checkUnit(trace: UsageTrace, unit: SeriesUnit): void {
  if (unit !== 'fraction') return;
  let max = 0;
  for (const p of trace.pods) for (const s of p.samples) max = Math.max(max, s.value);
  if (max > 2) {
    throw new TailorError(
      'InvalidInput',
      `${trace.file}: values reach ${max.toPrecision(3)}, too large for fractions of a limit`,
      {
        hint: 'if the values are bytes, add --bytes',
      },
    );
  }
}

function renderJson(file: string, trace: UsageTrace, r: SuiteResult): string {
  const out = {
    file,
    unit: r.unit,
    pods: r.pods,
    podDays: round(r.podDays, 3),
    droppedPods: r.dropped,
    rowsWithoutPod: trace.rowsWithoutPod,
    protocol: REPLAY_PROTOCOL,
    results: r.scores.map((s) => ({
      recommender: s.recommender,
      kind: s.kind,
      relativeSlack: round(s.relativeSlack, 4),
      oomEventsPerPodDay: round(s.oomEventsPerPodDay, 4),
      changesPerPodDay: round(s.changesPerPodDay, 3),
      pods: s.pods,
      podDays: round(s.podDays, 3),
    })),
  };
  return JSON.stringify(out, null, 2) + '\n';
}

export function renderTable(file: string, trace: UsageTrace, r: SuiteResult): string {
  const header = ['recommender', 'relative slack', 'OOM / pod-day', 'changes / pod-day'];
  const rows = r.scores.map((s) => [
    s.kind === 'oracle' ? `${s.recommender} (oracle)` : s.recommender,
    s.relativeSlack.toFixed(3),
    s.oomEventsPerPodDay.toFixed(3),
    // A constant oracle has no changes to speak of.
    s.kind === 'oracle' ? '-' : s.changesPerPodDay.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + '\n';
  const dropped = r.dropped.ShortHistory + r.dropped.NoWarmupUsage;
  const unit =
    r.unit === 'bytes' ? 'bytes (hand-set = 2 x first-hour peak)' : 'fraction of the hand-set limit';
  return (
    `${file}: ${r.pods} pods, ${r.podDays.toFixed(1)} pod-days scored, values as ${unit}` +
    (dropped > 0 ? `; ${dropped} pods left out (under 2 h of samples or no warm-up usage)` : '') +
    (trace.rowsWithoutPod > 0 ? `; ${trace.rowsWithoutPod} rows without a pod id ignored` : '') +
    '\n\n' +
    line(header) +
    line(widths.map((w) => '-'.repeat(w))) +
    rows.map(line).join('')
  );
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
