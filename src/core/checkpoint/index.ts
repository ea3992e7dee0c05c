// Checkpoints of the recommender state and of Tailor's recent actions, pure: encode, decode, merge.
export * from './codec.ts';
export * from './bookkeeping.ts';
export * from './cadence.ts';
