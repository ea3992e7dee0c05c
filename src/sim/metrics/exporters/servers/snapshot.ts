// One inference server's state at a scrape: its gauges (the kubelet's last sample) and the span of
// the served trace it has played since it started serving, for its counters and histograms.
import type { Serving } from '../../../usage/llm.ts';
import type { UsageSample } from '../../../usage/types.ts';

export interface ServerSnapshot {
  readonly gauges: NonNullable<UsageSample['llm']>;
  readonly serving: Serving;
  /** Loop phases of the span served so far: from the start of serving to the scrape. */
  readonly from: number;
  readonly to: number;
}
