// Tailor's recommender driven through the replay protocol: the same state, recommend() and
// decideLimit() the controller uses, with the replay's change threshold as the minimum raise.
import { decideLimit } from '../recommend/actuation.ts';
import { DEFAULT_CONFIG, type RecommenderConfig } from '../recommend/config.ts';
import { addOom, addSample, createState, recommend } from '../recommend/recommender.ts';
import { REPLAY_PROTOCOL, type PodContext, type Recommender, type SeriesUnit } from './protocol.ts';

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

export function tailor(
  configFor: (ctx: PodContext) => RecommenderConfig = (ctx) => replayConfig(ctx.unit, ctx),
  minStep: number = REPLAY_PROTOCOL.changeThreshold,
): Recommender {
  return {
    kind: 'causal',
    name: 'Tailor',
    start: (ctx) => {
      const config = configFor(ctx);
      const state = createState(config);
      return {
        observe: (s) => addSample(state, s, config),
        propose: (now, current) => decideLimit(current, recommend(state, now, config), minStep).value,
        onOom: (e) => {
          addOom(state, { t: e.t, usage: e.usage }, config);
          return recommend(state, e.t, config).lowerBound;
        },
      };
    },
  };
}
