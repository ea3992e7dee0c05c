// The offline replay protocol of bench/REPLAY.md: drives one limit policy per pod over a recorded
// usage series and scores slack, OOM kills and changes, the same way for every recommender.
import type { UsageSample } from '../recommend/types.ts';

/** What a series' values are: a fraction of the pod's hand-set limit, or absolute bytes. */
export type SeriesUnit = 'fraction' | 'bytes';

/**
 * Whether a decision taken at a sample's arrival has seen that sample. REPLAY.md's figures come from
 * 'ObserveThenDecide'; 'DecideThenObserve' is the stricter reading, kept to show how sensitive the
 * OOM counts are to it.
 */
export type SampleOrder = 'ObserveThenDecide' | 'DecideThenObserve';

export interface ProtocolOptions {
  /** The first stretch of each pod runs at the hand-set limit and is not scored. */
  readonly warmupSeconds: number;
  /** A new proposal is asked for once this long has passed since the previous one. */
  readonly decisionIntervalSeconds: number;
  /** The limit only changes when a proposal differs from it by more than this (relative). */
  readonly changeThreshold: number;
  /** After an OOM the limit is at least usage times this, at once. */
  readonly oomBumpFactor: number;
  /** Pods with fewer samples than this much time's worth (at the file's usual step) are left out. */
  readonly minHistorySeconds: number;
  readonly sampleOrder: SampleOrder;
}

export const REPLAY_PROTOCOL: ProtocolOptions = {
  warmupSeconds: 3600,
  decisionIntervalSeconds: 300,
  changeThreshold: 0.1,
  oomBumpFactor: 1.2,
  minHistorySeconds: 7200,
  sampleOrder: 'ObserveThenDecide',
};

export interface PodContext {
  readonly pod: string;
  readonly unit: SeriesUnit;
  /** The limit a person set: 1.0 for fractions, twice the warm-up peak for bytes. */
  readonly handSet: number;
  /** End of warm-up: decisions and scoring start here. */
  readonly scoredFrom: number;
}

/** One pod's limit policy during a replay. The harness calls it in time order. */
export interface LimitPolicy {
  /** Every sample, warm-up included, as it arrives. */
  observe(sample: UsageSample): void;
  /** A limit for `now`, knowing the limit in force; the harness applies the change threshold. */
  propose(now: number, current: number): number;
  /**
   * Told at once of a sample above the limit. The harness already raises the limit to usage x the
   * bump factor; a returned value above that is used instead (a stronger reaction).
   */
  onOom(event: { t: number; usage: number; limit: number }): number | undefined;
  /** The limit when scoring starts, if not the hand-set one (a constant oracle's value). */
  readonly initialLimit?: number;
}

/** Causal recommenders see only the past; an oracle is handed the pod's scored future too. */
export type Recommender =
  | { readonly kind: 'causal'; readonly name: string; start(ctx: PodContext): LimitPolicy }
  | {
      readonly kind: 'oracle';
      readonly name: string;
      start(ctx: PodContext, future: readonly UsageSample[]): LimitPolicy;
    };

export interface PodInput {
  readonly pod: string;
  readonly samples: readonly UsageSample[];
}

export interface PodScore {
  readonly pod: string;
  readonly scoredSamples: number;
  readonly scoredSeconds: number;
  /** Mean over scored samples of (limit - usage) / limit. */
  readonly relativeSlack: number;
  readonly oomEvents: number;
  /** Limit changes, OOM bumps included. */
  readonly changes: number;
}

export interface ReplayScore {
  readonly recommender: string;
  readonly kind: Recommender['kind'];
  readonly pods: number;
  readonly podDays: number;
  /** Mean of the pods' relative slack (each pod weighs the same). */
  readonly relativeSlack: number;
  readonly oomEventsPerPodDay: number;
  readonly changesPerPodDay: number;
  readonly perPod: readonly PodScore[];
}

export type DropReason = 'ShortHistory' | 'NoWarmupUsage';

export interface PodSelection {
  readonly kept: readonly { readonly input: PodInput; readonly ctx: PodContext }[];
  readonly dropped: readonly { readonly pod: string; readonly reason: DropReason }[];
  /** The series' usual sampling step, which turns sample counts into history length. */
  readonly stepSeconds: number;
}

/** Picks the pods the protocol scores and works out each one's hand-set limit and warm-up. */
export function selectPods(
  pods: readonly PodInput[],
  unit: SeriesUnit,
  protocol: ProtocolOptions = REPLAY_PROTOCOL,
): PodSelection {
  const stepSeconds = medianStep(pods);
  const kept: { input: PodInput; ctx: PodContext }[] = [];
  const dropped: { pod: string; reason: DropReason }[] = [];
  for (const input of pods) {
    // Counted in samples, not first-to-last time: a pod seen a few times over a day has no history.
    if (input.samples.length * stepSeconds < protocol.minHistorySeconds) {
      dropped.push({ pod: input.pod, reason: 'ShortHistory' });
      continue;
    }
    const scoredFrom = input.samples[0]!.t + protocol.warmupSeconds;
    let handSet: number;
    switch (unit) {
      case 'fraction':
        handSet = 1;
        break;
      case 'bytes': {
        let peak = 0;
        for (const s of input.samples) if (s.t < scoredFrom) peak = Math.max(peak, s.value);
        handSet = 2 * peak;
        break;
      }
    }
    if (!(handSet > 0)) {
      dropped.push({ pod: input.pod, reason: 'NoWarmupUsage' });
      continue;
    }
    kept.push({ input, ctx: { pod: input.pod, unit, handSet, scoredFrom } });
  }
  return { kept, dropped, stepSeconds };
}

/**
 * Replays one pod. A decision is taken at the first sample at least `decisionIntervalSeconds` after
 * the previous decision, with that sample already observed; the sample is then checked against the
 * limit in force. (This is the reading of REPLAY.md that reproduces its published figures.)
 */
export function replayPod(
  recommender: Recommender,
  input: PodInput,
  ctx: PodContext,
  protocol: ProtocolOptions = REPLAY_PROTOCOL,
): PodScore {
  let policy: LimitPolicy;
  switch (recommender.kind) {
    case 'causal':
      policy = recommender.start(ctx);
      break;
    case 'oracle':
      policy = recommender.start(
        ctx,
        input.samples.filter((s) => s.t >= ctx.scoredFrom),
      );
      break;
  }
  const observeFirst = observesBeforeDeciding(protocol.sampleOrder);
  let limit = policy.initialLimit ?? ctx.handSet;
  let lastDecision: number | undefined;
  let slackSum = 0;
  let scored = 0;
  let ooms = 0;
  let changes = 0;
  let lastT = ctx.scoredFrom;
  for (const sample of input.samples) {
    if (sample.t < ctx.scoredFrom) {
      policy.observe(sample);
      continue;
    }
    if (observeFirst) policy.observe(sample);
    if (lastDecision === undefined || sample.t - lastDecision >= protocol.decisionIntervalSeconds) {
      lastDecision = sample.t;
      const proposal = policy.propose(sample.t, limit);
      // A proposal that is not a positive number is no proposal: the limit stays.
      if (
        proposal > 0 &&
        Number.isFinite(proposal) &&
        Math.abs(proposal - limit) > protocol.changeThreshold * limit
      ) {
        limit = proposal;
        changes++;
      }
    }
    if (!observeFirst) policy.observe(sample);
    if (sample.value > limit) {
      ooms++;
      changes++;
      const reaction = policy.onOom({ t: sample.t, usage: sample.value, limit });
      limit = Math.max(
        limit,
        sample.value * protocol.oomBumpFactor,
        reaction !== undefined && Number.isFinite(reaction) ? reaction : 0,
      );
    }
    slackSum += (limit - sample.value) / limit;
    scored++;
    lastT = sample.t;
  }
  return {
    pod: input.pod,
    scoredSamples: scored,
    scoredSeconds: lastT - ctx.scoredFrom,
    relativeSlack: scored > 0 ? slackSum / scored : 0,
    oomEvents: ooms,
    changes,
  };
}

export function replayAll(
  recommender: Recommender,
  selection: PodSelection,
  protocol: ProtocolOptions = REPLAY_PROTOCOL,
): ReplayScore {
  const perPod = selection.kept.map(({ input, ctx }) => replayPod(recommender, input, ctx, protocol));
  const podDays = perPod.reduce((a, p) => a + p.scoredSeconds, 0) / 86400;
  const sum = (f: (p: PodScore) => number) => perPod.reduce((a, p) => a + f(p), 0);
  return {
    recommender: recommender.name,
    kind: recommender.kind,
    pods: perPod.length,
    podDays,
    relativeSlack: perPod.length > 0 ? sum((p) => p.relativeSlack) / perPod.length : 0,
    oomEventsPerPodDay: podDays > 0 ? sum((p) => p.oomEvents) / podDays : 0,
    changesPerPodDay: podDays > 0 ? sum((p) => p.changes) / podDays : 0,
    perPod,
  };
}

function observesBeforeDeciding(order: SampleOrder): boolean {
  switch (order) {
    case 'ObserveThenDecide':
      return true;
    case 'DecideThenObserve':
      return false;
  }
}

function medianStep(pods: readonly PodInput[]): number {
  const gaps: number[] = [];
  for (const p of pods) {
    for (let i = 1; i < p.samples.length; i++) {
      const d = p.samples[i]!.t - p.samples[i - 1]!.t;
      if (d > 0) gaps.push(d);
    }
  }
  if (gaps.length === 0) return 60;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}
