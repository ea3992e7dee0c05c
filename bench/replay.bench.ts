// Quality benchmark of the memory recommenders: the replay of bench/REPLAY.md on the GenTD26 memory
// and GPU-memory series, Tailor against every baseline, on all pods and on each half of the hash split
// (split.ts: Tailor is tuned on one half, judged on the other), recorded in bench/results/replay.{json,md}.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG } from '../src/core/recommend/config.ts';
import { krrSimple } from '../src/core/replay/baselines/krr-simple.ts';
import {
  REPLAY_PROTOCOL,
  replayAll,
  selectPods,
  type PodInput,
  type Recommender,
  type SeriesUnit,
} from '../src/core/replay/protocol.ts';
import { splitByPod } from '../src/core/replay/split.ts';
import { runSuite, standardRecommenders, type SuiteResult } from '../src/core/replay/suite.ts';
import { replayConfig, tailor, tailorProfile } from '../src/core/replay/tailor.ts';
import { readUsageTrace } from '../src/sources/trace-file.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA_DIR = process.env.TAILOR_DATA_DIR ?? path.resolve(HERE, '../../shared/data/alibaba-gentd26');
const RESULTS = path.join(HERE, 'results');
const COMMAND = 'npm run bench -- replay';

interface Reference {
  readonly relativeSlack: number;
  readonly oomEventsPerPodDay: number;
  readonly changesPerPodDay?: number;
}

interface Series {
  readonly key: 'memory' | 'gpuMemory';
  readonly title: string;
  readonly file: string;
  readonly unit: SeriesUnit;
  readonly referencePods: number;
  /** The figures REPLAY.md publishes, by recommender name. */
  readonly reference: Readonly<Record<string, Reference>>;
}

const SERIES: readonly Series[] = [
  {
    key: 'memory',
    title: 'Memory (pod_memory_util_anon.csv, fractions of the hand-set limit)',
    file: 'pod_memory_util_anon.csv',
    unit: 'fraction',
    referencePods: 126,
    reference: {
      'hand-set': { relativeSlack: 0.527, oomEventsPerPodDay: 0, changesPerPodDay: 0 },
      'KRR simple': { relativeSlack: 0.204, oomEventsPerPodDay: 0.477, changesPerPodDay: 2.49 },
      'VPA-like': { relativeSlack: 0.229, oomEventsPerPodDay: 0.372, changesPerPodDay: 2.71 },
      'Autopilot moving window': { relativeSlack: 0.167, oomEventsPerPodDay: 1.47, changesPerPodDay: 3.58 },
      'hindsight constant': { relativeSlack: 0.159, oomEventsPerPodDay: 0 },
    },
  },
  {
    key: 'gpuMemory',
    title: 'GPU memory (pod_gpu_memory_used_bytes_anon.csv, bytes; hand-set = first-hour peak x 2)',
    file: 'pod_gpu_memory_used_bytes_anon.csv',
    unit: 'bytes',
    referencePods: 99,
    reference: {
      'hand-set': { relativeSlack: 0.547, oomEventsPerPodDay: 0 },
      'KRR simple': { relativeSlack: 0.403, oomEventsPerPodDay: 1.18 },
      'VPA-like': { relativeSlack: 0.415, oomEventsPerPodDay: 0.99 },
      'Autopilot moving window': { relativeSlack: 0.296, oomEventsPerPodDay: 3.72 },
      'hindsight constant': { relativeSlack: 0.362, oomEventsPerPodDay: 0 },
    },
  },
];

const GOAL = { relativeSlack: 0.16, oomEventsPerPodDay: 0.1 };
/** Issue 14's second goal on the evaluation half: some profile at most this often killed, under VPA-like's slack. */
const SAFE_PROFILE_OOMS = 0.1;
const PROFILE_ROWS = ['Tailor Conservative', 'Tailor Aggressive'] as const;
const OWN_HISTORY_ONLY = 'Tailor, own history only';
/**
 * Not a profile: the setting of the tuning-half sweep that reached <= 0.1 OOM / pod-day there with the
 * least slack (0.267 against VPA-like's 0.240 on that half), to show how far the second goal is.
 */
const WIDE_MARGINS = 'Tailor, 15% recent and safety margins';

/** The benchmark's line-up: the standard one, Tailor's other profiles, and Tailor without the fleet signal. */
function lineup(fleet: readonly PodInput[]): Recommender[] {
  return [
    ...standardRecommenders(fleet),
    tailorProfile('Conservative', fleet),
    tailorProfile('Aggressive', fleet),
    tailor(undefined, undefined, [], OWN_HISTORY_ONLY),
    tailor(
      (ctx) => ({ ...replayConfig(ctx.unit, ctx), recentMargin: 0.15, safetyMargin: 0.15 }),
      undefined,
      fleet,
      WIDE_MARGINS,
    ),
  ];
}

interface SeriesResult {
  readonly series: Series;
  /** All pods, the line-up REPLAY.md's figures are compared with. */
  readonly suite: SuiteResult;
  /** The half Tailor's defaults were tuned on, and the half only scored. */
  readonly tuning: SuiteResult;
  readonly evaluation: SuiteResult;
  /** The same line-up under the stricter reading of the protocol (decide before seeing the sample). */
  readonly strict: SuiteResult;
  readonly oracleChoice: OracleChoice;
  readonly tailorOoms: OomBreakdown;
  readonly seconds: number;
}

export default async function run(): Promise<void> {
  const started = performance.now();
  const results: SeriesResult[] = [];
  for (const series of SERIES) {
    const t0 = performance.now();
    const trace = await readUsageTrace(path.join(DATA_DIR, series.file));
    const suite = runSuite(trace.pods, series.unit, lineup);
    const halves = splitByPod(trace.pods);
    const tuning = runSuite(halves.tuning, series.unit, lineup);
    const evaluation = runSuite(halves.evaluation, series.unit, lineup);
    const strict = runSuite(trace.pods, series.unit, standardRecommenders, {
      ...REPLAY_PROTOCOL,
      sampleOrder: 'DecideThenObserve',
    });
    const oracleChoice = perPodOracleChoice(trace.pods, series.unit, [0.1, 0.2, 0.3]);
    const tailorOoms = oomBreakdown(trace.pods, series.unit);
    results.push({
      series,
      suite,
      tuning,
      evaluation,
      strict,
      oracleChoice,
      tailorOoms,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const date = new Date().toISOString();

  for (const r of results) {
    process.stdout.write(`\n${r.series.title}, all pods\n${table(r, r.suite)}`);
    process.stdout.write(`\ntuning half\n${table(r, r.tuning)}`);
    process.stdout.write(`\nevaluation half\n${table(r, r.evaluation)}`);
  }
  process.stdout.write(`\n(${totalSeconds.toFixed(1)} s)\n`);

  await mkdir(RESULTS, { recursive: true });
  await writeFile(
    path.join(RESULTS, 'replay.json'),
    JSON.stringify(toJson(results, date, totalSeconds), null, 2) + '\n',
  );
  await writeFile(path.join(RESULTS, 'replay.md'), markdown(results, date, totalSeconds));
}

function table(r: SeriesResult, suite: SuiteResult): string {
  const rows = suite.scores.map((s) => {
    const ref = r.series.reference[s.recommender];
    return [
      s.recommender,
      s.relativeSlack.toFixed(3),
      s.oomEventsPerPodDay.toFixed(3),
      s.kind === 'oracle' ? '-' : s.changesPerPodDay.toFixed(2),
      ref ? `${ref.relativeSlack.toFixed(3)} @ ${ref.oomEventsPerPodDay}` : '',
    ];
  });
  const header = ['recommender', 'slack', 'OOM/pod-day', 'changes/pod-day', 'REPLAY.md'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `${suite.pods} pods (REPLAY.md, all pods: ${r.series.referencePods}), ${suite.podDays.toFixed(2)} pod-days`,
    line(header),
    ...rows.map(line),
    '',
  ].join('\n');
}

/** Tailor's OOM events by how far the killing sample rose above the pod's peak so far. */
interface OomBreakdown {
  readonly total: number;
  readonly newPeakOver10: number;
  readonly newPeakUpTo10: number;
  readonly belowPeak: number;
  readonly firstScoredHour: number;
}

function oomBreakdown(pods: readonly PodInput[], unit: SeriesUnit): OomBreakdown {
  const counts = { total: 0, newPeakOver10: 0, newPeakUpTo10: 0, belowPeak: 0, firstScoredHour: 0 };
  const selection = selectPods(pods, unit);
  const inner = tailor(
    undefined,
    undefined,
    selection.kept.map((k) => k.input),
  );
  if (inner.kind !== 'causal') throw new Error('Tailor is causal');
  const watched: Recommender = {
    kind: 'causal',
    name: 'Tailor (watched)',
    start: (ctx) => {
      const policy = inner.start(ctx);
      let peak = 0;
      let previousPeak = 0;
      return {
        observe: (sample) => {
          previousPeak = peak;
          peak = Math.max(peak, sample.value);
          policy.observe(sample);
        },
        propose: (now, current) => policy.propose(now, current),
        onOom: (e) => {
          counts.total++;
          if (e.t - ctx.scoredFrom < 3600) counts.firstScoredHour++;
          if (e.usage > previousPeak * 1.1) counts.newPeakOver10++;
          else if (e.usage > previousPeak) counts.newPeakUpTo10++;
          else counts.belowPeak++;
          return policy.onOom(e);
        },
      };
    },
  };
  replayAll(watched, selection);
  return counts;
}

interface OracleChoice {
  readonly menu: { readonly krrMargins: number; readonly tailorVariants: number };
  readonly points: readonly { budget: number; relativeSlack: number; oomEventsPerPodDay: number }[];
}

/**
 * How far per-pod choice alone could go: for every pod, with hindsight, the best of a menu of
 * recommenders (KRR at many margins, Tailor variants) under an OOM budget. Not a recommender: a bound
 * on what picking per pod among these estimator families could reach.
 */
function perPodOracleChoice(
  pods: readonly PodInput[],
  unit: SeriesUnit,
  budgets: readonly number[],
): OracleChoice {
  const selection = selectPods(pods, unit);
  const fleet = selection.kept.map((k) => k.input);
  const variants: Partial<typeof DEFAULT_CONFIG.memory>[] = [
    {},
    { burstHeadroom: 2.5 },
    { shortHistoryMargin: 0 },
    { shortHistoryMargin: 0.6 },
    { recentMargin: 0.1, safetyMargin: 0.05 },
    { margin: 0.2 },
    { margin: 0.5 },
  ];
  const krrMargins = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3];
  const menu: Recommender[] = [
    ...krrMargins.map((m) => krrSimple(m)),
    ...variants.map((v) => tailor((ctx) => ({ ...replayConfig(ctx.unit, ctx), ...v }), undefined, fleet)),
  ];
  const scored = menu.map((r) => replayAll(r, selection).perPod);
  const days = scored[0]!.reduce((a, p) => a + p.scoredSeconds, 0) / 86400;
  const n = scored[0]!.length;
  const choose = (lambda: number) => {
    let slack = 0;
    let ooms = 0;
    for (let i = 0; i < n; i++) {
      let best = scored[0]![i]!;
      for (const s of scored) {
        const p = s[i]!;
        if (p.relativeSlack + lambda * p.oomEvents < best.relativeSlack + lambda * best.oomEvents) best = p;
      }
      slack += best.relativeSlack;
      ooms += best.oomEvents;
    }
    return { relativeSlack: slack / n, oomEventsPerPodDay: ooms / days };
  };
  const points = budgets.map((budget) => {
    // Lagrangian search: the smallest OOM price that keeps the chosen mix within budget.
    let lo = 0;
    let hi = 100;
    let best = choose(hi);
    for (let i = 0; i < 50; i++) {
      const mid = (lo + hi) / 2;
      const c = choose(mid);
      if (c.oomEventsPerPodDay > budget) lo = mid;
      else {
        hi = mid;
        best = c;
      }
    }
    return { budget, ...best };
  });
  return { menu: { krrMargins: krrMargins.length, tailorVariants: variants.length }, points };
}

function toJson(results: readonly SeriesResult[], date: string, seconds: number) {
  return {
    date,
    command: COMMAND,
    node: process.version,
    cpus: os.cpus().length,
    seconds: Number(seconds.toFixed(2)),
    protocol: REPLAY_PROTOCOL,
    goal: { series: 'memory', ...GOAL },
    split: 'pods by FNV-1a of the pod id, top bit: 0 tuning, 1 evaluation (src/core/replay/split.ts)',
    series: Object.fromEntries(
      results.map((r) => [
        r.series.key,
        {
          file: r.series.file,
          unit: r.series.unit,
          pods: r.suite.pods,
          podDays: round(r.suite.podDays, 3),
          droppedPods: r.suite.dropped,
          results: r.suite.scores.map((s) => ({
            recommender: s.recommender,
            kind: s.kind,
            relativeSlack: round(s.relativeSlack, 4),
            oomEventsPerPodDay: round(s.oomEventsPerPodDay, 4),
            changesPerPodDay: round(s.changesPerPodDay, 3),
            reference: r.series.reference[s.recommender] ?? null,
          })),
          strictReading: r.strict.scores.map((s) => ({
            recommender: s.recommender,
            relativeSlack: round(s.relativeSlack, 4),
            oomEventsPerPodDay: round(s.oomEventsPerPodDay, 4),
            changesPerPodDay: round(s.changesPerPodDay, 3),
          })),
          split: Object.fromEntries(
            (['tuning', 'evaluation'] as const).map((half) => [
              half,
              {
                pods: r[half].pods,
                podDays: round(r[half].podDays, 3),
                results: r[half].scores.map((s) => ({
                  recommender: s.recommender,
                  relativeSlack: round(s.relativeSlack, 4),
                  oomEventsPerPodDay: round(s.oomEventsPerPodDay, 4),
                  changesPerPodDay: round(s.changesPerPodDay, 3),
                })),
              },
            ]),
          ),
          tailorOomBreakdown: r.tailorOoms,
          perPodOracleChoice: r.oracleChoice.points.map((c) => ({
            budget: c.budget,
            relativeSlack: round(c.relativeSlack, 4),
            oomEventsPerPodDay: round(c.oomEventsPerPodDay, 4),
          })),
        },
      ]),
    ),
    // JSON has no Infinity: unbounded knobs are written as the string "Infinity".
    tailorConfig: JSON.parse(
      JSON.stringify(
        { memory: replayConfig('fraction'), gpuMemory: replayConfig('bytes') },
        (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v),
      ),
    ) as unknown,
  };
}

function markdown(results: readonly SeriesResult[], date: string, seconds: number): string {
  const mem = results.find((r) => r.series.key === 'memory')!;
  const gpu = results.find((r) => r.series.key === 'gpuMemory')!;
  type Score = SuiteResult['scores'][number];
  const in_ = (suite: SuiteResult, name: string): Score => suite.scores.find((s) => s.recommender === name)!;
  const score = (r: SeriesResult, name: string) => in_(r.suite, name);
  const strictScore = (r: SeriesResult, name: string) => in_(r.strict, name);
  const t = score(mem, 'Tailor');
  const reached = t.relativeSlack <= GOAL.relativeSlack && t.oomEventsPerPodDay <= GOAL.oomEventsPerPodDay;
  const fmt = (x: number, d = 3) => x.toFixed(d);
  const at = (s: Score) => `${fmt(s.relativeSlack)} at ${fmt(s.oomEventsPerPodDay)}`;
  const oc = (r: SeriesResult, b: number) => r.oracleChoice.points.find((c) => c.budget === b)!;
  const menuSize = mem.oracleChoice.menu.krrMargins + mem.oracleChoice.menu.tailorVariants;
  const beats = (a: Score, b: Score) =>
    a.relativeSlack < b.relativeSlack && a.oomEventsPerPodDay < b.oomEventsPerPodDay;
  const rise = (name: string) =>
    strictScore(mem, name).oomEventsPerPodDay / score(mem, name).oomEventsPerPodDay - 1;
  const rises = ['KRR simple', 'VPA-like', 'Autopilot moving window', 'Tailor'].map(rise);
  const mc = replayConfig('fraction');
  const gc = replayConfig('bytes');
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const tailorNames = new Set(['Tailor', ...PROFILE_ROWS]);

  const seriesTable = (r: SeriesResult, suite: SuiteResult, withReference: boolean) => {
    const lines = withReference
      ? [
          '| recommender | relative slack | OOM events / pod-day | changes / pod-day | REPLAY.md (slack @ OOM, changes) |',
          '| --- | --- | --- | --- | --- |',
        ]
      : [
          '| recommender | relative slack | OOM events / pod-day | changes / pod-day |',
          '| --- | --- | --- | --- |',
        ];
    for (const s of suite.scores) {
      const ref = r.series.reference[s.recommender];
      const refText = ref
        ? `${fmt(ref.relativeSlack)} @ ${ref.oomEventsPerPodDay}${ref.changesPerPodDay !== undefined ? `, ${ref.changesPerPodDay}` : ''}`
        : '(not in REPLAY.md)';
      const name = s.recommender === 'Tailor' ? '**Tailor** (Balanced, the default)' : s.recommender;
      const cells = [
        name,
        fmt(s.relativeSlack),
        fmt(s.oomEventsPerPodDay),
        s.kind === 'oracle' ? '-' : fmt(s.changesPerPodDay, 2),
        ...(withReference ? [refText] : []),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    return lines.join('\n');
  };
  const strictTable = (r: SeriesResult) =>
    [
      '| recommender | slack | OOM / pod-day | changes / pod-day |',
      '| --- | --- | --- | --- |',
      ...r.strict.scores
        .filter((s) => s.kind === 'causal' && s.recommender !== 'hand-set')
        .map(
          (s) =>
            `| ${s.recommender} | ${fmt(s.relativeSlack)} | ${fmt(s.oomEventsPerPodDay)} | ${fmt(s.changesPerPodDay, 2)} |`,
        ),
    ].join('\n');

  /** Issue 14's goals on one half: the default against both baselines, and a safe profile. */
  const goals = (r: SeriesResult, suite: SuiteResult) => {
    const d = in_(suite, 'Tailor');
    const krr = in_(suite, 'KRR simple');
    const vpa = in_(suite, 'VPA-like');
    const first = beats(d, krr) && beats(d, vpa);
    const slackGap = d.relativeSlack - Math.min(krr.relativeSlack, vpa.relativeSlack);
    const oomGap = d.oomEventsPerPodDay - Math.min(krr.oomEventsPerPodDay, vpa.oomEventsPerPodDay);
    const profiles = suite.scores.filter((s) => tailorNames.has(s.recommender));
    const safe = profiles.filter(
      (s) => s.oomEventsPerPodDay <= SAFE_PROFILE_OOMS && s.relativeSlack < vpa.relativeSlack,
    );
    const safest = [...profiles].sort((a, b) => a.oomEventsPerPodDay - b.oomEventsPerPodDay)[0]!;
    const firstText = first
      ? `**met**: the default profile ${at(d)} against KRR simple ${at(krr)} and VPA-like ${at(vpa)}.`
      : `**not met**: the default profile ${at(d)} against KRR simple ${at(krr)} and VPA-like ${at(vpa)}` +
        ` (short by ${slackGap >= 0 ? `${fmt(slackGap)} of slack` : 'no slack'}` +
        `${oomGap >= 0 ? ` and ${fmt(oomGap)} OOM / pod-day` : ''}).`;
    const secondText =
      safe.length > 0
        ? `**met** by ${safe.map((s) => `${s.recommender} (${at(s)})`).join(', ')}, under VPA-like's slack ${fmt(vpa.relativeSlack)}.`
        : `**not met**: the fewest kills of a profile are ${safest.recommender}'s, ${at(safest)}; the goal asks for at most ` +
          `${SAFE_PROFILE_OOMS} under VPA-like's ${fmt(vpa.relativeSlack)} (${fmt(Math.max(0, safest.oomEventsPerPodDay - SAFE_PROFILE_OOMS))} OOM / pod-day ` +
          `and ${fmt(Math.max(0, safest.relativeSlack - vpa.relativeSlack))} of slack away). Hand-set reaches 0 kills at ` +
          `${fmt(in_(suite, 'hand-set').relativeSlack)}; the hindsight constant ${fmt(in_(suite, 'hindsight constant').relativeSlack)}. ` +
          `Not a profile, the wider margins of the tuning sweep (${WIDE_MARGINS}): ${at(in_(suite, WIDE_MARGINS))}.`;
    const own = in_(suite, OWN_HISTORY_ONLY);
    const ownFirst = beats(own, krr) && beats(own, vpa);
    const label = r.series.key === 'memory' ? 'Memory' : 'GPU memory';
    return (
      `  - ${label}, the default below both KRR simple and VPA-like in slack and OOMs: ${firstText}\n` +
      `    Without the fleet signal (what the operator runs today, see below): ${at(own)}, ${ownFirst ? 'also below both' : 'not below both'}.\n` +
      `  - ${label}, some profile at <= ${SAFE_PROFILE_OOMS} OOM / pod-day under VPA-like's slack: ${secondText}`
    );
  };
  const fleetGain = (suite: SuiteResult) => {
    const own = in_(suite, OWN_HISTORY_ONLY);
    const d = in_(suite, 'Tailor');
    return `${at(own)} on its own history, ${at(d)} with the fleet signal`;
  };

  return `# Replay benchmark: memory recommenders on GenTD26

Recorded ${date} by \`${COMMAND}\` (node ${process.version}, ${os.cpus().length} CPUs, ${seconds.toFixed(1)} s for
everything below). Protocol: [REPLAY.md](../../../shared/bench/REPLAY.md); data: \`../shared/data/alibaba-gentd26/\`.
Raw figures: [replay.json](replay.json). \`tailor replay FILE [--bytes]\` prints the all-pods table of each series
(without the profile rows).

## Reading

- **Split.** Every pod falls by a hash of its id alone (FNV-1a, top bit; \`src/core/replay/split.ts\`) into a
  *tuning* half or an *evaluation* half: memory ${mem.tuning.pods} + ${mem.evaluation.pods} pods, GPU memory ${gpu.tuning.pods} + ${gpu.evaluation.pods}.
  Tailor's memory and GPU-memory defaults (\`src/core/recommend/config.ts\`) were re-tuned on the tuning half only
  (this session: the fleet surge signal, burst head-room 1.5 -> 1.3 on memory; p99 -> p98 and a 5% instead of
  1% safety margin on GPU memory, no fleet signal there); the evaluation half was read for the starting point and
  then only for this record. The defaults before this session were tuned on all pods, so the evaluation half is
  not pristine for the knobs left unchanged.
- **Evaluation half, goals of issue 14:**
${goals(mem, mem.evaluation)}
${goals(gpu, gpu.evaluation)}
- **Fleet signal** (memory): pods at the same level whose usage rises 25% above their own peak within
  30 minutes warn the others (src/core/recommend/fleet-surge.ts). Evaluation half: ${fleetGain(mem.evaluation)};
  tuning half: ${fleetGain(mem.tuning)}. The replay gives each pod the rises of the pods of its own half, read only up
  to the decision's time (causal). In the operator the signal is not wired yet: \`recommend()\` takes the fleet's
  rises as an optional argument that the sizing controller does not pass (see Weak or missing).
- The evaluation half is ~${Math.round(mem.evaluation.podDays)} pod-days on memory, ~${Math.round(gpu.evaluation.podDays)} on GPU memory: one OOM event there is
  ${fmt(1 / mem.evaluation.podDays)} OOM / pod-day on memory, ${fmt(1 / gpu.evaluation.podDays)} on GPU memory, so differences of a few
  hundredths are a single kill.

## ${mem.series.title}

### Evaluation half (not tuned on)

${mem.evaluation.pods} pods, ${fmt(mem.evaluation.podDays, 2)} scored pod-days.

${seriesTable(mem, mem.evaluation, false)}

### Tuning half

${mem.tuning.pods} pods, ${fmt(mem.tuning.podDays, 2)} scored pod-days.

${seriesTable(mem, mem.tuning, false)}

### All pods (REPLAY.md's set; half of it tuned on)

${mem.suite.pods} pods, ${fmt(mem.suite.podDays, 2)} scored pod-days.

${seriesTable(mem, mem.suite, true)}

## ${gpu.series.title}

### Evaluation half (not tuned on)

${gpu.evaluation.pods} pods, ${fmt(gpu.evaluation.podDays, 2)} scored pod-days.

${seriesTable(gpu, gpu.evaluation, false)}

### Tuning half

${gpu.tuning.pods} pods, ${fmt(gpu.tuning.podDays, 2)} scored pod-days.

${seriesTable(gpu, gpu.tuning, false)}

### All pods (REPLAY.md's set; half of it tuned on)

${gpu.suite.pods} pods, ${fmt(gpu.suite.podDays, 2)} scored pod-days.

${seriesTable(gpu, gpu.suite, true)}

## The earlier goal on the memory series (all pods): slack <= ${GOAL.relativeSlack} at <= ${GOAL.oomEventsPerPodDay} OOM / pod-day

**${reached ? 'Reached' : 'Not reached'}.** Tailor reaches ${at(t)} OOM / pod-day on all pods
(${fmt(t.changesPerPodDay, 2)} changes / pod-day), about ${Math.round(t.oomEventsPerPodDay / GOAL.oomEventsPerPodDay)}x the OOM budget of the goal.

Why the goal is out of reach for this kind of recommender on this trace:

- The OOMs left are first-of-a-kind: of Tailor's ${mem.tailorOoms.total} kills on all pods, ${mem.tailorOoms.newPeakOver10} come from a
  sample more than 10% above anything the pod had shown, ${mem.tailorOoms.newPeakUpTo10} from a new peak within 10%, and
  ${mem.tailorOoms.belowPeak} from usage below an earlier peak; ${mem.tailorOoms.firstScoredHour} fall in the first scored hour. About 20
  pods, most of them using 3-8% of their limit, jump 1.2-2.9x above their history, 15 of them in one fleet-wide
  event ~18.4 h into the trace, and many of the same pods burst 1.2-1.9x soon after warm-up. The fleet signal
  catches the pods that follow the first ones; the first pods of a surge, and the pods whose decision (every
  5 minutes) comes after their jump, are still killed.
- With hindsight, choosing for *each pod* the best of ${menuSize} recommenders (KRR at ${mem.oracleChoice.menu.krrMargins} margins, ${mem.oracleChoice.menu.tailorVariants} Tailor variants)
  under an OOM budget gives: ${fmt(oc(mem, 0.1).relativeSlack)} at <= 0.1, ${fmt(oc(mem, 0.2).relativeSlack)} at <= 0.2,
  ${fmt(oc(mem, 0.3).relativeSlack)} at <= 0.3 OOM / pod-day. Even that oracle choice ${oc(mem, 0.1).relativeSlack <= GOAL.relativeSlack ? 'barely meets' : 'misses'} 0.16 at 0.1; a recommender that
  must pick without the future does worse.

GPU memory, same analysis: oracle per-pod choice ${fmt(oc(gpu, 0.1).relativeSlack)} at <= 0.1,
${fmt(oc(gpu, 0.3).relativeSlack)} at <= 0.3 OOM / pod-day; Tailor ${at(score(gpu, 'Tailor'))}.

## How REPLAY.md was read (and what reproduces)

- Pods: kept when their sample count times the file's usual step (57 s) is at least 2 h. This keeps 126 memory
  and 99 GPU pods as REPLAY.md says; first-to-last time would keep 128 memory pods (two pods have a handful of
  samples spread over 15-21 h). Rows with an empty pod id (49 in the memory file) are ignored. The halves are
  split before this selection (by pod id only), so each half keeps the pods it would keep on its own.
- Warm-up: the first hour of each pod, at the hand-set limit, not scored. Scored pod-days are first scored
  sample to last sample.
- Decisions: at the first sample at least 5 minutes after the previous decision (so every 6th sample at 57 s
  steps), **after** that sample has been observed; then the sample is checked against the limit in force. A
  change needs a relative difference above 10%; an OOM counts one event and one change and sets the limit to
  at least usage x 1.2 at once. Slack of an OOM sample uses the bumped limit. This reading reproduces every
  baseline figure of REPLAY.md to its printed precision (largest difference: Autopilot on GPU, 3.727 vs 3.72).
- VPA-like: one 24 h interval covers the whole trace, so the estimate is the running peak rounded up to a 5%
  bucket edge, x 1.15. REPLAY.md does not say where the bucket grid starts; edges at 0.001 x 1.05^k for fractions
  and 1 byte x 1.05^k reproduce it (edges at 1.05^k give 0.230 at 0.353 on memory: two OOM events fewer).
- Autopilot: exact weighted p98 of all samples (no buckets), 48 h half-life, x 1.1, at least the last hour's
  peak. The hindsight constant is in force from the first scored sample, without the 10% rule.
- Tailor's fleet signal reads the rises of the other pods replayed with it (the same half, or all pods), each
  only once its time has come; the protocol itself is unchanged (one pod after another, same scoring).

Sensitivity (all pods): deciding **before** observing the sample that triggers the decision (the stricter reading)
leaves slack within a few thousandths but raises OOM counts, by ${pct(Math.min(...rises))} to ${pct(Math.max(...rises))} on
memory:

Memory:

${strictTable(mem)}

GPU memory:

${strictTable(gpu)}

Under that reading Tailor scores ${at(strictScore(mem, 'Tailor'))} on memory.

## Tailor's recommender (src/core/recommend/)

Per container resource, from ${mc.intervalSeconds / 60}-minute interval peaks: target = max(recent peak x
(1 + recent margin + young), a high percentile of a decayed histogram of the peaks x (1 + margin + young) x burst head-room, OOM
floor), clamped. *young* is an extra margin for a short history that fades linearly to 0. Bounds: lower =
recent peak x (1 + safety margin), or the OOM floor; upper = target x (1 + waste tolerance + young). A fleet
surge (alike pods rising together) then raises target and lower bound to the pod's peak x the surge's largest
rise x (1 + surge margin) while it holds.

| knob | memory | GPU memory |
| --- | --- | --- |
| recent peak window, margin, safety margin | ${mc.recentWindowSeconds / 3600} h, ${pct(mc.recentMargin)}, ${pct(mc.safetyMargin)} | ${gc.recentWindowSeconds / 3600} h, ${pct(gc.recentMargin)}, ${pct(gc.safetyMargin)} |
| peak percentile, margin, half-life | p${mc.percentile * 100}, ${pct(mc.margin)}, ${mc.histogram.halfLifeSeconds / 3600} h | p${gc.percentile * 100}, ${pct(gc.margin)}, ${gc.histogram.halfLifeSeconds / 3600} h |
| short-history margin, fading over | ${pct(mc.shortHistoryMargin)}, ${mc.shortHistorySeconds / 3600} h | ${pct(gc.shortHistoryMargin)}, ${gc.shortHistorySeconds / 3600} h |
| burst rule: percentile > ratio x median gives head-room | ${mc.burstRatio} -> x${mc.burstHeadroom} | off |
| OOM floor: usage x factor (and + 100Mi on bytes), half-life | x${mc.oomBumpFactor}, ${mc.oomHalfLifeSeconds / 3600} h | x${gc.oomBumpFactor}, ${gc.oomHalfLifeSeconds / 3600} h |
| waste tolerance | ${pct(mc.wasteTolerance)} | ${pct(gc.wasteTolerance)} |
| fleet surge: rise, alike within, pods, window, hold, head-room cap, margin | ${fleetKnobs(mc.fleetSurge)} | ${fleetKnobs(gc.fleetSurge)} |

Profiles (\`src/core/recommend/tuning.ts\`) move these defaults: Conservative adds 15% over the percentile and
12% over the recent peak, Aggressive reads p95 and 1% less over the recent peak; the rows above apply them to
GPU memory's defaults too. The actuation (\`decideLimit\`) raises to the target when the limit is below
the lower bound (by at least the 10% resize step), lowers it when above the upper bound, else keeps it. For
fraction series the hand-set limit caps the target (usage there cannot exceed it).

## Weak or missing

- The evaluation half is small (~${Math.round(mem.evaluation.podDays)} pod-days, one 23 h day per pod): a single kill moves OOM / pod-day
  by ${fmt(1 / mem.evaluation.podDays, 2)}, and one fleet event dominates the memory kills. The hold-out guards against fitting to pods,
  not to the day: both halves see the same fleet-wide events.
- The fleet signal's gain rests on few events: on the tuning half, moving one of its knobs at a time (rise
  15-40%, alike x1.25-x2, window 15-60 min, hold 1-2 h, margin 0-30%) keeps slack at 0.203-0.205 but gives
  0.169-0.262 OOM / pod-day, and asking for 3 pods instead of 2 loses the gain (0.337): most surges here are
  caught by their second pod.
- The fleet signal lives in the core and the replay only; the sizing controller does not pass the fleet's
  rises to \`recommend()\` yet, so the operator sizes on each workload's own history.
- The second goal (a profile at <= ${SAFE_PROFILE_OOMS} OOM / pod-day under VPA-like's slack) needs head-room that costs slack on
  every pod; the profiles as they are do not reach it (see Reading). On the tuning half no setting tried reached
  0.1 under VPA-like's slack: on memory the closest was ${WIDE_MARGINS} (0.267 at 0.094 against VPA-like's 0.240),
  on GPU memory 20% safety, 30% margins and p98 (0.488 at 0.098 against 0.413). The kills left are the first pods
  of a surge and usage that climbs past the limit between two 5-minute decisions; the replay gives no earlier
  moment to react, and in-place raises in the operator are also bound to its sizing pass.
- The replay counts an OOM as an event and carries on with the observed usage; a real kill would restart the
  container and lose the usage above the limit.
`;
}

function fleetKnobs(f: typeof DEFAULT_CONFIG.memory.fleetSurge): string {
  if (!Number.isFinite(f.minPods)) return 'off';
  return `+${Math.round(f.riseFraction * 100)}%, x${f.alikeRatio}, ${f.minPods}, ${f.windowSeconds / 60} min, ${f.holdSeconds / 3600} h, x${f.maxHeadroom}, ${Math.round(f.margin * 100)}%`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
