// Public surface of the start-up boost: the pure schedule, and the annotations that carry it on a pod.
export type { BoostKind, BoostOptions, BoostSchedule, Sizes } from './schedule.ts';
export { boostSchedule, loadSeconds } from './schedule.ts';
export type { BoostAnnotation } from './annotations.ts';
export {
  BOOST_ANNOTATION,
  BOOST_DEADLINE_ANNOTATION,
  BOOST_DONE_ANNOTATION,
  ESTIMATE_ANNOTATION,
  MODEL_LABEL,
  boostAnnotation,
  parseBoostAnnotation,
  steadyPlan,
} from './annotations.ts';
