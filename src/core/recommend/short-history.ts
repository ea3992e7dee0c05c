// Confidence from history length: a young pod has not shown its peaks yet (GPU memory especially
// grows in steps during the first hours), so its target gets more margin and its bounds are wider.

/** Extra relative margin: `margin` at the first sample, fading linearly to 0 after `seconds`. */
export function shortHistoryMargin(ageSeconds: number, margin: number, seconds: number): number {
  if (!(seconds > 0) || !(margin > 0)) return 0;
  return margin * Math.max(0, 1 - Math.max(0, ageSeconds) / seconds);
}
