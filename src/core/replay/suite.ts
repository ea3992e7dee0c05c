// The standard line-up of REPLAY.md (Tailor and every baseline) run over one series, as the CLI and
// the benchmark report it.
import { autopilotMovingWindow } from './baselines/autopilot.ts';
import { handSet } from './baselines/hand-set.ts';
import { hindsightConstant } from './baselines/hindsight.ts';
import { krrSimple } from './baselines/krr-simple.ts';
import { vpaLike } from './baselines/vpa-like.ts';
import {
  REPLAY_PROTOCOL,
  replayAll,
  selectPods,
  type DropReason,
  type PodInput,
  type ProtocolOptions,
  type Recommender,
  type ReplayScore,
  type SeriesUnit,
} from './protocol.ts';
import { tailor } from './tailor.ts';

/** The line-up; `fleet` (the pods replayed) lets Tailor read the fleet's surges. */
export function standardRecommenders(fleet: readonly PodInput[] = []): Recommender[] {
  return [
    tailor(undefined, undefined, fleet),
    handSet,
    krrSimple(),
    vpaLike(),
    autopilotMovingWindow(),
    hindsightConstant,
  ];
}

export interface SuiteResult {
  readonly unit: SeriesUnit;
  readonly pods: number;
  readonly podDays: number;
  readonly stepSeconds: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly scores: readonly Omit<ReplayScore, 'perPod'>[];
}

export function runSuite(
  pods: readonly PodInput[],
  unit: SeriesUnit,
  recommenders:
    readonly Recommender[] | ((fleet: readonly PodInput[]) => readonly Recommender[]) = standardRecommenders,
  protocol: ProtocolOptions = REPLAY_PROTOCOL,
): SuiteResult {
  const selection = selectPods(pods, unit, protocol);
  const lineup =
    typeof recommenders === 'function' ? recommenders(selection.kept.map((k) => k.input)) : recommenders;
  const dropped: Record<DropReason, number> = { ShortHistory: 0, NoWarmupUsage: 0 };
  for (const d of selection.dropped) dropped[d.reason]++;
  const scores = lineup.map((r): Omit<ReplayScore, 'perPod'> => {
    const s = replayAll(r, selection, protocol);
    return {
      recommender: s.recommender,
      kind: s.kind,
      pods: s.pods,
      podDays: s.podDays,
      relativeSlack: s.relativeSlack,
      oomEventsPerPodDay: s.oomEventsPerPodDay,
      changesPerPodDay: s.changesPerPodDay,
    };
  });
  return {
    unit,
    pods: selection.kept.length,
    podDays: scores[0]?.podDays ?? 0,
    stepSeconds: selection.stepSeconds,
    dropped,
    scores,
  };
}
