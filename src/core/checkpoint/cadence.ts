// How often a policy's checkpoint is written when nothing urgent happened: the interval asked for,
// stretched so that all the policies together stay under a budget of writes a minute. VPA's
// recommender does the same with its client's rate limit (5 requests a second): at 2,000 policies
// a write per policy a minute was three quarters of the operator's API requests. What a longer
// interval costs: after a restart, up to that much usage history is read again from the pods'
// metrics rather than from the checkpoint. Evictions and resizes are written at once regardless.

/** The default budget of periodic checkpoint writes a minute, all policies together (VPA's 5 a second). */
export const DEFAULT_CHECKPOINT_WRITES_PER_MINUTE = 300;

/**
 * Seconds between periodic writes of one policy's checkpoint: `intervalSeconds`, or longer when
 * `policies` writes at that interval would exceed `writesPerMinute`.
 */
export function checkpointInterval(
  intervalSeconds: number,
  policies: number,
  writesPerMinute: number,
): number {
  if (!(writesPerMinute > 0) || policies <= 0) return intervalSeconds;
  return Math.max(intervalSeconds, (60 * policies) / writesPerMinute);
}
