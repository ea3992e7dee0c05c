// Tailor's recommender driven through the replay protocol: the same state, recommend() and
// decideLimit() the controller uses, with the replay's change threshold as the minimum raise.
import { decideLimit } from '../recommend/actuation.ts';
import { DEFAULT_CONFIG, type RecommenderConfig } from '../recommend/config.ts';
import { configFor, type TuningProfile } from '../recommend/tuning.ts';
import { addOom, addSample, createState, recommend } from '../recommend/recommender.ts';
import type { Rise } from '../recommend/fleet-surge.ts';
import { fleetRises } from './fleet.ts';
import {
  REPLAY_PROTOCOL,
  type PodContext,
  type PodInput,
  type Recommender,
  type SeriesUnit,
} from './protocol.ts';

/**
 * The config a replay uses for a series: memory defaults for fractions of a limit, GPU-memory
 * defaults for bytes. Fractions have no byte scale, so byte-sized knobs are neutral there, and the
 * hand-set limit caps the target (usage in such a series cannot exceed it: the pod would be killed).
 */
export function replayConfig(unit: SeriesUnit, ctx?: PodContext): RecommenderConfig {
  switch (unit) {
    case 'fraction':
      return {
        ...DEFAULT_CONFIG.memory,
        histogram: { ...DEFAULT_CONFIG.memory.histogram, firstEdge: 1e-4 },
        oomMinBump: 0,
        minAllowed: 0,
        maxAllowed: ctx?.handSet ?? 1,
      };
    case 'bytes':
      return DEFAULT_CONFIG.gpuMemory;
  }
}

/**
 * Tailor in the replay. `fleet` is the pods replayed alongside (the pod itself included): with them
 * the policy reads the fleet's surges (fleet-surge.ts) up to each decision's time, as the operator
 * reads the other pods' usage; without, each pod is sized on its own history alone.
 */
export function tailor(
  configFor: (ctx: PodContext) => RecommenderConfig = (ctx) => replayConfig(ctx.unit, ctx),
  minStep: number = REPLAY_PROTOCOL.changeThreshold,
  fleet: readonly PodInput[] = [],
  name = 'Tailor',
): Recommender {
  // One timeline per fleet-surge setting: built once, read by every pod.
  const timelines = new Map<string, Rise[]>();
  const risesFor = (config: RecommenderConfig): Rise[] => {
    const key = JSON.stringify(config.fleetSurge);
    let t = timelines.get(key);
    if (!t) timelines.set(key, (t = fleetRises(fleet, config.fleetSurge)));
    return t;
  };
  return {
    kind: 'causal',
    name,
    start: (ctx) => {
      const config = configFor(ctx);
      const state = createState(config);
      const view = { pod: ctx.pod, rises: risesFor(config) };
      const read = (now: number) => recommend(state, now, config, view);
      return {
        observe: (s) => addSample(state, s, config),
        propose: (now, current) => decideLimit(current, read(now), minStep).value,
        onOom: (e) => {
          addOom(state, { t: e.t, usage: e.usage }, config);
          return read(e.t).lowerBound;
        },
      };
    },
  };
}

/**
 * Tailor under one of a SizingPolicy's profiles: the profile moves the series' defaults as it moves
 * memory's in the operator (tuning.ts), GPU memory included.
 */
export function tailorProfile(profile: TuningProfile, fleet: readonly PodInput[] = []): Recommender {
  return tailor(
    (ctx) => configFor({ profile }, 'memory', replayConfig(ctx.unit, ctx)),
    REPLAY_PROTOCOL.changeThreshold,
    fleet,
    `Tailor ${profile}`,
  );
}
